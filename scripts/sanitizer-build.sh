#!/usr/bin/env bash
# Configures and builds one of the sanitizer builds the test command and scripts/fuzz.sh share,
# with Debian's clang:
#   scripts/sanitizer-build.sh asan [TARGET...]   build/asan: ASan+UBSan, with the libFuzzer
#                                                 targets of fuzz/ (their coverage instrumentation
#                                                 is in the libraries the unit tests use too)
#   scripts/sanitizer-build.sh tsan [TARGET...]   build/tsan: ThreadSanitizer, the tests of the
#                                                 threaded modules only (daemon, forward, platform,
#                                                 pipeline, decode_dispatch, decode_evtx_native)
# Without TARGETs everything the build holds. -O1 with line tables only: the reports name file
# and line, and the build is far cheaper than with full debug information.
#   SW_JOBS=2   parallel jobs
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: scripts/sanitizer-build.sh asan|tsan [TARGET...]}
shift
jobs=${SW_JOBS:-2}

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/sessionwatch-ccache}
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

common=(-G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug
  "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only" "-DCMAKE_C_FLAGS_DEBUG=-O1 -gline-tables-only"
  -DSW_WERROR=ON -DSW_BUILD_BENCH=OFF)
case "$kind" in
  asan) options=(-DSW_FUZZ=ON) ;;
  tsan) options=(-DSW_TSAN=ON "-DSW_TEST_DIRS=daemon;forward;platform;pipeline;decode_dispatch;decode_evtx_native") ;;
  *) echo "sanitizer-build.sh: unknown build '$kind' (asan | tsan)" >&2; exit 2 ;;
esac
build=build/$kind
mkdir -p build
# A build folder configured with another compiler (build/asan was GCC's before) starts afresh.
if [ -f "$build/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++$' "$build/CMakeCache.txt"; then
  rm -rf "$build"
fi
cmake -S . -B "$build" "${common[@]}" "${options[@]}" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
if [ $# -gt 0 ]; then
  cmake --build "$build" -j"$jobs" --target "$@"
else
  cmake --build "$build" -j"$jobs"
fi
