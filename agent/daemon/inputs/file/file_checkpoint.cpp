#include "daemon/inputs/file/file_checkpoint.hpp"

#include <nlohmann/json.hpp>

namespace sw::daemon {

std::string file_stream_key(const platform::FileId& id) {
  return std::to_string(id.device) + ":" + std::to_string(id.inode);
}

// The same fields (and names) as the state files of earlier versions kept per file.
std::string checkpoint_text(const FileCheckpoint& cp) {
  const nlohmann::json doc = {{"path", cp.path},          {"device", cp.id.device},
                              {"inode", cp.id.inode},     {"offset", cp.offset},
                              {"records", cp.records},    {"head_length", cp.head_length},
                              {"head_hash", cp.head_hash}};
  return doc.dump();
}

bool parse_checkpoint(std::string_view text, FileCheckpoint& cp, std::string& error) {
  try {
    const nlohmann::json e = nlohmann::json::parse(text);
    cp.path = e.at("path").get<std::string>();
    cp.id.device = e.at("device").get<std::uint64_t>();
    cp.id.inode = e.at("inode").get<std::uint64_t>();
    cp.offset = e.at("offset").get<std::uint64_t>();
    cp.records = e.at("records").get<std::uint64_t>();
    cp.head_length = e.at("head_length").get<std::uint32_t>();
    cp.head_hash = e.at("head_hash").get<std::uint64_t>();
    return true;
  } catch (const nlohmann::json::exception& e) {
    error = e.what();
    return false;
  }
}

}  // namespace sw::daemon
