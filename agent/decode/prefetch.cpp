#include "decode/prefetch.hpp"

namespace sw::decode_detail {

Prefetcher::Prefetcher(std::size_t workers, std::size_t max_ahead) : max_ahead_(max_ahead) {
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
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
    lane.ended = lane.stream == nullptr;
    lane.added = true;
  }
  changed_.notify_all();
}

bool Prefetcher::step(std::size_t index, EventSink& sink) {
  Lane& lane = *lanes_[index];
  std::unique_lock lock(mu_);
  while (lane.ahead.empty()) {
    if (lane.ended) return false;
    if (!lane.busy) {
      run_step(lane, lock);  // no worker has got to it: the merge decodes it itself
    } else if (Lane* other = pick()) {
      run_step(*other, lock);  // while a worker finishes it, read another file ahead
    } else {
      changed_.wait(lock);
    }
  }
  RecordedStep step = std::move(lane.ahead.front());
  lane.ahead.pop_front();
  --ahead_total_;
  lock.unlock();
  changed_.notify_all();  // room to read ahead again
  lane.stats = step.stats;
  replay(step, sink);
  return step.more;
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

Prefetcher::Lane* Prefetcher::pick() {
  if (ahead_total_ >= max_ahead_) return nullptr;
  Lane* best = nullptr;
  for (auto& lane : lanes_) {
    if (!lane->added || lane->busy || lane->ended || lane->ahead.size() >= kAheadPerLane) continue;
    if (!best || lane->ahead.size() < best->ahead.size()) best = lane.get();
    if (best->ahead.empty()) break;
  }
  return best;
}

void Prefetcher::run_step(Lane& lane, std::unique_lock<std::mutex>& lock) {
  lane.busy = true;
  ++ahead_total_;  // counted from its start, so that workers starting together keep the budget
  lock.unlock();
  RecordedStep step;
  lane.recorder.into = &step;
  try {
    step.more = lane.stream->step();
    step.stats = lane.stream->stats();
  } catch (...) {
    step.failure = std::current_exception();
  }
  // A file read to its end gives back its buffers at once: what is held grows with the files
  // being read, not with the files given.
  if (!step.more) lane.stream.reset();
  lock.lock();
  lane.busy = false;
  lane.ended = !step.more;
  lane.ahead.push_back(std::move(step));
  changed_.notify_all();
}

void Prefetcher::replay(RecordedStep& step, EventSink& sink) {
  for (auto& call : step.calls) {
    if (auto* e = std::get_if<Event>(&call)) {
      sink.on_event(*e);
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
