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

std::string why_glob_matches_nothing(const std::string& glob) {
  if (!list_glob(glob).empty()) return {};
  const std::filesystem::path folder = std::filesystem::path(glob).parent_path();
  std::error_code ec;
  if (!std::filesystem::exists(folder, ec)) {
    return "the folder " + folder.string() + " does not exist";
  }
  if (!std::filesystem::is_directory(folder, ec)) return folder.string() + " is not a folder";
  std::filesystem::directory_iterator probe(folder, ec);
  if (ec) return "the folder " + folder.string() + " cannot be read: " + ec.message();
  return "no file in " + folder.string() + " matches " +
         std::filesystem::path(glob).filename().string();
}

}  // namespace sw::daemon
