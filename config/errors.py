"""The server-error handler: a database that is down or does not answer
(connect or statement timeout) is a 503, "try again in a moment"; anything
else a 500. Both pages are rendered without a request: its context (the user,
the moderators' count) would read the database again."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader

# psycopg2's connection failures and QueryCanceled (statement_timeout) arrive
# as these; so does SQLite's "database is locked".
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def server_error(request):
    # Django calls the handler inside its except clause: the error is at hand.
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)
