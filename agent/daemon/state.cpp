#include "daemon/state.hpp"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace sw::daemon {

namespace {
constexpr int kStateVersion = 1;
}

std::string serialize_state(const AgentState& state) {
  nlohmann::json doc;
  doc["version"] = kStateVersion;
  doc["saved_at"] = state.saved_at;
  nlohmann::json& files = doc["files"] = nlohmann::json::object();
  for (const auto& [input, entries] : state.files) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [id, cp] : entries) {
      list.push_back({{"path", cp.path},
                      {"device", cp.id.device},
                      {"inode", cp.id.inode},
                      {"offset", cp.offset},
                      {"records", cp.records},
                      {"head_length", cp.head_length},
                      {"head_hash", cp.head_hash}});
    }
    files[input] = std::move(list);
  }
  nlohmann::json& evtx = doc["evtx"] = nlohmann::json::object();
  for (const auto& [input, entries] : state.evtx) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [path, cp] : entries) {
      nlohmann::json entry = {{"path", cp.path},
                              {"device", cp.id.device},
                              {"inode", cp.id.inode},
                              {"record_id", cp.record_id}};
      if (cp.position) {
        entry["position"] = {{"chunk", cp.position->chunk},
                             {"offset", cp.position->offset},
                             {"chunk_first_id", cp.position->chunk_first_id},
                             {"last_record_id", cp.position->last_record_id}};
      }
      list.push_back(std::move(entry));
    }
    evtx[input] = std::move(list);
  }
  nlohmann::json& eventlog = doc["eventlog"] = nlohmann::json::object();
  for (const auto& [input, channels] : state.eventlog) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [channel, bookmark] : channels) {
      list.push_back({{"channel", channel}, {"bookmark", bookmark}});
    }
    eventlog[input] = std::move(list);
  }
  doc["detector"] = state.detector_snapshot;
  return doc.dump(1) + "\n";
}

bool parse_state(std::string_view text, AgentState& state, std::string& error) {
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    if (doc.at("version").get<int>() != kStateVersion) {
      error = "unsupported state version " + doc.at("version").dump();
      return false;
    }
    AgentState parsed;
    parsed.saved_at = doc.value("saved_at", Ticks{0});
    for (const auto& [input, list] : doc.at("files").items()) {
      for (const auto& e : list) {
        FileCheckpoint cp;
        cp.path = e.at("path").get<std::string>();
        cp.id.device = e.at("device").get<std::uint64_t>();
        cp.id.inode = e.at("inode").get<std::uint64_t>();
        cp.offset = e.at("offset").get<std::uint64_t>();
        cp.records = e.at("records").get<std::uint64_t>();
        cp.head_length = e.at("head_length").get<std::uint32_t>();
        cp.head_hash = e.at("head_hash").get<std::uint64_t>();
        parsed.files[input][cp.id] = cp;
      }
    }
    for (const auto& [input, list] : doc.at("evtx").items()) {
      for (const auto& e : list) {
        EvtxCheckpoint cp;
        cp.path = e.at("path").get<std::string>();
        cp.id.device = e.at("device").get<std::uint64_t>();
        cp.id.inode = e.at("inode").get<std::uint64_t>();
        cp.record_id = e.at("record_id").get<std::uint64_t>();
        // Absent in states written before positions were kept: those resume by record id.
        if (const auto it = e.find("position"); it != e.end()) {
          EvtxPosition& p = cp.position.emplace();
          p.chunk = it->at("chunk").get<std::uint64_t>();
          p.offset = it->at("offset").get<std::uint32_t>();
          p.chunk_first_id = it->at("chunk_first_id").get<std::uint64_t>();
          p.last_record_id = it->at("last_record_id").get<std::uint64_t>();
        }
        parsed.evtx[input][cp.path] = cp;
      }
    }
    // Absent in states written before the eventlog input existed.
    if (const auto it = doc.find("eventlog"); it != doc.end()) {
      for (const auto& [input, list] : it->items()) {
        for (const auto& e : list) {
          parsed.eventlog[input][e.at("channel").get<std::string>()] =
              e.at("bookmark").get<std::string>();
        }
      }
    }
    parsed.detector_snapshot = doc.value("detector", std::string());
    state = std::move(parsed);
    return true;
  } catch (const std::exception& e) {
    error = std::string("malformed state: ") + e.what();
    return false;
  }
}

bool StateStore::load(AgentState& state, std::string& error) const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    error.clear();
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (!parse_state(text.str(), state, error)) {
    error = path_ + ": " + error;
    return false;
  }
  return true;
}

bool StateStore::save(const AgentState& state, std::string& error) const {
  return platform::write_file_atomically(path_, serialize_state(state), error);
}

}  // namespace sw::daemon
