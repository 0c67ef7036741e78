# Sourced by the wine test scripts: wait_for SECONDS COMMAND... runs the command every 0.5 s
# until it succeeds; returns 1 when SECONDS pass first.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}
