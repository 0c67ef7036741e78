#include "daemon/inputs/kafka/kafka_input.hpp"

#ifndef SW_HAVE_KAFKA

namespace sw::daemon {

std::unique_ptr<Input> make_kafka_input(const InputConfig& config, std::size_t,
                                        const EventInterest&, std::string& error) {
  error = "input " + config.name + ": the kafka input is not in this build (no librdkafka)";
  return nullptr;
}

}  // namespace sw::daemon

#else

#include <spdlog/spdlog.h>
#include "forward/outputs/kafka/rdkafka_api.hpp"

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "daemon/inputs/kafka/kafka_config.hpp"
#include "daemon/inputs/kafka/partition_state.hpp"
#include "platform/fsync.hpp"
#include "sessionwatch/decode.hpp"

namespace sw::daemon {

using forward::rdkafka;

namespace {

constexpr auto kPollWait = std::chrono::milliseconds(100);
constexpr std::size_t kBatchEvents = 1000;  // per partition, before it is handed on
constexpr int kLoggedBadRecords = 20;       // then only counted

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rdkafka().rd_kafka_destroy(rk); }
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rdkafka().rd_kafka_topic_partition_list_destroy(l);
  }
  void operator()(rd_kafka_message_t* m) const { rdkafka().rd_kafka_message_destroy(m); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;

// "topic/partition": the input's stream (checkpoint) name and the handover file's.
std::string stream_name(const char* topic, std::int32_t partition) {
  return std::string(topic) + "/" + std::to_string(partition);
}

bool split_stream(const std::string& stream, std::string& topic, std::int32_t& partition) {
  const auto slash = stream.rfind('/');
  if (slash == std::string::npos) return false;
  topic = stream.substr(0, slash);
  const char* end = stream.data() + stream.size();
  return std::from_chars(stream.data() + slash + 1, end, partition).ptr == end;
}

bool parse_offset(const std::string& text, std::int64_t& offset) {
  const char* end = text.data() + text.size();
  return std::from_chars(text.data(), end, offset).ptr == end;
}

// The librdkafka properties of the input's options; false with `error` on a refused one.
bool set_properties(rd_kafka_conf_t* conf, const KafkaInputOptions& o, std::string& error) {
  std::map<std::string, std::string> p;
  std::string brokers;
  for (const std::string& b : o.brokers) brokers += (brokers.empty() ? "" : ",") + b;
  p["bootstrap.servers"] = brokers;
  p["group.id"] = o.group_id;
  p["enable.auto.commit"] = "false";  // committed() commits, once the alerts are spooled
  p["enable.auto.offset.store"] = "false";
  p["auto.offset.reset"] = o.start_at_earliest ? "earliest" : "latest";
  p["partition.assignment.strategy"] = "cooperative-sticky";  // only moved partitions hand over
  if (o.tls) {
    p["ssl.ca.location"] = o.tls_options.ca_file;
    p["ssl.certificate.location"] = o.tls_options.cert_file;
    p["ssl.key.location"] = o.tls_options.key_file;
    p["enable.ssl.certificate.verification"] = o.tls_options.verify ? "true" : "false";
  }
  if (!o.sasl.mechanism.empty()) {
    p["sasl.mechanisms"] = o.sasl.mechanism;
    p["sasl.username"] = o.sasl.username;
    p["sasl.password"] = o.sasl.password;
  }
  p["security.protocol"] = o.sasl.mechanism.empty() ? (o.tls ? "ssl" : "plaintext")
                                                    : (o.tls ? "sasl_ssl" : "sasl_plaintext");
  for (const auto& [key, value] : o.properties) p[key] = value;
  char message[512];
  for (const auto& [key, value] : p) {
    if (value.empty()) continue;
    if (rdkafka().rd_kafka_conf_set(conf, key.c_str(), value.c_str(), message, sizeof message) !=
        RD_KAFKA_CONF_OK) {
      error = "librdkafka." + key + ": " + message;
      return false;
    }
  }
  return true;
}

// One partition's progress: what was handed to the detection thread, what is durable (its
// alerts spooled and the checkpoint written), and what the broker has.
struct PartitionProgress {
  // The first offset read since the assignment: an offset at or before it in the engine's state
  // is from an earlier ownership of the partition, not progress to commit.
  std::int64_t start = -1;
  std::int64_t queued = -1;
  std::int64_t durable = -1;
  std::int64_t committed = -1;
};

// Messages read from one partition and not handed on yet.
struct PendingBatch {
  std::vector<Event> events;
  std::int64_t first_offset = -1;
  std::int64_t next_offset = -1;
};

class KafkaInput final : public Input {
 public:
  KafkaInput(const InputConfig& config, const KafkaInputOptions& options, std::size_t index)
      : config_(config), options_(options), index_(index) {}
  ~KafkaInput() override { exit(); }

  bool init(const AgentState&, std::vector<WorkItem>&, std::string& error) override {
    if (!create_consumer(error)) {
      error = "input " + config_.name + ": " + error;
      return false;
    }
    thread_ = std::thread([this] {
      platform::name_this_thread("in:" + config_.name);
      consume();
    });
    return true;
  }

  bool collect(bool, std::vector<WorkItem>& out) override {
    std::lock_guard lock(mutex_);
    for (WorkItem& item : pending_) out.push_back(std::move(item));
    pending_.clear();
    pending_events_ = 0;
    room_.notify_all();
    return false;
  }

  void exit() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    room_.notify_all();
    durable_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  std::vector<std::string> directories() const override { return {}; }
  void set_wakeup(std::function<void()> wakeup) override { wakeup_ = std::move(wakeup); }

  bool wants_state_written() const override { return true; }

  // On the detection thread.
  void state_written(const StateParts& parts) override {
    std::lock_guard lock(mutex_);
    states_.written(parts);
  }

  // On the io thread, after state_written() of the write that holds `checkpoint`.
  void committed(const std::string& stream, const std::string& checkpoint) override {
    std::lock_guard lock(mutex_);
    const auto p = progress_.find(stream);
    std::int64_t offset = 0;
    if (p == progress_.end() || !parse_offset(checkpoint, offset)) return;  // revoked meanwhile
    PartitionProgress& progress = p->second;
    if (offset <= progress.start || offset > progress.queued || offset <= progress.durable) return;
    // The state goes out before the offset: a successor never starts past the state it reads.
    write_handover_of(stream, offset);
    progress.durable = offset;
    durable_cv_.notify_all();
  }

  void write_metrics(Exposition& out) const override {
    using T = Exposition::Type;
    const Exposition::Labels labels{{"input", config_.name}};
    out.add("sessionwatch_kafka_input_records_undecodable_total", T::kCounter,
            "Kafka messages that are neither Winlogbeat/NXLog JSON nor Event XML (skipped).",
            labels, double(undecodable_.load()));
    out.add("sessionwatch_kafka_input_partitions", T::kGauge, "Partitions this relay owns now.",
            labels, double(owned_.load()));
    out.add("sessionwatch_kafka_input_handovers_read_total", T::kCounter,
            "Partitions assigned with the session state their previous owner wrote.", labels,
            double(handovers_read_.load()));
    out.add("sessionwatch_kafka_input_commits_total", T::kCounter,
            "Offset commits sent to the group coordinator.", labels, double(commits_.load()));
  }

 private:
  bool create_consumer(std::string& error) {
    rd_kafka_conf_t* conf = rdkafka().rd_kafka_conf_new();
    if (!set_properties(conf, options_, error)) {
      rdkafka().rd_kafka_conf_destroy(conf);
      return false;
    }
    rdkafka().rd_kafka_conf_set_opaque(conf, this);
    rdkafka().rd_kafka_conf_set_rebalance_cb(
        conf,
        [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
           void* opaque) { static_cast<KafkaInput*>(opaque)->rebalance(rk, err, partitions); });
    char message[512];
    consumer_.reset(rdkafka().rd_kafka_new(RD_KAFKA_CONSUMER, conf, message, sizeof message));
    if (!consumer_) {
      rdkafka().rd_kafka_conf_destroy(conf);
      error = message;
      return false;
    }
    rdkafka().rd_kafka_poll_set_consumer(consumer_.get());
    PartitionList topics(rdkafka().rd_kafka_topic_partition_list_new(int(options_.topics.size())));
    for (const std::string& t : options_.topics) {
      rdkafka().rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    if (const rd_kafka_resp_err_t err =
            rdkafka().rd_kafka_subscribe(consumer_.get(), topics.get())) {
      error = std::string("subscribe: ") + rdkafka().rd_kafka_err2str(err);
      return false;
    }
    return true;
  }

  // ---- the consumer thread ----
  void consume() {
    auto last_flush = std::chrono::steady_clock::now();
    while (!stopping()) {
      std::unique_ptr<rd_kafka_message_t, KafkaDeleter> message(
          rdkafka().rd_kafka_consumer_poll(consumer_.get(), int(kPollWait.count())));
      if (message) read(*message);
      const auto now = std::chrono::steady_clock::now();
      if (!message || now - last_flush >= kPollWait) {
        flush_batches();
        commit_durable(false);
        last_flush = now;
      }
    }
    commit_durable(true);  // what the engine's final checkpoint made durable
    rdkafka().rd_kafka_consumer_close(consumer_.get());
    consumer_.reset();
  }

  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  void read(const rd_kafka_message_t& message) {
    if (message.err) {
      if (message.err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        spdlog::warn("input {}: {}", config_.name, rdkafka().rd_kafka_message_errstr(&message));
      }
      return;
    }
    const std::string stream =
        stream_name(rdkafka().rd_kafka_topic_name(message.rkt), message.partition);
    PendingBatch& batch = batches_[stream];
    if (batch.first_offset < 0) batch.first_offset = message.offset;
    batch.next_offset = message.offset + 1;
    const std::string_view payload(static_cast<const char*>(message.payload), message.len);
    Event event;
    std::string error;
    if (!decode(payload, event, error)) {
      if (undecodable_++ < kLoggedBadRecords) {
        spdlog::warn("input {}: {} offset {}: {}", config_.name, stream, message.offset, error);
      }
    } else {
      event.set_origin(config_.name + ":" + stream);
      {
        std::lock_guard lock(mutex_);
        states_.saw(stream, event.computer());
      }
      batch.events.push_back(std::move(event));
    }
    if (batch.events.size() >= kBatchEvents) flush_batches();
  }

  bool decode(std::string_view payload, Event& event, std::string& error) {
    const auto first = payload.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
      error = "empty message";
      return false;
    }
    payload.remove_prefix(first);
    if (payload.front() == '<') return xml_.decode(payload, event, error);
    if (payload.front() == '{') return json_.decode(payload, event, error);
    error = "neither JSON nor Event XML";
    return false;
  }

  // Hands every partition's read messages to the detection thread (also those that were all
  // undecodable: their offset moves on).
  void flush_batches() {
    for (auto& [stream, batch] : batches_) {
      if (batch.next_offset < 0) continue;
      EventBatch out;
      out.input_index = index_;
      out.stream = stream;
      out.origin = stream;
      out.checkpoint = std::to_string(batch.next_offset);
      out.events = std::move(batch.events);
      if (!queue_work(stream, batch.first_offset, batch.next_offset, std::move(out))) return;
      batch = PendingBatch{};
    }
  }

  bool queue_work(const std::string& stream, std::int64_t first_offset, std::int64_t next_offset,
                  EventBatch batch) {
    {
      std::unique_lock lock(mutex_);
      room_.wait(lock, [&] {
        return stopping_ || pending_events_ + batch.events.size() <= kKafkaMaxPendingEvents ||
               pending_.empty();
      });
      if (stopping_) return false;  // not handed on: the offset stays before these messages
      pending_events_ += batch.events.size();
      PartitionProgress& progress = progress_[stream];
      if (progress.start < 0) progress.start = first_offset;
      progress.queued = next_offset;
      WorkItem item;
      item.events = std::move(batch);
      pending_.push_back(std::move(item));
    }
    if (wakeup_) wakeup_();
    return true;
  }

  void queue_adopt(StatePartMap parts) {
    {
      std::lock_guard lock(mutex_);
      WorkItem item;
      item.adopt_parts = std::move(parts);
      pending_.push_back(std::move(item));
    }
    if (wakeup_) wakeup_();
  }

  // Commits the durable offsets of the owned partitions that moved since their last commit.
  void commit_durable(bool sync) {
    PartitionList offsets(rdkafka().rd_kafka_topic_partition_list_new(4));
    std::vector<std::pair<std::string, std::int64_t> > sent;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [stream, p] : progress_) {
        std::string topic;
        std::int32_t partition = 0;
        if (p.durable <= p.committed || !split_stream(stream, topic, partition)) continue;
        rdkafka()
            .rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), partition)
            ->offset = p.durable;
        sent.emplace_back(stream, p.durable);
      }
    }
    if (sent.empty()) return;
    const rd_kafka_resp_err_t err =
        rdkafka().rd_kafka_commit(consumer_.get(), offsets.get(), sync ? 0 : 1);
    ++commits_;
    if (err) {
      spdlog::warn("input {}: offset commit: {}", config_.name, rdkafka().rd_kafka_err2str(err));
      return;
    }
    std::lock_guard lock(mutex_);
    for (const auto& [stream, offset] : sent) {
      if (auto it = progress_.find(stream); it != progress_.end()) it->second.committed = offset;
    }
  }

  // ---- rebalances, on the consumer thread ----
  void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* partitions) {
    const bool cooperative =
        std::string_view(rdkafka().rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      for (int i = 0; i < partitions->cnt; ++i) assigned(partitions->elems[i]);
      if (cooperative) {
        if (rd_kafka_error_t* e = rdkafka().rd_kafka_incremental_assign(rk, partitions)) {
          spdlog::error("input {}: assign: {}", config_.name, rdkafka().rd_kafka_error_string(e));
          rdkafka().rd_kafka_error_destroy(e);
        }
      } else {
        rdkafka().rd_kafka_assign(rk, partitions);
      }
    } else {
      revoked(rk, partitions);
      if (cooperative) {
        if (rd_kafka_error_t* e = rdkafka().rd_kafka_incremental_unassign(rk, partitions)) {
          rdkafka().rd_kafka_error_destroy(e);
        }
      } else {
        rdkafka().rd_kafka_assign(rk, nullptr);
      }
    }
    std::lock_guard lock(mutex_);
    owned_ = progress_.size();
  }

  // Reads the partition's handover (if a previous owner wrote one) and queues it before the
  // partition's first batch.
  void assigned(const rd_kafka_topic_partition_t& tp) {
    const std::string stream = stream_name(tp.topic, tp.partition);
    PartitionHandover handover;
    std::string error;
    const bool found = !options_.handover_dir.empty() &&
                       read_handover(options_.handover_dir, stream, handover, error);
    if (!error.empty()) {
      spdlog::warn("input {}: {}; its computers start with no session state", config_.name, error);
    }
    {
      std::lock_guard lock(mutex_);
      progress_[stream] = PartitionProgress{};
      states_.own(stream);
      if (found) states_.adopt(stream, handover);
    }
    spdlog::info(
        "input {}: assigned {}{}", config_.name, stream,
        found ? " with the session state of " + std::to_string(handover.parts.size()) + " parts"
              : "");
    if (!found) return;
    ++handovers_read_;
    queue_adopt(std::move(handover.parts));
  }

  // Finishes what was read from the revoked partitions: handed on, processed, spooled and
  // committed (within revoke_timeout), so that their next owner starts where this one stopped.
  void revoked(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* partitions) {
    std::vector<std::string> streams;
    streams.reserve(static_cast<std::size_t>(partitions->cnt));
    for (int i = 0; i < partitions->cnt; ++i) {
      streams.push_back(stream_name(partitions->elems[i].topic, partitions->elems[i].partition));
    }
    if (!rdkafka().rd_kafka_assignment_lost(rk)) {
      flush_batches();
      wait_durable(streams);
      commit_durable(true);
    }
    std::lock_guard lock(mutex_);
    for (const std::string& stream : streams) {
      batches_.erase(stream);
      progress_.erase(stream);
      states_.forget(stream);
    }
  }

  void wait_durable(const std::vector<std::string>& streams) {
    std::unique_lock lock(mutex_);
    const bool done = durable_cv_.wait_for(lock, options_.revoke_timeout, [&] {
      if (stopping_) return true;
      for (const std::string& stream : streams) {
        const auto it = progress_.find(stream);
        if (it != progress_.end() && it->second.durable < it->second.queued) return false;
      }
      return true;
    });
    if (!done) {
      spdlog::warn(
          "input {}: revoked partitions not all committed within {} ms: their next "
          "owner reads some events again",
          config_.name, options_.revoke_timeout.count());
    }
  }

  // With mutex_ held: the partition's state, when it changed, for its next owner.
  void write_handover_of(const std::string& stream, std::int64_t offset) {
    if (options_.handover_dir.empty()) return;
    std::optional<StatePartMap> parts = states_.take_if_dirty(stream);
    if (!parts) return;
    std::string error;
    if (!write_handover(options_.handover_dir, stream, {offset, std::move(*parts)}, error)) {
      spdlog::warn("input {}: handover of {} not written: {}", config_.name, stream, error);
    }
  }

  InputConfig config_;
  KafkaInputOptions options_;
  std::size_t index_;
  std::unique_ptr<rd_kafka_t, KafkaDeleter> consumer_;
  std::thread thread_;
  std::function<void()> wakeup_;
  JsonLineDecoder json_;  // consumer thread only, like batches_
  XmlEventDecoder xml_;
  std::map<std::string, PendingBatch> batches_;

  mutable std::mutex mutex_;
  std::condition_variable room_;
  std::condition_variable durable_cv_;
  std::deque<WorkItem> pending_;
  std::size_t pending_events_ = 0;
  std::map<std::string, PartitionProgress> progress_;  // owned partitions
  PartitionStates states_;
  bool stopping_ = false;

  std::atomic<std::uint64_t> undecodable_{0};
  std::atomic<std::uint64_t> owned_{0};
  std::atomic<std::uint64_t> handovers_read_{0};
  std::atomic<std::uint64_t> commits_{0};
};

}  // namespace

std::unique_ptr<Input> make_kafka_input(const InputConfig& config, std::size_t index,
                                        const EventInterest&, std::string& error) {
  const auto* options = options_of<KafkaInputOptions>(config, error);
  if (!options) return nullptr;
  if (!rdkafka().error.empty()) {
    error = "input " + config.name + ": " + rdkafka().error;
    return nullptr;
  }
  return std::make_unique<KafkaInput>(config, *options, index);
}

}  // namespace sw::daemon

#endif
