// Shared helpers for the forwarding tests: alerts with known content, temp directories.
#pragma once

#include <atomic>
#include <filesystem>
#include <random>
#include <string>

#include "sessionwatch/alert.hpp"
#include "sessionwatch/alert_json.hpp"

namespace sw::forward::testing {

inline Alert make_alert(int n, std::string user = "alice") {
  Alert a;
  a.id = stable_alert_id("WS01", "Security", std::to_string(n), "rule-7063");
  a.time = 1'613'133'268LL * kTicksPerSecond + 1'944'370;  // 2021-02-12T12:34:28.1944370Z
  a.level = Level::kHigh;
  a.rule_id = "0b3a1c2e-1111-4222-8333-944455556666";
  a.rule_name = "Console logon refused (7063)";
  a.host = "WS01";
  a.event_code = "7063";
  a.extras = {{"event", {{"sequence", n}}}};
  a.user = AlertUser{std::move(user), "CORP"};
  a.message = "The user CORP\\alice is already logged on to the console";
  return a;
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("sw-forward-" + std::to_string(rd()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace sw::forward::testing
