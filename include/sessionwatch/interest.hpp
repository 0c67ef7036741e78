// Which events a stage needs: per channel, every event or a set of event ids.
//
// The detector states what it reads (its rules, the session tracker, the error recognizer), so a
// source that can filter at the origin (the Windows Event Log, through an XPath query) asks for
// no more than that. Interests combine by union, channel by channel; channel names compare
// case-insensitively, as Windows compares them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sw {

class EventInterest {
 public:
  // Nothing at all; add() what is needed.
  EventInterest() = default;
  // Every event of every channel.
  static EventInterest everything();

  // One event id of one channel.
  void add(std::string_view channel, std::uint32_t event_id);
  // Every event of one channel.
  void add_channel(std::string_view channel);
  // One event id, whatever the channel (a rule naming an EventID but no channel).
  void add_everywhere(std::uint32_t event_id);
  // Every event of every channel (a rule naming neither).
  void add_everything();
  // Sets what one channel needs to exactly these ids, whatever it needed before: for "every
  // channel in full except these" policies, start from everything() and narrow the exceptions.
  void narrow(std::string_view channel, const std::set<std::uint32_t>& event_ids);
  // The union.
  void merge(const EventInterest& other);

  bool accepts(std::string_view channel, std::uint32_t event_id) const;
  // What one channel needs: nullopt for every event, else the ids (possibly none), sorted.
  std::optional<std::vector<std::uint32_t>> event_ids(std::string_view channel) const;
  // True when every event of every channel is needed.
  bool is_everything() const;
  // The channels named explicitly (lower case), for messages.
  std::vector<std::string> named_channels() const;

  // "Security: 4624 4634 ..; System: all; other channels: none" (for logs and `rules xpath`).
  std::string describe() const;

  friend bool operator==(const EventInterest&, const EventInterest&) = default;

 private:
  struct Ids {
    bool all = false;
    std::set<std::uint32_t> ids;
    void merge(const Ids& other);
    friend bool operator==(const Ids&, const Ids&) = default;
  };
  const Ids& ids_of(const std::string& lower_channel) const;
  Ids& named(std::string_view channel);

  Ids other_channels_;                   // what a channel not named in channels_ needs
  std::map<std::string, Ids> channels_;  // lower-case channel name -> what it needs
};

}  // namespace sw
