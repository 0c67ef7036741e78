// decode_files_merged: several files as one stream in event time (a k-way merge of DecodeStreams).
#include "decode/merge.hpp"

#include <algorithm>
#include <memory>
#include <thread>

#include "decode/prefetch.hpp"

namespace sw {
namespace decode_detail {

std::size_t TimeMerger::add_stream(std::string key) {
  streams_.push_back(Stream{std::move(key), {}, 0, 0, false, 0, false});
  if (returns_) streams_.back().heap.return_spares_to(returns_);
  // Memory is shared out among the streams; a stream over its share gives up its oldest early.
  event_share_ = std::max<std::size_t>(64, options_.max_held_events / streams_.size());
  byte_share_ = std::max<std::size_t>(64 * 1024, options_.max_held_bytes / streams_.size());
  // Each stream's share just shrank, so an open stream holding events may be ready now; an empty
  // open one blocks and an ended one does not whatever its share (files are added before any is
  // read, so this stays a glance at each when a scan is given thousands).
  for (Stream& s : streams_) {
    if (!s.ended && !s.heap.empty()) refresh(s);
  }
  refresh(streams_.back());
  return streams_.size() - 1;
}

void TimeMerger::return_spares_to(std::shared_ptr<PackedReturns> returns) {
  returns_ = std::move(returns);
  for (Stream& s : streams_) s.heap.return_spares_to(returns_);
}

void TimeMerger::refresh(Stream& s) {
  const bool blocks = !s.ended && !ready(s);
  if (blocks == s.blocks) return;
  s.blocks = blocks;
  if (blocks) {
    ++blocking_;
  } else {
    --blocking_;
  }
}

void TimeMerger::push(std::size_t stream, const Event& event) {
  Stream& s = streams_[stream];
  const Ticks time = event.time_created;
  arriving(s, time);
  pushed(s, s.heap.push(event, time, s.next_seq++));
}

void TimeMerger::push(std::size_t stream, PackedEvent&& event) {
  Stream& s = streams_[stream];
  const Ticks time = event.time();
  arriving(s, time);
  pushed(s, s.heap.push(std::move(event), time, s.next_seq++));
}

void TimeMerger::arriving(Stream& s, Ticks time) {
  if (s.heap.empty() || time > s.newest) s.newest = time;
  s.ended = false;
}

void TimeMerger::pushed(Stream& s, std::size_t bytes) {
  ++held_;
  s.bytes += bytes;
  held_bytes_ += bytes;
  stats_.held_peak = std::max(stats_.held_peak, held_);
  stats_.held_bytes_peak = std::max(stats_.held_bytes_peak, held_bytes_);
  refresh(s);
}

void TimeMerger::end(std::size_t stream) {
  streams_[stream].ended = true;
  refresh(streams_[stream]);
}

bool TimeMerger::ready(const Stream& s) const {
  if (s.heap.empty()) return false;
  if (s.ended) return true;
  if (s.heap.size() >= event_share_ || s.bytes >= byte_share_) return true;
  return s.heap.top().time < s.newest - options_.reorder_window;
}

bool TimeMerger::before(std::size_t a, std::size_t b) const {
  const EventHeap::Entry& x = streams_[a].heap.top();
  const EventHeap::Entry& y = streams_[b].heap.top();
  if (x.time != y.time) return x.time < y.time;
  if (streams_[a].key != streams_[b].key) return streams_[a].key < streams_[b].key;
  return a < b;  // the same file given twice: identical events either way
}

void TimeMerger::pop(Stream& s, const Release& out) {
  const Ticks time = s.heap.top().time;
  --held_;
  s.bytes -= s.heap.top().bytes;
  held_bytes_ -= s.heap.top().bytes;
  if (released_any_ && time < released_time_) ++stats_.late_events;
  if (!released_any_ || time > released_time_) released_time_ = time;
  released_any_ = true;
  s.heap.pop(out);
  refresh(s);
}

void TimeMerger::release(const Release& out) {
  // While a stream blocks, it may still deliver something older than every head.
  while (blocking_ == 0) {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      if (streams_[i].heap.empty()) continue;  // ended: it does not block
      if (!best || before(i, *best)) best = i;
    }
    if (!best) return;
    pop(streams_[*best], out);
  }
}

bool TimeMerger::over_budget() const {
  return held_ > options_.max_held_events || held_bytes_ > options_.max_held_bytes;
}

void TimeMerger::release_over_budget(const Release& out) {
  while (over_budget()) {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      if (!streams_[i].heap.empty() && (!best || before(i, *best))) best = i;
    }
    if (!best) return;
    pop(streams_[*best], out);
  }
}

std::optional<std::size_t> TimeMerger::hungry() const {
  if (blocking_ == 0) return std::nullopt;
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].blocks) return i;
  }
  return std::nullopt;
}

}  // namespace decode_detail

namespace {

// One input's events into the merger, as decoded or as recorded ahead; its errors straight on,
// its progress summed over all.
class MergeInputSink : public decode_detail::ReplaySink {
 public:
  MergeInputSink(decode_detail::TimeMerger& merger, std::size_t stream, EventSink& out,
                 std::vector<std::uint64_t>& done, std::uint64_t& total)
      : merger_(merger), stream_(stream), out_(out), done_(done), total_(total) {}
  void on_event(Event& event) override { merger_.push(stream_, event); }
  void on_packed(PackedEvent&& event) override { merger_.push(stream_, std::move(event)); }
  void on_error(const DecodeError& error) override { out_.on_error(error); }
  void on_progress(std::uint64_t done, std::uint64_t /*total*/) override {
    done_[stream_] = done;
    std::uint64_t sum = 0;
    for (std::uint64_t d : done_) sum += d;
    out_.on_progress(sum, total_);
  }

 private:
  decode_detail::TimeMerger& merger_;
  std::size_t stream_;
  EventSink& out_;
  std::vector<std::uint64_t>& done_;
  std::uint64_t& total_;
};

// Memory per open text file: its read buffer. Many files share a budget, down to a floor.
std::size_t read_size_for(std::size_t files) {
  constexpr std::size_t kBudget = std::size_t{64} << 20;
  return std::clamp<std::size_t>(kBudget / std::max<std::size_t>(files, 1), 64 << 10, 1 << 20);
}

// Threads decoding ahead of the merge for `files` files, or for one file whose steps decode
// independently (`independent`: EVTX chunks). One text file gets none: the copies its recorded
// steps take would cost about what a second core saves.
std::size_t decode_threads_for(const MergeOptions& merge, std::size_t files, bool independent) {
  if (merge.decode_threads >= 0) return static_cast<std::size_t>(merge.decode_threads);
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  if (independent) return cores - 1;
  if (files < 2) return 0;
  return std::min(cores - 1, files);
}

// Steps decoded ahead over all files: every file one or two while they are few, a fixed
// budget beyond (a step is up to an EVTX chunk or a read of a text file, about 1 MiB of events),
// so memory does not grow with the number of files.
std::size_t read_ahead_steps(std::size_t threads, std::size_t files) {
  constexpr std::size_t kMaxSteps = 16;
  return std::max(2 * threads + 2,
                  std::min(decode_detail::Prefetcher::kAheadPerLane * files, kMaxSteps));
}

}  // namespace

DecodeStats decode_files_merged(const std::vector<std::string>& paths, const DecodeOptions& options,
                                EventSink& sink, const MergeOptions& merge,
                                MergeStats* merge_stats) {
  decode_detail::TimeMerger merger(merge);
  std::vector<std::unique_ptr<MergeInputSink>> sinks;
  std::vector<std::unique_ptr<DecodeStream>> streams;
  std::vector<std::uint64_t> done(paths.size(), 0);
  std::uint64_t total = 0;
  std::uint64_t refused = 0;
  const std::size_t read_size = read_size_for(paths.size());
  // With threads, every stream is stepped through the prefetcher, which records its sink calls
  // and replays them here: the merge sees what stepping the streams here gives.
  const std::size_t threads = decode_threads_for(merge, paths.size(), false);
  std::optional<decode_detail::Prefetcher> ahead;
  if (threads > 0) ahead.emplace(threads, read_ahead_steps(threads, paths.size()));
  for (const std::string& path : paths) {
    const std::size_t index = merger.add_stream(path);
    sinks.push_back(std::make_unique<MergeInputSink>(merger, index, sink, done, total));
    EventSink& stream_sink = ahead ? ahead->new_lane() : *sinks.back();
    std::string error;
    streams.push_back(DecodeStream::open(path, options, stream_sink, error, read_size));
    if (!streams.back()) {
      ++refused;
      merger.end(index);
      sink.on_error(DecodeError{path == "-" ? "stdin" : path, 0, error, DecodeError::Kind::kFile});
    } else {
      total += streams.back()->size();
    }
    if (ahead) ahead->add(std::move(streams.back()));
  }
  // One file whose chunks decode independently is still read on every core.
  const bool one_independent =
      !ahead && paths.size() == 1 && streams[0] && streams[0]->independent_steps() > 0;
  if (const std::size_t chunk_threads = one_independent ? decode_threads_for(merge, 1, true) : 0) {
    ahead.emplace(chunk_threads, read_ahead_steps(chunk_threads, 1));
    ahead->new_lane();
    ahead->add(std::move(streams[0]));
  }
  auto step = [&](std::size_t i) { return ahead ? ahead->step(i, *sinks[i]) : streams[i]->step(); };
  const decode_detail::TimeMerger::Release out = [&](Event& e) { sink.on_event(e); };
  for (;;) {
    // A sink still preparing (a scan's rules loading on their own thread) would hold this
    // thread in its first on_event: it decodes ahead meanwhile, as the workers do.
    while (ahead && !sink.ready() && ahead->help()) {
    }
    merger.release(out);
    const auto next = merger.hungry();
    if (!next) break;
    if (!step(*next)) merger.end(*next);
  }
  DecodeStats stats;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!ahead && !streams[i]) continue;  // refused
    stats += ahead ? ahead->stats(i) : streams[i]->stats();
  }
  if (merge_stats) {
    *merge_stats = merger.stats();
    merge_stats->files_refused = refused;
  }
  return stats;
}

}  // namespace sw
