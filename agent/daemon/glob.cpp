#include "daemon/glob.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace sw::daemon {

std::vector<std::string> glob_directories(const std::vector<std::string>& globs) {
  std::vector<std::string> dirs;
  for (const std::string& glob : globs) {
    std::string dir = std::filesystem::path(glob).parent_path().string();
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(std::move(dir));
  }
  return dirs;
}

bool matches_any_glob(const std::vector<std::string>& globs, const std::string& path) {
  const std::filesystem::path p(path);
  for (const std::string& glob : globs) {
    const std::filesystem::path g(glob);
    if (g.parent_path() == p.parent_path() &&
        wildcard_match(g.filename().string(), p.filename().string())) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> list_glob(const std::string& glob) {
  const std::filesystem::path g(glob);
  const std::string pattern = g.filename().string();
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(g.parent_path(), ec)) {
    if (!wildcard_match(pattern, entry.path().filename().string())) continue;
    std::error_code type_ec;
    if (entry.is_regular_file(type_ec)) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace sw::daemon
