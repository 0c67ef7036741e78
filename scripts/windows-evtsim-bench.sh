#!/usr/bin/env bash
# Agent CPU per simulated Security events under wine: `sessionwatch.exe run` (the shipped rules)
# against evtsim with `event_ids: all` and with `event_ids: auto`; EVENTS Security events (a
# busy server's mix: 60% 5156, 20% 4688, 10% 4624, 10% 4634, ~1.3 KB each) are appended at once
# and the process's CPU time (user + system, from /proc) is taken once it has read them all and
# gone idle. The simulator runs inside the agent's process (it is its wevtapi.dll): its file
# reading and UTF-16 rendering are in the figure, as the real wevtapi's RPC unmarshalling would
# be.
#
#   scripts/windows-evtsim-bench.sh [EVENTS]        (default 200000; needs the cross build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
events=${1:-200000}
work=$(mktemp -d /tmp/sw-evtsim-bench.XXXXXX)
export WINEPREFIX=${WINEPREFIX:-$work/prefix}
trap 'rm -rf "$work"' EXIT
. "$here/scripts/wait-for.sh"
winpath() { echo "Z:${1//\//\\}"; }
stat_of() { sed -n "s/^$1=//p" "$2/.evtsim-stats" 2>/dev/null || true; }
cpu_seconds() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }

python3 - "$work/events.xml" "$events" <<'PY'
import random, sys
random.seed(7)
out = open(sys.argv[1], "w")
mix = [5156] * 6 + [4688] * 2 + [4624, 4634]
for i in range(1, int(sys.argv[2]) + 1):
    eid = random.choice(mix)
    data = "".join("<Data Name='Field%d'>%s</Data>" % (k, "value-%d-%d" % (i, k) * 3)
                   for k in range(18))
    out.write("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
              "<Provider Name='Microsoft-Windows-Security-Auditing' "
              "Guid='{54849625-5478-4994-A5BA-3E3B0328C30D}'/><EventID>%d</EventID><Version>2"
              "</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>"
              "0x8020000000000000</Keywords><TimeCreated SystemTime='2026-03-01T10:%02d:%02d."
              "%06dZ'/><EventRecordID>%d</EventRecordID><Correlation/><Execution ProcessID='4' "
              "ThreadID='100'/><Channel>Security</Channel><Computer>DC01.corp.example</Computer>"
              "<Security/></System><EventData><Data Name='TargetUserName'>user%d</Data>"
              "<Data Name='LogonType'>3</Data>%s</EventData></Event>\n"
              % (eid, (i // 60000) % 60, (i // 1000) % 60, i % 1000000, i, i % 500, data))
PY
echo "$events events, $(du -h "$work/events.xml" | cut -f1)"

for mode in all auto; do
  dir=$work/$mode
  mkdir -p "$dir/logs"
  : >"$dir/logs/Security.xml"
  cat >"$dir/sw.yaml" <<YAML
agent:
  data_dir: $(winpath "$dir")\\data
inputs:
  - type: eventlog
    event_ids: $mode
    channels: [Security]
rules:
  paths: [$(winpath "$here/rules")]
outputs:
  - type: file
    path: $(winpath "$dir")\\alerts.jsonl
YAML
  "$here/scripts/evtsim-run.sh" "$dir/logs" -- run -c "$(winpath "$dir")\\sw.yaml" \
    >"$dir/agent.log" 2>&1 &
  pid=$!
  subscribed() { [ "$(stat_of subscriptions "$dir/logs")" = 1 ]; }
  wait_every 0.2 120 subscribed || { echo "not subscribed"; tail "$dir/agent.log"; exit 1; }
  idle_cpu=$(cpu_seconds "$pid")
  start=$SECONDS
  cat "$work/events.xml" >>"$dir/logs/Security.xml"
  all_read() {
    [ "$(stat_of records "$dir/logs")" = "$events" ] &&
      [ "$(stat_of unread_subscriptions "$dir/logs")" = 0 ]
  }
  wait_every 0.2 3600 all_read || { echo "not all read"; exit 1; }
  # Then until the detection thread is done too: under 0.1 s of CPU in 2 s (the simulator's own
  # file polling is what remains).
  last=-100
  while now=$(cpu_seconds "$pid") && [ "$(echo "$now - $last > 0.1" | bc)" = 1 ]; do
    last=$now
    sleep 2
  done
  wall=$((SECONDS - start))
  cpu=$(echo "$now - $idle_cpu" | bc)
  delivered=$(stat_of events_delivered "$dir/logs")
  formatted=$(stat_of format_message_calls "$dir/logs")
  kill -INT "$pid"
  wait "$pid" || true
  printf 'event_ids: %-4s  %d events, %d delivered, %d EvtFormatMessage: %.1f s CPU (%.1f s per 1M), %d s wall\n' \
    "$mode" "$events" "$delivered" "$formatted" "$cpu" "$(echo "$cpu * 1000000 / $events" | bc -l)" "$wall"
done
