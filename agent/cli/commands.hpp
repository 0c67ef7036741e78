// The sessionwatch subcommands. Each takes the arguments after its name and returns the exit code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sw::cli {

int cmd_scan(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);
int cmd_who(const std::vector<std::string>& args);
int cmd_demo(const std::vector<std::string>& args);
int cmd_version(const std::vector<std::string>& args);
int cmd_rules(const std::vector<std::string>& args);
int cmd_service(const std::vector<std::string>& args);

// Text for XML or HTML: & < > " as entities (attribute values are in double quotes).
std::string markup_escape(std::string_view text);

// Shared by commands: progress on stderr when it is a terminal.
class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();
  void update(unsigned long long done, unsigned long long total, unsigned long long records);

 private:
  std::string label_;
  bool enabled_;
  long long last_ms_ = 0;
  bool printed_ = false;
};

}  // namespace sw::cli
