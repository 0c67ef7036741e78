// evtsim tests: a folder the simulated Event Log serves (EVTSIM_DIR), channel files written and
// appended as Event XML lines, and events to put in them.
#pragma once

#include <windows.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "evtsim/unix_file.hpp"

namespace evtsim {

struct EventSpec {
  std::string channel = "Security";
  std::uint32_t event_id = 4624;
  std::uint64_t record_id = 0;  // 0: the line's number is written by the caller
  std::string computer = "HOST1";
  std::string provider = "Microsoft-Windows-Security-Auditing";
  std::string time = "2026-03-01T10:00:00.000000000Z";
  std::vector<std::pair<std::string, std::string>> data;
  std::string padding;  // extra payload, to make events large
};

inline std::string event_xml(const EventSpec& e) {
  std::string xml =
      "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider "
      "Name='" +
      e.provider + "'/><EventID>" + std::to_string(e.event_id) +
      "</EventID><Level>0</Level><TimeCreated SystemTime='" + e.time + "'/><EventRecordID>" +
      std::to_string(e.record_id) + "</EventRecordID><Channel>" + e.channel +
      "</Channel><Computer>" + e.computer + "</Computer></System><EventData>";
  for (const auto& [name, value] : e.data) {
    xml += "<Data Name='" + name + "'>" + value + "</Data>";
  }
  if (!e.padding.empty()) xml += "<Data Name='Padding'>" + e.padding + "</Data>";
  return xml + "</EventData></Event>";
}

// A fresh folder per test, served as the Event Log for this process.
class SimDir {
 public:
  SimDir() {
    wchar_t tmp[MAX_PATH];
    GetTempPathW(MAX_PATH, tmp);
    static int counter = 0;
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::wstring(tmp) + L"evtsim-" + std::to_wstring(GetCurrentProcessId()) + L"-" +
            std::to_wstring(++counter) + L"-" +
            std::wstring(info->name(), info->name() + std::strlen(info->name()));
    CreateDirectoryW(path_.c_str(), nullptr);
    SetEnvironmentVariableW(L"EVTSIM_DIR", path_.c_str());
  }
  ~SimDir() {
    for (const std::wstring& f : files_) {
      unix_chmod(f, 0644);
      DeleteFileW(f.c_str());
    }
    DeleteFileW((path_ + L"\\.evtsim-stats").c_str());
    RemoveDirectoryW(path_.c_str());
  }
  const std::wstring& path() const { return path_; }

  static std::wstring file_name(const std::string& channel) {
    std::wstring name;
    for (char c : channel) {
      if (c == '/')
        name += L"%4";
      else
        name += static_cast<wchar_t>(c);
    }
    return name;
  }
  std::wstring channel_path(const std::string& channel, const wchar_t* ext = L".xml") {
    return path_ + L"\\" + file_name(channel) + ext;
  }

  // Writes (replaces) the channel's log with these events, one line each.
  void write(const std::string& channel, const std::vector<std::string>& lines) {
    put(channel_path(channel), lines, std::ios::trunc);
  }
  void append(const std::string& channel, const std::vector<std::string>& lines) {
    put(channel_path(channel), lines, std::ios::app);
  }
  void behave(const std::string& channel, const std::string& text) {
    put(channel_path(channel, L".behave"), {text}, std::ios::trunc);
  }
  void file(const std::wstring& name, const std::string& text) {
    put(path_ + L"\\" + name, {text}, std::ios::trunc);
  }
  void deny(const std::string& channel) { unix_chmod(channel_path(channel), 0); }

  // `count` events of `channel` with record ids first.. (as Windows wrote them).
  static std::vector<std::string> events(const std::string& channel, std::uint64_t first,
                                         std::size_t count, EventSpec spec = {}) {
    std::vector<std::string> lines;
    spec.channel = channel;
    for (std::size_t i = 0; i < count; ++i) {
      spec.record_id = first + i;
      lines.push_back(event_xml(spec));
    }
    return lines;
  }

 private:
  void put(const std::wstring& path, const std::vector<std::string>& lines,
           std::ios::openmode mode) {
    std::ofstream out(std::filesystem::path(path), std::ios::binary | std::ios::out | mode);
    for (const std::string& l : lines) out << l << '\n';
    files_.push_back(path);
  }
  std::wstring path_;
  std::vector<std::wstring> files_;
};

// Polls `done` until it holds or `seconds` pass (the simulator notices file changes within
// EVTSIM_POLL_MS).
inline bool wait_until(const std::function<bool()>& done, int seconds = 20) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace evtsim
