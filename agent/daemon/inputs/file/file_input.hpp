#pragma once

#include "daemon/input.hpp"

namespace sw::daemon {
std::unique_ptr<Input> make_file_input(const InputConfig& config, std::size_t index);
}
