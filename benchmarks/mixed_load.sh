#!/usr/bin/env bash
# Readers who read and write, in one command, loopback only: `make serve`
# (gunicorn, DEBUG off, WhiteNoise, Redis) on a PostgreSQL database of its own,
# a 1,000-comment article (built again at every run, so each run starts from
# the same thread), then benchmarks/mixed_load.py: 16 readers, each logged in
# through the log-in form as its own account, fetch the article page, and on
# 5% of their requests post a reply or a top-level comment through the comment
# forms. Prints requests/s and p50/p95/p99 for reads and writes, and errors by
# status; checks in the database that every accepted post is stored once and
# the trees are sound; then stops gunicorn. The bar: zero errors.
#
#   benchmarks/mixed_load.sh            (or: make load-mixed)
#
# All the posts come from one address, far faster than people post: the server
# this starts has the posting limits raised, FORUM_RATE_POSTS and
# FORUM_RATE_POSTS_PER_IP=100000/60, or readers would get 429 after 5 posts a
# minute each and 20 together. Every other rule stays as configured: each
# post's text is new (FORUM_RATE_DUPLICATES refuses repeats), and the
# pre-moderation rules screen every post (a held post answers 302 too).
#
# Environment (all optional):
#   LOAD_PORT=8102         port gunicorn binds on 127.0.0.1
#   LOAD_DB=forum_mixed    database on 127.0.0.1:5432 as root; created if missing
#   LOAD_CLIENTS=16 LOAD_DURATION=20 LOAD_WARMUP=2 LOAD_WRITE_PERCENT=5
#                          (see mixed_load.py)
#   LOAD_GZIP=1            ask for gzip as browsers do; 0: not
#   WEB_CONCURRENCY        gunicorn workers (default in gunicorn.conf.py)
#   DJANGO_CONN_MAX_AGE    `make serve` defaults it to 60
#   REDIS_URL              default here redis://127.0.0.1:6379/4
#   DJANGO_SECRET_KEY      default here: a throwaway key for this run only
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
PORT=${LOAD_PORT:-8102}
DB=${LOAD_DB:-forum_mixed}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/4}
SLUG=bench-1000
export FORUM_RATE_POSTS=100000/60 FORUM_RATE_POSTS_PER_IP=100000/60

# shellcheck source=benchmarks/serving.sh
source benchmarks/serving.sh
start_serve mixed_load

$PY benchmarks/ensure_thread.py --size 1000 --slug "$SLUG" --rebuild
vacuum_analyze
db_pid=$(postmaster_pid)

status=0
$PY benchmarks/mixed_load.py --host $HOST --port "$PORT" --slug "$SLUG" \
  --server-pid "$(cat "$RUN/gunicorn.pid")" ${db_pid:+--db-pid "$db_pid"} \
  --clients "${LOAD_CLIENTS:-16}" --duration "${LOAD_DURATION:-20}" \
  --warmup "${LOAD_WARMUP:-2}" --write-percent "${LOAD_WRITE_PERCENT:-5}" \
  $([[ ${LOAD_GZIP:-1} == 1 ]] && echo --gzip) || status=$?
if [[ $status != 0 ]]; then
  echo "mixed_load: the server's log, all but 200 and 302 answers ($LOG):" >&2
  grep -v '" 200 \|" 302 ' "$LOG" | tail -n 40 >&2
fi
exit $status
