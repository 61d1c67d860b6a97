"""The one settings module: every value that differs between machines comes from
the environment (see .env.example)."""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


DEBUG = env_bool("DJANGO_DEBUG")
# pytest and `manage.py test` may run without a configured key; a server may not.
TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it, or set DJANGO_DEBUG=1 for local "
            "development."
        )
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "mptt",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "axes",
    "articles",
    "forum",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "config.middleware.CharsetMiddleware",
    # Pages compress about 6:1. GZipMiddleware masks the length of compressed
    # responses (Django's BREACH mitigation) and skips what WhiteNoise serves.
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "forum.middleware.WarningsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "forum.context_processors.moderation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
        # A kept connection is checked before reuse, so a database restart
        # costs no request an error.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that accepts connections and never answers, or a query that
    # runs away, costs a request a few seconds and a 503 page, not a worker.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        connect_timeout=int(os.environ.get("DJANGO_DB_CONNECT_TIMEOUT", "5")),
        options="-c statement_timeout="
        + os.environ.get("DJANGO_DB_STATEMENT_TIMEOUT_MS", "30000"),
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock when a transaction starts, so two tree
    # writes can never interleave (forum/services/ relies on it); WAL lets
    # readers carry on meanwhile.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# Thread skeletons (forum/thread.py) live here. Local memory suits one process;
# several app processes share Redis, so a change seen by one is seen by all.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "forum"),
            # Redis away costs a request half a second, not a hang: pages are
            # then built from the database (forum/caching.py).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The manifest needs `collectstatic`, which production runs and a
        # development or test run does not.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Without collectstatic (development, tests) WhiteNoise serves from the finders.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG or TESTING

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HTTPS: secure by default in production, so `check --deploy` passes with no
# other setting; off with DJANGO_DEBUG=1 (and under tests), so `make run`
# works over plain HTTP. Each one can be tuned from the environment.
_PRODUCTION = not (DEBUG or TESTING)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=_PRODUCTION)
SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000" if _PRODUCTION else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_PRODUCTION
)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=_PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=_PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a TLS proxy: the header that says the request came over HTTPS, e.g.
# HTTP_X_FORWARDED_PROTO,https (only if the proxy always sets or strips it).
SECURE_PROXY_SSL_HEADER = tuple(env_list("DJANGO_SECURE_PROXY_SSL_HEADER", "")) or None
if SECURE_PROXY_SSL_HEADER is not None and len(SECURE_PROXY_SSL_HEADER) != 2:
    raise ImproperlyConfigured(
        "DJANGO_SECURE_PROXY_SSL_HEADER is a header and a value, e.g. "
        "HTTP_X_FORWARDED_PROTO,https"
    )

# Content-Security-Policy (django-csp): only this site's own scripts, styles,
# images and forms; no plugins, no framing. Pages carry no inline script or
# style (the thread's data rides in a JSON script block, which does not run).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (django-permissions-policy): no powerful features.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "browsing-topics",
    )
}

# Log-in throttling (django-axes): after AXES_FAILURE_LIMIT failures for one
# account, or from one address, further attempts are refused for the
# cool-off, before any password hash is computed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("FORUM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(
    minutes=int(os.environ.get("FORUM_LOGIN_COOLOFF_MINUTES", "15"))
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The address as the rate limits count it: an IPv6 one by its /64.
AXES_CLIENT_IP_CALLABLE = "forum.limits.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# The forum's own settings.
FORUM_COMMENT_MAX_LENGTH = int(os.environ.get("FORUM_COMMENT_MAX_LENGTH", "10000"))
FORUM_EDIT_WINDOW_MINUTES = int(os.environ.get("FORUM_EDIT_WINDOW_MINUTES", "15"))
# When on, comments by readers without forum.moderate_comment wait for approval.
FORUM_PREMODERATION = env_bool("FORUM_PREMODERATION")

# More pre-moderation rules (forum/screening.py). A new account's first N
# comments wait for approval (0: off)...
FORUM_PREMODERATE_FIRST_COMMENTS = int(
    os.environ.get("FORUM_PREMODERATE_FIRST_COMMENTS", "0")
)
# ...and so does a comment with more than this many links (empty: no limit).
FORUM_PREMODERATE_LINKS_OVER = (
    int(os.environ.get("FORUM_PREMODERATE_LINKS_OVER", "3"))
    if os.environ.get("FORUM_PREMODERATE_LINKS_OVER", "3") != ""
    else None
)
# Moderators are emailed when something enters the queue, at most once in
# this many minutes (forum/notify.py).
FORUM_QUEUE_EMAIL_MINUTES = int(os.environ.get("FORUM_QUEUE_EMAIL_MINUTES", "15"))
# The site's address, for links in emails (sent with no request at hand).
FORUM_SITE_URL = os.environ.get("FORUM_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Reports from this many readers hide a comment until a moderator decides.
FORUM_REPORT_THRESHOLD = int(os.environ.get("FORUM_REPORT_THRESHOLD", "3"))

# --- Abuse limits (forum/limits.py, issue 7) --------------------------------
# Each rate is "N/seconds": at most N in that many seconds; empty or 0 turns it
# off. On by default, in development too. Counted in the cache (Redis with
# REDIS_URL), so they hold across app processes. Moderators are not limited.
# Comments and replies, per reader and per address (REMOTE_ADDR: behind a
# proxy that does not pass the client's address, set the _PER_IP ones empty).
FORUM_RATE_POSTS = os.environ.get("FORUM_RATE_POSTS", "5/60")
FORUM_RATE_POSTS_PER_IP = os.environ.get("FORUM_RATE_POSTS_PER_IP", "20/60")
# Reports, per reader and per address.
FORUM_RATE_REPORTS = os.environ.get("FORUM_RATE_REPORTS", "10/600")
FORUM_RATE_REPORTS_PER_IP = os.environ.get("FORUM_RATE_REPORTS_PER_IP", "30/600")
# New accounts per address.
FORUM_RATE_SIGNUPS = os.environ.get("FORUM_RATE_SIGNUPS", "5/3600")
# The same text (compared without case, spacing, invisible characters and
# compatibility forms) from one reader, anywhere on the site.
FORUM_RATE_DUPLICATES = os.environ.get("FORUM_RATE_DUPLICATES", "3/600")
# The sign-up form refuses to be sent sooner than this many seconds after it
# was shown (0: off); a person takes longer than a script.
FORUM_SIGNUP_MIN_SECONDS = int(os.environ.get("FORUM_SIGNUP_MIN_SECONDS", "3"))
# --- Accounts (issue 7: sign-up email, password reset) ---------------------
# An email address at sign-up: "optional" (the default), "required" or "off".
# One account an address; without one a forgotten password cannot be reset.
FORUM_SIGNUP_EMAIL = os.environ.get("FORUM_SIGNUP_EMAIL", "").strip() or "optional"
if FORUM_SIGNUP_EMAIL not in ("optional", "required", "off"):
    raise ImproperlyConfigured("FORUM_SIGNUP_EMAIL is optional, required or off.")
# Password-reset requests per address ("N/seconds", empty or 0: off); each
# may send an email.
FORUM_RATE_PASSWORD_RESETS_PER_IP = os.environ.get(
    "FORUM_RATE_PASSWORD_RESETS_PER_IP", "5/3600"
)
# --- end of accounts --------------------------------------------------------
# --- end of abuse limits ------------------------------------------------------

# Big threads: a page shows this many top-level comments with their replies...
FORUM_TOP_LEVEL_PAGE_SIZE = int(os.environ.get("FORUM_TOP_LEVEL_PAGE_SIZE", "50"))
# ...but no more comments than this, so one huge subtree cannot make a huge page.
FORUM_PAGE_COMMENT_CAP = int(os.environ.get("FORUM_PAGE_COMMENT_CAP", "500"))
# Levels shown below the top; deeper replies are behind "continue this thread".
FORUM_MAX_DEPTH_SHOWN = int(os.environ.get("FORUM_MAX_DEPTH_SHOWN", "8"))
# Replies shown under one comment before "show N more replies".
FORUM_REPLIES_SHOWN = int(os.environ.get("FORUM_REPLIES_SHOWN", "20"))

# Email: printed on the console unless an SMTP host is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "forum@localhost")

# Background work (moderators' email) through Django's tasks API (the
# django-tasks backport). "db": stored in the database and run by
# `manage.py db_worker` (`make serve` starts one); "immediate": run at once in
# the process that enqueues it, after the commit (development, tests).
TASKS_BACKEND = os.environ.get("TASKS_BACKEND") or (
    "immediate" if DEBUG or TESTING else "db"
)
if TASKS_BACKEND not in ("db", "immediate"):
    raise ImproperlyConfigured("TASKS_BACKEND is db or immediate.")
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend"
        if TASKS_BACKEND == "db"
        else "django_tasks.backends.immediate.ImmediateBackend",
    }
}

# Logs go to stdout: one JSON object a line in production (config/logs.py),
# plain text with DJANGO_DEBUG=1; DJANGO_LOG_FORMAT=json|text chooses.
LOG_FORMAT = os.environ.get("DJANGO_LOG_FORMAT") or ("text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "forum": {"level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
        "articles": {"level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    },
}
