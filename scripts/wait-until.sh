# Sourced by .ci/run and scripts/image-check. wait_until SECONDS COMMAND...: run COMMAND until it succeeds,
# every 0.2 s, failing after SECONDS; the caller's wait_label starts the message.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "${wait_label:-wait_until:} timed out waiting for: $*" >&2; return 1; }
    sleep 0.2
  done
}
