// Directory change notification with ReadDirectoryChangesW: one blocking reader thread per
// directory (cancelled with CancelIoEx), its events posted to the io_context, so the daemon sees
// the same WatchEvents as from inotify and never polls.
#include <windows.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "platform/windows/win32_text.hpp"
#include "sessionwatch/platform.hpp"

namespace sw::platform {

namespace {

constexpr DWORD kFilter = FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_SIZE |
                          FILE_NOTIFY_CHANGE_LAST_WRITE | FILE_NOTIFY_CHANGE_DIR_NAME;

WatchKind kind_of(DWORD action) {
  switch (action) {
    case FILE_ACTION_ADDED:
    case FILE_ACTION_RENAMED_NEW_NAME:
      return WatchKind::kAppeared;
    case FILE_ACTION_REMOVED:
    case FILE_ACTION_RENAMED_OLD_NAME:
      return WatchKind::kGone;
    default:
      return WatchKind::kChanged;
  }
}

class WindowsDirectoryWatcher : public DirectoryWatcher {
 public:
  WindowsDirectoryWatcher(boost::asio::io_context& io, Handler handler)
      : io_(io), state_(std::make_shared<State>()) {
    state_->handler = std::move(handler);
  }
  ~WindowsDirectoryWatcher() override { stop(); }

  bool add(const std::string& directory, std::string& error) override {
    HANDLE dir = CreateFileW(win32::widen(directory).c_str(), FILE_LIST_DIRECTORY,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    if (dir == INVALID_HANDLE_VALUE) {
      error = win32::describe("cannot watch " + directory, GetLastError());
      return false;
    }
    auto watch = std::make_unique<Watch>();
    watch->handle = dir;
    watch->thread =
        std::thread([this, dir, directory, state = state_] { read_loop(dir, directory, state); });
    watches_.push_back(std::move(watch));
    return true;
  }

  void stop() override {
    state_->stopped = true;
    for (auto& watch : watches_) {
      CancelIoEx(watch->handle, nullptr);
      if (watch->thread.joinable()) watch->thread.join();
      CloseHandle(watch->handle);
    }
    watches_.clear();
  }

 private:
  // Shared with posted handlers, which may run after the watcher is gone.
  struct State {
    Handler handler;
    std::atomic<bool> stopped{false};
  };
  struct Watch {
    HANDLE handle = INVALID_HANDLE_VALUE;
    std::thread thread;
  };

  void read_loop(HANDLE dir, const std::string& directory, std::shared_ptr<State> state) {
    // DWORD elements: FILE_NOTIFY_INFORMATION records must be DWORD-aligned.
    std::vector<DWORD> buffer(16 * 1024);
    while (!state->stopped) {
      DWORD size = 0;
      if (!ReadDirectoryChangesW(dir, buffer.data(),
                                 static_cast<DWORD>(buffer.size() * sizeof(DWORD)), FALSE, kFilter,
                                 &size, nullptr, nullptr)) {
        if (state->stopped || GetLastError() == ERROR_OPERATION_ABORTED) return;
        // The directory went away or the handle broke: say it is no longer watched (the daemon
        // watches for it to come back) and ask for a rescan, like inotify errors.
        deliver(state, {WatchEvent{directory, "", WatchKind::kGone},
                        WatchEvent{"", "", WatchKind::kOverflow}});
        return;
      }
      if (size == 0) {
        // The system's buffer overflowed: changes were lost, rescan.
        deliver(state, {WatchEvent{"", "", WatchKind::kOverflow}});
        continue;
      }
      std::vector<WatchEvent> events;
      std::size_t offset = 0;
      for (;;) {
        const auto* info = reinterpret_cast<const FILE_NOTIFY_INFORMATION*>(
            reinterpret_cast<const char*>(buffer.data()) + offset);
        events.push_back({directory,
                          win32::narrow(std::wstring_view(info->FileName,
                                                          info->FileNameLength / sizeof(wchar_t))),
                          kind_of(info->Action)});
        if (info->NextEntryOffset == 0) break;
        offset += info->NextEntryOffset;
      }
      deliver(state, std::move(events));
    }
  }

  void deliver(const std::shared_ptr<State>& state, std::vector<WatchEvent> events) {
    boost::asio::post(io_, [state, events = std::move(events)] {
      if (!state->stopped) state->handler(events);
    });
  }

  boost::asio::io_context& io_;
  std::shared_ptr<State> state_;
  std::vector<std::unique_ptr<Watch>> watches_;
};

}  // namespace

std::unique_ptr<DirectoryWatcher> DirectoryWatcher::create(boost::asio::io_context& io,
                                                           Handler handler, std::string&) {
  return std::make_unique<WindowsDirectoryWatcher>(io, std::move(handler));
}

}  // namespace sw::platform
