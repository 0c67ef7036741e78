#include "daemon/query.hpp"

#include <algorithm>
#include <utility>

namespace sw::daemon {

namespace {

bool same_console(const ConsoleInfo& a, const ConsoleInfo& b) {
  return a.state == b.state && a.user == b.user && a.domain == b.domain &&
         a.session_id == b.session_id && a.since == b.since;
}

template <typename Deque>
void keep_last(Deque& d, std::size_t n) {
  while (d.size() > n) d.pop_front();
}

}  // namespace

std::string account_name(std::string_view domain, std::string_view user) {
  if (user.empty()) return {};
  return domain.empty() ? std::string(user) : std::string(domain) + "\\" + std::string(user);
}

AlertSummary summarize_alert(const Alert& alert) {
  AlertSummary a;
  a.id = alert.id;
  a.time = alert.time;
  a.host = alert.host.empty() ? std::string("(no computer)") : alert.host;
  const AlertAttempt attempt = alert.attempt.value_or(AlertAttempt{});
  const AlertConsole console = alert.console.value_or(AlertConsole{});
  if (alert.user) a.requester = account_name(alert.user->domain.value_or(""), alert.user->name);
  if (a.requester.empty())  // not said by the event: whom the tracker attributed the attempt to
    a.requester = account_name(attempt.domain.value_or(""), attempt.user.value_or(""));
  if (alert.source) a.address = alert.source->address;
  if (a.address.empty()) a.address = attempt.address.value_or("");
  a.detection = alert.detection;
  a.holder = account_name(console.domain.value_or(""), console.user.value_or(""));
  a.holder_state = console.state.value_or("");
  a.rule = alert.rule_name;
  return a;
}

LiveState::LiveState(LiveStateOptions options) : options_(options) {}

LiveState::CauseScope::CauseScope(LiveState* state, const Event& event) : state_(state) {
  if (state_) state_->cause_ = &event;
}

LiveState::CauseScope::~CauseScope() {
  if (state_) state_->cause_ = nullptr;
}

LiveState::Pending& LiveState::pending_for(std::string_view name) {
  return pending_for(host_key(name), name);
}

LiveState::Pending& LiveState::pending_for(const std::string& key, std::string_view name) {
  Pending& p = pending_[key];
  // The tracker names a computer by its DNS name once one was seen: keep the fullest spelling.
  if (p.name.empty() || name.find('.') != std::string_view::npos) p.name.assign(name);
  return p;
}

void LiveState::set_enabled(bool enabled) {
  enabled_ = enabled;
  if (enabled) return;
  pending_.clear();
  consoles_.clear();
  behind_.clear();
  behind_order_.clear();
}

void LiveState::on_state_change(const SessionTracker& tracker, std::string_view host, Ticks time) {
  if (!enabled_) return;
  const std::string key = host_key(host);
  Pending& p = pending_for(key, host);
  p.state_changed = true;
  p.last_change = std::max(p.last_change, time);
  // Most changes are remote sessions coming and going: only the events that changed who holds
  // the console, or how, are the console's sources.
  ConsoleInfo now = tracker.console(host);
  ConsoleInfo& before = consoles_[key];
  if (same_console(before, now)) return;
  before = std::move(now);
  EventSource source;
  source.time = time;
  // With a reorder window the tracker releases events later than they were pushed: the event
  // being processed is the cause only when it is the one released.
  if (cause_ && cause_->time_created == time && host_key(cause_->computer()) == key) {
    source.channel = std::string(cause_->channel());
    source.event_id = cause_->event_id;
    source.record_id = cause_->record_id;
    source.file = std::string(cause_->origin());
    source.line = cause_->source_offset;
  }
  p.sources.push_back(std::move(source));
  if (p.sources.size() > options_.max_sources) p.sources.erase(p.sources.begin());
}

void LiveState::on_alert(const Alert& alert) {
  if (!enabled_ || alert.host.empty())
    return;  // a text line that names no computer: nobody to ask about
  pending_for(alert.host).alerts.push_back(summarize_alert(alert));
}

void LiveState::mark_all(const SessionTracker& tracker) {
  if (!enabled_) return;
  for (const std::string& name : tracker.hosts()) {
    pending_for(name).state_changed = true;
    consoles_[host_key(name)] = tracker.console(name);
  }
}

// The session lists of the computers behind, longest behind first, while the budget lasts.
std::map<std::string, LiveState::SessionList> LiveState::copy_sessions(
    const SessionTracker& tracker, std::size_t budget) {
  std::map<std::string, SessionList> copied;
  std::size_t records = 0;
  while (!behind_order_.empty() && records < budget) {
    std::string key = std::move(behind_order_.front());
    behind_order_.pop_front();
    if (behind_.erase(key) == 0) continue;  // its view was dropped meanwhile
    const auto p = pending_.find(key);
    const auto view = hosts_.find(key);
    if (p == pending_.end() && view == hosts_.end()) continue;
    const std::string& name = p != pending_.end() ? p->second.name : view->second->name;
    auto sessions = std::make_shared<const std::vector<SessionRecord>>(tracker.sessions(name));
    records += std::max<std::size_t>(sessions->size(), 1);
    copied.emplace(std::move(key), std::move(sessions));
  }
  return copied;
}

HostView LiveState::next_view(const HostView* old, Pending* p, const SessionTracker& tracker,
                              SessionList sessions) const {
  HostView view = old ? *old : HostView{};
  if (sessions) view.sessions = std::move(sessions);
  if (!view.sessions) view.sessions = std::make_shared<const std::vector<SessionRecord>>();
  if (!p) return view;
  if (view.name.empty() || p->name.find('.') != std::string::npos) view.name = p->name;
  if (p->state_changed) view.console = tracker.console(p->name);
  if (p->last_change > view.last_change) view.last_change = p->last_change;
  for (EventSource& s : p->sources) view.sources.push_back(std::move(s));
  keep_last(view.sources, options_.max_sources);
  if (!p->alerts.empty()) {
    auto log = view.refusals ? std::make_shared<RefusalLog>(*view.refusals)
                             : std::make_shared<RefusalLog>();
    for (AlertSummary& a : p->alerts) log->recent.push_back(std::move(a));
    log->total += p->alerts.size();
    // Inputs deliver at their own pace (a tool's text file after the Event Log): keep time order,
    // so the ring drops the oldest refusals and readers get them in order.
    std::stable_sort(log->recent.begin(), log->recent.end(),
                     [](const AlertSummary& a, const AlertSummary& b) { return a.time < b.time; });
    keep_last(log->recent, options_.max_refusals);
    view.refusals = std::move(log);
  }
  return view;
}

void LiveState::publish(const SessionTracker& tracker, std::size_t session_records) {
  if (!enabled_) return;
  for (const auto& [key, p] : pending_) {
    if (p.state_changed && behind_.insert(key).second) behind_order_.push_back(key);
  }
  std::map<std::string, SessionList> sessions = copy_sessions(tracker, session_records);
  if (pending_.empty() && sessions.empty()) return;
  std::vector<std::pair<std::string, std::shared_ptr<const HostView>>> fresh;
  fresh.reserve(pending_.size() + sessions.size());
  const auto add = [&](const std::string& key, Pending* p) {
    // Only this thread writes hosts_: reading it without the lock here races with nothing.
    const auto it = hosts_.find(key);
    const HostView* old = it == hosts_.end() ? nullptr : it->second.get();
    const auto list = sessions.find(key);
    SessionList copied = list == sessions.end() ? nullptr : std::move(list->second);
    fresh.emplace_back(key, std::make_shared<const HostView>(next_view(old, p, tracker, copied)));
  };
  for (auto& [key, p] : pending_) add(key, &p);
  for (const auto& [key, list] : sessions) {
    if (list) add(key, nullptr);  // behind from an earlier batch, unchanged since
  }
  pending_.clear();
  std::lock_guard lock(mutex_);
  for (auto& [key, view] : fresh) hosts_[key] = std::move(view);
  if (hosts_.size() > options_.max_hosts) drop_stalest(hosts_.size() - options_.max_hosts);
}

// One pass for all the hosts over the cap, not one per host: a relay at its cap adds hosts in
// every batch.
void LiveState::drop_stalest(std::size_t count) {
  using Entry = std::pair<Ticks, const std::string*>;
  std::vector<Entry> ages;
  ages.reserve(hosts_.size());
  for (const auto& [key, view] : hosts_) ages.emplace_back(view->last_change, &key);
  const auto cut = ages.begin() + static_cast<std::ptrdiff_t>(count);
  std::nth_element(ages.begin(), cut - 1, ages.end(),
                   [](const Entry& a, const Entry& b) { return a.first < b.first; });
  std::vector<std::string> gone;
  for (auto it = ages.begin(); it != cut; ++it) gone.push_back(*it->second);
  for (const std::string& key : gone) {
    consoles_.erase(key);
    behind_.erase(key);
    hosts_.erase(key);
  }
}

std::shared_ptr<const HostView> LiveState::find(std::string_view computer) const {
  const std::string key = host_key(computer);
  std::lock_guard lock(mutex_);
  const auto it = hosts_.find(key);
  return it == hosts_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const HostView>> LiveState::hosts() const {
  std::vector<std::shared_ptr<const HostView>> out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(hosts_.size());
    for (const auto& [key, view] : hosts_) out.push_back(view);
  }
  return out;
}

}  // namespace sw::daemon
