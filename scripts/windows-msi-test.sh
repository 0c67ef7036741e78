#!/usr/bin/env bash
# Installs the MSI under wine's Windows Installer and uninstalls it again, checking what landed
# where: sessionwatch.exe (the ZIP's) in Program Files, sessionwatch.yaml (the ZIP's), the rules
# and folders in ProgramData, the service registered (command line with CONFIG, NT SERVICE\sessionwatch,
# automatic start, EventLog dependency) and running, alerting with the installed rules, CONFIG
# remembered, the event log source, the custom actions run in the install script;
# after uninstall the service was stopped with a drain, and the program, rules, service and
# event log source are gone, the configuration kept (it is the administrator's; an edited one
# also survives a repair that reinstalls every file). Wine cannot
# show the effect of delayed start, recovery actions and ACLs (its SCM has no delayed start or
# failure flag, its icacls is a stub), nor run the default configuration (no Event Log): see
# docs/windows.md.
#
#   [SW_ZIP=ZIP] scripts/windows-msi-test.sh MSI
#       called by scripts/windows-test.sh inside a fresh WINEPREFIX; without one it boots its
#       own. With SW_ZIP, the installed sessionwatch.exe must be the ZIP's.
set -euo pipefail
msi=$(realpath "$1")
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
work=$(mktemp -d /tmp/sw-msi-test.XXXXXX)
if [ -z "${WINEPREFIX:-}" ]; then
  WINEPREFIX=$work/prefix
  export WINEPREFIX
  "$wine" wineboot --init >/dev/null 2>&1 || true
  wineserver -w # the first boot of a prefix restarts itself; let it finish
fi
winpath() { echo "Z:${1//\//\\}"; }
drive_c=$WINEPREFIX/drive_c
# Output through a file: wine's helper processes inherit the handles, and a pipe they hold open
# would never end a $(...).
run() {
  local rc=0
  "$wine" "$@" >"$work/out.txt" 2>&1 || rc=$?
  # wine's client losing its server ("wine client error:0: recvmsg: Connection reset by peer")
  # is wine failing before the command ran, not the command: it runs once more.
  if [ "$rc" != 0 ] && grep -q '^wine client error' "$work/out.txt"; then
    echo "  wine lost its server before '$1' ran; running it again" >&2
    rc=0
    "$wine" "$@" >"$work/out.txt" 2>&1 || rc=$?
  fi
  tr -d '\r' <"$work/out.txt"
  return $rc
}
finish() {
  wineserver -k 2>/dev/null || true
  wineserver -w 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] && echo "  kept $work" || rm -rf "$work"
}
trap finish EXIT
fail() {
  echo "  FAIL msi: $*"
  # What the last wine command printed (msiexec /qn prints nothing of its own on success).
  [ -s "$work/out.txt" ] && tail -5 "$work/out.txt" | tr -d '\r' | sed 's/^/      out: /'
  [ -f "$work/$phase.log" ] && grep -aE 'Return value 3|error|Error [0-9]' "$work/$phase.log" |
    head -10 | sed 's/^/      /'
  exit 1
}
# The installed service starts at once and the install waits until it runs (ServiceControl
# Wait="yes"). The default configuration reads the Event Log, which wine does not have: that
# service would stop again at once and the install, depending on when it looks, fail. So the
# install is pointed at a configuration of the administrator's (CONFIG=...) that follows an
# Event XML file with the installed rules, and the service must run and alert until the
# uninstall stops it. The default configuration still lands in ProgramData.
data="$drive_c/ProgramData/sessionwatch"
python3 - "$(cd "$(dirname "$0")/.." && pwd)/agent/cli/sample/sample_events.xml" "$work/events.xml" <<'PY'
import re, sys
events = re.findall(r"<Event .*?</Event>", open(sys.argv[1], encoding="utf-8").read(), re.S)
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(events) + "\n")
PY
cat >"$work/sw.yaml" <<YAML
agent:
  data_dir: C:/ProgramData/sessionwatch/data
inputs:
  - type: file
    paths: ["Z:$work/events.xml"]
    format: xml
rules:
  paths: [C:/ProgramData/sessionwatch/rules]
  on_error: refuse
outputs:
  - type: file
    path: C:/ProgramData/sessionwatch/alerts/alerts.ndjson
YAML
config=$(winpath "$work/sw.yaml")

# The install runs as several wine processes (msiexec, its custom-action servers, services.exe):
# one wineserver for all of them, so the SCM calls land in one services.exe.
wineserver -p 60

phase=install
t0=$(date +%s.%N)
run msiexec /i "$(winpath "$msi")" CONFIG="$config" /qn /l*v "$(winpath "$work")\\install.log" >/dev/null ||
  fail "msiexec /i exited with $?"
install_s=$(echo "$(date +%s.%N) - $t0" | bc)
grep -aq 'Action ended .*INSTALL. Return value 1' "$work/install.log" ||
  fail "the install log does not end in success"

program="$drive_c/Program Files/sessionwatch"
[ -f "$program/sessionwatch.exe" ] || fail "no Program Files\\sessionwatch\\sessionwatch.exe"
if [ -n "${SW_ZIP:-}" ]; then
  unzip -p "$SW_ZIP" '*/bin/sessionwatch.exe' >"$work/zip.exe"
  cmp -s "$program/sessionwatch.exe" "$work/zip.exe" || fail "the installed sessionwatch.exe is not the ZIP's"
fi
[ -f "$data/sessionwatch.yaml" ] || fail "no ProgramData\\sessionwatch\\sessionwatch.yaml"
[ -f "$data/sessionwatch.yaml.default" ] || fail "no ProgramData\\sessionwatch\\sessionwatch.yaml.default"
if [ -n "${SW_ZIP:-}" ]; then
  unzip -p "$SW_ZIP" '*/config/sessionwatch.yaml' | cmp -s - "$data/sessionwatch.yaml" ||
    fail "the installed sessionwatch.yaml is not the ZIP's"
fi
for d in data logs alerts rules; do [ -d "$data/$d" ] || fail "no ProgramData\\sessionwatch\\$d"; done
rules=$(find "$data/rules" -name '*.yml' | wc -l)
shipped=$(msiinfo export "$msi" File | grep -c '\.yml' || true)
[ "$rules" -gt 0 ] || fail "no rules in ProgramData\\sessionwatch\\rules"
[ "$rules" -eq "$shipped" ] || fail "$rules rules installed, the MSI has $shipped"

# The service as the SCM stores it (wine's sc has no qc; the registry is what qc reads).
service=$(run reg query 'HKLM\System\CurrentControlSet\Services\sessionwatch') ||
  fail "service not registered"
expect() { grep -qE "$1" <<<"$service" || fail "service: no $2 in"$'\n'"$service"; }
expect "ImagePath +REG_(EXPAND_)?SZ +\"?C:\\\\Program Files\\\\sessionwatch\\\\sessionwatch.exe\"? service run --config \"${config//\\/\\\\}\"" \
  "command line 'sessionwatch.exe service run --config <CONFIG>'"
expect 'Start +REG_DWORD +0x2$' "automatic start (Start = 2)"
expect 'ObjectName +REG_SZ +NT SERVICE\\sessionwatch' "its own virtual account NT SERVICE\\sessionwatch"
expect 'DependOnService +REG_MULTI_SZ +EventLog' "dependency on EventLog"
source=$(run reg query 'HKLM\System\CurrentControlSet\Services\EventLog\Application\sessionwatch') ||
  fail "no Application event log source"
grep -q 'EventMessageFile.*C:\\Program Files\\sessionwatch\\sessionwatch.exe' <<<"$source" ||
  fail "event log source: $source"
remembered=$(run reg query 'HKLM\Software\sessionwatch' /v Config) || {
  # Seen once in many runs under wine, the install log ending in success: what reg printed is
  # shown, then it looks once more; not there twice fails the test.
  echo "  msi: reg query of the remembered CONFIG failed; it printed:"
  tail -5 <<<"$remembered" | sed 's/^/      out: /'
  sleep 1
  remembered=$(run reg query 'HKLM\Software\sessionwatch' /v Config) ||
    fail "CONFIG not remembered (HKLM\Software\sessionwatch /v Config), twice"
}
grep -qF "$config" <<<"$remembered" || fail "CONFIG remembered as: $remembered"
# Without CONFIG the service reads ProgramData's (not run here: see above).
# Captured first: `grep -q` leaving a pipe early makes msiinfo die of SIGPIPE under pipefail.
actions=$(msiinfo export "$msi" CustomAction)
grep -qP '^SetDefaultConfig\t\d+\tCONFIG\t\[DATAFOLDER\]sessionwatch.yaml' <<<"$actions" ||
  fail "the default CONFIG is not [DATAFOLDER]sessionwatch.yaml"
# The wixl build's custom actions ran in the install script (the ACLs' effect needs a real
# Windows: wine's icacls is a stub).
for action in AclDataFolder AclStateFolder AclLogsFolder AclAlertsFolder CopyDefaultConfig \
  ServiceConfigure; do
  grep -aq "Action start .*: $action\\." "$work/install.log" || fail "custom action $action did not run"
done
# `service configure` (run by the MSI) gave the service install's settings; wine reports the
# preshutdown timeout (its SCM refuses delayed start and keeps no failure actions).
settings=$(run "$program/sessionwatch.exe" service status) || fail "service status: $settings"
grep -q 'preshutdown drain: 60 s' <<<"$settings" ||
  fail "service configure did not set the 60 s preshutdown drain:"$'\n'"$settings"
# The service the install started runs on the administrator's configuration and alerts.
service_state() { run sc query sessionwatch | grep -q RUNNING; }
alerts() { [ -f "$data/alerts/alerts.ndjson" ] && grep -c '"7063"' "$data/alerts/alerts.ndjson" || echo 0; }
has_alerts() { [ "$(alerts)" -gt 0 ]; }
. "$(dirname "${BASH_SOURCE[0]}")/wait-for.sh"
service_state || fail "the service is not running after the install: $(run sc query sessionwatch)"
wait_for 30 has_alerts || fail "the installed service raised no 7063 alert"
service_log() { find "$drive_c" -path '*sessionwatch/logs/sessionwatch.log' 2>/dev/null | head -1; }

# A repair that reinstalls every file (as an upgrade does) keeps an edited configuration: the
# MSI ships sessionwatch.yaml.default and copies it only when there is no sessionwatch.yaml.
phase=repair
echo "# edited by the administrator" >>"$data/sessionwatch.yaml"
# REINSTALL=ALL REINSTALLMODE=amus is what `msiexec /fa` sets; wine's msiexec /f itself fails
# (1605 for a package path, 1 for a product code) where Windows repairs.
repair() {
  run msiexec /i "$(winpath "$msi")" REINSTALL=ALL REINSTALLMODE=amus /qn \
    /l*v "$(winpath "$work")\\repair.log" >/dev/null
}
rc=0
repair || rc=$?
if [ "$rc" != 0 ]; then
  # Seen once in many runs under wine, with nothing in the log to say why: shown, then repeated
  # (a repair is idempotent); a second failure fails the test.
  echo "  msi: the repair exited with $rc; what wine printed and the log's last lines, then once more:"
  tr -d '\r' <"$work/out.txt" | tail -5 | sed 's/^/      out: /'
  [ -f "$work/repair.log" ] && tr -d '\r' <"$work/repair.log" | tail -8 | sed 's/^/      log: /'
  repair || fail "the repair (msiexec /i REINSTALL=ALL) exited with $? twice"
fi
grep -aq 'Action ended .*INSTALL. Return value 1' "$work/repair.log" ||
  fail "the repair log does not end in success"
grep -q "edited by the administrator" "$data/sessionwatch.yaml" ||
  fail "the repair overwrote the edited sessionwatch.yaml"

phase=uninstall
t0=$(date +%s.%N)
run msiexec /x "$(winpath "$msi")" /qn /l*v "$(winpath "$work")\\uninstall.log" >/dev/null ||
  fail "msiexec /x exited with $?"
uninstall_s=$(echo "$(date +%s.%N) - $t0" | bc)
grep -aq 'Action ended .*INSTALL. Return value 1' "$work/uninstall.log" ||
  fail "the uninstall log does not end in success"
grep -aq "Action start .*: ServiceStopAndExit\." "$work/uninstall.log" ||
  fail "custom action ServiceStopAndExit did not run"
[ ! -e "$program/sessionwatch.exe" ] || fail "sessionwatch.exe still installed"
[ ! -e "$program" ] || fail "Program Files\\sessionwatch still there"
[ -z "$(find "$data/rules" -name '*.yml' 2>/dev/null)" ] || fail "rules still installed"
out=$(run reg query 'HKLM\System\CurrentControlSet\Services\sessionwatch') &&
  fail "service still registered: $out"
out=$(run reg query 'HKLM\System\CurrentControlSet\Services\EventLog\Application\sessionwatch') &&
  fail "event log source still registered: $out"
[ -f "$data/sessionwatch.yaml" ] || fail "the configuration was removed (it must be kept)"
out=$(run reg query 'HKLM\Software\sessionwatch') && fail "CONFIG still remembered: $out"
log=$(service_log)
[ -n "$log" ] && grep -q "stopping (draining" "$log" || fail "the uninstall did not stop the service with a drain"

printf '  PASS msi: install %.1fs (%d rules, service auto/NT SERVICE\\sessionwatch, event log source, custom actions; the service ran: %d alerts), uninstall %.1fs (service drained and removed; program, rules, source gone; edited configuration kept through a repair and the uninstall)\n' \
  "$install_s" "$rules" "$(alerts)" "$uninstall_s"
