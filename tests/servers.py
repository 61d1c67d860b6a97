"""The real server for tests that need one: gunicorn in its own process, as
production runs it (DEBUG off, collected static files), on a loopback port."""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def collect_static():
    """DEBUG off serves hashed static files from the manifest collectstatic
    writes (staticfiles/, ignored by git), as production does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env={**env, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "collect-only"},
        check=True,
        timeout=120,
    )


def production_env(*, database_url, **extra):
    """The environment of a production server on plain loopback HTTP: none of
    the test run's own DJANGO_* settings, DEBUG off, a key of its own."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DATABASE_URL": database_url,
        **extra,
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def database_url(settings_dict):
    """The URL of the database Django is connected to (the test database)."""
    return (
        f"postgres://{settings_dict['USER'] or 'root'}@"
        f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/"
        f"{settings_dict['NAME']}"
    )


def start_gunicorn(port, env, *, timeout=30):
    """gunicorn serving config.wsgi on 127.0.0.1:``port``, once it accepts
    connections; its log is on the process's stdout."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi"]
        + ["--bind", f"127.0.0.1:{port}", "--timeout", str(timeout)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server


def stop(server):
    """Stop a server from start_gunicorn; returns its log."""
    server.terminate()
    return server.communicate(timeout=30)[0].decode(errors="replace")
