// The globs of the file and evtx inputs: an absolute folder and a file-name pattern with '*' and
// '?' (portable: the daemon core also compiles for Windows, which has no fnmatch). One place, so
// `sessionwatch check` counts exactly the files the inputs will follow.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sessionwatch/wildcard.hpp"

namespace sw::daemon {

// The folder of each glob, each once, in the order first seen.
std::vector<std::string> glob_directories(const std::vector<std::string>& globs);

// True when `path` is in a glob's folder and its file name matches that glob's pattern.
bool matches_any_glob(const std::vector<std::string>& globs, const std::string& path);

// The regular files a glob matches now, sorted by path (nothing when its folder is unreadable).
std::vector<std::string> list_glob(const std::string& glob);

// Why `glob` matches no file now ("the folder /x does not exist", ...); empty when it matches
// one. For `check` and the start of `run`, which warn about inputs that would read nothing.
std::string why_glob_matches_nothing(const std::string& glob);

}  // namespace sw::daemon
