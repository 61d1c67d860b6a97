"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

from config.middleware import TolerantASGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
# A Content-Type Django cannot parse is a 400 (config.middleware), not a 500.
application.request_class = TolerantASGIRequest
