#include "daemon/record_id_gaps.hpp"

#include <nlohmann/json.hpp>

namespace sw::daemon {

std::optional<RecordIdGaps::Skipped> RecordIdGaps::observe(std::string_view file,
                                                           std::string_view computer,
                                                           std::string_view channel,
                                                           std::uint64_t record_id) {
  if (record_id == 0) return std::nullopt;  // no id: nothing to compare
  auto it = streams_.find(KeyView(file, computer, channel));
  if (it == streams_.end()) {
    if (streams_.size() >= kMaxStreams) {
      for (const auto& entry : streams_) unsaved_.insert(entry.first);
      streams_.clear();
    }
    Key key{std::string(file), std::string(computer), std::string(channel)};
    unsaved_.insert(key);
    streams_.emplace(std::move(key), Stream{record_id, 1});
    return std::nullopt;
  }
  unsaved_.insert(it->first);
  Stream& s = it->second;
  if (record_id == s.last + 1) {
    s.last = record_id;
    ++s.run;
    return std::nullopt;
  }
  std::optional<Skipped> skipped;
  if (record_id > s.last + 1 && s.run >= kProof) skipped = Skipped{s.last + 1, record_id - 1};
  if (record_id != s.last) s = Stream{record_id, 1};
  return skipped;
}

void RecordIdGaps::forget(std::string_view file) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (std::get<0>(it->first) != file) {
      ++it;
      continue;
    }
    unsaved_.insert(it->first);
    it = streams_.erase(it);
  }
}

// Unique per stream; the value holds what restore_parts() reads back.
std::string RecordIdGaps::part_key(std::string_view prefix, const Key& key) {
  const auto& [file, computer, channel] = key;
  return std::string(prefix) + file + "\x1e" + computer + "\x1e" + channel;
}

void RecordIdGaps::snapshot_parts(std::string_view prefix, bool changes_only, StateParts& out) {
  const auto part = [&](const Key& key, const Stream& s) {
    const auto& [file, computer, channel] = key;
    const nlohmann::json value = {file, computer, channel, s.last, s.run};
    out.push_back({part_key(prefix, key), value.dump()});
  };
  if (!changes_only) {
    for (const auto& [key, s] : streams_) part(key, s);
  } else {
    for (const Key& key : unsaved_) {
      const auto it = streams_.find(key);
      if (it == streams_.end()) {
        out.push_back({part_key(prefix, key), std::nullopt});
      } else {
        part(key, it->second);
      }
    }
  }
  unsaved_.clear();
}

void RecordIdGaps::restore_parts(std::string_view prefix, const StatePartMap& parts,
                                 const std::set<std::string, std::less<>>& open_files) {
  streams_.clear();
  unsaved_.clear();
  for (auto it = parts.lower_bound(std::string(prefix));
       it != parts.end() && it->first.starts_with(prefix); ++it) {
    nlohmann::json v = nlohmann::json::parse(it->second);
    if (v.size() == 6) {  // earlier versions: the file's device and inode as two numbers
      const std::string file = std::to_string(v.at(0).get<std::uint64_t>()) + ":" +
                               std::to_string(v.at(1).get<std::uint64_t>());
      v.erase(0);
      v[0] = file;
    }
    const std::string file = v.at(0).get<std::string>();
    if (!open_files.contains(file)) continue;
    streams_.emplace(Key{file, v.at(1).get<std::string>(), v.at(2).get<std::string>()},
                     Stream{v.at(3).get<std::uint64_t>(), v.at(4).get<std::uint64_t>()});
  }
}

}  // namespace sw::daemon
