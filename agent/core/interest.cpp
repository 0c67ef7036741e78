#include "sessionwatch/interest.hpp"

#include <algorithm>

#include "sessionwatch/text.hpp"

namespace sw {
void EventInterest::Ids::merge(const Ids& other) {
  if (all) return;
  if (other.all) {
    all = true;
    ids.clear();
    return;
  }
  ids.insert(other.ids.begin(), other.ids.end());
}

EventInterest EventInterest::everything() {
  EventInterest interest;
  interest.add_everything();
  return interest;
}

EventInterest::Ids& EventInterest::named(std::string_view channel) {
  // A channel named for the first time starts from what every channel needs.
  auto [it, inserted] = channels_.try_emplace(text::lowered(channel), other_channels_);
  return it->second;
}

const EventInterest::Ids& EventInterest::ids_of(const std::string& lower_channel) const {
  auto it = channels_.find(lower_channel);
  return it == channels_.end() ? other_channels_ : it->second;
}

void EventInterest::add(std::string_view channel, std::uint32_t event_id) {
  Ids& ids = named(channel);
  if (!ids.all) ids.ids.insert(event_id);
}

void EventInterest::add_channel(std::string_view channel) {
  Ids& ids = named(channel);
  ids.all = true;
  ids.ids.clear();
}

void EventInterest::add_everywhere(std::uint32_t event_id) {
  Ids one;
  one.ids.insert(event_id);
  other_channels_.merge(one);
  for (auto& [name, ids] : channels_) ids.merge(one);
}

void EventInterest::add_everything() {
  other_channels_.all = true;
  other_channels_.ids.clear();
  channels_.clear();
}

void EventInterest::narrow(std::string_view channel, const std::set<std::uint32_t>& event_ids) {
  Ids& ids = channels_[text::lowered(channel)];
  ids.all = false;
  ids.ids = event_ids;
}

void EventInterest::merge(const EventInterest& other) {
  // Channels named on either side get the union of both sides' view of them; the rest, the
  // union of both defaults. Compute the named ones before the defaults change.
  std::map<std::string, Ids> merged;
  for (const auto& [name, ids] : channels_) {
    Ids m = ids;
    m.merge(other.ids_of(name));
    merged.emplace(name, std::move(m));
  }
  for (const auto& [name, ids] : other.channels_) {
    if (merged.count(name) != 0) continue;
    Ids m = other_channels_;
    m.merge(ids);
    merged.emplace(name, std::move(m));
  }
  other_channels_.merge(other.other_channels_);
  // A named channel that now needs no more than the default is no longer worth naming.
  std::erase_if(merged, [this](const auto& entry) { return entry.second == other_channels_; });
  channels_ = std::move(merged);
}

bool EventInterest::accepts(std::string_view channel, std::uint32_t event_id) const {
  const Ids& ids = ids_of(text::lowered(channel));
  return ids.all || ids.ids.count(event_id) != 0;
}

std::optional<std::vector<std::uint32_t>> EventInterest::event_ids(std::string_view channel) const {
  const Ids& ids = ids_of(text::lowered(channel));
  if (ids.all) return std::nullopt;
  return std::vector<std::uint32_t>(ids.ids.begin(), ids.ids.end());
}

bool EventInterest::is_everything() const {
  return other_channels_.all && std::all_of(channels_.begin(), channels_.end(),
                                            [](const auto& e) { return e.second.all; });
}

std::vector<std::string> EventInterest::named_channels() const {
  std::vector<std::string> out;
  for (const auto& [name, ids] : channels_) out.push_back(name);
  return out;
}

std::string EventInterest::describe() const {
  auto text = [](const Ids& ids) {
    if (ids.all) return std::string("all");
    if (ids.ids.empty()) return std::string("none");
    std::string out;
    for (std::uint32_t id : ids.ids) {
      if (!out.empty()) out += ' ';
      out += std::to_string(id);
    }
    return out;
  };
  std::string out;
  for (const auto& [name, ids] : channels_) {
    out += name + ": " + text(ids) + "; ";
  }
  out += "other channels: " + text(other_channels_);
  return out;
}

}  // namespace sw
