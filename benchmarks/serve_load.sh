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
PORT=${LOAD_PORT:-8101}
DB=${LOAD_DB:-forum_serve}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/3}
SEED_PATH=/articles/kazakhstan-joins-abraham-accords/
BIG_SLUG=bench-10000
BIG_PATH=/articles/$BIG_SLUG/

# shellcheck source=benchmarks/serving.sh
source benchmarks/serving.sh
start_serve serve_load

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
vacuum_analyze
curl -s -o /dev/null -w "serve_load: $BIG_PATH once: %{http_code}, %{size_download} bytes, %{time_total} s\n" \
  "http://$HOST:$PORT$BIG_PATH"

db_pid=$(postmaster_pid)

status=0
$PY benchmarks/load.py --host $HOST --port "$PORT" --server-pid "$(cat "$RUN/gunicorn.pid")" \
  ${db_pid:+--db-pid "$db_pid"} \
  --clients "${LOAD_CLIENTS:-16}" --duration "${LOAD_DURATION:-20}" \
  --warmup "${LOAD_WARMUP:-2}" --rounds "${LOAD_ROUNDS:-4}" \
  $([[ ${LOAD_GZIP:-1} == 1 ]] && echo --gzip) "$SEED_PATH" "$BIG_PATH" || status=$?
echo "serve_load: target: $BIG_PATH at >= 0.5 of $SEED_PATH's req/s (÷ first column)"
exit $status
