#include <algorithm>
#include <deque>
#include <filesystem>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "rules/compile.hpp"
#include "rules/regex_prefilter.hpp"
#include "sessionwatch/rules.hpp"
#include "sessionwatch/text.hpp"
#include "sessionwatch/yaml_guard.hpp"

namespace sw {

using rules::CompiledCorrelation;
using rules::CompiledRule;

std::string to_string(const RuleProblem& p) {
  std::string out = p.file;
  out += ':' + std::to_string(p.line) + ':' + std::to_string(p.column) + ": ";
  if (!p.rule.empty()) out += '[' + p.rule + "] ";
  out += p.message;
  return out;
}

namespace {

constexpr std::uint32_t kNone = UINT32_MAX;

// Who feeds a correlation: a detection rule or another correlation.
struct Feed {
  std::uint32_t correlation;
  std::uint32_t member;  // index in the correlation's rule list
};

struct Entry {
  Ticks time = 0;
  std::uint32_t member = 0;
  std::string value;  // value_count: the distinct value
  EventRef ref;
  bool has_ref = true;
};

struct Group {
  std::vector<std::string> key;
  std::deque<Entry> entries;
  Ticks last = 0;
};

// The variants one bucket entry leads an event to, in index order (the order rules fire in).
// When many of them require a regex of one prefilter group (1,000 `TargetUserName|re` rules),
// they are also listed by that regex, and an event visits only those whose regex the prefilter
// lets through, with the rest: its cost is one pass of the prefilter, not a step per rule.
struct VariantList {
  std::vector<std::uint32_t> all;
  std::optional<std::uint32_t> group;                // the prefilter group, when indexed
  std::vector<std::uint32_t> others;                 // variants that group does not gate
  std::vector<std::vector<std::uint32_t>> by_regex;  // per regex of the group: the variants
};

struct Bucket {
  std::unordered_map<std::uint32_t, VariantList> by_event_id;
  VariantList any_event_id;
};

// What matching needs of an event's channel, kept for the channels seen lately: a log's events
// come from a few channels, asked about twice per event (may_match, then match), and lowering,
// hashing and looking each up again was a tenth of matching it.
struct ChannelView {
  std::string spelled;             // as events spell it
  std::string lowered;             // the index's and the exclusions' spelling
  const Bucket* bucket = nullptr;  // by_channel's, or null: no rule names the channel
  // looks_at() per (event id, reports error), as asked so far.
  std::unordered_map<std::uint64_t, bool> looks;
};

// One indexed (rule, logsource variant).
struct IndexedVariant {
  std::uint32_t rule;
  const CompiledRule::Variant* variant;
};

}  // namespace

struct RuleSet::Impl {
  RuleOptions options;
  std::vector<CompiledRule> rules;
  std::vector<CompiledCorrelation> correlations;

  // Per rule: silent when only correlations use it; the correlations it feeds.
  std::vector<bool> rule_silent;
  std::vector<std::vector<Feed>> rule_feeds;
  std::vector<bool> correlation_silent;
  std::vector<std::vector<Feed>> correlation_feeds;
  // Per correlation and member: field ids of group-by (after aliases) and of value fields.
  std::vector<std::vector<std::vector<FieldId>>> group_fields;
  std::vector<std::vector<std::vector<FieldId>>> value_fields;
  std::vector<std::vector<std::string>> member_names;  // rule ids of members, for snapshots
  std::vector<std::unordered_map<std::string, Group>> state;
  // Per correlation: keys of the groups changed (or gone) since the last snapshot_parts().
  std::vector<std::set<std::string>> unsaved;

  std::vector<IndexedVariant> variants;
  // Per indexed variant: the regex its detection requires, asked of the prefilter first.
  std::vector<std::optional<rules::RegexPrefilter::Slot>> gates;
  rules::RegexPrefilter prefilter;
  std::unordered_map<std::string, Bucket> by_channel;  // lower-case channel
  Bucket any_channel;

  // Per-event scratch (match() is single-threaded by contract).
  std::vector<std::uint64_t> rule_epoch;
  std::vector<std::uint32_t> visit_scratch;
  std::uint64_t epoch = 0;
  std::vector<ChannelView> channel_views;  // the channels seen lately, at most kChannelViews
  std::size_t selected = 0;                // select_channel()'s, in channel_views
  std::string value_scratch;
  std::vector<std::string> matched;
  const std::vector<std::string> no_fields{};
  rules::Evaluator evaluator;

  static std::unique_ptr<RuleSet> wrap(std::unique_ptr<Impl> impl) {
    return std::unique_ptr<RuleSet>(new RuleSet(std::move(impl)));
  }
  void build_index();
  static constexpr std::size_t kChannelViews = 16, kLooksPerChannel = 4096;
  // Makes `channel` the selected one (channel_view()).
  void select_channel(std::string_view channel) {
    if (selected < channel_views.size() && channel_views[selected].spelled == channel) return;
    for (selected = 0; selected < channel_views.size(); ++selected) {
      if (channel_views[selected].spelled == channel) return;
    }
    if (channel_views.size() == kChannelViews) channel_views.clear();  // a flood of channels
    ChannelView& view = channel_views.emplace_back();
    view.spelled.assign(channel);
    view.lowered = text::lowered(channel);
    auto it = by_channel.find(view.lowered);
    view.bucket = it == by_channel.end() ? nullptr : &it->second;
    selected = channel_views.size() - 1;
  }
  ChannelView& channel_view() { return channel_views[selected]; }
  const ChannelView& channel_view() const { return channel_views[selected]; }
  // Whether the rule's condition rules out the selected channel (`... and not Channel: X`): it
  // cannot match there, so it is not evaluated.
  bool excludes_channel(std::uint32_t rule) const {
    const std::vector<std::string>& names = rules[rule].excluded_channels;
    return !names.empty() &&
           std::find(names.begin(), names.end(), channel_view().lowered) != names.end();
  }
  // Whether any variant of the list is for a rule that can match an event of the selected
  // channel, given whether the event reports an error (sessionwatch.error_code).
  bool visits_any(const VariantList& list, bool reports_error) const {
    return std::any_of(list.all.begin(), list.all.end(), [&](std::uint32_t i) {
      const std::uint32_t r = variants[i].rule;
      return !excludes_channel(r) && (reports_error || !rules[r].recognized_errors_only);
    });
  }
  // Whether match() visits a rule that can match an event of this channel and id.
  bool looks_at(std::string_view channel, std::uint32_t event_id, bool reports_error) {
    select_channel(channel);
    ChannelView& view = channel_view();
    const std::uint64_t key = std::uint64_t{event_id} << 1 | (reports_error ? 1 : 0);
    if (auto known = view.looks.find(key); known != view.looks.end()) return known->second;
    auto any = [&](const Bucket& b) {
      if (visits_any(b.any_event_id, reports_error)) return true;
      auto it = b.by_event_id.find(event_id);
      return it != b.by_event_id.end() && visits_any(it->second, reports_error);
    };
    const bool looks = any(any_channel) || (view.bucket && any(*view.bucket));
    if (view.looks.size() >= kLooksPerChannel) view.looks.clear();  // a flood of event ids
    view.looks.emplace(key, looks);
    return looks;
  }
  // The variants of `list` that `e` may match (all of them, or those the prefilter lets
  // through with the others), in index order. Valid until the next call.
  const std::vector<std::uint32_t>& to_visit(const VariantList& list, const Event& e);
  bool conditions_hold(const CompiledRule::Variant& v, const Event& e);
  // True when a Sigma filter applied to the rule matches the event.
  bool filtered_out(const CompiledRule::Variant& v, const Event& e) {
    return std::any_of(v.filters.begin(), v.filters.end(),
                       [&](const auto& filter) { return evaluator.matches(*filter, e); });
  }
  std::size_t on_rule(std::uint32_t r, const CompiledRule::Variant& v, const Event& e,
                      MatchCallback& cb);
  // `lookup(field id, index in group-by / value fields)` gives a contributing value.
  using Lookup = FunctionRef<std::optional<std::string_view>(FieldId)>;
  std::size_t feed(const Feed& f, Ticks time, const EventRef& ref, Lookup lookup, MatchCallback& cb,
                   int depth);
  bool condition_holds(const CompiledCorrelation& c, double count) const;
  std::uint64_t need(const CompiledCorrelation& c) const;
  void evict(std::uint32_t correlation, Ticks now, Ticks span);
  const std::string& correlation_id(std::size_t c) const {
    const RuleInfo& info = correlations[c].info;
    return info.id.empty() ? info.title : info.id;
  }
  std::optional<std::size_t> correlation_index(std::string_view id) const {
    for (std::size_t c = 0; c < correlations.size(); ++c) {
      if (correlation_id(c) == id) return c;
    }
    return std::nullopt;
  }
  nlohmann::json group_to_json(std::size_t c, const Group& g) const;
  // False when the group no longer fits the correlation (its rule changed); throws when malformed.
  bool group_from_json(std::size_t c, const nlohmann::json& jg, Group& g) const;
};

namespace {

void add_to_bucket(Bucket& b, const CompiledRule::Variant& v, std::uint32_t index) {
  if (v.event_ids.empty()) {
    b.any_event_id.all.push_back(index);
  } else {
    for (std::uint32_t id : v.event_ids) b.by_event_id[id].all.push_back(index);
  }
}

// Below this many variants gated by one group, stepping through the list costs no more.
constexpr std::size_t kMinRegexIndexed = 16;

// Lists the variants by the regex that gates them, for the group gating the most of them.
void index_by_regex(VariantList& list,
                    const std::vector<std::optional<rules::RegexPrefilter::Slot>>& gates,
                    const rules::RegexPrefilter& prefilter) {
  std::unordered_map<std::uint32_t, std::size_t> gated;
  for (std::uint32_t i : list.all) {
    if (gates[i]) ++gated[gates[i]->group];
  }
  const auto most = std::max_element(gated.begin(), gated.end(), [](const auto& a, const auto& b) {
    return a.second < b.second || (a.second == b.second && a.first > b.first);
  });
  if (most == gated.end() || most->second < kMinRegexIndexed) return;
  list.group = most->first;
  list.by_regex.resize(prefilter.regex_count(most->first));
  for (std::uint32_t i : list.all) {
    if (gates[i] && gates[i]->group == most->first) {
      list.by_regex[gates[i]->index].push_back(i);
    } else {
      list.others.push_back(i);
    }
  }
}

}  // namespace

void RuleSet::Impl::build_index() {
  channel_views.clear();  // they point into by_channel
  channel_views.reserve(kChannelViews);
  for (std::uint32_t r = 0; r < rules.size(); ++r) {
    for (const CompiledRule::Variant& v : rules[r].variants) variants.push_back({r, &v});
  }
  for (std::uint32_t i = 0; i < variants.size(); ++i) {
    const CompiledRule::Variant& v = *variants[i].variant;
    if (v.channels.empty()) {
      add_to_bucket(any_channel, v, i);
    } else {
      for (const std::string& c : v.channels) add_to_bucket(by_channel[c], v, i);
    }
    const auto required = rules::required_regex(*v.detection);
    gates.push_back(required ? prefilter.add(required->field, *required->regex) : std::nullopt);
  }
  prefilter.compile();
  auto index_bucket = [&](Bucket& b) {
    for (auto& [id, list] : b.by_event_id) index_by_regex(list, gates, prefilter);
    index_by_regex(b.any_event_id, gates, prefilter);
  };
  for (auto& [channel, bucket] : by_channel) index_bucket(bucket);
  index_bucket(any_channel);
  rule_epoch.assign(rules.size(), 0);
}

const std::vector<std::uint32_t>& RuleSet::Impl::to_visit(const VariantList& list, const Event& e) {
  if (!list.group) return list.all;
  const std::vector<std::uint32_t>* potential = prefilter.potentials(*list.group, e);
  if (!potential) return list.all;
  visit_scratch.assign(list.others.begin(), list.others.end());
  for (std::uint32_t regex : *potential) {
    const auto& gated = list.by_regex[regex];
    visit_scratch.insert(visit_scratch.end(), gated.begin(), gated.end());
  }
  std::sort(visit_scratch.begin(), visit_scratch.end());
  return visit_scratch;
}

bool RuleSet::Impl::conditions_hold(const CompiledRule::Variant& v, const Event& e) {
  for (const auto& [field, value] : v.conditions) {
    auto actual = field_value(e, field, value_scratch);
    if (!actual || !text::iequals_lower(*actual, value)) return false;
  }
  return true;
}

std::size_t RuleSet::Impl::on_rule(std::uint32_t r, const CompiledRule::Variant& v, const Event& e,
                                   MatchCallback& cb) {
  std::size_t calls = 0;
  const CompiledRule& rule = rules[r];
  if (!rule_silent[r]) {
    evaluator.matched_fields(*v.detection, e, matched);
    cb(RuleMatch{rule.info, matched, nullptr});
    ++calls;
  }
  if (rule_feeds[r].empty()) return calls;
  EventRef ref{std::string(e.channel()),  e.record_id,    e.event_id,
               std::string(e.computer()), e.time_created, rule.info.id};
  for (const Feed& f : rule_feeds[r]) {
    calls += feed(
        f, e.time_created, ref,
        [&](FieldId id) -> std::optional<std::string_view> {
          return field_value(e, id, value_scratch);
        },
        cb, 0);
  }
  return calls;
}

std::uint64_t RuleSet::Impl::need(const CompiledCorrelation& c) const {
  // Sums, averages and shares are over every value of the window, as far as the bound allows.
  if (rules::is_value_aggregate(c.type))
    return std::max<std::size_t>(options.max_values_per_group, 1);
  const auto whole = [](double d) { return static_cast<std::uint64_t>(d); };
  std::uint64_t n = 1;
  if (c.gt) n = std::max<std::uint64_t>(n, whole(*c.gt) + 1);
  if (c.gte) n = std::max<std::uint64_t>(n, whole(*c.gte));
  if (c.eq) n = std::max<std::uint64_t>(n, whole(*c.eq));
  if (!c.gt && !c.gte && !c.eq) n = c.rule_refs.size();  // temporal without a condition
  return n;
}

bool RuleSet::Impl::condition_holds(const CompiledCorrelation& c, double count) const {
  if (!c.gt && !c.gte && !c.eq && !c.lt && !c.lte && !c.neq)
    return count >= static_cast<double>(c.rule_refs.size());
  if (c.gt && !(count > *c.gt)) return false;
  if (c.gte && !(count >= *c.gte)) return false;
  if (c.eq && !(count == *c.eq)) return false;
  if (c.lt && !(count < *c.lt)) return false;
  if (c.lte && !(count <= *c.lte)) return false;
  if (c.neq && !(count != *c.neq)) return false;
  return true;
}

void RuleSet::Impl::evict(std::uint32_t correlation, Ticks now, Ticks span) {
  auto& groups = state[correlation];
  for (auto it = groups.begin(); it != groups.end();) {
    if (it->second.last < now - span) {
      unsaved[correlation].insert(it->first);
      it = groups.erase(it);
    } else {
      ++it;
    }
  }
  if (groups.size() < options.max_groups_per_correlation) return;
  // Still full: drop the least recently updated eighth in one pass, so eviction stays amortized.
  std::vector<std::pair<Ticks, const std::string*>> ages;
  ages.reserve(groups.size());
  for (const auto& [key, g] : groups) ages.emplace_back(g.last, &key);
  const std::size_t drop = std::max<std::size_t>(1, ages.size() / 8);
  std::nth_element(ages.begin(), ages.begin() + static_cast<std::ptrdiff_t>(drop - 1), ages.end());
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < drop; ++i) keys.push_back(*ages[i].second);
  for (const std::string& k : keys) {
    groups.erase(k);
    unsaved[correlation].insert(k);
  }
}

namespace {

// value_sum, value_avg: over the window's values; value_percentile: the share (in percent) of
// the window's events whose value equals the current event's, so `lte: 1` finds rare values.
std::optional<double> aggregate(const CompiledCorrelation& c, const std::deque<Entry>& entries,
                                const std::string& current) {
  if (!rules::is_value_aggregate(c.type) || entries.empty()) return std::nullopt;
  if (c.type == "value_percentile") {
    const auto same = std::count_if(entries.begin(), entries.end(),
                                    [&](const Entry& e) { return e.value == current; });
    return 100.0 * static_cast<double>(same) / static_cast<double>(entries.size());
  }
  double sum = 0;
  for (const Entry& e : entries) sum += rules::parse_number(e.value).value_or(0);
  return c.type == "value_sum" ? sum : sum / static_cast<double>(entries.size());
}

}  // namespace

std::size_t RuleSet::Impl::feed(const Feed& f, Ticks time, const EventRef& ref, Lookup lookup,
                                MatchCallback& cb, int depth) {
  if (depth > 16) return 0;  // chains are acyclic (checked at load); this is a backstop
  const CompiledCorrelation& c = correlations[f.correlation];
  auto& groups = state[f.correlation];
  const auto& gfields = group_fields[f.correlation][f.member];

  std::vector<std::string> key_values;
  key_values.reserve(gfields.size());
  std::string key;
  for (FieldId id : gfields) {
    auto v = lookup(id);
    key_values.emplace_back(v ? *v : std::string_view());
    key += key_values.back();
    key += '\x1f';
  }
  std::string distinct;
  if (c.type == "value_count") {
    for (FieldId id : value_fields[f.correlation][f.member]) {
      auto v = lookup(id);
      if (!v) return 0;  // an event without the counted field adds no value
      distinct.append(*v);
      distinct += '\x1f';
    }
  } else if (rules::is_value_aggregate(c.type)) {
    auto v = lookup(value_fields[f.correlation][f.member].front());
    if (!v) return 0;  // an event without the field adds no value
    // Sums and averages need a number; an event whose value is not one adds nothing.
    if (c.type != "value_percentile" && !rules::parse_number(*v)) return 0;
    distinct.assign(*v);
  }

  auto it = groups.find(key);
  if (it == groups.end()) {
    if (groups.size() >= options.max_groups_per_correlation) {
      evict(f.correlation, time, c.timespan);
    }
    it = groups.emplace(key, Group{std::move(key_values), {}, time}).first;
  }
  unsaved[f.correlation].insert(key);
  Group& g = it->second;
  const Ticks now = std::max(g.last, time);
  if (time < now - c.timespan) return 0;  // older than the window: late event
  g.last = now;
  auto& entries = g.entries;
  std::erase_if(entries, [&](const Entry& e) { return e.time < now - c.timespan; });
  if (c.type == "value_count") {
    std::erase_if(entries, [&](const Entry& e) { return e.value == distinct; });
  } else if (c.type == "temporal") {
    std::erase_if(entries, [&](const Entry& e) { return e.member == f.member; });
  }
  // Keep entries in time order even when events arrive slightly out of order.
  auto pos = std::upper_bound(entries.begin(), entries.end(), time,
                              [](Ticks t, const Entry& e) { return t < e.time; });
  const std::string current = distinct;
  entries.insert(pos, Entry{time, f.member, std::move(distinct), ref, true});
  const std::size_t cap =
      c.type == "temporal_ordered"
          ? std::max<std::size_t>(options.max_events_per_group, 1) * 4
          : static_cast<std::size_t>(std::min<std::uint64_t>(need(c), 1u << 20));
  while (entries.size() > cap) entries.pop_front();
  if (entries.size() > options.max_events_per_group) {
    Entry& old = entries[entries.size() - options.max_events_per_group - 1];
    if (old.has_ref) {
      old.ref = EventRef{};
      old.has_ref = false;
    }
  }

  const std::optional<double> value = aggregate(c, entries, current);
  double count = static_cast<double>(entries.size());
  if (value) {
    count = *value;
  } else if (c.type == "temporal") {
    std::set<std::uint32_t> members;
    for (const Entry& e : entries) members.insert(e.member);
    count = members.size();
  } else if (c.type == "temporal_ordered") {
    std::uint32_t next = 0;
    for (const Entry& e : entries) {
      if (next < c.rule_refs.size() && e.member == next) ++next;
    }
    count = next;
  }
  if (!condition_holds(c, count)) return 0;

  CorrelationMatch m;
  m.type = c.type;
  m.value = value;
  for (std::size_t i = 0; i < c.group_by.size(); ++i) m.group.emplace_back(c.group_by[i], g.key[i]);
  m.count = value ? entries.size() : static_cast<std::uint64_t>(count);
  m.timespan = c.timespan;
  m.first = entries.front().time;
  m.last = entries.back().time;
  for (Entry& e : entries) {
    if (e.has_ref) m.events.push_back(std::move(e.ref));
  }
  groups.erase(it);  // fire once per window and group, then start over

  std::size_t calls = 0;
  if (!correlation_silent[f.correlation]) {
    cb(RuleMatch{c.info, no_fields, &m});
    ++calls;
  }
  const EventRef self{ref.channel, ref.record_id, ref.event_id, ref.computer, m.last, c.info.id};
  for (const Feed& next : correlation_feeds[f.correlation]) {
    calls += feed(
        next, m.last, self,
        [&](FieldId id) -> std::optional<std::string_view> {
          const std::string_view name = field_name(id);
          for (const auto& [field, value] : m.group) {
            if (field == name) return std::string_view(value);
          }
          return std::nullopt;
        },
        cb, depth + 1);
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------

RuleSet::RuleSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuleSet::~RuleSet() = default;

std::size_t RuleSet::match(const Event& event, MatchCallback on_match) {
  Impl& m = *impl_;
  ++m.epoch;
  m.prefilter.next_event();
  std::size_t calls = 0;
  m.select_channel(event.channel());
  auto run = [&](const VariantList& list) {
    for (std::uint32_t i : m.to_visit(list, event)) {
      const IndexedVariant& iv = m.variants[i];
      if (m.rule_epoch[iv.rule] == m.epoch) continue;  // already fired through another source
      if (m.excludes_channel(iv.rule)) continue;
      if (!iv.variant->conditions.empty() && !m.conditions_hold(*iv.variant, event)) continue;
      if (m.gates[i] && !m.prefilter.may_match(*m.gates[i], event)) continue;
      if (!m.evaluator.matches(*iv.variant->detection, event)) continue;
      if (m.filtered_out(*iv.variant, event)) continue;
      m.rule_epoch[iv.rule] = m.epoch;
      calls += m.on_rule(iv.rule, *iv.variant, event, on_match);
    }
  };
  auto run_bucket = [&](const Bucket& b) {
    if (!b.by_event_id.empty()) {
      auto it = b.by_event_id.find(event.event_id);
      if (it != b.by_event_id.end()) run(it->second);
    }
    run(b.any_event_id);
  };
  if (m.channel_view().bucket) run_bucket(*m.channel_view().bucket);
  run_bucket(m.any_channel);
  return calls;
}

bool RuleSet::looks_at(std::string_view channel, std::uint32_t event_id) const {
  return impl_->looks_at(channel, event_id, /*reports_error=*/true);
}

bool RuleSet::may_match(const Event& event) const {
  const bool reports_error = event.payload(rules::error_code_field()).has_value();
  return impl_->looks_at(event.channel(), event.event_id, reports_error);
}

EventInterest RuleSet::interest() const {
  EventInterest interest;
  for (const IndexedVariant& indexed : impl_->variants) {
    const CompiledRule& rule = impl_->rules[indexed.rule];
    if (rule.recognized_errors_only) continue;
    const CompiledRule::Variant& v = *indexed.variant;
    EventInterest part;
    if (v.channels.empty()) {
      if (v.event_ids.empty()) part.add_everything();
      for (std::uint32_t id : v.event_ids) part.add_everywhere(id);
      for (const std::string& channel : rule.excluded_channels) part.narrow(channel, {});
    } else {
      for (const std::string& channel : v.channels) {
        if (std::find(rule.excluded_channels.begin(), rule.excluded_channels.end(), channel) !=
            rule.excluded_channels.end()) {
          continue;
        }
        if (v.event_ids.empty()) part.add_channel(channel);
        for (std::uint32_t id : v.event_ids) part.add(channel, id);
      }
    }
    interest.merge(part);
  }
  return interest;
}

std::vector<std::string> RuleSet::rules_reading_whole(std::string_view channel) const {
  std::vector<std::string> out;
  for (const IndexedVariant& indexed : impl_->variants) {
    const CompiledRule& rule = impl_->rules[indexed.rule];
    if (rule.recognized_errors_only || !indexed.variant->event_ids.empty()) continue;
    EventInterest part;
    if (indexed.variant->channels.empty()) {
      part.add_everything();
    } else {
      for (const std::string& c : indexed.variant->channels) part.add_channel(c);
    }
    for (const std::string& c : rule.excluded_channels) part.narrow(c, {});
    if (part.event_ids(channel) != std::nullopt) continue;
    std::string name = rule.info.title + " (" + rule.info.source + ")";
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
}

std::vector<const RuleInfo*> RuleSet::rules() const {
  std::vector<const RuleInfo*> out;
  for (const CompiledRule& r : impl_->rules) out.push_back(&r.info);
  for (const CompiledCorrelation& c : impl_->correlations) out.push_back(&c.info);
  return out;
}

RuleSetStats RuleSet::stats() const {
  RuleSetStats s;
  s.detection_rules = impl_->rules.size();
  s.correlation_rules = impl_->correlations.size();
  for (const auto& g : impl_->state) s.correlation_groups += g.size();
  return s;
}

nlohmann::json RuleSet::Impl::group_to_json(std::size_t c, const Group& g) const {
  nlohmann::json jg;
  jg["key"] = g.key;
  jg["last"] = g.last;
  nlohmann::json& entries = jg["entries"] = nlohmann::json::array();
  for (const Entry& e : g.entries) {
    nlohmann::json je{{"t", e.time}, {"member", member_names[c][e.member]}, {"value", e.value}};
    if (e.has_ref) {
      je["channel"] = e.ref.channel;
      je["record_id"] = e.ref.record_id;
      je["event_id"] = e.ref.event_id;
      je["computer"] = e.ref.computer;
      je["time"] = e.ref.time;
      je["rule_id"] = e.ref.rule_id;
    }
    entries.push_back(std::move(je));
  }
  return jg;
}

bool RuleSet::Impl::group_from_json(std::size_t c, const nlohmann::json& jg, Group& g) const {
  g.key = jg.at("key").get<std::vector<std::string>>();
  if (g.key.size() != correlations[c].group_by.size()) return false;  // rule changed
  g.last = jg.at("last").get<Ticks>();
  for (const nlohmann::json& je : jg.at("entries")) {
    const std::string member = je.at("member").get<std::string>();
    auto mit = std::find(member_names[c].begin(), member_names[c].end(), member);
    if (mit == member_names[c].end()) continue;
    Entry e;
    e.time = je.at("t").get<Ticks>();
    e.member = static_cast<std::uint32_t>(mit - member_names[c].begin());
    e.value = je.at("value").get<std::string>();
    e.has_ref = je.contains("channel");
    if (e.has_ref) {
      e.ref.channel = je.at("channel").get<std::string>();
      e.ref.record_id = je.at("record_id").get<std::uint64_t>();
      e.ref.event_id = je.at("event_id").get<std::uint32_t>();
      e.ref.computer = je.at("computer").get<std::string>();
      e.ref.time = je.at("time").get<Ticks>();
      e.ref.rule_id = je.at("rule_id").get<std::string>();
    }
    g.entries.push_back(std::move(e));
  }
  return true;
}

namespace {

std::string joined_key(const std::vector<std::string>& key) {
  std::string out;
  for (const std::string& k : key) out += k + '\x1f';
  return out;
}

constexpr std::string_view kRulesPartPrefix = "rules/";

std::string group_part_key(const std::string& correlation, const std::string& group) {
  return std::string(kRulesPartPrefix) + correlation + '\x1e' + group;
}

}  // namespace

std::string RuleSet::snapshot() const {
  nlohmann::json doc;
  doc["version"] = 1;
  nlohmann::json& list = doc["correlations"] = nlohmann::json::array();
  for (std::size_t c = 0; c < impl_->correlations.size(); ++c) {
    if (impl_->state[c].empty()) continue;
    nlohmann::json corr;
    corr["id"] = impl_->correlation_id(c);
    nlohmann::json& groups = corr["groups"] = nlohmann::json::array();
    for (const auto& [key, g] : impl_->state[c]) groups.push_back(impl_->group_to_json(c, g));
    list.push_back(std::move(corr));
  }
  return doc.dump();
}

bool RuleSet::restore(std::string_view snapshot, std::string& error) {
  Impl& m = *impl_;
  std::vector<std::unordered_map<std::string, Group>> state(m.correlations.size());
  try {
    const nlohmann::json doc = nlohmann::json::parse(snapshot);
    if (doc.value("version", 0) != 1) {
      error = "rules snapshot: unknown version";
      return false;
    }
    for (const nlohmann::json& corr : doc.at("correlations")) {
      const auto c = m.correlation_index(corr.at("id").get<std::string>());
      if (!c) continue;  // correlation no longer loaded
      for (const nlohmann::json& jg : corr.at("groups")) {
        Group g;
        if (!m.group_from_json(*c, jg, g)) continue;
        state[*c].emplace(joined_key(g.key), std::move(g));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    error = std::string("rules snapshot: ") + e.what();
    return false;
  }
  m.state = std::move(state);
  m.unsaved.assign(m.correlations.size(), {});
  return true;
}

void RuleSet::snapshot_parts(bool changes_only, StateParts& out) {
  Impl& m = *impl_;
  for (std::size_t c = 0; c < m.correlations.size(); ++c) {
    const std::string& id = m.correlation_id(c);
    const auto part = [&](const std::string& key, const Group& g) {
      nlohmann::json jg = m.group_to_json(c, g);
      jg["correlation"] = id;
      out.push_back({group_part_key(id, key), jg.dump()});
    };
    if (!changes_only) {
      for (const auto& [key, g] : m.state[c]) part(key, g);
    } else {
      for (const std::string& key : m.unsaved[c]) {
        const auto it = m.state[c].find(key);
        if (it == m.state[c].end()) {
          out.push_back({group_part_key(id, key), std::nullopt});
        } else {
          part(key, it->second);
        }
      }
    }
    m.unsaved[c].clear();
  }
}

bool RuleSet::restore_parts(const StatePartMap& parts, std::string& error) {
  Impl& m = *impl_;
  std::vector<std::unordered_map<std::string, Group>> state(m.correlations.size());
  try {
    for (auto it = parts.lower_bound(std::string(kRulesPartPrefix));
         it != parts.end() && it->first.starts_with(kRulesPartPrefix); ++it) {
      const nlohmann::json jg = nlohmann::json::parse(it->second);
      const auto c = m.correlation_index(jg.at("correlation").get<std::string>());
      if (!c) continue;  // correlation no longer loaded
      Group g;
      if (!m.group_from_json(*c, jg, g)) continue;
      state[*c].emplace(joined_key(g.key), std::move(g));
    }
  } catch (const nlohmann::json::exception& e) {
    error = std::string("rules state: ") + e.what();
    return false;
  }
  m.state = std::move(state);
  m.unsaved.assign(m.correlations.size(), {});
  return true;
}

// ---------------------------------------------------------------------------------------------
// Loading

namespace {

struct Loader {
  const RuleOptions& options;
  rules::LogsourceMap logsources;
  rules::ParsedRules parsed;
  RuleLoadResult result;
  std::size_t documents = 0;

  explicit Loader(const RuleOptions& o) : options(o), logsources(rules::LogsourceMap::builtin()) {
    for (const std::string& extra : o.logsource_yaml) {
      std::string error;
      if (!logsources.add_yaml(extra, error)) {
        result.problems.push_back(RuleProblem{"config", 0, 0, {}, error});
      }
    }
  }

  void add_text(std::string_view text, const std::string& source) {
    ++result.files;
    rules::CompileContext ctx{options, logsources};
    const auto seen = rules::parse_rules(text, source, ctx, parsed, result.problems);
    if (seen) {
      documents += *seen;
    } else {
      ++result.rejected_files;
    }
  }

  void reject_file(const std::string& path, std::string message) {
    ++result.files;
    ++result.rejected_files;
    result.problems.push_back(RuleProblem{path, 0, 0, {}, std::move(message)});
  }

  // Rule files under a directory, sorted; entries that cannot be files (directories) are left
  // out, anything else named *.yml/*.yaml is kept so that reading it reports why it fails.
  std::vector<std::filesystem::path> files_under(const std::string& dir) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string ext = it->path().extension().string();
      if (ext != ".yml" && ext != ".yaml") continue;
      std::error_code type_ec;
      if (!it->is_directory(type_ec)) files.push_back(it->path());
    }
    if (ec)
      result.problems.push_back(
          RuleProblem{dir, 0, 0, {}, "cannot read directory: " + ec.message()});
    std::sort(files.begin(), files.end());
    return files;
  }

  void add_file(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (fs::exists(st) && !fs::is_regular_file(st)) {
      reject_file(path, "cannot open: not a regular file");
      return;
    }
    std::string text, error;
    if (!yaml::read_bounded_file(path, yaml::Limits{}.max_bytes, text, error)) {
      reject_file(path, error);
      return;
    }
    add_text(text, path);
  }

  void add_path(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      for (const std::filesystem::path& f : files_under(path)) add_file(f.string());
    } else {
      add_file(path);
    }
  }

  RuleLoadResult finish() {
    auto impl = std::make_unique<RuleSet::Impl>();
    impl->options = options;

    // Duplicate ids: the later rule is rejected (correlation references must be unambiguous).
    std::set<std::string> ids;
    auto duplicate = [&](const RuleInfo& info, int line, int column) {
      if (info.id.empty()) return false;
      if (ids.insert(info.id).second) return false;
      result.problems.push_back(
          RuleProblem{info.source, line, column, info.id, "duplicate rule id"});
      return true;
    };
    for (CompiledRule& r : parsed.rules) {
      if (!duplicate(r.info, 0, 0)) impl->rules.push_back(std::move(r));
    }
    for (const rules::CompiledFilter& f : parsed.filters) {
      for (CompiledRule& r : impl->rules) rules::apply_filter(f, r);
    }
    std::vector<CompiledCorrelation> corrs;
    for (CompiledCorrelation& c : parsed.correlations) {
      if (!duplicate(c.info, c.line, c.column)) corrs.push_back(std::move(c));
    }

    // Resolve correlation references (id or name) to rules or correlations; reject correlations
    // with unknown references, repeatedly, since rejecting one may break another's chain.
    struct Target {
      bool is_correlation;
      std::uint32_t index;
    };
    std::vector<bool> alive(corrs.size(), true);
    std::vector<std::vector<Target>> targets(corrs.size());
    bool changed = true;
    while (changed) {
      changed = false;
      for (std::size_t ci = 0; ci < corrs.size(); ++ci) {
        if (!alive[ci]) continue;
        targets[ci].clear();
        for (const std::string& ref : corrs[ci].rule_refs) {
          std::optional<Target> t;
          for (std::uint32_t r = 0; r < impl->rules.size() && !t; ++r) {
            if (impl->rules[r].info.id == ref ||
                (!impl->rules[r].name.empty() && impl->rules[r].name == ref))
              t = Target{false, r};
          }
          for (std::uint32_t o = 0; o < corrs.size() && !t; ++o) {
            if (!alive[o] || o == ci) continue;
            if (corrs[o].info.id == ref || (!corrs[o].name.empty() && corrs[o].name == ref))
              t = Target{true, o};
          }
          if (!t) {
            result.problems.push_back(RuleProblem{
                corrs[ci].info.source, corrs[ci].line, corrs[ci].column, corrs[ci].info.id,
                "correlation refers to unknown or rejected rule '" + ref + "'"});
            alive[ci] = false;
            changed = true;
            break;
          }
          targets[ci].push_back(*t);
        }
      }
    }
    // Cycles among correlations.
    for (std::size_t ci = 0; ci < corrs.size(); ++ci) {
      if (!alive[ci]) continue;
      std::vector<std::size_t> stack{ci};
      std::set<std::size_t> seen;
      bool cycle = false;
      while (!stack.empty() && !cycle) {
        const std::size_t at = stack.back();
        stack.pop_back();
        for (const Target& t : targets[at]) {
          if (!t.is_correlation) continue;
          if (t.index == ci) cycle = true;
          if (seen.insert(t.index).second) stack.push_back(t.index);
        }
      }
      if (cycle) {
        result.problems.push_back(RuleProblem{corrs[ci].info.source, corrs[ci].line,
                                              corrs[ci].column, corrs[ci].info.id,
                                              "correlation chain refers back to itself"});
        alive[ci] = false;
      }
    }
    std::vector<std::uint32_t> new_index(corrs.size(), kNone);
    for (std::size_t ci = 0; ci < corrs.size(); ++ci) {
      if (!alive[ci]) continue;
      // A referenced correlation that died with a cycle takes this one down too.
      bool ok = true;
      for (const Target& t : targets[ci]) ok = ok && (!t.is_correlation || alive[t.index]);
      if (!ok) {
        alive[ci] = false;
        continue;
      }
    }
    for (std::size_t ci = 0; ci < corrs.size(); ++ci) {
      if (alive[ci]) {
        new_index[ci] = static_cast<std::uint32_t>(impl->correlations.size());
        impl->correlations.push_back(corrs[ci]);
      }
    }

    const std::size_t nr = impl->rules.size(), nc = impl->correlations.size();
    impl->rule_feeds.assign(nr, {});
    impl->correlation_feeds.assign(nc, {});
    std::vector<int> rule_users(nr, 0), rule_generate(nr, 0), corr_users(nc, 0),
        corr_generate(nc, 0);
    impl->group_fields.assign(nc, {});
    impl->value_fields.assign(nc, {});
    impl->member_names.assign(nc, {});
    impl->state.assign(nc, {});
    impl->unsaved.assign(nc, {});
    for (std::size_t ci = 0; ci < corrs.size(); ++ci) {
      if (!alive[ci]) continue;
      const std::uint32_t c = new_index[ci];
      const CompiledCorrelation& corr = impl->correlations[c];
      for (std::uint32_t mi = 0; mi < targets[ci].size(); ++mi) {
        const Target& t = targets[ci][mi];
        const std::string& member_name =
            t.is_correlation ? corrs[t.index].name : impl->rules[t.index].name;
        const std::string& member_id =
            t.is_correlation ? corrs[t.index].info.id : impl->rules[t.index].info.id;
        impl->member_names[c].push_back(member_id.empty() ? corr.rule_refs[mi] : member_id);
        auto resolve = [&](const std::string& field) {
          auto al = corr.aliases.find(field);
          if (al != corr.aliases.end()) {
            auto it = al->second.find(member_name);
            if (it == al->second.end()) it = al->second.find(corr.rule_refs[mi]);
            if (it != al->second.end()) return intern_field(it->second);
          }
          return intern_field(field);
        };
        std::vector<FieldId> g, v;
        for (const std::string& f : corr.group_by) g.push_back(resolve(f));
        for (const std::string& f : corr.value_fields) v.push_back(resolve(f));
        impl->group_fields[c].push_back(std::move(g));
        impl->value_fields[c].push_back(std::move(v));
        if (t.is_correlation) {
          const std::uint32_t inner = new_index[t.index];
          impl->correlation_feeds[inner].push_back(Feed{c, mi});
          ++corr_users[inner];
          corr_generate[inner] += corr.generate;
        } else {
          impl->rule_feeds[t.index].push_back(Feed{c, mi});
          ++rule_users[t.index];
          rule_generate[t.index] += corr.generate;
        }
      }
    }
    impl->rule_silent.resize(nr);
    for (std::size_t r = 0; r < nr; ++r)
      impl->rule_silent[r] = rule_users[r] > 0 && !rule_generate[r];
    impl->correlation_silent.resize(nc);
    for (std::size_t c = 0; c < nc; ++c)
      impl->correlation_silent[c] = corr_users[c] > 0 && !corr_generate[c];
    impl->build_index();

    result.loaded = nr + nc + parsed.filters.size();
    result.rejected = documents >= result.loaded ? documents - result.loaded : 0;
    result.rules = RuleSet::Impl::wrap(std::move(impl));
    return std::move(result);
  }
};

}  // namespace

RuleLoadResult RuleSet::load(const std::vector<std::string>& paths, const RuleOptions& options) {
  Loader loader(options);
  for (const std::string& p : paths) loader.add_path(p);
  return loader.finish();
}

RuleLoadResult RuleSet::load_text(std::string_view yaml, std::string_view source,
                                  const RuleOptions& options) {
  Loader loader(options);
  loader.add_text(yaml, std::string(source));
  return loader.finish();
}

RuleLoadResult RuleSet::load_texts(const std::vector<std::pair<std::string, std::string>>& sources,
                                   const RuleOptions& options) {
  Loader loader(options);
  for (const auto& [name, text] : sources) loader.add_text(text, name);
  return loader.finish();
}

std::vector<RuleProblem> check_rules(const std::vector<std::string>& paths,
                                     const RuleOptions& options) {
  return RuleSet::load(paths, options).problems;
}

}  // namespace sw
