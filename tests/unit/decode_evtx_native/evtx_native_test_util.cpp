#include "unit/decode_evtx_native/evtx_native_test_util.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sw::evtx_native_test {
namespace {

void compare(std::ostringstream& out, const char* what, const auto& expected, const auto& actual) {
  if (expected != actual) {
    out << what << ": expected '" << expected << "', got '" << actual << "'\n";
  }
}

bool same_value(std::string_view a, std::string_view b) {
  if (a == b) return true;
  const auto ta = parse_time(a), tb = parse_time(b);
  return ta && tb && *ta == *tb;
}

}  // namespace

std::string describe_differences(const Event& e, const Event& a) {
  std::ostringstream out;
  compare(out, "event_id", e.event_id, a.event_id);
  compare(out, "qualifiers", e.qualifiers, a.qualifiers);
  compare(out, "has_qualifiers", e.has_qualifiers, a.has_qualifiers);
  compare(out, "version", +e.version, +a.version);
  compare(out, "level", +e.level, +a.level);
  compare(out, "task", e.task, a.task);
  compare(out, "opcode", +e.opcode, +a.opcode);
  compare(out, "keywords", e.keywords, a.keywords);
  compare(out, "time_created", e.time_created, a.time_created);
  compare(out, "record_id", e.record_id, a.record_id);
  compare(out, "process_id", e.process_id, a.process_id);
  compare(out, "thread_id", e.thread_id, a.thread_id);
  compare(out, "provider_name", e.provider_name(), a.provider_name());
  compare(out, "provider_guid", e.provider_guid(), a.provider_guid());
  compare(out, "channel", e.channel(), a.channel());
  compare(out, "computer", e.computer(), a.computer());
  compare(out, "user_sid", e.user_sid(), a.user_sid());
  compare(out, "activity_id", e.activity_id(), a.activity_id());
  compare(out, "related_activity_id", e.related_activity_id(), a.related_activity_id());
  compare(out, "message", e.message(), a.message());
  compare(out, "user_data_name", e.user_data_name(), a.user_data_name());
  compare(out, "source_offset", e.source_offset, a.source_offset);
  const auto& ef = e.fields();
  const auto& af = a.fields();
  const std::size_t n = std::max(ef.size(), af.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (i >= ef.size()) {
      out << "extra field #" << i << " " << field_name(af[i].id) << "='" << a.value(af[i]) << "'\n";
      continue;
    }
    if (i >= af.size()) {
      out << "missing field #" << i << " " << field_name(ef[i].id) << "='" << e.value(ef[i])
          << "'\n";
      continue;
    }
    if (ef[i].id != af[i].id || ef[i].origin != af[i].origin ||
        !same_value(e.value(ef[i]), a.value(af[i]))) {
      out << "field #" << i << ": expected " << field_name(ef[i].id) << "='" << e.value(ef[i])
          << "' (origin " << static_cast<int>(ef[i].origin) << "), got " << field_name(af[i].id)
          << "='" << a.value(af[i]) << "' (origin " << static_cast<int>(af[i].origin) << ")\n";
    }
  }
  return out.str();
}

std::vector<std::string> files_under(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return files;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string path = it->path().string();
    if (it->is_regular_file(ec) && path.size() >= suffix.size() &&
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string shared_dir() {
  return SW_SHARED_DIR;
}

std::string fixture(const std::string& name) {
  return std::string(SW_TEST_DATA_DIR) + "/evtx_native/" + name;
}

}  // namespace sw::evtx_native_test
