#!/usr/bin/env bash
# sessionwatch as the "agent" variant of ../shared/bench/rsyslog_relay.sh: the same relay job
# (read a Winlogbeat JSON-lines file, keep the events carrying Win32 error 7063, forward each as
# one RFC 5424 syslog record over TCP to the collector), done by `sessionwatch run --once` with
# the built-in detections, which raise exactly one alert per 7063 event (the shipped Sigma rules
# add correlation alerts, so the collector would receive more lines than rsyslog's filter sends).
#
#   AGENT_CMD="$PWD/bench/daemon_relay_agent.sh {input} {port}" \
#     ../shared/bench/rsyslog_relay.sh 1000000
# Environment: SESSIONWATCH (the binary; default build/release/agent/cli/sessionwatch),
# SW_RELAY_DIR (scratch folder, emptied at each start; default $TMPDIR/sessionwatch-relay-bench).
set -euo pipefail
input=$(readlink -f "$1")
port=$2
here=$(cd "$(dirname "$0")/.." && pwd)
binary=${SESSIONWATCH:-$here/build/release/agent/cli/sessionwatch}
dir=${SW_RELAY_DIR:-${TMPDIR:-/tmp}/sessionwatch-relay-bench}
rm -rf "$dir"
mkdir -p "$dir"
cat >"$dir/sessionwatch.yaml" <<YAML
agent:
  data_dir: $dir/data
  log_level: warn
inputs:
  - type: file
    name: winlogbeat
    paths: ["$input"]
    format: jsonl
outputs:
  - type: syslog
    name: collector
    url: tcp://127.0.0.1:$port
    format: rfc5424
YAML
# exec: the process the relay script measures is the agent itself.
exec "$binary" run --once -c "$dir/sessionwatch.yaml"
