"""Gunicorn settings for `make serve` and production; gunicorn reads this file
from the working directory by itself. Command-line options and
GUNICORN_CMD_ARGS override it (`make serve` passes --bind)."""

import os

# Loopback unless told otherwise. Written out because gunicorn's own default
# turns into 0.0.0.0:$PORT whenever a PORT variable is in the environment.
bind = ["127.0.0.1:8000"]

# Sync workers, one per core plus one: a page here is CPU work (templates,
# psycopg2) with short waits on a local PostgreSQL and Redis, so the extra
# worker covers those waits; gunicorn's 2 x cores + 1 is for apps that wait
# longer, and on 2 cores it measured no faster (benchmarks/serve_load.sh) while
# taking more memory. WEB_CONCURRENCY, the variable gunicorn and most platforms
# use, overrides it: raise it when the database is on another machine.
workers = int(os.environ.get("WEB_CONCURRENCY") or (os.cpu_count() or 1) + 1)

# Sync workers close the connection after each response: keep-alive and slow
# clients are for the proxy in front (nginx), which buffers them.

# Access log and errors to the terminal (stdout / stderr), for the process
# manager to collect.
accesslog = "-"
errorlog = "-"
