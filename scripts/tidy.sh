#!/usr/bin/env bash
# clang-tidy with the project's .clang-tidy over every agent source file (or the files given),
# using the native build's compile_commands.json: exit status 1 on any finding.
#   scripts/tidy.sh [FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SW_TIDY_BUILD:-build/tidy}
if [ ! -f "$build/compile_commands.json" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
# Generated headers (the embedded error catalog, library versions) must exist.
cmake --build "$build" -j"${SW_JOBS:-2}" --target sw_errors >/dev/null
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'agent/*.cpp' | grep -v '/windows/')
fi
printf '%s\0' "${files[@]}" |
  xargs -0 -P "${SW_JOBS:-2}" -n 8 clang-tidy -p "$build" --quiet 2>/dev/null
