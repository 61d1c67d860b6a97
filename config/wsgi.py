"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from config.middleware import TolerantWSGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# A Content-Type Django cannot parse is a 400 (config.middleware), not a 500.
application.request_class = TolerantWSGIRequest
