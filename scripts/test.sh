#!/usr/bin/env bash
# The whole test suite, as CI runs it: the format check (clang-format, .clang-format); native build (-Werror, GCC) + ctest; the clang ASan+UBSan
# build + ctest, which also replays each fuzz corpus, then every fuzz target briefly; the clang
# ThreadSanitizer build of the threaded modules' tests (daemon, forward, platform, pipeline,
# the decoders' prefetcher and EVTX chunks) +
# ctest; the Windows cross build whose unit tests run under wine; the Debian package installed,
# upgraded and purged in a fresh Debian root. Prints each stage's time.
#   SW_TEST_SKIP_WINDOWS=1   skip the Windows build (for quick local runs only)
#   SW_TEST_SKIP_ASAN=1      skip the ASan+UBSan build and the fuzzing (likewise)
#   SW_TEST_SKIP_TSAN=1      skip the ThreadSanitizer build (likewise)
#   SW_TEST_SKIP_PACKAGE=1   skip building and installing the Debian package (likewise)
#   SW_TEST_FUZZ_SECONDS=8   how long each fuzz target runs (0: replay the corpus only)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${SW_JOBS:-2}

groups=(test package)
[ "${SW_TEST_SKIP_WINDOWS:-0}" = 1 ] || groups+=(windows)
scripts/deps.sh "${groups[@]}"

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/sessionwatch-ccache}
# Cache hits across clones in other folders (CI clones afresh each run).
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
export CTEST_OUTPUT_ON_FAILURE=1
export SW_JOBS=$jobs
start=$(date +%s)
stage=""
stage_start=$start
times=()
# Ends the running stage (its time goes to the summary) and starts the next one.
step() {
  local now
  now=$(date +%s)
  [ -z "$stage" ] || times+=("$(printf '%6ss  %s' $((now - stage_start)) "$stage")")
  stage=$*
  stage_start=$now
  [ -z "$stage" ] || { echo; echo "=== $stage ($((now - start))s) ==="; }
}
summary() {
  local status=$? failed=$stage
  step ""
  echo
  echo "=== stage times ==="
  printf '%s\n' "${times[@]}"
  printf '%6ss  total\n' $(($(date +%s) - start))
  if [ "$status" = 0 ]; then echo "=== all test stages passed ==="; else echo "=== FAILED: $failed ==="; fi
}
trap summary EXIT

step "format check (clang-format --dry-run --Werror, every tracked C++ file)"
git ls-files -z '*.cpp' '*.hpp' '*.h' | xargs -0 clang-format --dry-run --Werror

step "native build (warnings are errors)"
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSW_WERROR=ON -DSW_BUILD_BENCH=ON >/dev/null
cmake --build build/test -j"$jobs"
step "native tests"
ctest --test-dir build/test -j"$jobs" --timeout 600

if [ "${SW_TEST_SKIP_ASAN:-0}" != 1 ]; then
  step "ASan+UBSan build (clang, with the fuzz targets)"
  scripts/sanitizer-build.sh asan
  step "ASan+UBSan tests and fuzz corpus replay"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
    ctest --test-dir build/asan -j"$jobs" --timeout 900 -LE no_sanitizer
  if [ "${SW_TEST_FUZZ_SECONDS:-8}" != 0 ]; then
    step "fuzzing, ${SW_TEST_FUZZ_SECONDS:-8}s per target (fixed seed)"
    SW_FUZZ_NO_BUILD=1 SW_FUZZ_SEED=1 scripts/fuzz.sh "${SW_TEST_FUZZ_SECONDS:-8}"
  fi
fi

if [ "${SW_TEST_SKIP_TSAN:-0}" != 1 ]; then
  step "ThreadSanitizer build (clang; threaded modules' tests)"
  scripts/sanitizer-build.sh tsan
  step "ThreadSanitizer tests"
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp" \
    ctest --test-dir build/tsan -j"$jobs" --timeout 900 -LE no_sanitizer
fi

if [ "${SW_TEST_SKIP_WINDOWS:-0}" != 1 ] && [ -x scripts/windows-test.sh ]; then
  step "Windows cross build and tests under wine"
  scripts/windows-test.sh
fi
if [ "${SW_TEST_SKIP_PACKAGE:-0}" != 1 ]; then
  step "Debian package: build, lintian, install/upgrade/remove/purge in a fresh Debian root"
  if [ "$(id -u)" = 0 ]; then
    scripts/package-test.sh
  else
    echo "skipped: scripts/package-test.sh needs root (debootstrap and chroot)"
  fi
fi
