// Enrichment: the sessionwatch.* fields every released event gets (the error it reports, who
// holds the console, who asked), the contract with the rules (docs/sessions.md); and the
// context an alert is built with.
#include "session/names.hpp"
#include "session/tracker_impl.hpp"
#include "sessionwatch/error_catalog.hpp"

namespace sw {

using namespace session_detail;

void SessionTracker::Impl::requester_into(const Host& host, const Event& e,
                                          std::string& out) const {
  const Names& n = Names::get();
  out.clear();
  auto pair = [&](FieldId user_id, FieldId domain_id) {
    const std::string_view user = payload_or_empty(e, user_id);
    if (user.empty() || user == "-") return false;
    if (user.find('\\') != std::string_view::npos) {
      out.assign(user);
    } else {
      append_account(out, payload_or_empty(e, domain_id), user);
    }
    return true;
  };
  if (e.channel() == derived::kChannel) {
    pair(n.target_user, n.target_domain);
    return;
  }
  for (auto [u, d] :
       {std::pair{n.target_user_name, n.target_domain_name}, std::pair{n.user, n.domain_field},
        std::pair{n.param1, n.param2}, std::pair{n.account_name, n.account_domain},
        std::pair{n.account, n.domain_field}, std::pair{n.user_name_field, n.domain_field}}) {
    if (pair(u, d)) return;
  }
  // The account the tool ran as (System/Security@UserID), when it is a person we saw log on.
  if (!e.user_sid().empty()) {
    if (const SidNameMap::Entry* it = host.sid_names.find(e.user_sid()))
      append_account(out, it->name.domain.get(), it->name.user.get());
  }
}

std::string SessionTracker::Impl::requester_of(const Host& host, const Event& e) const {
  std::string out;
  requester_into(host, e, out);
  return out;
}

void SessionTracker::Impl::enrich(Host& host, Event& e) {
  const Names& n = Names::get();
  const ConsoleInfo& c = cached_console(host);
  e.set_field(n.console_state, to_string(c.state));
  if (!c.user.empty()) {
    account_text.clear();
    append_account(account_text, c.domain, c.user);
    e.set_field(n.console_user, account_text);
    // Apart, so rules compare user with user (4624's TargetUserName has no domain).
    e.set_field(n.console_user_name, c.user);
    if (!c.domain.empty()) e.set_field(n.console_domain, c.domain);
  }
  e.set_field(n.host_sessions, host.multi_session ? "multi" : "unknown");
  if (c.session_id) e.set_field(n.console_session_id, std::to_string(*c.session_id));
  if (c.since) {
    if (host.since_text_for != c.since) {
      host.since_text = format_time(c.since);
      host.since_text_for = c.since;
    }
    e.set_field(n.console_since, host.since_text);
  }
  requester_into(host, e, requester_text);
  if (!requester_text.empty()) e.set_field(n.requester, requester_text);
}

void SessionTracker::Impl::recognize_error(Host& host, Event& e) {
  const Names& n = Names::get();
  if (opt.catalog) {
    // An input may have searched the event on its own thread, with the built-in catalog.
    const bool searched = e.found_error.searched && opt.catalog == &ErrorCatalog::builtin();
    const Event::FoundError found = searched ? e.found_error : opt.catalog->first_alerting(e);
    if (found.error) {
      e.set_field(n.error_code, std::to_string(found.error->code));
      e.set_field(n.error_symbol, found.error->symbol);
      e.set_field(n.error_form, to_string(found.form));
    }
  }
  // Each error reported counts as an attempt of whoever it names.
  if (e.payload(n.error_code)) {
    std::string req = requester_of(host, e);
    record_attempt(host, e.time_created, fold_account_text(req));
  }
}

std::string SessionTracker::Impl::fold_account_text(std::string_view account) {
  std::string domain, user;
  split_account(account, domain, user);
  return fold_account(domain, user);
}

AlertContext SessionTracker::alert_context(const Event& trigger) const {
  AlertContext ctx;
  auto it = impl_->hosts.find(host_key(trigger.computer()));
  if (it == impl_->hosts.end()) return ctx;
  const Host& host = it->second;
  ctx.host_known = true;
  ctx.hostname = host.short_name.empty() ? host_short_name(host.name) : host.short_name;
  ctx.console = compute_console(host);
  const std::string who = Impl::fold_account_text(impl_->requester_of(host, trigger));
  const Ticks t = trigger.time_created;
  for (const Attempt& a : host.attempts) {
    if (a.time > t || a.time + impl_->opt.attempt_window < t) continue;
    if (who.empty() || a.who == who) ++ctx.attempts_last_hour;
  }
  if (host.last_refusal && host.last_refusal->time <= t + impl_->opt.channel_skew &&
      host.last_refusal->time + impl_->opt.requester_window >= t) {
    ctx.recent_refusal = host.last_refusal;
  }
  return ctx;
}

}  // namespace sw
