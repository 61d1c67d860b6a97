#!/usr/bin/env bash
# The serving proof in one command, loopback only: `make serve` (gunicorn, DEBUG
# off, WhiteNoise) on a dedicated PostgreSQL database, a 10,000-comment article
# built once through forum.services, then benchmarks/load.py with 16 clients
# against the seed article and the big one. Prints the table and the ratio,
# then stops gunicorn. Target: the big thread's first page at >= 0.5x the
# seed article's requests/s.
#
#   benchmarks/serve_load.sh            (or: make load)
#
# Environment (all optional):
#   LOAD_PORT=8101         port gunicorn binds on 127.0.0.1
#   LOAD_DB=forum_serve    database on 127.0.0.1:5432 as root; created if missing
#   LOAD_CLIENTS=16 LOAD_DURATION=20 LOAD_WARMUP=2 LOAD_ROUNDS=4 (see load.py)
#   LOAD_GZIP=1            ask for gzip as browsers do (GZipMiddleware); 0: not
#   WEB_CONCURRENCY        gunicorn workers (default in gunicorn.conf.py)
#   DJANGO_CONN_MAX_AGE    `make serve` defaults it to 60
#   REDIS_URL              default here redis://127.0.0.1:6379/3
#   DJANGO_SECRET_KEY      default here: a throwaway key for this run only
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
HOST=127.0.0.1  # never anything else: load.py refuses non-loopback hosts too
PORT=${LOAD_PORT:-8101}
DB=${LOAD_DB:-forum_serve}
SEED_PATH=/articles/kazakhstan-joins-abraham-accords/
BIG_SLUG=bench-10000
BIG_PATH=/articles/$BIG_SLUG/

export DATABASE_URL="postgres://root@127.0.0.1:5432/$DB"
export DJANGO_DEBUG=0
export DJANGO_ALLOWED_HOSTS=127.0.0.1
# The workers are separate processes: they share thread skeletons through Redis,
# as production does. Keys of this run only: every run starts from an empty
# cache, and never meets skeletons an older checkout or database left behind.
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/3}
export CACHE_KEY_PREFIX=serve_load-$(date +%s)-$$
# The server lives for this run, on loopback, and nobody logs in: a key made
# up here signs nothing that outlives it. `make serve` alone requires one.
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')}

if curl -s -o /dev/null "http://$HOST:$PORT/"; then
  echo "serve_load: something already answers on $HOST:$PORT; set LOAD_PORT" >&2
  exit 1
fi
if ! psql -h 127.0.0.1 -U root -d "$DB" -Atc 'select 1' >/dev/null 2>&1; then
  createdb -h 127.0.0.1 -U root "$DB"
  echo "serve_load: created database $DB"
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/serve_load.XXXXXX")
LOG=$RUN/serve.log
MAKE_PID=
stop() {
  # Only what this script started: the gunicorn master by its pid file (it
  # stops its workers), then the make that ran it.
  if [[ -s $RUN/gunicorn.pid ]]; then
    kill -TERM "$(cat "$RUN/gunicorn.pid")" 2>/dev/null || true
  elif [[ -n $MAKE_PID ]]; then
    kill -TERM "$MAKE_PID" 2>/dev/null || true
  fi
  [[ -n $MAKE_PID ]] && wait "$MAKE_PID" 2>/dev/null || true
}
trap stop EXIT

echo "serve_load: make serve on $HOST:$PORT, database $DB, log $LOG"
GUNICORN_CMD_ARGS="--pid $RUN/gunicorn.pid" \
  make --no-print-directory serve HOST=$HOST PORT="$PORT" >"$LOG" 2>&1 &
MAKE_PID=$!

for _ in $(seq 300); do
  if ! kill -0 "$MAKE_PID" 2>/dev/null; then
    echo "serve_load: make serve stopped; its log:" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$HOST:$PORT/") != 000 ]] && break
  sleep 1
done
[[ -s $RUN/gunicorn.pid ]] || { echo "serve_load: gunicorn did not answer" >&2; exit 1; }
workers=$(grep -c 'Booting worker' "$LOG" || true)
code=$(git describe --always --dirty 2>/dev/null || echo 'not a git checkout')
echo "serve_load: gunicorn answers (pid $(cat "$RUN/gunicorn.pid"), $workers workers;" \
  "DJANGO_CONN_MAX_AGE=${DJANGO_CONN_MAX_AGE:-60}; cache $REDIS_URL, prefix $CACHE_KEY_PREFIX;" \
  "code $code)"

# Static files: the page links hashed names, WhiteNoise serves them for a year.
page=$(curl -s -w '\n%{http_code}' "http://$HOST:$PORT$SEED_PATH")
if [[ ${page##*$'\n'} != 200 ]]; then
  echo "serve_load: $SEED_PATH answered ${page##*$'\n'}; the server log says:" >&2
  grep -v '" 200 ' "$LOG" | tail -n 30 >&2
  exit 1
fi
assets=$(grep -o '/static/[^"]*' <<<"$page" | sort -u || true)
[[ -n $assets ]] || { echo "serve_load: the page links no /static/ files" >&2; exit 1; }
for asset in $assets /static/css/forum.css; do
  read -r code cache < <(curl -s -o /dev/null -D - "http://$HOST:$PORT$asset" |
    tr -d '\r' | awk 'NR==1{c=$2} tolower($1)=="cache-control:"{$1=""; cc=$0} END{print c, cc}')
  echo "serve_load: $asset -> $code, Cache-Control: ${cache:-none}"
  [[ $code == 200 ]] || { echo "serve_load: static file not served" >&2; exit 1; }
done

$PY benchmarks/ensure_thread.py --size 10000 --slug "$BIG_SLUG"
# Planner statistics and a table without dead rows, as autovacuum keeps them in
# production. This server runs with autovacuum off: building the thread leaves
# ~27,000 dead row versions (mptt moves lft/rght) and no statistics, and the
# first page then scans the whole thread (4x slower, measured).
psql -h 127.0.0.1 -U root -d "$DB" -q -c 'VACUUM (ANALYZE)'
echo "serve_load: VACUUM (ANALYZE) done (autovacuum on this server: $(psql -h 127.0.0.1 -U root -d "$DB" -Atc 'show autovacuum'))"
curl -s -o /dev/null -w "serve_load: $BIG_PATH once: %{http_code}, %{size_download} bytes, %{time_total} s\n" \
  "http://$HOST:$PORT$BIG_PATH"

# PostgreSQL's postmaster, to show its CPU share too (when its pid file is readable).
db_pid=$(head -n 1 "$(psql -h 127.0.0.1 -U root -d "$DB" -Atc 'show data_directory')/postmaster.pid" \
  2>/dev/null || true)

status=0
$PY benchmarks/load.py --host $HOST --port "$PORT" --server-pid "$(cat "$RUN/gunicorn.pid")" \
  ${db_pid:+--db-pid "$db_pid"} \
  --clients "${LOAD_CLIENTS:-16}" --duration "${LOAD_DURATION:-20}" \
  --warmup "${LOAD_WARMUP:-2}" --rounds "${LOAD_ROUNDS:-4}" \
  $([[ ${LOAD_GZIP:-1} == 1 ]] && echo --gzip) "$SEED_PATH" "$BIG_PATH" || status=$?
echo "serve_load: target: $BIG_PATH at >= 0.5 of $SEED_PATH's req/s (÷ first column)"
exit $status
