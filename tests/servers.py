"""The real server for tests that need one: gunicorn in its own process, as
production runs it (DEBUG off, collected static files), on a loopback port."""

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The password of accounts made with accounts() below.
PASSWORD = "a crowd of readers"


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
    connections. Its log goes to a file, not a pipe: nobody reads a pipe while
    the test runs, and a full one would stop every worker at its next line."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi"]
        + ["--bind", f"127.0.0.1:{port}", "--timeout", str(timeout)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server.log = log
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
    server.wait(timeout=30)
    server.log.seek(0)
    with server.log:
        return server.log.read().decode(errors="replace")


def accounts(count, *, prefix):
    """``count`` readers who can log in to a server: the server checks
    passwords with the production hasher, while the test process hashes with a
    fast one (tests/conftest.py), so they share one real (PBKDF2) hash."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from tests.factories import UserFactory

    users = [UserFactory(username=f"{prefix}{n:02d}") for n in range(count)]
    password = PBKDF2PasswordHasher().encode(PASSWORD, "crowdsalt")
    for user in users:
        user.password = password
        user.save(update_fields=["password"])
    return users


class Reader:
    """One browser without JavaScript: its own cookies, on any server on the
    loopback, forms posted with the CSRF token as a page would."""

    def __init__(self):
        self.cookies = {}

    def request(self, port, method, path, fields=None):
        """(status, headers, body) of one request; redirects not followed."""
        headers = {"Host": f"127.0.0.1:{port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            fields = {**fields, "csrfmiddlewaretoken": self.cookies["csrftoken"]}
            body = urllib.parse.urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{port}"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, content

    def log_in(self, port, username):
        self.request(port, "GET", "/accounts/login/")
        status, headers, _ = self.request(
            port,
            "POST",
            "/accounts/login/",
            {"username": username, "password": PASSWORD},
        )
        assert status == 302, f"log-in as {username} on :{port} answered {status}"

    def post(self, port, path, fields):
        """(status, id of the new comment or None)."""
        status, headers, _ = self.request(port, "POST", path, fields)
        found = re.search(r"\?comment=(\d+)", headers.get("Location", ""))
        return status, int(found[1]) if found else None

    def page(self, port, path):
        """The page at ``path``, following redirects on the same server."""
        for _ in range(3):
            status, headers, content = self.request(port, "GET", path)
            if status not in (301, 302):
                return status, content
            path = headers["Location"]
        raise AssertionError(f"{path}: too many redirects")
