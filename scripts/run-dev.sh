#!/usr/bin/env bash
# Serves the portal and a django-q2 cluster side by side; Ctrl-C stops both.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST_PORT="${SOCIALOPS_BIND:-127.0.0.1:8000}"

$PY manage.py qcluster &
QCLUSTER_PID=$!
$PY manage.py runserver "$HOST_PORT" &
WEB_PID=$!

stop() {
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
  exit 0
}
trap stop INT TERM

echo "SocialOps Portal on http://$HOST_PORT/ (Ctrl-C stops it)"
# Whichever process ends first takes the other down with it.
wait -n "$WEB_PID" "$QCLUSTER_PID"
stop
