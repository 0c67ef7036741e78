// The OS services the daemon needs, behind small interfaces: file identity and positional reads,
// atomic file replacement, directory change notification, stop/reload signals and service-manager
// notification. One implementation per platform (agent/platform/posix, agent/platform/windows);
// everything above compiles unchanged on both.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace sw::platform {

// Identity of a file that survives renames (POSIX: device + inode; Windows: volume + file index).
struct FileId {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  friend bool operator==(const FileId&, const FileId&) = default;
  // NOLINTNEXTLINE(modernize-use-nullptr): the check misreads the defaulted comparison
  friend auto operator<=>(const FileId&, const FileId&) = default;
};

struct FileInfo {
  FileId id;
  std::uint64_t size = 0;
  bool regular = false;
  // Hard links left (POSIX nlink); 0 once the file was deleted while still open.
  std::uint64_t links = 1;
};

// Follows symbolic links. nullopt when the path does not exist or cannot be examined.
std::optional<FileInfo> stat_path(const std::string& path);

// A read-only handle that keeps reading the same file after it is renamed or unlinked.
class InputFile {
 public:
  virtual ~InputFile() = default;
  static std::unique_ptr<InputFile> open(const std::string& path, std::string& error);
  virtual std::optional<FileInfo> info() const = 0;
  // Reads up to `size` bytes at `offset`; the count read (0 at end of file), or -1 on error.
  virtual std::int64_t read_at(std::uint64_t offset, char* buffer, std::size_t size) = 0;
};

// Replaces `path` with `data` so that a crash leaves either the old or the new content, never a
// mix: write a temporary file beside it, flush it to disk, rename it over, flush the directory.
bool write_file_atomically(const std::string& path, std::string_view data, std::string& error);
// The same with the content written as it is made: `produce` hands it to `write` piece by piece
// (write returns false once writing failed), so a large document (a full checkpoint) is never
// held whole. `produce` returning false gives up: nothing is replaced.
using WriteChunk = std::function<bool(std::string_view)>;
bool write_file_atomically(const std::string& path,
                           const std::function<bool(const WriteChunk& write)>& produce,
                           std::string& error);

// What the agent writes (state, alerts, spools) is for its own user only, whatever the umask it
// was started with (systemd sets 0077 for the unit; a shell usually 0022).
// Creates `path` and its missing parents: POSIX mode 0700; Windows inherits the parent's ACL,
// which the installer restricts.
bool create_private_directories(const std::string& path, std::string& error);
// Opens `path` to append, creating it with POSIX mode 0600. nullptr (and errno) on failure.
std::FILE* open_private_for_append(const std::string& path);
// True when `path` no longer names the open `file`: renamed away (logrotate) or removed, with
// or without a new file in its place. Identity by device and inode (POSIX) or volume serial and
// file index (Windows).
bool file_replaced(std::FILE* file, const std::string& path);
// True when users other than the owner may read or enter `path` (POSIX mode & 077; never on
// Windows, where ACLs decide).
bool readable_by_others(const std::string& path);
// An exclusive lock on a file, held for the life of the object (POSIX flock, Windows
// LockFileEx), released by the OS if the process dies. The holder's process id is written into
// the file so a second process can say who holds it. Two agents on one data_dir would share
// spools and checkpoints and deliver events twice.
class FileLock {
 public:
  virtual ~FileLock() = default;
  // nullptr with `error` set when the file cannot be opened or another process holds the lock
  // (then `holder_pid` is that process's id, 0 when unknown).
  static std::unique_ptr<FileLock> acquire(const std::string& path, std::string& error,
                                           std::uint64_t& holder_pid);
};

// Directory change notification (inotify, ReadDirectoryChangesW). No polling: the handler runs on
// the io_context when the OS reports changes.
enum class WatchKind {
  kChanged,   // content written
  kAppeared,  // created or renamed into the directory
  kGone,      // deleted or renamed out of the directory
  kOverflow,  // the OS dropped notifications: rescan everything
};
struct WatchEvent {
  std::string directory;
  // Empty for kOverflow; empty with kGone: `directory` itself was removed or moved away and is no
  // longer watched (add it again once it is back).
  std::string name;
  WatchKind kind = WatchKind::kChanged;
};

class DirectoryWatcher {
 public:
  using Handler = std::function<void(const std::vector<WatchEvent>&)>;
  virtual ~DirectoryWatcher() = default;
  static std::unique_ptr<DirectoryWatcher> create(boost::asio::io_context& io, Handler handler,
                                                  std::string& error);
  virtual bool add(const std::string& directory, std::string& error) = 0;
  // Stops delivering events; pending handlers are cancelled.
  virtual void stop() = 0;
};

// Stop (SIGTERM, SIGINT; console close on Windows) and reload (SIGHUP) requests, delivered on the
// io_context. SIGPIPE is ignored so a closed socket is an error value, not a death.
class SignalWatcher {
 public:
  virtual ~SignalWatcher() = default;
  static std::unique_ptr<SignalWatcher> create(boost::asio::io_context& io,
                                               std::function<void(std::string_view)> on_stop,
                                               std::function<void()> on_reload);
};

// Asks the running SignalWatcher to stop, as SIGTERM would; callable from any thread (the Windows
// service control handler). A request made before the watcher exists is kept and delivered as
// soon as it is created, so a stop that races the start is never lost.
void request_stop(std::string_view why);

// Service manager notification (systemd sd_notify). All are no-ops when not run by one.
namespace service {
void notify_ready(std::string_view status);
void notify_reloading();
void notify_stopping();
void notify_watchdog();
void notify_status(std::string_view status);
// The interval at which notify_watchdog must be called, when the manager asked for it.
std::optional<std::chrono::microseconds> watchdog_interval();
}  // namespace service

std::string host_name();
// /etc/sessionwatch/sessionwatch.yaml; %ProgramData%\sessionwatch\sessionwatch.yaml on Windows.
std::string default_config_path();
// Checkpoints, spools and tracker state: /var/lib/sessionwatch; C:/ProgramData/sessionwatch/data.
std::string default_data_dir();
// True where the live Windows Event Log can be read (Windows).
bool eventlog_available();

}  // namespace sw::platform
