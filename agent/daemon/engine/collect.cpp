// The io thread: collect rounds over the inputs, and the watches of their folders.
#include "daemon/engine/engine_impl.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/timers.hpp"
#include "sessionwatch/error_catalog.hpp"

namespace sw::daemon {

void search_errors(EventBatch& batch) {
  for (Event& e : batch.events) {
    if (!e.found_error.searched) e.found_error = ErrorCatalog::builtin().first_alerting(e);
  }
}

using namespace std::chrono_literals;

namespace {

// How often inputs with something pending (a rotated file kept open, an EVTX file still being
// copied) are looked at without a notification; scaled down by tests (daemon/timers.hpp).
constexpr auto kLingerCheck = 1s;
// How often a folder that exists is tried again when its watch fails (it may be going and coming
// back as it is tried).
constexpr int kWatchTries = 3;

}  // namespace

void Engine::Impl::schedule_collect() {
  if (collect_posted || stopping) return;
  collect_posted = true;
  asio::post(io, [this] { collect_round(); });
}

void Engine::Impl::collect_round() {
  collect_posted = false;
  if (stopping || drained_queued) return;
  // Announce the wait before looking, so a detection thread that frees room right now sees it.
  reader_waiting = true;
  if (!queue.has_room()) return;
  reader_waiting = false;
  bool more = false;
  std::vector<WorkItem> out;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i]->collect(rescan_needed[i], out)) more = true;
    rescan_needed[i] = false;
  }
  const bool found = !out.empty();
  // Detection still holds earlier batches: it is the slower side, so this thread takes the
  // error search of these events off it (a tenth of decoding a line; the tracker searches those
  // that come unsearched). Which side is slower depends on the inputs, rules and outputs.
  const bool detection_behind = !queue.empty();
  std::vector<std::pair<std::size_t, std::string>> fed;
  for (WorkItem& item : out) {
    if (item.events) {
      EventBatch& b = *item.events;
      fed.emplace_back(b.input_index, b.origin.empty() ? b.stream : b.origin);
      if (detection_behind) search_errors(b);
      if (merger) pack_for_merge(b);
    }
    queue.push(std::move(item));
  }
  if (options.once) {
    end_once_round(std::move(fed), more || found);
    return;
  }
  if (more) schedule_collect();
  arm_linger();
}

// The time merge holds every event for a while (run --once), packed. They are packed here, on
// the io thread, rather than by the merge on the detection thread, which all inputs share and
// which bounds the relay's rate; the decoder gets its buffers back at once. Each is packed into
// the storage of one the merge released, when there is one of about its size.
void Engine::Impl::pack_for_merge(EventBatch& batch) {
  merge_returns->take(merge_spares);
  batch.packed.reserve(batch.events.size());
  std::size_t memory = 0;
  for (const Event& e : batch.events) {
    batch.packed.emplace_back(e, merge_spares.take(PackedEvent::packed_size(e)));
    memory += batch.packed.back().footprint();
  }
  if (batch.pool) batch.pool->give(std::move(batch.events));
  batch.pool = nullptr;
  batch.events.clear();
  batch.memory = memory;
}

// `run --once`: done only when a whole round finds nothing new and nothing waits to settle; the
// drained marker then follows the last batch.
void Engine::Impl::end_once_round(std::vector<std::pair<std::size_t, std::string>> fed,
                                  bool found) {
  const bool settling = std::any_of(inputs.begin(), inputs.end(),
                                    [](const auto& input) { return input->settling(); });
  // A file waiting to settle may hold the oldest events: the time merge hears of the round
  // only once nothing does.
  if (!settling) {
    WorkItem round;
    round.round = std::move(fed);
    queue.push(std::move(round));
  }
  if (found) {
    schedule_collect();
  } else if (settling) {
    arm_linger();
  } else {
    drained_queued = true;
    WorkItem marker;
    marker.drained = true;
    queue.push(std::move(marker));
  }
}

void Engine::Impl::arm_linger() {
  if (linger_armed || stopping) return;
  const bool any = std::any_of(inputs.begin(), inputs.end(),
                               [](const auto& input) { return input->lingering(); });
  if (!any) return;
  linger_armed = true;
  linger_timer.expires_after(scaled_timer(kLingerCheck));
  linger_timer.async_wait([this](const boost::system::error_code& ec) {
    linger_armed = false;
    if (ec) return;
    schedule_collect();
  });
}

// A folder an input reads that does not exist (yet, or any more): watch the nearest parent that
// does, so the folder is followed as soon as it is created (mkdir -p creates several levels one
// by one).
void Engine::Impl::watch_for_creation(const std::string& dir, std::string error) {
  std::error_code ec;
  // Made again since its watch failed (rm -rf and mkdir in quick succession): watched as it is
  // now, a few tries, as it may go and come back meanwhile. Only a folder that stands there and
  // still cannot be watched (no permission, no watches left) is beyond help.
  for (int tries = 0; std::filesystem::exists(dir, ec); ++tries) {
    if (tries == kWatchTries) {
      spdlog::error("{} (the inputs reading there see nothing until the agent is restarted)",
                    error);
      return;
    }
    if (watcher->add(dir, error)) {
      spdlog::info("input folder {} is there again; following its files", dir);
      follow_again(dir);
      return;
    }
  }
  std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  while (parent.has_relative_path() && !std::filesystem::exists(parent, ec)) {
    parent = parent.parent_path();
  }
  std::string parent_error;
  if (!watcher->add(parent.string(), parent_error)) {
    spdlog::error("{}; cannot watch {} for it either ({}): restart the agent once it exists", error,
                  parent.string(), parent_error);
    return;
  }
  if (missing_directories.insert(dir).second) {
    spdlog::info("input folder {} does not exist yet; watching {} for it", dir, parent.string());
  }
  // Made between the check above and the parent's watch (rm -rf and mkdir in quick succession):
  // no event will say so, so it is taken up now.
  if (std::filesystem::exists(dir, ec)) retry_missing_directories();
}

void Engine::Impl::retry_missing_directories() {
  std::vector<std::string> waiting(missing_directories.begin(), missing_directories.end());
  for (const std::string& dir : waiting) {
    std::string error;
    if (!watcher->add(dir, error)) {
      watch_for_creation(dir, error);  // a deeper parent may exist by now
      continue;
    }
    spdlog::info("input folder {} appeared; following its files", dir);
    follow_again(dir);
  }
}

// The folder's watch is back: it is no longer waited for, and its inputs look at what it holds.
void Engine::Impl::follow_again(const std::string& dir) {
  missing_directories.erase(dir);
  for (std::size_t i : inputs_by_directory[dir]) rescan_needed[i] = true;
}

// An input folder was removed or moved away, and its watch with it: watch it again if something
// already stands at its path, else wait for it to be created.
void Engine::Impl::directory_gone(const std::string& dir) {
  std::string error;
  if (watcher->add(dir, error)) return;
  spdlog::warn("input folder {} went away; watching for it to come back", dir);
  watch_for_creation(dir, error);
}

void Engine::Impl::on_watch(const std::vector<platform::WatchEvent>& events) {
  const bool appeared = std::any_of(events.begin(), events.end(), [](const auto& e) {
    return e.kind == platform::WatchKind::kAppeared || e.kind == platform::WatchKind::kOverflow;
  });
  if (appeared && !missing_directories.empty()) retry_missing_directories();
  for (const platform::WatchEvent& e : events) {
    if (e.kind == platform::WatchKind::kOverflow) {
      std::fill(rescan_needed.begin(), rescan_needed.end(), true);
      continue;
    }
    if (e.kind == platform::WatchKind::kChanged) continue;
    auto it = inputs_by_directory.find(e.directory);
    if (it == inputs_by_directory.end()) continue;
    if (e.kind == platform::WatchKind::kGone && e.name.empty()) directory_gone(e.directory);
    for (std::size_t i : it->second) rescan_needed[i] = true;
  }
  schedule_collect();
}

}  // namespace sw::daemon
