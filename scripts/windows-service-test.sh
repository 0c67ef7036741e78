#!/usr/bin/env bash
# End-to-end check of the Windows service under wine: installs sessionwatch.exe with the Service
# Control Manager, starts it on a followed Event XML file, appends events while it runs, stops it
# through the SCM (the service drains and writes its checkpoint) and uninstalls it. What wine
# cannot do (EvtSubscribe, the Event Log itself) is covered by the unit tests of the shim.
#
#   scripts/windows-service-test.sh EXE        (called by scripts/windows-test.sh, inside its
#                                               WINEPREFIX)
set -euo pipefail
exe=$(realpath "$1")
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/sw-service-test.XXXXXX)
winpath() { echo "Z:${1//\//\\}"; }
# Output through a file: wine's helper processes (services.exe, ...) inherit the handles, and a
# pipe they hold open would never end a $(...).
sw() {
  local rc=0
  "$wine" "$exe" "$@" >"$work/out.txt" 2>&1 || rc=$?
  tr -d '\r' <"$work/out.txt"
  return $rc
}
fail() {
  echo "  FAIL service: $*"
  echo "  --- service log"
  log=$(service_log)
  [ -n "$log" ] && tail -20 "$log" | sed 's/^/      /'
  sw service uninstall --name "$name" >/dev/null || true
  [ "${KEEP:-0}" = 1 ] && echo "  kept $work" || rm -rf "$work"
  wineserver -k 2>/dev/null || true
  exit 1
}
# wine's server exits a few seconds after its last ordinary client, taking services.exe and the
# service with it; keep it up for the test.
wineserver -k 2>/dev/null || true
wineserver -p 60

# The bundled sample, split: the first refusal before the start, the second one appended later.
python3 - "$here/agent/cli/sample/sample_events.xml" "$work" <<'PY'
import re, sys
events = re.findall(r"<Event .*?</Event>", open(sys.argv[1], encoding="utf-8").read(), re.S)
open(sys.argv[2] + "/events.xml", "w", encoding="utf-8").write("\n".join(events[:12]) + "\n")
open(sys.argv[2] + "/later.xml", "w", encoding="utf-8").write("\n".join(events[12:]) + "\n")
PY
cat >"$work/sw.yaml" <<YAML
agent:
  data_dir: Z:$work/data
inputs:
  - type: file
    paths: ["Z:$work/events.xml"]
    format: xml
outputs:
  - type: file
    path: Z:$work/alerts.jsonl
YAML
name=sw-test-$$
# %ProgramData%\sessionwatch\logs as the service sees it (wine gives services another profile).
service_log() { find "$WINEPREFIX/drive_c" -path "*sessionwatch/logs/$name.log" 2>/dev/null | head -1; }

. "$(dirname "${BASH_SOURCE[0]}")/wait-for.sh"
alerts() { [ -f "$work/alerts.jsonl" ] && grep -c '"7063"' "$work/alerts.jsonl" || echo 0; }
more_alerts_than() { [ "$(alerts)" -gt "$1" ]; }

out=$(sw service install --name "$name" --config "$(winpath "$work")/sw.yaml") ||
  fail "install: $out"
out=$(sw service start --name "$name") || fail "start: $out"
grep -q "is running" <<<"$out" || fail "start: $out"
wait_for 60 more_alerts_than 0 || fail "no 7063 alert from the followed file"
first=$(alerts)
grep -q 'alice' "$work/alerts.jsonl" || fail "the alert does not name the console holder"
cat "$work/later.xml" >>"$work/events.xml"
appended=$SECONDS
wait_for 60 more_alerts_than "$first" || fail "events appended while running raised no alert"
echo "  appended events alerted after $((SECONDS - appended))s"
out=$(sw service status --name "$name")
grep -q "running" <<<"$out" || fail "status: $out"
out=$(sw service stop --name "$name") || fail "stop: $out"
grep -q "stopped" <<<"$out" || fail "stop: $out"
log=$(service_log)
[ -n "$log" ] || fail "no log file in %ProgramData%\\sessionwatch\\logs"
grep -q "stopping (draining" "$log" || fail "the service did not drain on STOP"
# The checkpoint is after the last complete record (the newline after it is not a record).
size=$(stat -c %s "$work/events.xml")
offset=$(sed -n 's/.*"offset": \([0-9]*\).*/\1/p' "$work/data/state.json" | head -1)
[ "${offset:-0}" -ge $((size - 2)) ] || fail "checkpoint at $offset, not at the end of the input ($size)"
out=$(sw service uninstall --name "$name") || fail "uninstall: $out"
out=$(sw service status --name "$name" || true)
grep -q "not installed" <<<"$out" || fail "still installed after uninstall: $out"
wineserver -k 2>/dev/null || true
echo "  PASS service: install, start, follow ($(alerts) alerts), stop with drain and checkpoint, uninstall"
rm -rf "$work"
