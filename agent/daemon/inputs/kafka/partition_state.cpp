#include "daemon/inputs/kafka/partition_state.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sessionwatch/platform.hpp"
#include "sessionwatch/session.hpp"

namespace sw::daemon {

namespace {

using json = nlohmann::json;

constexpr std::string_view kHeaderPart = SessionTracker::kHeaderPart;
constexpr const auto& kComputerPartPrefixes = SessionTracker::kComputerPartPrefixes;
constexpr std::string_view kFormat = "sessionwatch-kafka-handover";

// The host key a computer's part is filed under; empty for other parts.
std::string_view computer_of(std::string_view key) {
  for (std::string_view prefix : kComputerPartPrefixes) {
    if (key.starts_with(prefix)) return key.substr(prefix.size());
  }
  return {};
}

}  // namespace

void PartitionStates::saw(const std::string& partition, std::string_view computer) {
  if (computer.empty()) return;
  computers_[partition].insert(host_key(computer));
}

void PartitionStates::adopt(const std::string& partition, const PartitionHandover& handover) {
  auto& computers = computers_[partition];
  for (const auto& [key, value] : handover.parts) {
    const std::string_view computer = computer_of(key);
    if (computer.empty() && key != kHeaderPart) continue;
    if (!computer.empty()) computers.insert(std::string(computer));
    parts_[key] = value;
  }
}

void PartitionStates::forget(const std::string& partition) {
  const auto it = computers_.find(partition);
  if (it == computers_.end()) return;
  for (const std::string& computer : it->second) {
    for (std::string_view prefix : kComputerPartPrefixes) {
      parts_.erase(std::string(prefix) + computer);
    }
  }
  computers_.erase(it);
  dirty_.erase(partition);
}

void PartitionStates::written(const StateParts& parts) {
  std::set<std::string> changed;
  for (const StatePart& part : parts) {
    const std::string_view computer = computer_of(part.key);
    if (computer.empty()) {
      if (part.key == kHeaderPart && part.value) parts_[part.key] = *part.value;
      continue;
    }
    // Only the computers of owned partitions are kept: the others are some other relay's.
    bool owned = false;
    for (const auto& [partition, computers] : computers_) {
      if (computers.count(std::string(computer)) == 0) continue;
      owned = true;
      changed.insert(partition);
    }
    if (!owned) continue;
    if (part.value) {
      parts_[part.key] = *part.value;
    } else {
      parts_.erase(part.key);
    }
  }
  dirty_.insert(changed.begin(), changed.end());
}

std::optional<StatePartMap> PartitionStates::take_if_dirty(const std::string& partition) {
  if (dirty_.erase(partition) == 0) return std::nullopt;
  return parts_of(partition);
}

StatePartMap PartitionStates::parts_of(const std::string& partition) const {
  StatePartMap out;
  if (const auto header = parts_.find(std::string(kHeaderPart)); header != parts_.end()) {
    out.insert(*header);
  }
  const auto it = computers_.find(partition);
  if (it == computers_.end()) return out;
  for (const std::string& computer : it->second) {
    for (std::string_view prefix : kComputerPartPrefixes) {
      const std::string key = std::string(prefix) + computer;
      if (const auto part = parts_.find(key); part != parts_.end()) out.insert(*part);
    }
  }
  return out;
}

std::string handover_path(const std::string& dir, const std::string& partition) {
  std::string name = partition;
  for (char& c : name) {
    if (c == '/') c = '-';
  }
  return (std::filesystem::path(dir) / (name + ".handover")).string();
}

bool write_handover(const std::string& dir, const std::string& partition,
                    const PartitionHandover& handover, std::string& error) {
  const json doc = {{"format", kFormat},
                    {"version", 1},
                    {"partition", partition},
                    {"offset", handover.offset},
                    {"parts", handover.parts}};
  return platform::write_file_atomically(handover_path(dir, partition), doc.dump(), error);
}

bool read_handover(const std::string& dir, const std::string& partition,
                   PartitionHandover& handover, std::string& error) {
  error.clear();
  const std::string path = handover_path(dir, partition);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) error = path + ": cannot be read";
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    const json doc = json::parse(text.str());
    if (doc.at("format") != kFormat || doc.at("version") != 1 || doc.at("partition") != partition) {
      error = path + ": not a handover file of " + partition;
      return false;
    }
    handover.offset = doc.at("offset").get<std::int64_t>();
    handover.parts = doc.at("parts").get<StatePartMap>();
    return true;
  } catch (const std::exception& ex) {
    error = path + ": " + ex.what();
    return false;
  }
}

}  // namespace sw::daemon
