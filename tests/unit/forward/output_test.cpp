// The generic sender with the file output: spool -> plugin -> file, restarts, rotation.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <future>
#include <mutex>

#ifndef _WIN32
#include <sys/stat.h>
#endif

#include "forward/outputs/file/file_output.hpp"
#include "forward/outputs/syslog/syslog_output.hpp"
#include "forward_test_util.hpp"
#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/forward.hpp"

namespace sw::forward {
namespace {

detail::FileOptions& file(OutputConfig& c) {
  return detail::edit_options<detail::FileOptions>(c);
}
const detail::FileOptions& file(const OutputConfig& c) {
  return dynamic_cast<const detail::FileOptions&>(*c.options);
}

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::make_alert;
using testing::TempDir;

OutputConfig file_config(const fs::path& dir) {
  OutputConfig c;
  c.name = "file-test";
  c.type = "file";
  file(c).path = dir / "out" / "alerts.jsonl";
  c.spool.dir = dir / "spool";
  c.retry.initial = 10ms;
  return c;
}

std::vector<nlohmann::json> read_lines(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::vector<Alert> alerts(int from, int to) {
  std::vector<Alert> v;
  for (int i = from; i < to; ++i) v.push_back(make_alert(i));
  return v;
}

// Runs an output of `c` until `batch` is delivered, then stops it.
void deliver(const OutputConfig& c, const std::vector<Alert>& batch) {
  auto made = make_output(c);
  ASSERT_TRUE(made.output) << made.error;
  made.output->start();
  ASSERT_TRUE(made.output->enqueue(batch).ok);
  ASSERT_TRUE(made.output->wait_drained(10s));
  made.output->stop();
}

// A large call is appended in chunks while earlier chunks are flushed to disk: every alert of
// it must be in the spool when enqueue returns (a reopened spool sees them all), in order,
// oversized ones still skipped and counted, and then delivered once each.
TEST(FileOutput, LargeEnqueueIsWhollySpooledInOrder) {
  TempDir dir;
  OutputConfig c = file_config(dir.path());
  c.spool.max_bytes = 64ULL << 20;
  c.spool.segment_bytes = 256 << 10;  // several segments closed during the call
  auto batch = alerts(0, 3000);
  batch[700].message = std::string(300 << 10, 'x');  // larger than a segment
  {
    auto made = make_output(c);
    ASSERT_TRUE(made.output) << made.error;
    EnqueueResult r = made.output->enqueue(batch);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.accepted, 3000U);
    OutputMetrics m = made.output->metrics();
    EXPECT_EQ(m.spool_records, 2999U);
    EXPECT_EQ(m.dropped, 1U);
  }
  auto made = make_output(c);  // what a restart finds
  ASSERT_TRUE(made.output) << made.error;
  EXPECT_EQ(made.output->metrics().spool_records, 2999U);
  made.output->start();
  ASSERT_TRUE(made.output->wait_drained(20s));
  made.output->stop();
  auto lines = read_lines(dir.path() / "out" / "alerts.jsonl");
  ASSERT_EQ(lines.size(), 2999U);
  for (std::size_t i = 0, j = 0; i < batch.size(); ++i) {
    if (i == 700) continue;
    EXPECT_EQ(lines[j++], alert_to_json(batch[i])) << "alert " << i;
  }
}

TEST(FileOutput, DeliversEveryAlertOnce) {
  TempDir dir;
  auto made = make_output(file_config(dir.path()));
  ASSERT_TRUE(made.output) << made.error;
  auto& out = *made.output;
  auto batch = alerts(0, 250);
  EnqueueResult r = out.enqueue(batch);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.accepted, 250U);
  out.start();
  ASSERT_TRUE(out.wait_drained(10s));
  out.stop();
  auto lines = read_lines(dir.path() / "out" / "alerts.jsonl");
  ASSERT_EQ(lines.size(), 250U);
  for (int i = 0; i < 250; ++i)
    EXPECT_EQ(lines[static_cast<std::size_t>(i)],
              alert_to_json(batch[static_cast<std::size_t>(i)]));
  OutputMetrics m = out.metrics();
  EXPECT_EQ(m.queued, 250U);
  EXPECT_EQ(m.sent, 250U);
  EXPECT_EQ(m.spool_records, 0U);
  EXPECT_EQ(m.name, "file-test");
}

// A crash between two writes of a batch leaves the file's last line cut short: the next record
// starts on a line of its own (not glued to the torn one, where a reader of lines loses both),
// whether the torn line lacks only its newline or half its text.
TEST(FileOutput, ALineACrashCutShortIsEndedBeforeTheNextRecord) {
  for (const std::string& torn : {std::string("{\"torn\":1}"), std::string("{\"torn\":")}) {
    SCOPED_TRACE(torn);
    TempDir dir;
    const OutputConfig c = file_config(dir.path());
    fs::create_directories(file(c).path.parent_path());
    const std::string before = alert_to_json(make_alert(100)).dump() + "\n" + torn;
    std::ofstream(file(c).path, std::ios::binary) << before;
    deliver(c, alerts(0, 3));
    std::ifstream f(file(c).path, std::ios::binary);
    std::vector<std::string> lines;
    for (std::string line; std::getline(f, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), 5U);
    EXPECT_EQ(lines[1], torn);
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(nlohmann::json::parse(lines[static_cast<std::size_t>(2 + i)]),
                alert_to_json(make_alert(i)));
  }
}

// A file that ends with its newline gets none more.
TEST(FileOutput, AWholeFileIsAppendedToAsItIs) {
  TempDir dir;
  const OutputConfig c = file_config(dir.path());
  fs::create_directories(file(c).path.parent_path());
  std::ofstream(file(c).path, std::ios::binary) << alert_to_json(make_alert(100)).dump() << "\n";
  deliver(c, alerts(0, 2));
  EXPECT_EQ(read_lines(file(c).path).size(), 3U);  // read_lines fails on an empty line
}

// logrotate renames the alert file (then, or never, sends SIGHUP): the next alerts go to a new
// file at the configured path, none into the renamed one.
TEST(FileOutput, AFileRenamedAwayIsReopenedAtItsPath) {
  TempDir dir;
  const OutputConfig c = file_config(dir.path());
  auto made = make_output(c);
  ASSERT_TRUE(made.output) << made.error;
  auto& out = *made.output;
  out.start();
  ASSERT_TRUE(out.enqueue(alerts(0, 10)).ok);
  ASSERT_TRUE(out.wait_drained(10s));
  const fs::path rotated = file(c).path.string() + ".1";
  fs::rename(file(c).path, rotated);
  ASSERT_TRUE(out.enqueue(alerts(10, 15)).ok);
  ASSERT_TRUE(out.wait_drained(10s));
  out.stop();
  EXPECT_EQ(read_lines(rotated).size(), 10U);
  const auto fresh = read_lines(file(c).path);
  ASSERT_EQ(fresh.size(), 5U);
  EXPECT_EQ(fresh[0], alert_to_json(make_alert(10)));
}

#ifndef _WIN32
// Alerts name users and hosts: the alert file and the folder made for it are the agent's own,
// whatever umask it was started with.
TEST(FileOutput, AlertFileAndItsNewFolderAreForTheAgentOnly) {
  TempDir dir;
  const mode_t old_mask = ::umask(022);
  auto made = make_output(file_config(dir.path()));
  ASSERT_TRUE(made.output) << made.error;
  ASSERT_TRUE(made.output->enqueue(alerts(0, 3)).ok);
  made.output->start();
  ASSERT_TRUE(made.output->wait_drained(10s));
  made.output->stop();
  ::umask(old_mask);
  auto mode = [](const fs::path& p) { return fs::status(p).permissions() & fs::perms::all; };
  EXPECT_EQ(mode(dir.path() / "out" / "alerts.jsonl"),
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(mode(dir.path() / "out"), fs::perms::owner_all);
}
#endif

TEST(FileOutput, SpooledAlertsSurviveARestartOfTheOutput) {
  TempDir dir;
  {
    auto made = make_output(file_config(dir.path()));
    ASSERT_TRUE(made.output) << made.error;
    auto batch = alerts(0, 40);
    ASSERT_TRUE(made.output->enqueue(batch).ok);
    // Never started: the process "dies" with everything spooled.
  }
  auto made = make_output(file_config(dir.path()));
  ASSERT_TRUE(made.output) << made.error;
  EXPECT_EQ(made.output->metrics().spool_records, 40U);
  made.output->start();
  ASSERT_TRUE(made.output->wait_drained(10s));
  made.output->stop();
  EXPECT_EQ(read_lines(dir.path() / "out" / "alerts.jsonl").size(), 40U);
}

TEST(FileOutput, RetriesUntilThePathBecomesWritable) {
  TempDir dir;
  OutputConfig c = file_config(dir.path());
  // A plain file where the output's directory should be: opening fails until it is removed.
  std::ofstream(dir.path() / "out") << "in the way";
  auto made = make_output(c);
  ASSERT_TRUE(made.output) << made.error;
  auto batch = alerts(0, 5);
  ASSERT_TRUE(made.output->enqueue(batch).ok);
  made.output->start();
  EXPECT_FALSE(made.output->wait_drained(200ms));
  OutputMetrics m = made.output->metrics();
  EXPECT_GT(m.retried, 0U);
  EXPECT_NE(m.last_error.find("cannot open"), std::string::npos) << m.last_error;
  EXPECT_EQ(m.spool_records, 5U);
  fs::remove(dir.path() / "out");
  ASSERT_TRUE(made.output->wait_drained(10s));
  made.output->stop();
  EXPECT_EQ(read_lines(file(c).path).size(), 5U);
}

TEST(FileOutput, RotatesBySize) {
  TempDir dir;
  OutputConfig c = file_config(dir.path());
  file(c).max_bytes = 4096;
  file(c).max_files = 100;
  auto made = make_output(c);
  ASSERT_TRUE(made.output) << made.error;
  auto batch = alerts(0, 100);
  ASSERT_TRUE(made.output->enqueue(batch).ok);
  made.output->start();
  ASSERT_TRUE(made.output->wait_drained(10s));
  made.output->stop();
  std::size_t total = 0;
  int files = 0;
  for (auto& e : fs::directory_iterator(dir.path() / "out")) {
    EXPECT_LE(fs::file_size(e.path()), 4096U) << e.path();
    total += read_lines(e.path()).size();
    ++files;
  }
  EXPECT_EQ(total, 100U);
  EXPECT_GT(files, 5);
}

TEST(FileOutput, AnOversizedAlertIsDroppedAndCountedTheRestDelivered) {
  TempDir dir;
  OutputConfig c = file_config(dir.path());
  c.spool.max_bytes = 64 << 10;
  auto made = make_output(c);
  ASSERT_TRUE(made.output) << made.error;
  auto batch = alerts(0, 3);
  batch[1].message = std::string(200 << 10, 'm');
  EnqueueResult r = made.output->enqueue(batch);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.accepted, 3U);
  made.output->start();
  ASSERT_TRUE(made.output->wait_drained(10s));
  made.output->stop();
  EXPECT_EQ(made.output->metrics().dropped, 1U);
  auto lines = read_lines(file(c).path);
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[1], alert_to_json(batch[2]));
}

// The spool's disk refuses writes (full): enqueue says so, counts nothing it did not keep, and
// the same alerts offered again once it has room are delivered once each. Large calls go
// through the chunked path whose fsyncs run beside the formatting.
TEST(FileOutput, AFullSpoolDiskRefusesTheCallAndKeepsNothingOfIt) {
  for (std::size_t count : {std::size_t{100}, std::size_t{1000}}) {
    TempDir dir;
    OutputConfig c = file_config(dir.path());
    std::atomic<bool> full{false};
    std::atomic<int> writes{0};
    c.spool.write_file = [&](std::FILE* f, const char* data, std::size_t n) -> std::size_t {
      // The chunked call gets its first write in before the disk is full.
      if (full && ++writes > (count > 256 ? 1 : 0)) {
        errno = ENOSPC;
        return std::fwrite(data, 1, n / 2, f);
      }
      return std::fwrite(data, 1, n, f);
    };
    c.spool.segment_bytes = 64 << 10;
    auto made = make_output(c);
    ASSERT_TRUE(made.output) << made.error;
    auto first = alerts(0, 50);
    ASSERT_TRUE(made.output->enqueue(first).ok);
    full = true;
    auto second = alerts(50, 50 + static_cast<int>(count));
    EnqueueResult r = made.output->enqueue(second);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.write_failed);
    EXPECT_LT(r.accepted, count);
    EXPECT_NE(r.error.find(std::strerror(ENOSPC)), std::string::npos) << r.error;
    OutputMetrics m = made.output->metrics();
    EXPECT_EQ(m.queued, 50U + r.accepted) << "counted alerts the spool did not keep";
    EXPECT_EQ(m.spool_records, 50U + r.accepted);
    EXPECT_GE(m.spool_write_errors, 1U);
    full = false;  // space returns: the caller offers the rest again
    const std::size_t kept = r.accepted;
    EnqueueResult rest = made.output->enqueue(std::span(second).subspan(kept));
    ASSERT_TRUE(rest.ok) << rest.error;
    made.output->start();
    ASSERT_TRUE(made.output->wait_drained(20s));
    made.output->stop();
    auto lines = read_lines(file(c).path);
    ASSERT_EQ(lines.size(), 50U + count);
    for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(lines[50 + i], alert_to_json(second[i])) << i;
  }
}

// An fsync the test holds until it lets it go, or fails (EIO) while `failing` is set.
struct HeldSync {
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;
  int started = 0;
  std::atomic<bool> failing{false};
  std::function<bool(std::FILE*)> seam() {
    return [this](std::FILE* f) {
      std::unique_lock lock(mu);
      ++started;
      cv.notify_all();
      // Bounded: an enqueue_unsynced() that waited for its own fsync would fail, not hang.
      cv.wait_for(lock, 10s, [&] { return !held; });
      if (failing) {
        errno = EIO;
        return false;
      }
      return std::fflush(f) == 0;
    };
  }
  void hold(bool on) {
    std::lock_guard lock(mu);
    held = on;
    cv.notify_all();
  }
  bool wait_started(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 20s, [&] { return started >= n; });
  }
};

// A file output whose spool's fsyncs go through a HeldSync (declared before the output, which
// calls it from its sync thread until destroyed).
class HeldSyncOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    c = file_config(dir.path());
    c.spool.sync_file = sync.seam();
    auto made = make_output(c);
    ASSERT_TRUE(made.output) << made.error;
    output = std::move(made.output);
  }
  TempDir dir;
  OutputConfig c;
  HeldSync sync;
  std::unique_ptr<Output> output;
};

// enqueue_unsynced() returns while its fsync is still under way (the caller works meanwhile),
// the alerts already readable and delivered; wait_synced() returns once that fsync is done.
TEST_F(HeldSyncOutput, AnUnsyncedEnqueueReturnsBeforeItsFsyncAndIsDeliveredMeanwhile) {
  output->start();
  sync.hold(true);
  const auto batch = alerts(0, 20);
  std::uint64_t ticket = 0;
  const EnqueueResult r = output->enqueue_unsynced(batch, 1s, ticket);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.accepted, 20U);
  ASSERT_NE(ticket, 0U);
  ASSERT_TRUE(sync.wait_started(1));
  ASSERT_TRUE(output->wait_drained(20s)) << "not readable before its fsync";
  auto waited = std::async(std::launch::async, [&] {
    std::string error;
    return output->wait_synced(ticket, error);
  });
  EXPECT_EQ(waited.wait_for(50ms), std::future_status::timeout) << "returned before the fsync";
  sync.hold(false);
  EXPECT_TRUE(waited.get());
  output->stop();
  const auto lines = read_lines(file(c).path);
  ASSERT_EQ(lines.size(), 20U);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(lines[i], alert_to_json(batch[i])) << i;
}

// A failed fsync is told to the waiter of the call it covered, once: a later call whose own
// fsync worked is durable; a large enqueue() counts no chunk whose fsync failed.
TEST_F(HeldSyncOutput, AFailedFsyncIsToldToTheCallItCoveredOnce) {
  const auto batch = alerts(0, 10);
  sync.failing = true;
  std::uint64_t first = 0;
  ASSERT_TRUE(output->enqueue_unsynced(batch, 1s, first).ok);
  std::string error;
  EXPECT_FALSE(output->wait_synced(first, error));
  EXPECT_NE(error.find(std::strerror(EIO)), std::string::npos) << error;
  EXPECT_GE(output->metrics().spool_write_errors, 1U);
  sync.failing = false;
  std::uint64_t second = 0;
  ASSERT_TRUE(output->enqueue_unsynced(batch, 1s, second).ok);
  EXPECT_NE(second, first);
  error.clear();
  EXPECT_TRUE(output->wait_synced(second, error)) << error;

  // A large call, in chunks of 256 each with its fsync: none of them durable, none counted.
  sync.failing = true;
  const EnqueueResult r = output->enqueue(alerts(0, 1000));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.write_failed);
  EXPECT_EQ(r.accepted, 0U) << "counted alerts whose fsync failed";
  sync.failing = false;
  std::uint64_t after = 0;
  ASSERT_TRUE(output->enqueue_unsynced(batch, 1s, after).ok);
  EXPECT_TRUE(output->wait_synced(after, error)) << error;
}

// Without fsync: batch there is nothing to wait for: the call is enqueue() itself.
TEST(FileOutput, UnsyncedEnqueueIsPlainEnqueueUnderOtherFsyncPolicies) {
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kNever, FsyncPolicy::kInterval}) {
    TempDir dir;
    OutputConfig c = file_config(dir.path());
    c.spool.fsync = policy;
    auto made = make_output(c);
    ASSERT_TRUE(made.output) << made.error;
    std::uint64_t ticket = 7;
    const EnqueueResult r = made.output->enqueue_unsynced(alerts(0, 5), 1s, ticket);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.accepted, 5U);
    EXPECT_EQ(ticket, 0U) << to_string(policy);
    EXPECT_EQ(made.output->metrics().spool_records, 5U);
  }
}

TEST(MakeOutput, RefusesBadConfigWithAReason) {
  OutputConfig c;
  c.name = "x";
  c.type = "syslog";
  detail::edit_options<detail::SyslogOptions>(c).endpoints.urls = {"udp://"};
  c.spool.dir = "/tmp/unused";
  auto made = make_output(c);
  EXPECT_FALSE(made.output);
  EXPECT_NE(made.error.find("no host"), std::string::npos) << made.error;
  auto types = output_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "file"), types.end());
  EXPECT_NE(std::find(types.begin(), types.end(), "syslog"), types.end());
}

}  // namespace
}  // namespace sw::forward
