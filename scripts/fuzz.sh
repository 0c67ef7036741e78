#!/usr/bin/env bash
# Runs every libFuzzer target of fuzz/ for SECONDS each (default 60) on the clang ASan+UBSan
# build (build/asan, built when needed) and exits non-zero on any finding: a crash, a sanitizer
# report, a violated property, a leak, a timeout (-timeout) or running out of memory
# (-rss_limit_mb, -malloc_limit_mb).
#   scripts/fuzz.sh [SECONDS]
#   SW_FUZZ_TARGETS="evtx xml"  only these targets (default: every fuzz/corpus/<target>)
#   SW_FUZZ_SEED=N              a fixed seed, for runs that are the same every time (default:
#                               random); the test command uses 1
#   SW_FUZZ_NO_BUILD=1          use build/asan as it is
#   SW_JOBS=2                   targets run side by side
# The committed corpus (fuzz/corpus/<target>) is only read; what a run adds goes to
# build/fuzz/corpus/<target>, findings to build/fuzz/findings/<target>/ (reproduce one with
# build/asan/fuzz/fuzz_<target> FILE; a fixed finding goes into fuzz/corpus/<target>). The
# executions of each run are in build/fuzz/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=${SW_JOBS:-2}
build=build/asan
out=build/fuzz

if [ -n "${SW_FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$SW_FUZZ_TARGETS"
else
  mapfile -t targets < <(ls fuzz/corpus)
fi
if [ "${SW_FUZZ_NO_BUILD:-0}" != 1 ]; then
  scripts/deps.sh build fuzz
  scripts/sanitizer-build.sh asan "${targets[@]/#/fuzz_}"
fi

# Inputs longer than this are not tried: an EVTX chunk is 64 KiB, everything else is found with
# far less.
max_len_of() {
  case "$1" in
    evtx | roundtrip) echo 70000 ;;
    *) echo 16384 ;;
  esac
}

run_target() {
  local t=$1 log=$out/logs/$1.log
  mkdir -p "$out/corpus/$t" "$out/findings/$t"
  local seed=()
  [ -n "${SW_FUZZ_SEED:-}" ] && seed=(-seed="$SW_FUZZ_SEED")
  # The leak check runs at exit and on every input that looks like it leaked.
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/fuzz_$t" "${seed[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -max_len="$(max_len_of "$t")" -print_final_stats=1 \
    -artifact_prefix="$out/findings/$t/" "$out/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    echo ok >"$out/status/$t"
  else
    echo FINDING >"$out/status/$t"
  fi
}

rm -rf "$out/status" "$out/logs"
mkdir -p "$out/status" "$out/logs"
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  echo "fuzz: $t for ${seconds}s"
  run_target "$t" &
done
wait

failed=0
{
  printf '%-12s %12s %8s %s\n' target executions corpus result
  for t in "${targets[@]}"; do
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$t.log" | tail -1)
    units=$(ls "$out/corpus/$t" | wc -l)
    printf '%-12s %12s %8s %s\n' "$t" "${execs:-?}" "$units" "$(cat "$out/status/$t")"
  done
} | tee "$out/summary.txt"
for t in "${targets[@]}"; do
  if [ "$(cat "$out/status/$t")" != ok ]; then
    failed=1
    echo
    echo "=== fuzz_$t: finding (log $out/logs/$t.log, input in $out/findings/$t/) ==="
    grep -E -A40 '^==[0-9]+==ERROR|^PROPERTY VIOLATED|runtime error|ALARM|out-of-memory|leak' \
      "$out/logs/$t.log" | head -60
  fi
done
exit $failed
