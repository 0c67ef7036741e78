#include "daemon/inputs/evtx/evtx_job.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "daemon/metrics.hpp"

namespace sw::daemon {

// The same fields (and names) as the state files of earlier versions kept per EVTX file.
std::string checkpoint_text(const EvtxCheckpoint& cp) {
  nlohmann::json doc = {{"path", cp.path},
                        {"device", cp.id.device},
                        {"inode", cp.id.inode},
                        {"record_id", cp.record_id}};
  if (cp.position) {
    doc["position"] = {{"chunk", cp.position->chunk},
                       {"offset", cp.position->offset},
                       {"chunk_first_id", cp.position->chunk_first_id},
                       {"last_record_id", cp.position->last_record_id}};
  }
  return doc.dump();
}

bool parse_checkpoint(std::string_view text, EvtxCheckpoint& cp, std::string& error) {
  try {
    const nlohmann::json e = nlohmann::json::parse(text);
    cp.path = e.at("path").get<std::string>();
    cp.id.device = e.at("device").get<std::uint64_t>();
    cp.id.inode = e.at("inode").get<std::uint64_t>();
    cp.record_id = e.at("record_id").get<std::uint64_t>();
    cp.position.reset();
    // Absent in states written before positions were kept: those resume by record id.
    if (const auto it = e.find("position"); it != e.end()) {
      EvtxPosition& p = cp.position.emplace();
      p.chunk = it->at("chunk").get<std::uint64_t>();
      p.offset = it->at("offset").get<std::uint32_t>();
      p.chunk_first_id = it->at("chunk_first_id").get<std::uint64_t>();
      p.last_record_id = it->at("last_record_id").get<std::uint64_t>();
    }
    return true;
  } catch (const nlohmann::json::exception& e) {
    error = e.what();
    return false;
  }
}

namespace {

class EvtxSink : public EventSink {
 public:
  using Deliver = std::function<void(Event&)>;
  EvtxSink(const Deliver& deliver, const std::string& path, InputMetrics& metrics)
      : deliver_(deliver), path_(path), metrics_(metrics) {}
  // Records with a header id up to this are skipped (resuming by record id).
  std::uint64_t skip_through = 0;

  void on_event(Event& event) override {
    ++metrics_.events_read;
    const std::uint64_t id = event.source_offset;  // the record header's id
    if (skip_through != 0 && id <= skip_through) return;
    ++metrics_.events_decoded;
    if (first == 0 || id < first) first = id;
    event.set_origin(path_);
    deliver_(event);
  }
  // Kept until the read is over: damage seen in a file that changed meanwhile is most likely
  // the part still being written, read whole next time.
  void on_error(const DecodeError& e) override {
    ++metrics_.events_read;
    ++errors;
    if (kept.size() < kMaxKept) kept.push_back(e);
  }
  std::uint64_t first = 0;
  std::uint64_t errors = 0;
  std::vector<DecodeError> kept;

 private:
  static constexpr std::size_t kMaxKept = 100;
  const Deliver& deliver_;
  const std::string& path_;
  InputMetrics& metrics_;
};

void report_damage(const EvtxSink& sink, const std::string& path, bool changed_meanwhile,
                   InputJob::Context& context) {
  if (sink.errors == 0) return;
  if (changed_meanwhile) {
    spdlog::debug("{}: changed while being read ({} problem(s) seen); read again once it settles",
                  path, sink.errors);
    return;
  }
  context.metrics->events_bad += sink.errors;
  for (const DecodeError& e : sink.kept) {
    context.error("decode:" + path, e.origin + ":" + std::to_string(e.position) + ": " + e.reason);
  }
}

// Records before the first one read were gone when reading resumed by record id.
void report_skipped(const EvtxSink& sink, const InputJob& job, const std::string& input,
                    std::vector<CollectionGap>& gaps) {
  if (sink.skip_through == 0 || sink.first <= sink.skip_through + 1) return;
  CollectionGap gap;
  gap.input = input;
  gap.path = job.origin;
  gap.cause = "record_ids_skipped";
  gap.unit = "records";
  gap.from = sink.skip_through + 1;
  gap.to = sink.first - 1;
  gap.count = gap.to - gap.from + 1;
  gaps.push_back(std::move(gap));
}

}  // namespace

EvtxJob::EvtxJob(std::size_t input_index, std::string input_name, std::string path,
                 std::shared_ptr<EvtxVersionsRead> read,
                 std::function<void(const std::string&)> started)
    : input_name_(std::move(input_name)), read_(std::move(read)), started_(std::move(started)) {
  this->input_index = input_index;
  stream = path;
  origin = std::move(path);
}

// Where to carry on in the file: its checkpoint when it is the same file.
EvtxCheckpoint EvtxJob::resume_point(const Context& context, const platform::FileId& id) const {
  EvtxCheckpoint cp{origin, id, 0, std::nullopt};
  if (!context.checkpoint) return cp;
  EvtxCheckpoint stored;
  std::string error;
  if (!parse_checkpoint(*context.checkpoint, stored, error)) {
    spdlog::warn("input {}: the checkpoint of {} is not an EVTX position ({}); read whole",
                 input_name_, origin, error);
    return cp;
  }
  return stored.id == id ? stored : cp;
}

std::optional<std::string> EvtxJob::run(Context& context) {
  if (started_) started_(origin);
  const auto version = evtx_file_version(origin);
  if (!version) return std::nullopt;
  if (auto seen = read_->find(origin); seen != read_->end() && seen->second == *version) {
    return std::nullopt;  // nothing new since it was last read
  }
  EvtxCheckpoint cp = resume_point(context, version->id);
  std::string error;
  // The native parser: portable (the same reader on Windows), about 30x faster than libevtx, and
  // it reads files libevtx cannot (docs/evtx-format.md).
  auto reader = NativeEvtxReader::open_file(origin, error);
  if (!reader) {
    // Often a file still being copied in: the next change notification retries.
    context.error("evtx:" + origin, origin + ": " + error);
    return std::nullopt;
  }
  EvtxSink sink(context.deliver, origin, *context.metrics);
  EvtxPosition position = cp.position.value_or(EvtxPosition{});
  // Without a position (older state) resume after the record id.
  if (!cp.position) sink.skip_through = cp.record_id;
  DecodeStats stats;
  if (!reader->read_from(sink, position, stats)) {
    spdlog::warn(
        "input {}: {} holds other records at its checkpoint (replaced or wrapped); "
        "reading the records after id {}",
        input_name_, origin, position.last_record_id);
    sink.skip_through = position.last_record_id;
    position = EvtxPosition{};
    reader->read_from(sink, position, stats);
  }
  report_skipped(sink, *this, input_name_, *context.gaps);
  report_damage(sink, origin, evtx_file_version(origin) != version, context);
  if (position.last_record_id == 0) position.last_record_id = cp.record_id;
  cp.record_id = position.last_record_id;
  cp.position = position;
  (*read_)[origin] = *version;
  return checkpoint_text(cp);
}

}  // namespace sw::daemon
