#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1; start them when installed but stopped.
set -eu
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  echo "PostgreSQL is not answering; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
  for _ in $(seq 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "error: PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }

if ! redis_up; then
  echo "Redis is not answering; starting it"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis_up && break; sleep 0.5; done
fi
redis_up || { echo "error: Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }

# The role the tests connect as (trust auth); pytest-django creates its own test database.
PGUSER_NAME=${PGUSER_NAME:-postgres}
psql -h 127.0.0.1 -U "$PGUSER_NAME" -d postgres -tAc "SELECT 1" >/dev/null
psql -h 127.0.0.1 -U "$PGUSER_NAME" -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='switchyard'" | grep -q 1 \
  || psql -h 127.0.0.1 -U "$PGUSER_NAME" -d postgres -qc "CREATE DATABASE switchyard"
echo "PostgreSQL and Redis are up"
