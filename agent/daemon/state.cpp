#include "daemon/state.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "platform/fsync.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/json_escape.hpp"
#include "sessionwatch/spool.hpp"

namespace sw::daemon {

namespace {

constexpr int kStateVersion = 3;
constexpr std::string_view kChecksumMember = "checksum";
constexpr std::string_view kChecksumPrefix = "crc32c:";
// A journal record: 4-byte little-endian payload length, 4-byte CRC32C of the payload, payload.
constexpr std::size_t kFrameHeader = 8;

using nlohmann::json;

// An input's checkpoint that is a JSON object (a file position) is kept as one, so the state
// file stays readable; any other text (a bookmark's XML) as a string.
json checkpoint_value(const std::string& checkpoint) {
  if (checkpoint.starts_with('{')) {
    json value = json::parse(checkpoint, nullptr, false);
    if (value.is_object()) return value;
  }
  return checkpoint;
}

std::string checkpoint_text(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

void positions_to_json(const AgentState& state, json& doc) {
  doc["saved_at"] = state.saved_at;
  json& streams = doc["streams"] = json::object();
  for (const auto& [input, entries] : state.streams) {
    json list = json::array();
    for (const auto& [stream, checkpoint] : entries) {
      list.push_back({{"stream", stream}, {"checkpoint", checkpoint_value(checkpoint)}});
    }
    streams[input] = std::move(list);
  }
}

// Throws on malformed input. Replaces the positions of `state`.
void positions_from_json(const json& doc, AgentState& state) {
  state.saved_at = doc.value("saved_at", Ticks{0});
  state.streams.clear();
  if (const auto it = doc.find("streams"); it != doc.end()) {
    for (const auto& [input, list] : it->items()) {
      for (const auto& e : list) {
        state.streams[input][e.at("stream").get<std::string>()] =
            checkpoint_text(e.at("checkpoint"));
      }
    }
  }
  // States of version 2 kept file positions, EVTX positions and Windows Event Log bookmarks
  // apart: they become the streams of the file, evtx and eventlog inputs, keyed as those inputs
  // key them.
  if (const auto it = doc.find("evtx"); it != doc.end()) {
    for (const auto& [input, list] : it->items()) {
      for (const auto& e : list) state.streams[input][e.at("path").get<std::string>()] = e.dump();
    }
  }
  if (const auto it = doc.find("files"); it != doc.end()) {
    for (const auto& [input, list] : it->items()) {
      for (const auto& e : list) {
        const std::string key = std::to_string(e.at("device").get<std::uint64_t>()) + ":" +
                                std::to_string(e.at("inode").get<std::uint64_t>());
        state.streams[input][key] = e.dump();
      }
    }
  }
  if (const auto it = doc.find("eventlog"); it != doc.end()) {
    for (const auto& [input, list] : it->items()) {
      for (const auto& e : list) {
        state.streams[input][e.at("channel").get<std::string>()] =
            e.at("bookmark").get<std::string>();
      }
    }
  }
}

json state_document(const AgentState& state) {
  json doc;
  doc["version"] = kStateVersion;
  positions_to_json(state, doc);
  json& parts = doc["parts"] = json::object();
  for (const auto& [key, value] : state.parts) parts[key] = value;
  return doc;
}

std::string checksum_text(std::uint32_t crc) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08x", crc);
  return std::string(kChecksumPrefix) + hex;
}

// Of the document's compact text without its checksum.
std::string checksum_of(std::string_view compact_text) {
  return checksum_text(forward::crc32c(compact_text));
}

// A part's key and its text (none: the part is gone), or what makes its text when it is written;
// in the order a json object keeps its keys.
struct PartView {
  std::string_view key;
  const std::string* text = nullptr;
  const std::function<PartText()>* encode = nullptr;
};

std::vector<PartView> parts_of(const StatePartMap& parts) {
  std::vector<PartView> out;
  out.reserve(parts.size());
  for (const auto& [key, value] : parts) out.push_back({key, &value});
  return out;
}

std::vector<PartView> parts_of(const StateParts& parts) {
  std::vector<PartView> out;
  out.reserve(parts.size());
  for (const StatePart& p : parts) {
    if (p.encode_when_written) {
      out.push_back({p.key, nullptr, &p.encode_when_written});
    } else {
      out.push_back({p.key, p.value ? &*p.value : nullptr});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const PartView& a, const PartView& b) { return a.key < b.key; });
  // Keys are unique; were one not, the last would win, as in a json object.
  const auto last_of_each =
      std::unique(out.rbegin(), out.rend(), [](auto& a, auto& b) { return a.key == b.key; });
  out.erase(out.begin(), last_of_each.base());
  return out;
}

std::size_t parts_bytes(const std::vector<PartView>& parts) {
  std::size_t bytes = 0;
  for (const PartView& p : parts) bytes += p.key.size() + (p.text ? p.text->size() : 0) + 8;
  return bytes + bytes / 8;  // room for escapes
}

// Appends the parts as a json object of strings, as nlohmann::json::dump writes it (compact, or
// with indent 1 one level down), and chains the CRC-32C of its compact form onto `compact_crc`.
// The two forms differ only in white space, so each part is escaped once for both. `drain`, when
// given, is called after each part and may hand `out` on and clear it (a full checkpoint goes to
// its file as it is made); false from it stops there and is returned.
bool append_parts(const std::vector<PartView>& parts, bool indented, std::string& out,
                  std::uint32_t& compact_crc,
                  const std::function<bool(std::string&)>& drain = nullptr) {
  // Appends what both forms hold, and counts it in the compact form's CRC.
  const auto both = [&](auto&& append) {
    const std::size_t from = out.size();
    append();
    compact_crc = forward::crc32c(std::string_view(out).substr(from), compact_crc);
  };
  if (parts.empty()) {
    both([&] { out += "{}"; });
    return true;
  }
  both([&] { out += '{'; });
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) both([&] { out += ','; });
    if (indented) out += "\n  ";
    both([&] {
      append_json_string(parts[i].key, out);
      out += ':';
    });
    if (indented) out += ' ';
    // A part made as it is written lives until it is appended: one at a time.
    const PartText made = parts[i].encode ? (*parts[i].encode)() : PartText();
    const std::string* text = parts[i].encode ? (made ? &*made : nullptr) : parts[i].text;
    both([&] {
      if (text) {
        append_json_string(*text, out);
      } else {
        out += "null";
      }
    });
    if (drain && !drain(out)) return false;
  }
  if (indented) out += "\n ";
  both([&] { out += '}'; });
  return true;
}

// `doc` (its "parts" member null) as dump() or dump(1) writes it, split around that null.
std::pair<std::string, std::string> around_parts(const json& doc, bool indented) {
  const std::string text = indented ? doc.dump(1) : doc.dump();
  // The first one is the document's own: "parts" sorts before "saved_at" and "streams", the only
  // members holding objects of other keys.
  const std::string_view marker = indented ? "\"parts\": null" : "\"parts\":null";
  const std::size_t null_at = text.find(marker) + marker.size() - 4;
  return {text.substr(0, null_at), text.substr(null_at + 4)};
}

// `doc` (its "parts" member null) as dump() writes it with `parts` in that member.
std::string dump_with_parts(const json& doc, const std::vector<PartView>& parts) {
  auto [head, tail] = around_parts(doc, false);
  std::string out = std::move(head);
  out.reserve(out.size() + parts_bytes(parts) + tail.size());
  std::uint32_t unused = 0;
  append_parts(parts, false, out, unused);
  out += tail;
  return out;
}

// Writes a full checkpoint through `write` as it is made, in pieces of about this size, so that
// the whole document (megabytes of detector state) is never held at once.
constexpr std::size_t kFullCheckpointChunk = 256 * 1024;

// A full checkpoint: the document as dump(1) writes it, with its generation, except that its
// checksum (of the compact form without the checksum) comes last instead of first: it is
// computed as the parts go by, each escaped once, straight from its text. Readers find the
// checksum by name, wherever it is. The bytes written; 0 when writing failed.
std::uint64_t write_full_text(const AgentState& positions, const std::vector<PartView>& parts,
                              std::uint64_t generation, const platform::WriteChunk& write) {
  json doc;
  doc["version"] = kStateVersion;
  positions_to_json(positions, doc);
  doc["parts"] = nullptr;
  doc["generation"] = generation;
  const auto [compact_head, compact_tail] = around_parts(doc, false);
  auto [out, tail] = around_parts(doc, true);
  std::uint64_t bytes = 0;
  const auto hand_on = [&](std::string& text) {
    bytes += text.size();
    const bool written = write(text);
    text.clear();
    return written;
  };
  std::uint32_t crc = forward::crc32c(compact_head);
  out.reserve(kFullCheckpointChunk + kFullCheckpointChunk / 4);
  const bool parts_written = append_parts(parts, true, out, crc, [&](std::string& text) {
    return text.size() < kFullCheckpointChunk || hand_on(text);
  });
  if (!parts_written) return 0;
  // The tail ends with the document's closing "\n}": the checksum goes in before it.
  const std::string checksum = checksum_text(forward::crc32c(compact_tail, crc));
  tail.insert(tail.size() - 2,
              ",\n \"" + std::string(kChecksumMember) + "\": \"" + checksum + "\"");
  out += tail;
  out += '\n';
  return hand_on(out) ? bytes : 0;
}

void store_le32(std::uint32_t v, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t load_le32(const char* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

std::optional<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A full checkpoint read from disk, checked; `problem` says why it cannot be used.
struct FullState {
  AgentState state;
  std::uint64_t generation = 0;
  bool checksummed = false;
};

std::optional<FullState> read_full(const std::string& path, std::string& problem) {
  const auto text = read_whole(path);
  if (!text) {
    problem = "missing";
    return std::nullopt;
  }
  FullState full;
  try {
    json doc = json::parse(*text);
    if (const auto sum = doc.find(kChecksumMember); sum != doc.end()) {
      const std::string recorded = sum->get<std::string>();
      doc.erase(std::string(kChecksumMember));
      if (checksum_of(doc.dump()) != recorded) {
        problem = "checksum mismatch (damaged or edited)";
        return std::nullopt;
      }
      full.checksummed = true;
    }
    full.generation = doc.value("generation", std::uint64_t{0});
  } catch (const std::exception& e) {
    problem = std::string("malformed state: ") + e.what();
    return std::nullopt;
  }
  if (!parse_state(*text, full.state, problem)) return std::nullopt;
  return full;
}

// Applies one journal record to `state` when it belongs to `generation`. Throws when malformed.
bool apply_record(std::string_view payload, std::uint64_t generation, AgentState& state) {
  const json doc = json::parse(payload);
  if (doc.at("generation").get<std::uint64_t>() != generation) return false;
  positions_from_json(doc, state);
  for (const auto& [key, value] : doc.at("parts").items()) {
    if (value.is_null()) {
      state.parts.erase(key);
    } else {
      state.parts[key] = value.get<std::string>();
    }
  }
  return true;
}

std::string describe_time(Ticks t) {
  return t ? format_time(t) : std::string("an unknown time");
}

// Replays the journal records of `generation` from `path` onto `state`. Every record of one
// journal file belongs to one full checkpoint (a full checkpoint starts a new file), so a file
// whose first record is of another generation is skipped whole. Stops at the first damaged
// record (what follows cannot be applied without it) and says so in `notes`.
void replay_journal(const std::string& path, std::uint64_t generation, AgentState& state,
                    std::vector<std::string>& notes) {
  const auto data = read_whole(path);
  if (!data) return;
  std::size_t at = 0;
  while (at < data->size()) {
    const std::size_t left = data->size() - at;
    std::string problem;
    if (left < kFrameHeader) {
      problem = "a record cut short";
    } else {
      const std::uint32_t length = load_le32(data->data() + at);
      const std::uint32_t crc = load_le32(data->data() + at + 4);
      if (length > left - kFrameHeader) {
        problem = "a record cut short";
      } else {
        const std::string_view payload(data->data() + at + kFrameHeader, length);
        if (forward::crc32c(payload) != crc) {
          problem = "a record with a bad checksum";
        } else {
          try {
            if (!apply_record(payload, generation, state)) return;  // another checkpoint's
            at += kFrameHeader + length;
            continue;
          } catch (const std::exception& e) {
            problem = std::string("a malformed record (") + e.what() + ")";
          }
        }
      }
    }
    notes.push_back(path + ": " + problem + " at byte " + std::to_string(at) + " of " +
                    std::to_string(data->size()) + ": resuming from the checkpoint before it (" +
                    describe_time(state.saved_at) +
                    "); events after it are read again (duplicates, same event.id)");
    return;
  }
}

}  // namespace

std::string serialize_state(const AgentState& state) {
  return state_document(state).dump(1) + "\n";
}

bool parse_state(std::string_view text, AgentState& state, std::string& error) {
  try {
    const json doc = json::parse(text);
    const int version = doc.at("version").get<int>();
    if (version < 1 || version > kStateVersion) {
      error = "unsupported state version " + doc.at("version").dump();
      return false;
    }
    AgentState parsed;
    positions_from_json(doc, parsed);
    if (version == 1) {
      parsed.detector_snapshot = doc.value("detector", std::string());
    } else {
      for (const auto& [key, value] : doc.at("parts").items()) {
        parsed.parts[key] = value.get<std::string>();
      }
    }
    state = std::move(parsed);
    return true;
  } catch (const std::exception& e) {
    error = std::string("malformed state: ") + e.what();
    return false;
  }
}

StateStore::StateStore(std::string path)
    : path_(std::move(path)),
      journal_path_(std::filesystem::path(path_).replace_extension(".journal").string()) {}

StateStore::~StateStore() = default;

bool StateStore::load(AgentState& state, std::string& error, std::vector<std::string>& notes) {
  error.clear();
  const std::string prev = path_ + ".prev";
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec) && !std::filesystem::exists(prev, ec)) return false;
  std::string problem;
  std::optional<FullState> full = read_full(path_, problem);
  if (!full) {
    std::string prev_problem;
    full = read_full(prev, prev_problem);
    if (problem != "missing") {
      // Kept for inspection, and out of the way of the next full checkpoint.
      const std::string aside = path_ + ".damaged";
      std::filesystem::rename(path_, aside, ec);
      notes.push_back(path_ + ": " + problem + "; moved to " + aside + "; " +
                      (full
                           ? "using the previous checkpoint " + prev + " (saved " +
                                 describe_time(full->state.saved_at) +
                                 "): events after it are read again (duplicates, same event.id)"
                           : "no usable previous checkpoint (" + prev + ": " + prev_problem + ")"));
    }
    if (!full) {
      error = path_ + ": " + problem;
      return false;
    }
  }
  if (!full->checksummed && full->generation != 0) {
    notes.push_back(path_ + ": no checksum (written by hand?): read as it is");
  }
  generation_ = full->generation;
  // The journal of this checkpoint is state.journal, or state.journal.prev when a later full
  // checkpoint was lost: records carry their checkpoint's generation, so both can be read.
  if (full->generation != 0) {
    replay_journal(journal_path_ + ".prev", generation_, full->state, notes);
    replay_journal(journal_path_, generation_, full->state, notes);
  }
  state = std::move(full->state);
  return true;
}

std::uint64_t StateStore::next_generation() const {
  return std::max<std::uint64_t>(generation_ + 1, static_cast<std::uint64_t>(now_ticks()));
}

bool StateStore::save(const AgentState& state, std::string& error) {
  const auto parts = parts_of(state.parts);
  return write_full(
      [&](std::uint64_t generation, const platform::WriteChunk& write) {
        return write_full_text(state, parts, generation, write);
      },
      error);
}

bool StateStore::save(const AgentState& positions, const StateParts& parts, std::string& error) {
  const auto views = parts_of(parts);
  return write_full(
      [&](std::uint64_t generation, const platform::WriteChunk& write) {
        return write_full_text(positions, views, generation, write);
      },
      error);
}

bool StateStore::write_full(const FullWriter& write_text, std::string& error) {
  const std::uint64_t generation = next_generation();
  std::uint64_t bytes = 0;
  std::error_code ec;
  // The previous full checkpoint stays as the fallback; its journal follows it below.
  std::filesystem::rename(path_, path_ + ".prev", ec);
  const bool written = platform::write_file_atomically(
      path_,
      [&](const platform::WriteChunk& write) {
        bytes = write_text(generation, write);
        return bytes != 0;
      },
      error);
  if (!written) return false;
  journal_.reset();
  std::filesystem::rename(journal_path_, journal_path_ + ".prev", ec);
  generation_ = generation;
  needs_full_ = false;
  full_bytes_ = bytes;
  journal_bytes_ = 0;
  return true;
}

bool StateStore::append(const AgentState& state, const StateParts& changes, std::string& error) {
  if (needs_full_) {
    error = "a full checkpoint must come first";
    return false;
  }
  json doc;
  doc["generation"] = generation_;
  positions_to_json(state, doc);
  doc["parts"] = nullptr;
  const std::string payload = dump_with_parts(doc, parts_of(changes));
  std::string frame(kFrameHeader, '\0');
  store_le32(static_cast<std::uint32_t>(payload.size()), frame.data());
  store_le32(forward::crc32c(payload), frame.data() + 4);
  frame += payload;
  if (!journal_) {
    journal_.reset(platform::open_private_file(journal_path_, true));  // 0600, as state.json
    if (!journal_) {
      error = "cannot open " + journal_path_ + ": " + std::strerror(errno);
      return false;
    }
  }
  if (std::fwrite(frame.data(), 1, frame.size(), journal_.get()) != frame.size() ||
      !platform::sync_file(journal_.get())) {
    error = "cannot write " + journal_path_ + ": " + std::strerror(errno);
    // A partial record must not stay in front of the next ones: a full checkpoint comes next.
    journal_.reset();
    needs_full_ = true;
    return false;
  }
  journal_bytes_ += frame.size();
  return true;
}

}  // namespace sw::daemon
