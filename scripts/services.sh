#!/usr/bin/env bash
# Make sure the PostgreSQL server the store tests use is running (127.0.0.1:5432).
# On the development and CI machines it is started before the session; this starts it
# again if it stopped. Elsewhere, point DDQ_TEST_POSTGRES_URL at any PostgreSQL you have.
set -uo pipefail

if [ -n "${DDQ_TEST_POSTGRES_URL:-}" ] && [ "${DDQ_TEST_POSTGRES_URL}" != "postgresql://postgres@127.0.0.1:5432/test" ]; then
  exit 0
fi
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
    sleep 1
  done
fi
echo "error: no PostgreSQL at 127.0.0.1:5432; start one or set DDQ_TEST_POSTGRES_URL" >&2
exit 1
