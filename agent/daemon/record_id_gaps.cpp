#include "daemon/record_id_gaps.hpp"

#include <cstring>

#include <nlohmann/json.hpp>

#include "sessionwatch/text.hpp"

namespace sw::daemon {

std::optional<RecordIdGaps::Skipped> RecordIdGaps::observe(std::string_view file,
                                                           std::string_view computer,
                                                           std::string_view channel,
                                                           std::uint64_t record_id) {
  if (record_id == 0) return std::nullopt;  // no id: nothing to compare
  const KeyParts parts{file, computer, channel};
  const std::uint64_t hash = hash_of(parts);
  Recent& recent = recent_[hash % kRecent];
  if (!recent.entry || recent.hash != hash || !same_stream(split_key(recent.entry->first), parts)) {
    make_key(parts, key_);
    auto it = streams_.find(std::string_view(key_));
    if (it == streams_.end()) {
      if (streams_.size() >= kMaxStreams) {
        for (auto& entry : streams_) gone_.insert(entry.first);
        streams_.clear();
        unsaved_.clear();
        forget_recent();
      }
      recent = {hash, &*streams_.emplace(key_, Stream{record_id, 1}).first};
      mark_unsaved(*recent.entry);
      return std::nullopt;
    }
    recent = {hash, &*it};
  }
  mark_unsaved(*recent.entry);
  Stream& s = recent.entry->second;
  if (record_id == s.last + 1) {
    s.last = record_id;
    ++s.run;
    return std::nullopt;
  }
  std::optional<Skipped> skipped;
  if (record_id > s.last + 1 && s.run >= kProof) skipped = Skipped{s.last + 1, record_id - 1};
  if (record_id != s.last) s = Stream{record_id, 1, true};
  return skipped;
}

void RecordIdGaps::mark_unsaved(Streams::value_type& entry) {
  if (entry.second.unsaved) return;
  entry.second.unsaved = true;
  gone_.erase(entry.first);  // back again: its part is written, not removed
  unsaved_.push_back(&entry);
}

std::uint64_t RecordIdGaps::hash_of(const KeyParts& parts) {
  return quick_hash(parts.channel, quick_hash(parts.computer, quick_hash(parts.file)));
}

bool RecordIdGaps::same_stream(const KeyParts& a, const KeyParts& b) {
  return text::same_text(a.computer, b.computer) && text::same_text(a.channel, b.channel) &&
         text::same_text(a.file, b.file);
}

void RecordIdGaps::make_key(const KeyParts& parts, std::string& key) {
  const auto length = [&](std::string_view s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    key.append(reinterpret_cast<const char*>(&n), sizeof n);
  };
  key.clear();
  length(parts.file);
  length(parts.computer);
  key.append(parts.file).append(parts.computer).append(parts.channel);
}

RecordIdGaps::KeyParts RecordIdGaps::split_key(std::string_view key) {
  std::uint32_t file = 0, computer = 0;
  std::memcpy(&file, key.data(), sizeof file);
  std::memcpy(&computer, key.data() + sizeof file, sizeof computer);
  key.remove_prefix(sizeof file + sizeof computer);
  return {key.substr(0, file), key.substr(file, computer), key.substr(file + computer)};
}

void RecordIdGaps::forget(std::string_view file) {
  // Unsaved entries are dropped before their streams are erased, which would leave them dangling.
  const auto of_file = [&](std::string_view key) { return split_key(key).file == file; };
  std::erase_if(unsaved_, [&](const Streams::value_type* entry) { return of_file(entry->first); });
  forget_recent();
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (!of_file(it->first)) {
      ++it;
      continue;
    }
    gone_.insert(it->first);
    it = streams_.erase(it);
  }
}

// Unique per stream; the value holds what restore_parts() reads back.
std::string RecordIdGaps::part_key(std::string_view prefix, const KeyParts& parts) {
  std::string key(prefix);
  key.append(parts.file).append(1, '\x1e').append(parts.computer).append(1, '\x1e');
  return key.append(parts.channel);
}

void RecordIdGaps::snapshot_parts(std::string_view prefix, bool changes_only, StateParts& out) {
  const auto part = [&](const Streams::value_type& entry) {
    const KeyParts key = split_key(entry.first);
    const nlohmann::json value = {key.file, key.computer, key.channel, entry.second.last,
                                  entry.second.run};
    out.push_back({part_key(prefix, key), value.dump()});
  };
  if (!changes_only) {
    for (const auto& entry : streams_) part(entry);
  } else {
    for (const Streams::value_type* entry : unsaved_) part(*entry);
    for (const std::string& key : gone_) {
      out.push_back({part_key(prefix, split_key(key)), std::nullopt});
    }
  }
  for (Streams::value_type* entry : unsaved_) entry->second.unsaved = false;
  unsaved_.clear();
  gone_.clear();
}

void RecordIdGaps::restore_parts(std::string_view prefix, const StatePartMap& parts,
                                 const std::set<std::string, std::less<>>& open_files) {
  streams_.clear();
  forget_recent();
  unsaved_.clear();
  gone_.clear();
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
    std::string key;
    make_key({file, v.at(1).get<std::string>(), v.at(2).get<std::string>()}, key);
    streams_.emplace(std::move(key),
                     Stream{v.at(3).get<std::uint64_t>(), v.at(4).get<std::uint64_t>()});
  }
}

}  // namespace sw::daemon
