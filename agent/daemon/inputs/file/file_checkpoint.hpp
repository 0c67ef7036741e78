// How the `file` input keeps a followed file's position in the agent's state: one stream per
// file identity ("device:inode"), its checkpoint a JSON object the engine stores unread.
#pragma once

#include <string>
#include <string_view>

#include "daemon/inputs/file/file_follower.hpp"

namespace sw::daemon {

std::string file_stream_key(const platform::FileId& id);
std::string checkpoint_text(const FileCheckpoint& checkpoint);
// False (and `error`) when `text` is not a file checkpoint.
bool parse_checkpoint(std::string_view text, FileCheckpoint& out, std::string& error);

}  // namespace sw::daemon
