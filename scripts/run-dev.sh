#!/usr/bin/env bash
# Serves the portal and a django-q2 cluster side by side; Ctrl-C stops both.
# SOCIALOPS_BIND chooses the address and port (default 127.0.0.1:8000).
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST_PORT="${SOCIALOPS_BIND:-127.0.0.1:8000}"
# `make run` is for people trying the portal: its own error pages, not
# Django's debug page with the URL map. DJANGO_DEBUG=1 brings that back.
export DJANGO_DEBUG="${DJANGO_DEBUG:-0}"

# Refuse at once, clearly and with a non-zero exit, when the address is taken
# or malformed, instead of printing the welcome line and stopping.
if ! $PY scripts/check_bind.py "$HOST_PORT"; then
  exit 2
fi

$PY manage.py qcluster &
QCLUSTER_PID=$!
RELOAD=--noreload
[ "$DJANGO_DEBUG" = "1" ] && RELOAD=
$PY manage.py runserver $RELOAD "$HOST_PORT" &
WEB_PID=$!

stop() {
  local code="${1:-0}"
  trap - INT TERM
  echo
  echo "Stopping the portal and the task cluster..."
  kill -TERM "$WEB_PID" "$QCLUSTER_PID" 2>/dev/null
  # django-q2 lets running tasks finish; give it a bounded grace period.
  for _ in $(seq 1 20); do
    kill -0 "$WEB_PID" 2>/dev/null || kill -0 "$QCLUSTER_PID" 2>/dev/null || break
    sleep 0.5
  done
  pkill -KILL -P "$QCLUSTER_PID" 2>/dev/null
  kill -KILL "$WEB_PID" "$QCLUSTER_PID" 2>/dev/null
  wait 2>/dev/null
  echo "Stopped."
  exit "$code"
}
trap 'stop 0' INT TERM

echo "SocialOps Portal on http://$HOST_PORT/ (Ctrl-C stops it)"
# Whichever process ends first takes the other down with it; its failure is ours.
wait -n "$WEB_PID" "$QCLUSTER_PID"
code=$?
if [ "$code" -ne 0 ]; then
  echo "The portal stopped unexpectedly (exit $code); see the messages above." >&2
  stop "$code"
fi
stop 1
