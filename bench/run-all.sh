#!/usr/bin/env bash
# Every side-by-side benchmark in one run, each job next to its peer, written to
# docs/performance.md as one table (job, sessionwatch, peer, ratio, machine).
#
#   bench/run-all.sh                   the full run (1M-line relay, 300k-line scans, 60 s idle and live)
#   SIZE=quick bench/run-all.sh        about 2 minutes (smaller inputs, 10 s idle)
#   SIZE=smoke OUT=/tmp/p.md ...       seconds; the figures mean nothing (checks the script runs)
#
# Sizes (override one at a time): RELAY_EVENTS, SCAN_EVENTS, RULE_EVENTS, IDLE_SECONDS,
# LATENCY_SECONDS, LATENCY_RATE, EVTX_DIR; REPEAT (relay rounds, medians; default 3).
# JOBS="scan idle" runs only those jobs (relay scan evtx rules idle latency).
# Environment: SESSIONWATCH (default build/release/agent/cli/sessionwatch), SW_SHARED_DIR
# (default ../shared next to the repository), OUT (default docs/performance.md), KEEP=1 keeps
# the scratch folder. Needs python3, rsyslog, jq, libevtx-utils (evtxexport), strace.
# Figures on a shared VM drift by up to +-40% between runs: compare rows of one run only. The
# live latency job pins the load generator to the first core and the tool under test to the
# others: run it on a quiet machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export SW_ROOT=$root
export SESSIONWATCH=${SESSIONWATCH:-$root/build/release/agent/cli/sessionwatch}
export SW_SHARED_DIR=${SW_SHARED_DIR:-$root/../shared}
export OUT=${OUT:-$root/docs/performance.md}
[ -x "$SESSIONWATCH" ] || { echo "no sessionwatch binary at $SESSIONWATCH (set SESSIONWATCH)" >&2; exit 1; }
[ -d "$SW_SHARED_DIR/bench" ] || { echo "no shared bench folder at $SW_SHARED_DIR (set SW_SHARED_DIR)" >&2; exit 1; }
for tool in rsyslogd jq evtxexport strace python3; do
  command -v $tool >/dev/null || { echo "$tool is missing (scripts/deps.sh test installs it)" >&2; exit 1; }
done
exec python3 "$root/bench/run_all.py"
