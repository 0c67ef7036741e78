// A small command-line parser: long options with values, flags, and positional arguments.
// Unknown options are usage errors (exit 2), never ignored.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sw::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitSomeBad = 1;
inline constexpr int kExitUsage = 2;

class Args {
 public:
  // `valued`: options that take a value (--rules DIR or --rules=DIR); `flags`: options that don't.
  // Short aliases map a one-letter option to a long name ("c" -> "config").
  Args(std::vector<std::string> argv, const std::set<std::string>& valued,
       const std::set<std::string>& flags, std::map<char, std::string> short_aliases = {});

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool flag(const std::string& name) const { return flags_set_.count(name) > 0; }
  std::optional<std::string> value(const std::string& name) const;
  // Every value given for a repeatable option, in order.
  std::vector<std::string> values(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::string error_;
  std::set<std::string> flags_set_;
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace sw::cli
