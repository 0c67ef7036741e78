// The daemon's side of the forwarding outputs: backpressure while a spool's disk refuses
// writes, and spool losses raised as collection_gap alerts.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "daemon/outputs.hpp"
#include "forward/outputs/file/file_output.hpp"
#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/forward.hpp"

namespace sw::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Dir {
 public:
  Dir()
      : path_(fs::temp_directory_path() /
              ("sw-outputs-" + std::to_string(std::random_device{}()))) {
    fs::create_directories(path_);
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<Alert> some_alerts(int count) {
  std::vector<Alert> alerts;
  for (int i = 0; i < count; ++i) {
    Alert a;
    a.id = stable_alert_id("ws01", "Security", std::to_string(i), "rule");
    a.rule_id = "rule";
    a.extras = {{"n", i}};
    alerts.push_back(std::move(a));
  }
  return alerts;
}

std::vector<nlohmann::json> lines_of(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

OutputConfig file_output(const Dir& dir, std::shared_ptr<forward::OutputConfig> forward) {
  forward->name = "alerts";
  forward->type = "file";
  forward::detail::edit_options<forward::detail::FileOptions>(*forward).path =
      dir.path() / "alerts.jsonl";
  forward->spool.dir = dir.path() / "spool";
  forward->retry.initial = 10ms;
  OutputConfig c;
  c.type = "file";
  c.name = "alerts";
  c.forward = std::move(forward);
  return c;
}

std::string metric_line(const AlertOutputs& outputs, const std::string& name) {
  Exposition exposition;
  outputs.write_metrics(exposition);
  const std::string text = exposition.text();
  const std::string key = name + "{output=\"alerts\",type=\"file\"} ";
  const auto at = text.find(key);
  if (at == std::string::npos) return "missing";
  return text.substr(at + key.size(), text.find('\n', at) - at - key.size());
}

// store() on another thread: it blocks while the spool cannot take the alerts.
std::future<bool> store_async(AlertOutputs& outputs, const std::vector<Alert>& alerts) {
  return std::async(std::launch::async, [&outputs, &alerts] {
    std::string error;
    return outputs.store(alerts, error);
  });
}

// A write function for SpoolOptions::write_file that fails (ENOSPC, half written) while `full`.
auto filling_disk(std::atomic<bool>& full) {
  return [&full](std::FILE* f, const char* data, std::size_t n) -> std::size_t {
    if (!full) return std::fwrite(data, 1, n, f);
    errno = ENOSPC;
    return std::fwrite(data, 1, n / 2, f);
  };
}

bool eventually(const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A file output whose spool's disk fills up when `full` is set.
class FillingDiskOutputs : public ::testing::Test {
 protected:
  void SetUp() override {
    auto forward = std::make_shared<forward::OutputConfig>();
    forward->spool.write_file = filling_disk(full);
    std::string error;
    outputs = make_outputs({file_output(dir, forward)}, dir.path().string(), error);
    ASSERT_TRUE(outputs) << error;
  }
  Dir dir;
  std::atomic<bool> full{false};
  std::unique_ptr<AlertOutputs> outputs;
};

TEST_F(FillingDiskOutputs, StoreWaitsUntilSpaceReturnsAndLosesNothing) {
  const auto alerts = some_alerts(40);
  full = true;
  auto stored = store_async(*outputs, alerts);
  ASSERT_TRUE(eventually([&] {
    return metric_line(*outputs, "sessionwatch_output_paused") == "1" &&
           std::stoull(metric_line(*outputs, "sessionwatch_output_spool_write_errors_total")) >= 2;
  })) << "the output never said it was paused";
  EXPECT_EQ(stored.wait_for(0ms), std::future_status::timeout) << "store gave up on a full disk";
  EXPECT_EQ(metric_line(*outputs, "sessionwatch_output_queued_total"), "0");
  full = false;
  ASSERT_EQ(stored.wait_for(20s), std::future_status::ready) << "did not resume";
  EXPECT_TRUE(stored.get());
  EXPECT_EQ(metric_line(*outputs, "sessionwatch_output_paused"), "0");
  EXPECT_EQ(metric_line(*outputs, "sessionwatch_output_queued_total"), "40");
  ASSERT_TRUE(outputs->wait_delivered(20s));
  outputs->close();
  const auto lines = lines_of(dir.path() / "alerts.jsonl");
  ASSERT_EQ(lines.size(), 40U);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(lines[static_cast<std::size_t>(i)]["n"], i);
}

TEST_F(FillingDiskOutputs, AbortEndsAStoreWaitingOnAFullDisk) {
  full = true;
  const auto alerts = some_alerts(3);
  auto stored = store_async(*outputs, alerts);
  ASSERT_TRUE(
      eventually([&] { return metric_line(*outputs, "sessionwatch_output_paused") == "1"; }));
  outputs->abort();
  ASSERT_EQ(stored.wait_for(20s), std::future_status::ready);
  EXPECT_FALSE(stored.get());
  outputs->close();
}

// store() in two halves: the alerts are delivered before sync_stored(); an output whose fsync
// of the batch failed is given the batch again (duplicates rather than loss), the other not.
TEST(ForwardOutputs, UnsyncedStoreGivesABatchWhoseFsyncFailedAgain) {
  Dir dir;
  std::atomic<bool> failing{false};
  std::vector<OutputConfig> configs;
  for (const char* name : {"first", "second"}) {
    auto forward = std::make_shared<forward::OutputConfig>();
    OutputConfig c = file_output(dir, forward);
    c.name = forward->name = name;
    forward::detail::edit_options<forward::detail::FileOptions>(*forward).path =
        dir.path() / (std::string(name) + ".jsonl");
    forward->spool.dir = dir.path() / "spool" / name;
    if (c.name == "second") {
      forward->spool.sync_file = [&failing](std::FILE* f) {
        if (failing.exchange(false)) {  // once
          errno = EIO;
          return false;
        }
        return std::fflush(f) == 0;
      };
    }
    configs.push_back(c);
  }
  std::string error;
  auto outputs = make_outputs(configs, dir.path().string(), error);
  ASSERT_TRUE(outputs) << error;
  ASSERT_TRUE(outputs->store_unsynced(some_alerts(3), error)) << error;
  ASSERT_TRUE(outputs->wait_delivered(20s)) << "not delivered before its fsync was waited for";
  ASSERT_TRUE(outputs->sync_stored(error)) << error;
  failing = true;
  auto batch = some_alerts(5);
  ASSERT_TRUE(outputs->store_unsynced(std::move(batch), error)) << error;
  ASSERT_TRUE(outputs->sync_stored(error)) << error;
  EXPECT_FALSE(failing) << "the second output's fsync was not asked for";
  ASSERT_TRUE(outputs->wait_delivered(20s));
  outputs->close();
  const auto first = lines_of(dir.path() / "first.jsonl");
  const auto second = lines_of(dir.path() / "second.jsonl");
  ASSERT_EQ(first.size(), 8U);
  ASSERT_EQ(second.size(), 13U) << "the failed batch not given again, or given to both";
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(first[3 + static_cast<std::size_t>(i)]["n"], i);
    EXPECT_EQ(second[3 + static_cast<std::size_t>(i)]["n"], i);
    EXPECT_EQ(second[8 + static_cast<std::size_t>(i)]["n"], i);
  }
}

TEST(ForwardOutputs, ASpoolLossBecomesACollectionGapAlert) {
  Dir dir;
  auto forward = std::make_shared<forward::OutputConfig>();
  const OutputConfig config = file_output(dir, forward);
  {
    // Alerts spooled by an agent that stopped before delivering them.
    forward::SpoolOptions o = forward->spool;
    o.segment_bytes = 4096;
    std::string error;
    auto spool = forward::Spool::open(o, error);
    ASSERT_TRUE(spool) << error;
    std::vector<std::string> records(40, std::string(200, 'r'));
    std::vector<std::string_view> views(records.begin(), records.end());
    ASSERT_EQ(spool->append(views).status, forward::AppendStatus::kOk);
  }
  std::vector<fs::path> segments;
  for (const auto& e : fs::directory_iterator(forward->spool.dir)) {
    if (e.path().extension() == ".seg") segments.push_back(e.path());
  }
  std::sort(segments.begin(), segments.end());
  ASSERT_GE(segments.size(), 3U);
  fs::remove(segments[1]);
  std::string error;
  auto outputs = make_outputs({config}, dir.path().string(), error);
  ASSERT_TRUE(outputs) << error;
  ASSERT_TRUE(outputs->wait_delivered(20s));
  outputs->close();
  EXPECT_NE(metric_line(*outputs, "sessionwatch_output_spool_lost_total"), "0");
  std::vector<nlohmann::json> gaps;
  std::ifstream in(dir.path() / "alerts.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto doc = nlohmann::json::parse(line, nullptr, false);
    if (!doc.is_discarded() && doc.contains("sessionwatch")) gaps.push_back(doc);
  }
  ASSERT_EQ(gaps.size(), 1U);
  const auto& gap = gaps[0]["sessionwatch"]["collection_gap"];
  EXPECT_EQ(gap["cause"], "spool_segment_missing");
  EXPECT_EQ(gap["input"], "alerts");
  EXPECT_EQ(gap["source"], segments[1].string());
  EXPECT_GT(gap["count"].get<int>(), 0);
  EXPECT_EQ(gaps[0]["event"]["action"], "collection_gap");
}

}  // namespace
}  // namespace sw::daemon
