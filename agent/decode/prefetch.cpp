#include "decode/prefetch.hpp"

namespace sw::decode_detail {

Prefetcher::Prefetcher(std::size_t workers, std::size_t max_ahead)
    : workers_(workers), max_ahead_(max_ahead) {}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
}

EventSink& Prefetcher::new_lane() {
  lanes_.push_back(std::make_unique<Lane>());
  return lanes_.back()->recorder;
}

void Prefetcher::add(std::unique_ptr<DecodeStream> stream) {
  Lane& lane = *lanes_.back();
  lane.stream = std::move(stream);
  lane.ended = lane.stream == nullptr;
}

void Prefetcher::start() {
  for (std::size_t i = 0; i < workers_; ++i) threads_.emplace_back([this] { work(); });
}

bool Prefetcher::step(std::size_t index, EventSink& sink) {
  Lane& lane = *lanes_[index];
  std::unique_lock lock(mu_);
  lane.asked = ++asks_;
  while (lane.ahead.empty()) {
    if (lane.ended) return false;
    if (lane.busy) {
      changed_.wait(lock);
    } else {
      run_step(lane, lock);  // no worker has got to it: the merge decodes it itself
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
    if (lane->busy || lane->ended || lane->ahead.size() >= kAheadPerLane) continue;
    if (!best || lane->asked > best->asked) best = lane.get();
  }
  return best;
}

void Prefetcher::run_step(Lane& lane, std::unique_lock<std::mutex>& lock) {
  lane.busy = true;
  lock.unlock();
  RecordedStep step;
  lane.recorder.into = &step;
  try {
    step.more = lane.stream->step();
    step.stats = lane.stream->stats();
  } catch (...) {
    step.failure = std::current_exception();
  }
  lock.lock();
  lane.busy = false;
  lane.ended = !step.more;
  lane.ahead.push_back(std::move(step));
  ++ahead_total_;
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
