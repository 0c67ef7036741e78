// Directory change notification with inotify, read through Asio so an idle agent sleeps in the
// kernel instead of polling.
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "sessionwatch/platform.hpp"

namespace sw::platform {

namespace {

constexpr std::uint32_t kWatchMask = IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO |
                                     IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;

class InotifyWatcher : public DirectoryWatcher {
 public:
  InotifyWatcher(boost::asio::io_context& io, int fd, Handler handler)
      : descriptor_(io, fd), handler_(std::move(handler)) {}

  bool add(const std::string& directory, std::string& error) override {
    const int wd = ::inotify_add_watch(descriptor_.native_handle(), directory.c_str(), kWatchMask);
    if (wd < 0) {
      error = "cannot watch " + directory + ": " + std::strerror(errno);
      return false;
    }
    directories_[wd] = directory;
    return true;
  }

  void stop() override {
    stopped_ = true;
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
  }

  void start_reading() {
    descriptor_.async_read_some(
        boost::asio::buffer(buffer_),
        [this](const boost::system::error_code& ec, std::size_t size) { on_read(ec, size); });
  }

 private:
  void on_read(const boost::system::error_code& ec, std::size_t size) {
    // Checked before touching members: a cancelled read may complete after the watcher is gone.
    if (ec == boost::asio::error::operation_aborted) return;
    if (stopped_) return;
    if (ec) {
      // The kernel will not report changes any more; a full rescan is the honest answer.
      handler_({WatchEvent{"", "", WatchKind::kOverflow}});
      return;
    }
    std::vector<WatchEvent> events;
    std::size_t pos = 0;
    while (pos + sizeof(inotify_event) <= size) {
      inotify_event header;
      std::memcpy(&header, buffer_.data() + pos, sizeof header);
      const char* name_start = buffer_.data() + pos + sizeof(inotify_event);
      std::string name(name_start, ::strnlen(name_start, header.len));
      pos += sizeof(inotify_event) + header.len;
      if (header.mask & IN_Q_OVERFLOW) {
        events.push_back({"", "", WatchKind::kOverflow});
        continue;
      }
      auto dir = directories_.find(header.wd);
      if (dir == directories_.end()) continue;
      if (header.mask & IN_IGNORED) {
        // The kernel dropped the watch (its folder was deleted; IN_DELETE_SELF came first).
        directories_.erase(dir);
        continue;
      }
      WatchKind kind = WatchKind::kChanged;
      if (header.mask & (IN_CREATE | IN_MOVED_TO)) {
        kind = WatchKind::kAppeared;
      } else if (header.mask & (IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF)) {
        kind = WatchKind::kGone;
      }
      if (header.mask & IN_MOVE_SELF) {
        // The folder lives on elsewhere: stop following it under its old name.
        std::string directory = dir->second;
        ::inotify_rm_watch(descriptor_.native_handle(), header.wd);
        directories_.erase(dir);
        events.push_back({std::move(directory), "", kind});
        continue;
      }
      events.push_back({dir->second, std::move(name), kind});
    }
    if (!events.empty()) handler_(events);
    if (!stopped_) start_reading();
  }

  boost::asio::posix::stream_descriptor descriptor_;
  Handler handler_;
  std::map<int, std::string> directories_;
  std::array<char, 64 * 1024> buffer_{};
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<DirectoryWatcher> DirectoryWatcher::create(boost::asio::io_context& io,
                                                           Handler handler, std::string& error) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    error = std::string("inotify: ") + std::strerror(errno);
    return nullptr;
  }
  auto watcher = std::make_unique<InotifyWatcher>(io, fd, std::move(handler));
  watcher->start_reading();
  return watcher;
}

}  // namespace sw::platform
