#!/usr/bin/env bash
# Runs sessionwatch.exe under wine against evtsim, the simulated Windows Event Log (a replacement
# wevtapi.dll built for tests only, tests/windows/evtsim/wevtapi_sim.cpp):
#
#   scripts/evtsim-run.sh DIR -- ARGS...
#
# runs `sessionwatch.exe ARGS...` with the Event Log serving the channels in DIR: DIR/<channel>.xml
# (the channel name with `/` written as `%4`, as Windows names its .evtx files) holds Event XML,
# one event per line; lines appended while it runs are new events (the subscription's signal
# fires); a file rewritten with fewer lines is a cleared log; a file with mode 000 is access
# denied; DIR/<channel>.behave (optional, `key=value` lines such as rpc_batch_bytes=65536,
# idle_error=4317, invalid_parameter_at=ID, first_record_id=N, max_records=N) tunes Windows'
# quirks; DIR/<publisher>.messages (`LCID EVENTID TEXT` lines) holds message tables. The
# simulator writes its counters to DIR/.evtsim-stats. The process is exec'd: its pid is this
# script's, and SIGINT reaches it as Ctrl+C.
#
# Environment: SW_WIN_BUILD_DIR (default build/win) or SW_EXE and EVTSIM_DLL for the files,
# WINEPREFIX as usual, EVTSIM_POLL_MS (default 20) how often the simulator looks at the files.
set -euo pipefail
if [ $# -lt 2 ] || [ "$2" != "--" ]; then
  echo "usage: $0 DIR -- ARGS..." >&2
  exit 2
fi
dir=$(realpath "$1")
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SW_WIN_BUILD_DIR:-$root/build/win}
exe=${SW_EXE:-$build/agent/cli/sessionwatch.exe}
dll=${EVTSIM_DLL:-$build/tests/windows/evtsim/bin/wevtapi.dll}
for f in "$exe" "$dll"; do
  [ -f "$f" ] || { echo "evtsim-run: $f missing (cross build: scripts/windows-test.sh)" >&2; exit 2; }
done
[ -d "$dir" ] || { echo "evtsim-run: $dir is not a folder" >&2; exit 2; }
# wine loads a DLL marked native from the executable's folder: the program (a link) and the
# simulator side by side, in a folder of DIR's own.
bin=$dir/.evtsim-bin
mkdir -p "$bin"
ln -sf "$(realpath "$exe")" "$bin/sessionwatch.exe"
cp -f "$dll" "$bin/wevtapi.dll"
export WINEDLLOVERRIDES="wevtapi=n;mscoree,mshtml="
export WINEDEBUG=${WINEDEBUG:--all}
export EVTSIM_DIR="Z:${dir//\//\\}"
exec "$(command -v wine64 || echo /usr/lib/wine/wine64)" "$bin/sessionwatch.exe" "$@"
