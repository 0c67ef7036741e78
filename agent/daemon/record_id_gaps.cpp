#include "daemon/record_id_gaps.hpp"

namespace sw::daemon {

std::optional<RecordIdGaps::Skipped> RecordIdGaps::observe(const platform::FileId& file,
                                                           std::string_view computer,
                                                           std::string_view channel,
                                                           std::uint64_t record_id) {
  if (record_id == 0) return std::nullopt;  // no id: nothing to compare
  auto it = streams_.find(std::tuple(file, computer, channel));
  if (it == streams_.end()) {
    if (streams_.size() >= kMaxStreams) streams_.clear();
    streams_.emplace(Key{file, std::string(computer), std::string(channel)}, Stream{record_id, 1});
    return std::nullopt;
  }
  Stream& s = it->second;
  if (record_id == s.last + 1) {
    s.last = record_id;
    ++s.run;
    return std::nullopt;
  }
  std::optional<Skipped> skipped;
  if (record_id > s.last + 1 && s.run >= kProof) skipped = Skipped{s.last + 1, record_id - 1};
  if (record_id != s.last) s = Stream{record_id, 1};
  return skipped;
}

void RecordIdGaps::forget(const platform::FileId& file) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    it = std::get<0>(it->first) == file ? streams_.erase(it) : std::next(it);
  }
}

}  // namespace sw::daemon
