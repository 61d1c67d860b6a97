# Sourced by the load scripts (serve_load.sh, mixed_load.sh), not run: starts
# `make serve` (gunicorn, DEBUG off, WhiteNoise) on 127.0.0.1:$PORT against
# PostgreSQL database $DB, for this run only, and stops it when the script
# exits. The sourcing script sets PY, PORT, DB and REDIS_URL's default first,
# from the repository's root, under `set -euo pipefail`; then calls
# `start_serve NAME` (NAME prefixes messages and cache keys). Afterwards HOST,
# RUN (a scratch folder), LOG (the server's log) and $RUN/gunicorn.pid are set.

HOST=127.0.0.1  # never anything else: load.py refuses non-loopback hosts too

start_serve() {
  NAME=$1
  export DATABASE_URL="postgres://root@127.0.0.1:5432/$DB"
  export DJANGO_DEBUG=0
  export DJANGO_ALLOWED_HOSTS=127.0.0.1
  # The workers are separate processes: they share thread skeletons through
  # Redis, as production does. Keys of this run only: every run starts from an
  # empty cache, and never meets skeletons an older checkout or database left
  # behind.
  export REDIS_URL
  export CACHE_KEY_PREFIX=$NAME-$(date +%s)-$$
  # The server lives for this run, on loopback: a key made up here signs
  # nothing that outlives it (log-ins of a benchmark's readers end with the
  # run). `make serve` alone requires one.
  export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')}

  if curl -s -o /dev/null "http://$HOST:$PORT/"; then
    echo "$NAME: something already answers on $HOST:$PORT; set LOAD_PORT" >&2
    exit 1
  fi
  if ! psql -h 127.0.0.1 -U root -d "$DB" -Atc 'select 1' >/dev/null 2>&1; then
    createdb -h 127.0.0.1 -U root "$DB"
    echo "$NAME: created database $DB"
  fi

  RUN=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
  LOG=$RUN/serve.log
  MAKE_PID=
  trap stop_serve EXIT

  echo "$NAME: make serve on $HOST:$PORT, database $DB, log $LOG"
  GUNICORN_CMD_ARGS="--pid $RUN/gunicorn.pid" \
    make --no-print-directory serve HOST=$HOST PORT="$PORT" >"$LOG" 2>&1 &
  MAKE_PID=$!

  for _ in $(seq 300); do
    if ! kill -0 "$MAKE_PID" 2>/dev/null; then
      echo "$NAME: make serve stopped; its log:" >&2
      tail -n 30 "$LOG" >&2
      exit 1
    fi
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$HOST:$PORT/") != 000 ]] && break
    sleep 1
  done
  [[ -s $RUN/gunicorn.pid ]] || { echo "$NAME: gunicorn did not answer" >&2; exit 1; }
  local workers code
  workers=$(grep -c 'Booting worker' "$LOG" || true)
  code=$(git describe --always --dirty 2>/dev/null || echo 'not a git checkout')
  echo "$NAME: gunicorn answers (pid $(cat "$RUN/gunicorn.pid"), $workers workers;" \
    "DJANGO_CONN_MAX_AGE=${DJANGO_CONN_MAX_AGE:-60}; cache $REDIS_URL, prefix $CACHE_KEY_PREFIX;" \
    "code $code)"
}

stop_serve() {
  # Only what start_serve started: the gunicorn master by its pid file (it
  # stops its workers), then the make that ran it.
  if [[ -s $RUN/gunicorn.pid ]]; then
    kill -TERM "$(cat "$RUN/gunicorn.pid")" 2>/dev/null || true
  elif [[ -n $MAKE_PID ]]; then
    kill -TERM "$MAKE_PID" 2>/dev/null || true
  fi
  [[ -n $MAKE_PID ]] && wait "$MAKE_PID" 2>/dev/null || true
}

# Planner statistics and a table without dead rows, as autovacuum keeps them in
# production. This server runs with autovacuum off: building a thread leaves
# dead row versions (mptt moves lft/rght; ~27,000 for 10,000 comments) and no
# statistics, and the big thread's first page then scans the whole thread (4x
# slower, measured).
vacuum_analyze() {
  psql -h 127.0.0.1 -U root -d "$DB" -q -c 'VACUUM (ANALYZE)'
  echo "$NAME: VACUUM (ANALYZE) done (autovacuum on this server:" \
    "$(psql -h 127.0.0.1 -U root -d "$DB" -Atc 'show autovacuum'))"
}

# PostgreSQL's postmaster, to show its CPU share too (empty when its pid file
# is not readable).
postmaster_pid() {
  head -n 1 "$(psql -h 127.0.0.1 -U root -d "$DB" -Atc 'show data_directory')/postmaster.pid" \
    2>/dev/null || true
}
