#include "cli/args.hpp"

namespace sw::cli {

Args::Args(std::vector<std::string> argv, const std::set<std::string>& valued,
           const std::set<std::string>& flags, std::map<char, std::string> short_aliases) {
  bool only_positional = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    std::string a = argv[i];
    if (only_positional || a == "-" || a.size() < 2 || a[0] != '-') {
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string name;
    std::optional<std::string> inline_value;
    if (a[1] == '-') {
      name = a.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
    } else {
      auto it = short_aliases.find(a[1]);
      if (it == short_aliases.end() || a.size() != 2) {
        error_ = "unknown option '" + a + "'";
        return;
      }
      name = it->second;
    }
    if (flags.count(name)) {
      if (inline_value) {
        error_ = "option '--" + name + "' takes no value";
        return;
      }
      flags_set_.insert(name);
    } else if (valued.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) {
          error_ = "option '--" + name + "' needs a value";
          return;
        }
        inline_value = argv[++i];
      }
      values_.emplace(name, *inline_value);
    } else {
      error_ = "unknown option '" + a + "'";
      return;
    }
  }
}

std::optional<std::string> Args::value(const std::string& name) const {
  auto range = values_.equal_range(name);
  if (range.first == range.second) return std::nullopt;
  return std::prev(range.second)->second;  // the last one given wins
}

std::vector<std::string> Args::values(const std::string& name) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

}  // namespace sw::cli
