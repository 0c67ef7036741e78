# Sourced by the wine test scripts: wait_for SECONDS COMMAND... runs the command every 0.5 s
# until it succeeds; returns 1 when SECONDS pass first.
wait_for() { wait_every 0.5 "$@"; }
# wait_every INTERVAL SECONDS COMMAND...: the same, checking every INTERVAL seconds.
wait_every() {
  local interval=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep "$interval"
  done
}
