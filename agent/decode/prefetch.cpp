#include "decode/prefetch.hpp"
#include "platform/fsync.hpp"

#include <algorithm>

namespace sw::decode_detail {

namespace {

DecodeStats minus(const DecodeStats& a, const DecodeStats& b) {
  return DecodeStats{a.records_read - b.records_read, a.records_bad - b.records_bad,
                     a.bytes_read - b.bytes_read};
}

}  // namespace

Prefetcher::Prefetcher(std::size_t workers, std::size_t max_ahead) : max_ahead_(max_ahead) {
  for (std::size_t i = 0; i < workers; ++i)
    threads_.emplace_back([this] {
      platform::name_this_thread("decode");
      work();
    });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
}

EventSink& Prefetcher::new_lane() {
  std::lock_guard lock(mu_);
  lanes_.push_back(std::make_unique<Lane>());
  return lanes_.back()->recorder;
}

void Prefetcher::add(std::unique_ptr<DecodeStream> stream) {
  {
    std::lock_guard lock(mu_);
    Lane& lane = *lanes_.back();
    lane.stream = std::move(stream);
    lane.independent = lane.stream ? lane.stream->independent_steps() : 0;
    lane.ended = lane.stream == nullptr;
    lane.added = true;
  }
  changed_.notify_all();
}

bool Prefetcher::step(std::size_t index, ReplaySink& sink) {
  Lane& lane = *lanes_[index];
  std::unique_lock lock(mu_);
  wanted_ = &lane;
  while (lane.ahead.empty() || !lane.ahead.front()->ready) {
    if (lane.ahead.empty()) {
      if (!can_begin(lane)) return false;
      run_step(lane, lock);  // no thread has got to it: the merge decodes it itself
    } else if (Lane* other = pick()) {
      run_step(*other, lock);  // while a thread finishes it, read ahead (maybe this file's next)
    } else {
      changed_.wait(lock);
    }
  }
  const std::unique_ptr<RecordedStep> step = std::move(lane.ahead.front());
  lane.ahead.pop_front();
  --ahead_total_;
  if (!step->more) {
    lane.closed = true;
    drop_ready(lane);
  }
  lock.unlock();
  changed_.notify_all();  // room to read ahead again
  lane.stats += step->added;
  replay(*step, sink);
  return step->more;
}

bool Prefetcher::help() {
  std::unique_lock lock(mu_);
  Lane* lane = pick();
  if (lane == nullptr) return false;
  run_step(*lane, lock);
  return true;
}

void Prefetcher::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    Lane* lane = nullptr;
    changed_.wait(lock, [&] { return stop_ || (lane = pick()) != nullptr; });
    if (stop_) return;
    run_step(*lane, lock);
  }
}

bool Prefetcher::can_begin(const Lane& lane) const {
  if (!lane.added || lane.ended) return false;
  // Steps of an independent stream: one per thread decoding (the merging thread's too) and as
  // many decoded and waiting, so that no thread waits for the merge to take one.
  const std::size_t held_cap =
      lane.independent ? std::max(kAheadPerLane, 2 * (threads_.size() + 1)) : kAheadPerLane;
  return (lane.independent || lane.running == 0) && lane.ahead.size() < held_cap;
}

Prefetcher::Lane* Prefetcher::pick() {
  // The stream the merge waits on first, even over the budget: the other streams' steps held
  // ahead are needed later, and with the budget spent on them every thread but one would wait.
  if (wanted_ && can_begin(*wanted_)) return wanted_;
  if (ahead_total_ >= max_ahead_) return nullptr;
  Lane* best = nullptr;
  for (auto& lane : lanes_) {
    if (!can_begin(*lane)) continue;
    if (!best || lane->ahead.size() < best->ahead.size()) best = lane.get();
    if (best->ahead.empty()) break;
  }
  return best;
}

void Prefetcher::run_step(Lane& lane, std::unique_lock<std::mutex>& lock) {
  const std::uint64_t k = lane.started++;
  if (lane.independent && lane.started == lane.independent) lane.ended = true;
  ++lane.running;
  ++ahead_total_;  // counted from its start, so that workers starting together keep the budget
  lane.ahead.push_back(std::make_unique<RecordedStep>());
  RecordedStep& step = *lane.ahead.back();
  lock.unlock();
  record(lane, k, step);
  lock.lock();
  step.ready = true;
  --lane.running;
  if (!step.more) lane.ended = true;
  if (lane.closed) drop_ready(lane);
  free_when_done(lane);
  changed_.notify_all();
}

void Prefetcher::record(Lane& lane, std::uint64_t k, RecordedStep& into) {
  try {
    if (lane.independent) {
      Recorder recorder;
      recorder.into = &into;
      into.more = lane.stream->step_alone(k, recorder, into.added);
    } else {
      const DecodeStats before = lane.stream->stats();
      lane.recorder.into = &into;
      into.more = lane.stream->step();
      into.added = minus(lane.stream->stats(), before);
    }
  } catch (...) {
    into.failure = std::current_exception();
    into.more = false;
  }
}

void Prefetcher::free_when_done(Lane& lane) {
  if (lane.ended && lane.running == 0) lane.stream.reset();
}

void Prefetcher::drop_ready(Lane& lane) {
  const auto before = lane.ahead.size();
  std::erase_if(lane.ahead, [](const std::unique_ptr<RecordedStep>& s) { return s->ready; });
  ahead_total_ -= before - lane.ahead.size();
}

void Prefetcher::replay(RecordedStep& step, ReplaySink& sink) {
  for (auto& call : step.calls) {
    if (auto* e = std::get_if<PackedEvent>(&call)) {
      sink.on_packed(std::move(*e));
    } else if (auto* error = std::get_if<DecodeError>(&call)) {
      sink.on_error(*error);
    } else {
      const auto& p = std::get<RecordedStep::Progress>(call);
      sink.on_progress(p.done, p.total);
    }
  }
  if (step.failure) std::rethrow_exception(step.failure);
}

}  // namespace sw::decode_detail
