"""Production settings: secure by default, each relaxed or tuned from the
environment. Each case runs manage.py in a fresh process, as a server would
start, since settings are read once per process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "forum.example",
    "DATABASE_URL": "sqlite:////tmp/forum-settings-check.sqlite3",
}
SHOW = (
    "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
    "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SECURE_PROXY_SSL_HEADER, s.DATABASES['default'].get('OPTIONS', {}))"
)


def _manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "PYTEST"))
    }
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            *args,
            *(["--no-imports"] if "shell" in args else []),
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_only_debug_off_a_key_hosts_and_a_database():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_defaults_are_https_only():
    result = _manage("shell", "-c", SHOW, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == ["True", "31536000", "True", "True"]


def test_development_defaults_work_over_plain_http():
    result = _manage("shell", "-c", SHOW, DJANGO_DEBUG="1")

    assert result.stdout.split()[:5] == ["False", "0", "False", "False", "None"]


def test_each_https_setting_is_tuned_from_the_environment():
    result = _manage(
        "shell",
        "-c",
        SHOW,
        **PRODUCTION,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="60",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )

    assert result.stdout.split()[:4] == ["False", "60", "False", "False"]
    assert "('HTTP_X_FORWARDED_PROTO', 'https')" in result.stdout


def test_a_malformed_proxy_header_stops_the_server_with_a_message():
    result = _manage(
        "check", **PRODUCTION, DJANGO_SECURE_PROXY_SSL_HEADER="X_FORWARDED_PROTO"
    )

    assert result.returncode != 0
    assert "DJANGO_SECURE_PROXY_SSL_HEADER is a header and a value" in result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "'connect_timeout': 5, 'options': '-c statement_timeout=30000'"),
        (
            {"DJANGO_DB_CONNECT_TIMEOUT": "2", "DJANGO_DB_STATEMENT_TIMEOUT_MS": "900"},
            "'connect_timeout': 2, 'options': '-c statement_timeout=900'",
        ),
    ],
)
def test_postgresql_gets_connect_and_statement_timeouts(env, expected):
    result = _manage(
        "shell",
        "-c",
        SHOW,
        **{**PRODUCTION, "DATABASE_URL": "postgres://root@127.0.0.1:5432/test"},
        **env,
    )

    assert expected in result.stdout, result.stdout + result.stderr


def test_every_page_carries_the_content_security_and_permissions_policies(client, db):
    response = client.get("/")

    policy = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]


def test_production_logs_one_json_object_a_line_on_stdout():
    result = _manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('forum.x').warning('hello %s', 'there')",
        **PRODUCTION,
    )

    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    entry = json.loads(lines[-1])
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "forum.x"
    assert entry["message"] == "hello there"
    assert entry["time"].endswith("+00:00")
