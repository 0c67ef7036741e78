#!/usr/bin/env bash
# Installs the MSI under wine's Windows Installer and uninstalls it again, checking what landed
# where: sessionwatch.exe in Program Files, the configuration and the rules in ProgramData, the
# service registered (command line, LocalService, automatic start, EventLog dependency), the
# event log source, the custom actions of the wixl build run in the install script; after
# uninstall the program, rules, service and event log source are gone and the configuration is
# kept (it is the administrator's). Wine cannot show the effect of delayed start, recovery
# actions and ACLs (its SCM has no delayed start or failure flag, its icacls is a stub), nor run
# the default configuration (no Event Log): see docs/windows.md.
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
  [ -f "$work/$phase.log" ] && grep -aE 'Return value 3|error|Error [0-9]' "$work/$phase.log" |
    head -10 | sed 's/^/      /'
  exit 1
}
# The install runs as several wine processes (msiexec, its custom-action servers, services.exe):
# one wineserver for all of them, so the SCM calls land in one services.exe.
wineserver -p 60

phase=install
t0=$(date +%s.%N)
run msiexec /i "$(winpath "$msi")" /qn /l*v "$(winpath "$work")\\install.log" >/dev/null ||
  fail "msiexec /i exited with $?"
install_s=$(echo "$(date +%s.%N) - $t0" | bc)
grep -aq 'Action ended .*INSTALL. Return value 1' "$work/install.log" ||
  fail "the install log does not end in success"

program="$drive_c/Program Files/sessionwatch"
data="$drive_c/ProgramData/sessionwatch"
[ -f "$program/sessionwatch.exe" ] || fail "no Program Files\\sessionwatch\\sessionwatch.exe"
if [ -n "${SW_ZIP:-}" ]; then
  unzip -p "$SW_ZIP" '*/bin/sessionwatch.exe' >"$work/zip.exe"
  cmp -s "$program/sessionwatch.exe" "$work/zip.exe" || fail "the installed sessionwatch.exe is not the ZIP's"
fi
[ -f "$data/sessionwatch.yaml" ] || fail "no ProgramData\\sessionwatch\\sessionwatch.yaml"
for d in data logs alerts rules; do [ -d "$data/$d" ] || fail "no ProgramData\\sessionwatch\\$d"; done
rules=$(find "$data/rules" -name '*.yml' | wc -l)
shipped=$(msiinfo export "$msi" File | grep -c '\.yml' || true)
[ "$rules" -gt 0 ] || fail "no rules in ProgramData\\sessionwatch\\rules"
[ "$rules" -eq "$shipped" ] || fail "$rules rules installed, the MSI has $shipped"

# The service as the SCM stores it (wine's sc has no qc; the registry is what qc reads).
service=$(run reg query 'HKLM\System\CurrentControlSet\Services\sessionwatch') ||
  fail "service not registered"
expect() { grep -qE "$1" <<<"$service" || fail "service: no $2 in"$'\n'"$service"; }
expect 'ImagePath +REG_(EXPAND_)?SZ +"?C:\\Program Files\\sessionwatch\\sessionwatch.exe"? service run --config "C:\\ProgramData\\sessionwatch\\sessionwatch.yaml"' \
  "command line 'sessionwatch.exe service run --config <ProgramData>'"
expect 'Start +REG_DWORD +0x2$' "automatic start (Start = 2)"
expect 'ObjectName +REG_SZ +NT AUTHORITY\\LocalService' "LocalService account"
expect 'DependOnService +REG_MULTI_SZ +EventLog' "dependency on EventLog"
source=$(run reg query 'HKLM\System\CurrentControlSet\Services\EventLog\Application\sessionwatch') ||
  fail "no Application event log source"
grep -q 'EventMessageFile.*C:\\Program Files\\sessionwatch\\sessionwatch.exe' <<<"$source" ||
  fail "event log source: $source"
# The wixl build's custom actions ran in the install script (their effect needs a real Windows).
for action in AclDataFolder AclStateFolder AclLogsFolder AclAlertsFolder ServiceDelayedStart \
  ServiceRecovery ServiceRecoveryOnErrorExit; do
  grep -aq "Action start .*: $action\\." "$work/install.log" || fail "custom action $action did not run"
done
# The service was started by the install and read the installed configuration (its data_dir is
# in ProgramData); under wine it then stops, there is no Event Log to subscribe to.
started=no
[ -d "$data/data/spool" ] && started="yes (read the installed configuration, then stopped: wine has no Event Log)"

phase=uninstall
t0=$(date +%s.%N)
run msiexec /x "$(winpath "$msi")" /qn /l*v "$(winpath "$work")\\uninstall.log" >/dev/null ||
  fail "msiexec /x exited with $?"
uninstall_s=$(echo "$(date +%s.%N) - $t0" | bc)
grep -aq 'Action ended .*INSTALL. Return value 1' "$work/uninstall.log" ||
  fail "the uninstall log does not end in success"
[ ! -e "$program/sessionwatch.exe" ] || fail "sessionwatch.exe still installed"
[ ! -e "$program" ] || fail "Program Files\\sessionwatch still there"
[ -z "$(find "$data/rules" -name '*.yml' 2>/dev/null)" ] || fail "rules still installed"
out=$(run reg query 'HKLM\System\CurrentControlSet\Services\sessionwatch') &&
  fail "service still registered: $out"
out=$(run reg query 'HKLM\System\CurrentControlSet\Services\EventLog\Application\sessionwatch') &&
  fail "event log source still registered: $out"
[ -f "$data/sessionwatch.yaml" ] || fail "the configuration was removed (it must be kept)"

printf '  PASS msi: install %.1fs (%d rules, service auto/LocalService, event log source; started: %s), uninstall %.1fs (program, rules, service, source gone; configuration kept)\n' \
  "$install_s" "$rules" "$started" "$uninstall_s"
