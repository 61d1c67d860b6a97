# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve load load-mixed test lint format benchmark benchmark-import clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

## run: install, migrate, load the seed, make sure an admin exists, serve on :8000
run: export DJANGO_DEBUG ?= 1
run: $(VENV)/.installed
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_seed
	$(PY) manage.py ensure_admin
	$(PY) manage.py runserver $(HOST):$(PORT)

## serve: like production: DEBUG off, static files by WhiteNoise, gunicorn with
## $$WEB_CONCURRENCY workers (gunicorn.conf.py), access log on stdout, and one
## background task worker (manage.py db_worker) for the moderators' email.
## Needs DJANGO_SECRET_KEY: a server never runs on a made-up key.
serve: export DJANGO_DEBUG = 0
# A sync worker serves one request at a time: one connection each, kept (the
# load test measured ~1 ms of server CPU a request saved, and twice the req/s).
serve: export DJANGO_CONN_MAX_AGE ?= 60
# Plain HTTP on the loopback: production's HTTPS defaults (redirect, HSTS,
# secure cookies) would lock a browser out of it. Behind a TLS proxy, leave
# them on (unset these) and set DJANGO_SECURE_PROXY_SSL_HEADER.
serve: export DJANGO_SECURE_SSL_REDIRECT ?= 0
serve: export DJANGO_SECURE_HSTS_SECONDS ?= 0
serve: export DJANGO_SECURE_COOKIES ?= 0
serve: $(VENV)/.installed
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve: set DJANGO_SECRET_KEY first," \
	  "e.g. export DJANGO_SECRET_KEY=\$$($(PY) -c 'import secrets;" \
	  "print(secrets.token_urlsafe(50))')" >&2; exit 2; }
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_seed
	$(PY) manage.py collectstatic --no-input
	@# The task worker (moderators' email) runs beside gunicorn and stops with it.
	$(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn config.wsgi --bind $(HOST):$(PORT)

## load: gunicorn on PostgreSQL (forum_serve) under 16 clients, seed article
## against the 10,000-comment one; loopback only, stops by itself
load: $(VENV)/.installed
	benchmarks/serve_load.sh

## load-mixed: gunicorn on PostgreSQL (forum_mixed), 16 logged-in readers on a
## 1,000-comment thread, 5% of requests posting; zero errors, checked in the db
load-mixed: $(VENV)/.installed
	benchmarks/mixed_load.sh

## test: ruff, migrations check, Django checks, the whole pytest suite
test: export DJANGO_SECRET_KEY ?= insecure-key-for-tests-only
test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check
	$(PY) -m pytest

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The benchmark's own environment: the site plus django-comments-xtd, its peer.
# The '*' .gitignore keeps the folder out of git (and ruff) without editing ours.
$(VENV)-bench/.installed: requirements.txt benchmarks/requirements.txt
	test -x $(VENV)-bench/bin/python || $(PYTHON) -m venv $(VENV)-bench
	echo '*' > $(VENV)-bench/.gitignore
	$(VENV)-bench/bin/python -m pip install --quiet -r benchmarks/requirements.txt
	touch $@

## benchmark: figures quoted in the README (BENCHMARK_ARGS="--sizes 10 1000")
benchmark: $(VENV)-bench/.installed
	$(VENV)-bench/bin/python benchmarks/thread_page.py $(BENCHMARK_ARGS)

## benchmark-import: a generated WordPress export of 100,000 comments through
## import_articles on PostgreSQL (forum_import_bench, dropped after), beside
## post_comment for each (BENCHMARK_IMPORT_ARGS="--comments 10000 --keep")
benchmark-import: $(VENV)/.installed
	$(PY) benchmarks/import_wxr.py $(BENCHMARK_IMPORT_ARGS)

clean:
	rm -rf $(VENV) $(VENV)-bench staticfiles artifacts .pytest_cache .ruff_cache
