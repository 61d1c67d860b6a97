"""Refuses, with a 400, a request body in a charset the site does not read.

Django decodes a form in whatever charset its Content-Type names. Some codecs
are not ASCII-compatible (utf-16, utf-7) or turn typed backslash sequences into
lone surrogates (unicode_escape), and some are not text codecs at all (base64,
which makes Django raise LookupError): each ended as a 500. Only charsets that
read a form's ASCII as ASCII pass here; Django turns anything else a browser
sends into U+FFFD, never into a surrogate.
"""

import codecs

from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponseBadRequest
from django.template import loader
from django.utils.log import log_response

# Canonical codec names, as codecs.lookup() gives them for every alias
# ("latin1", "ISO-8859-1", "l1"; "us-ascii", "646"; "windows-1252"; "UTF8").
ASCII_COMPATIBLE = frozenset({"utf-8", "ascii", "iso8859-1", "cp1252"})
URLENCODED = "application/x-www-form-urlencoded"


def _charset_is_readable(content_type, charset):
    if content_type == URLENCODED:
        # Django reads such a form as UTF-8 only (RFC 1866), by this very
        # test, and refuses any other charset with BadRequest, which the 400
        # handler's CSRF check raises again: a 500. So the refusal is made here.
        return charset.lower() == "utf-8"
    try:
        return codecs.lookup(charset).name in ASCII_COMPATIBLE
    except (LookupError, ValueError):  # unknown; a NUL or a lone surrogate
        return False


class CharsetMiddleware:
    """Early in MIDDLEWARE, after those that only add headers: before anything
    reads request.POST or request.GET (both decoded in that charset)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        charset = request.content_params.get("charset")
        if getattr(request, "has_unreadable_content_type", False) or (
            charset is not None
            and not _charset_is_readable(request.content_type, charset)
        ):
            # Not Django's 400 handler: it would parse the body for its CSRF
            # check. The page needs no request, like the 500 page.
            response = HttpResponseBadRequest(loader.get_template("400.html").render())
            log_response(
                "Bad request (unreadable charset %r): %s",
                charset,
                request.path,
                response=response,
                request=request,
            )
            return response
        return self.get_response(request)


class _TolerantContentType:
    """Django reads the Content-Type while it builds the request, before any
    middleware, and there an RFC 2231 parameter in an unknown charset or a
    charset with a NUL or a lone surrogate in it raises ValueError, and a
    non-text codec (base64) raises LookupError as soon as the URL has a query
    string; the server answers either with a bare 500. Such a header is read as
    absent, and the request marked for CharsetMiddleware to refuse."""

    has_unreadable_content_type = False

    def _set_content_type_params(self, meta):
        try:
            super()._set_content_type_params(meta)
        except (ValueError, LookupError):
            self.content_type, self.content_params = "", {}
            self.has_unreadable_content_type = True


class TolerantWSGIRequest(_TolerantContentType, WSGIRequest):
    pass


class TolerantASGIRequest(_TolerantContentType, ASGIRequest):
    pass
