// NeedleSearch against a search per needle: the first lines of the input up to an empty line are
// the needles ("~" first: in any case), the rest the text. Every method answers as the naive
// search does.
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "sessionwatch/needle_search.hpp"
#include "sessionwatch/text.hpp"

namespace {

using sw::NeedleSearch;

bool found_naively(const std::vector<NeedleSearch::Needle>& needles, std::string_view text) {
  for (const auto& n : needles) {
    for (std::size_t at = 0; at + n.text.size() <= text.size(); ++at) {
      const std::string_view there = text.substr(at, n.text.size());
      if (n.any_case ? sw::text::iequals(there, n.text) : there == n.text) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = sw::fuzz::as_view(data, size);
  const std::size_t blank = input.find("\n\n");
  if (blank == std::string_view::npos) return 0;
  std::vector<NeedleSearch::Needle> needles;
  sw::fuzz::for_each_line(input.substr(0, blank), [&](std::string_view line) {
    const bool any_case = !line.empty() && line.front() == '~';
    if (any_case) line.remove_prefix(1);
    if (needles.size() < 24) needles.push_back({std::string(line), any_case});
  });
  const std::string_view text = input.substr(blank + 2);
  const NeedleSearch search(needles);
  const bool expected = found_naively(needles, text);
  for (const auto method : {NeedleSearch::Method::kBytewise, NeedleSearch::Method::kSsse3,
                            NeedleSearch::Method::kAvx2}) {
    sw::fuzz::require(search.found_in(text, method) == expected,
                      expected ? "a needle was missed" : "a needle was found that is not there",
                      text);
  }
  return 0;
}
