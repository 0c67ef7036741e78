#!/usr/bin/env bash
# The main job on the bundled sample: builds the agent (Release) and runs the agent itself
# (`sessionwatch run --once`) over the sample of Windows session events embedded in the binary:
# the sample files, the configuration, the checkpoints and the alerts file it writes are kept in
# build/demo (made afresh on every run), and the alerts it delivered are printed as a table.
# Any arguments are passed to `sessionwatch` instead (e.g. scripts/demo.sh scan my.evtx).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/sessionwatch-ccache}
# Cache hits across clones in other folders (CI clones afresh each run).
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSW_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"${SW_JOBS:-2}" --target sessionwatch >&2
if [ $# -gt 0 ]; then
  exec build/release/agent/cli/sessionwatch "$@"
fi
exec build/release/agent/cli/sessionwatch demo --dir build/demo
