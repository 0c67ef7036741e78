#!/usr/bin/env bash
# The live Event Log path of sessionwatch.exe under wine, against evtsim (the simulated Event
# Log, tests/windows/evtsim): the simulator's own tests, the agent's Event Log source through it
# (idle channels, large events, load, cleared and wrapped logs, forwarded events, unreadable
# channels, messages), then `sessionwatch.exe run` over simulated Security, LocalSessionManager,
# RemoteConnectionManager, System and Application logs, fed one event at a time in time order:
# its alerts must equal those of `sessionwatch.exe scan` on the same events, with
# `event_ids: all` and with `event_ids: auto`.
#
#   scripts/windows-evtsim-test.sh BUILD    (called by scripts/windows-test.sh, inside its
#                                            WINEPREFIX)
set -euo pipefail
build=$(realpath "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
bin=$build/tests/windows/evtsim/bin
exe=$build/agent/cli/sessionwatch.exe
work=$(mktemp -d /tmp/sw-evtsim-test.XXXXXX)
failed=()
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] && echo "  kept $work" || rm -rf "$work"
}
trap cleanup EXIT
. "$here/scripts/wait-for.sh"

# 1. The simulator against Windows' documented behaviour, then the agent's source through it.
for t in evtsim_selftest evtsim_source_test; do
  t0=$(date +%s)
  log=$build/$t.wine.log
  if (cd "$bin" && WINEDLLOVERRIDES="wevtapi=n;mscoree,mshtml=" timeout 300 "$wine" "./$t.exe" \
    --gtest_brief=1 --gtest_color=no) >"$log" 2>&1; then
    echo "  PASS $t ($(( $(date +%s) - t0 ))s): $(grep -E '^\[  PASSED  \]' "$log")"
  else
    failed+=("$t")
    echo "  FAIL $t:"
    grep -E 'Failure|FAILED|error|Expected|Which is|actual' "$log" | head -30 | sed 's/^/      /'
  fi
done

# 2. `run` against the simulated logs equals `scan` of the same events.
winpath() { echo "Z:${1//\//\\}"; }
stat_of() { sed -n "s/^$1=//p" "$2/.evtsim-stats" 2>/dev/null || true; }

# The sample split into one log per channel, record ids renumbered as each log would have
# written them; the same events in time order in one file for scan; the feeding order.
python3 - "$here/agent/cli/sample/sample_events.xml" "$work" <<'PY'
import re, sys
events = re.findall(r"<Event .*?</Event>", open(sys.argv[1], encoding="utf-8").read(), re.S)
events = [" ".join(e.split("\n")) for e in events]
def when(e):
    return re.search(r"SystemTime=['\"]([^'\"]+)", e).group(1)
events.sort(key=when)
counters, merged, order = {}, [], []
for e in events:
    channel = re.search(r"<Channel>([^<]+)</Channel>", e).group(1)
    counters[channel] = counters.get(channel, 0) + 1
    e = re.sub(r"<EventRecordID>\d*</EventRecordID>",
               "<EventRecordID>%d</EventRecordID>" % counters[channel], e)
    merged.append(e)
    order.append(channel.replace("/", "%4"))
open(sys.argv[2] + "/merged.xml", "w", encoding="utf-8").write("\n".join(merged) + "\n")
open(sys.argv[2] + "/order.txt", "w").write("\n".join(order) + "\n")
open(sys.argv[2] + "/channels.txt", "w").write("\n".join(sorted(counters)) + "\n")
PY
# Alert documents without what depends on when and where they were made.
normalize() {
  python3 - "$1" <<'PY'
import json, sys
def strip(d):
    if isinstance(d, dict):
        return {k: strip(v) for k, v in d.items() if k not in ("created", "ingested")}
    if isinstance(d, list):
        return [strip(x) for x in d]
    return d
docs = []
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.strip()
    if line.startswith("{"):
        docs.append(json.dumps(strip(json.loads(line)), sort_keys=True))
print("\n".join(sorted(docs)))
PY
}

# scan, and the two agents, run side by side (wine starts each in seconds): the stage's time is
# that of the slowest, not the sum.
(
  (cd "$work" && "$wine" "$exe" scan "$(winpath "$work")\\merged.xml") >"$work/scan.out" 2>"$work/scan.err" ||
    { echo "  FAIL scan of the merged sample:"; cat "$work/scan.err"; exit 1; }
  normalize "$work/scan.out" >"$work/scan.norm.tmp" && mv "$work/scan.norm.tmp" "$work/scan.norm"
) &
scan_pid=$!

run_agent() {  # run_agent MODE: feeds the logs one event at a time, compares with scan
  local mode=$1 dir=$work/$1 i=0 channel line
  # Runs in a subshell of its own: a failure stops its agent here.
  trap '[ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null' EXIT
  mkdir -p "$dir/logs"
  while read -r channel; do : >"$dir/logs/${channel//\//%4}.xml"; done <"$work/channels.txt"
  {
    echo "agent:"
    echo "  data_dir: $(winpath "$dir")\\data"
    echo "inputs:"
    echo "  - type: eventlog"
    echo "    event_ids: $mode"
    echo "    channels:"
    sed 's/^/      - "/; s/$/"/' "$work/channels.txt"
    echo "outputs:"
    echo "  - type: file"
    echo "    path: $(winpath "$dir")\\alerts.jsonl"
  } >"$dir/sw.yaml"
  SW_WIN_BUILD_DIR=$build "$here/scripts/evtsim-run.sh" "$dir/logs" -- run -c "$(winpath "$dir")\\sw.yaml" \
    >"$dir/agent.log" 2>&1 &
  agent_pid=$!
  local channels
  channels=$(grep -c . "$work/channels.txt")
  subscribed() { [ "$(stat_of subscriptions "$dir/logs")" = "$channels" ]; }
  wait_for 60 subscribed || { echo "  FAIL run ($mode): not subscribed"; tail "$dir/agent.log"; return 1; }
  # One event at a time, each read before the next is written: the order scan sees.
  exec 3<"$work/merged.xml"
  while read -r channel && IFS= read -r line <&3; do
    i=$((i + 1))
    printf '%s\n' "$line" >>"$dir/logs/$channel.xml"
    # Read (or passed over by the query) before the next one is written.
    read_up_to() {
      [ "$(stat_of records "$dir/logs")" = "$i" ] && [ "$(stat_of unread_subscriptions "$dir/logs")" = 0 ]
    }
    wait_every 0.05 30 read_up_to || { echo "  FAIL run ($mode): event $i not read"; return 1; }
  done <"$work/order.txt"
  exec 3<&-
  scanned() { [ -f "$work/scan.norm" ]; }
  wait_for 120 scanned || { echo "  FAIL run ($mode): scan gave no result"; return 1; }
  local expected
  expected=$(grep -c . "$work/scan.norm" || true)
  alerts_in() { [ -f "$dir/alerts.jsonl" ] && [ "$(grep -c . "$dir/alerts.jsonl")" -ge "$expected" ]; }
  wait_for 60 alerts_in || true
  # Ctrl+C: wine turns SIGINT into a console control event; the agent drains and exits 0.
  kill -INT "$agent_pid"
  (sleep 60 && kill -KILL "$agent_pid" 2>/dev/null) &
  local killer=$! rc=0
  wait "$agent_pid" || rc=$?
  kill "$killer" 2>/dev/null || true
  agent_pid=
  [ "$rc" = 0 ] || { echo "  FAIL run ($mode): exit status $rc after Ctrl+C (137: did not stop)"; return 1; }
  normalize "$dir/alerts.jsonl" >"$dir/run.norm" 2>/dev/null || : >"$dir/run.norm"
  # The sample holds 7063 sequences: no alert from scan means the comparison proves nothing.
  [ "$expected" -gt 0 ] || { echo "  FAIL run ($mode): scan raised no alert"; return 1; }
  if ! diff -u "$work/scan.norm" "$dir/run.norm" >"$dir/diff.txt"; then
    echo "  FAIL run (event_ids: $mode): alerts differ from scan's:"
    head -40 "$dir/diff.txt" | sed 's/^/      /'
    grep -iE "warn|error" "$dir/agent.log" | head -10 | sed 's/^/      /'
    return 1
  fi
  echo "  PASS run over the simulated Event Log (event_ids: $mode): the $expected alerts of scan"
}
pids=()
for mode in all auto; do
  (run_agent "$mode") &
  pids+=("$!")
done
wait "$scan_pid" || failed+=("scan of the merged sample")
for i in 0 1; do
  wait "${pids[$i]}" || failed+=("run ($([ "$i" = 0 ] && echo all || echo auto))")
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "  FAILED: ${failed[*]}"
  exit 1
fi
