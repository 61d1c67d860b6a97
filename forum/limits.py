"""Rate limits through the cache, and the text fingerprint that duplicate
detection compares.

A limit is a setting "N/seconds" (config/settings.py, FORUM_RATE_*): at most N
hits in a window of that many seconds; empty or 0 turns it off. Counters live
in Django's cache, which is Redis when REDIS_URL is set, so every app process
counts into the same counter; ``cache.add`` then ``cache.incr`` is atomic there
(SETNX, INCRBY) and under locmem's lock.

Windows are fixed (the counter's key names the window it counts): one key per
subject and window, no list of timestamps to keep, and the wait is exact to
say. A burst that straddles two windows may get up to 2N through; the limits
are about floods, and 2N is still a bound.

Readers are counted per account and per address (REMOTE_ADDR, see client_ip);
moderators are not limited.

The fingerprint is for near-duplicates: forum/services/posting.py refuses the
same text from one author in too many places (FORUM_RATE_DUPLICATES), counting
in the database (why there, not here: its _check_repeats).
"""

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from . import screening
from .transitions import can_moderate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(value):
    """A setting "N/seconds" as a Rate; None when empty or 0 (the limit is off)."""
    value = (value or "").strip()
    if value in ("", "0"):
        return None
    try:
        count, seconds = (int(part) for part in value.split("/"))
    except ValueError:
        count = seconds = -1
    if count < 0 or seconds <= 0:
        raise ImproperlyConfigured(
            f"A rate is N/seconds, e.g. 5/60 (5 in 60 seconds); not {value!r}."
        )
    return None if count == 0 else Rate(count, seconds)


RATE_SETTINGS = [
    "FORUM_RATE_POSTS",
    "FORUM_RATE_POSTS_PER_IP",
    "FORUM_RATE_REPORTS",
    "FORUM_RATE_REPORTS_PER_IP",
    "FORUM_RATE_SIGNUPS",
    "FORUM_RATE_DUPLICATES",
    "FORUM_RATE_PASSWORD_RESETS_PER_IP",
]


@checks.register
def check_rate_settings(app_configs, **kwargs):
    """A mistyped rate stops `manage.py check` and the server's start, rather
    than every post with a 500."""
    errors = []
    for name in RATE_SETTINGS:
        try:
            parse_rate(getattr(settings, name))
        except ImproperlyConfigured as error:
            errors.append(checks.Error(f"{name}: {error}", id="forum.E001"))
    return errors


# One IPv6 subscriber gets a /64 (RFC 6177) and may take any address in it: a
# limit per IPv6 address would be a limit per attempt.
IPV6_PREFIX = 64


def client_ip(request):
    """The address the request came from, as the limits and the log-in
    lock-out (AXES_CLIENT_IP_CALLABLE) count it: REMOTE_ADDR, as the WSGI
    server saw it, an IPv6 one as its /64 network's first address; None when
    there is no address to count (a UNIX socket, a test's request).

    X-Forwarded-For is anyone's to write, and SECURE_PROXY_SSL_HEADER says
    only whether the proxy spoke HTTPS, not for whom. Behind a reverse proxy
    REMOTE_ADDR is the proxy's, and every reader shares one address: have the
    proxy hand over the client's address as the peer (PROXY protocol, e.g.
    gunicorn --proxy-protocol), or turn the per-address limits off."""
    address = request.META.get("REMOTE_ADDR") or ""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        network = ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False)
        return str(network.network_address)
    return str(ip)


def _now():
    return time.time()


def hit(scope, key, rate):
    """Count one hit on ``key`` in ``scope``; None if it is within ``rate``,
    otherwise the seconds until the window ends (at least 1).

    The window opens at the first hit and lasts ``rate.seconds`` (the counter
    expires with it), so a burst cannot straddle two windows and get twice the
    rate through.
    """
    now = _now()
    cache_key = f"limits:{scope}:{key}:{rate.seconds}"
    try:
        for _attempt in range(2):
            if cache.add(cache_key, 0, rate.seconds):
                cache.set(f"{cache_key}:since", now, rate.seconds)
            try:
                count = cache.incr(cache_key)
                break
            except ValueError:
                # It expired between add and incr: open a new window.
                continue
        else:
            return None
        if count <= rate.count:
            return None
        since = cache.get(f"{cache_key}:since") or now
    except Exception:
        # A limit that cannot count lets the reader through: the cache (Redis)
        # being away must not take posting down with it.
        logger.warning("rate limit %s not counted: cache unavailable", scope)
        return None
    return max(1, math.ceil(since + rate.seconds - now))


# What each action counts, and by what: (setting, "user" or "ip").
ACTIONS = {
    "post": [("FORUM_RATE_POSTS", "user"), ("FORUM_RATE_POSTS_PER_IP", "ip")],
    "report": [("FORUM_RATE_REPORTS", "user"), ("FORUM_RATE_REPORTS_PER_IP", "ip")],
    "signup": [("FORUM_RATE_SIGNUPS", "ip")],
    "password_reset": [("FORUM_RATE_PASSWORD_RESETS_PER_IP", "ip")],
}


def check(request, action):
    """Count ``action`` (a key of ACTIONS) by this request's reader and
    address; None if every limit lets it through, else the seconds to wait.

    Every limit is counted, also when one already refuses: a reader who keeps
    trying keeps counting against the address as well.
    """
    user = request.user
    if user.is_authenticated and can_moderate(user):
        return None
    waits = []
    for setting, subject in ACTIONS[action]:
        rate = parse_rate(getattr(settings, setting))
        if rate is None:
            continue
        if subject == "user":
            if not user.is_authenticated:
                continue
            key = f"user:{user.pk}"
        else:
            key = f"ip:{client_ip(request) or 'unknown'}"
        wait = hit(f"{action}:{subject}", key, rate)
        if wait is not None:
            waits.append(wait)
    if not waits:
        return None
    wait = max(waits)
    logger.info("rate limit: %s refused for %s s", action, wait)
    return wait


def wait_in_words(seconds):
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def normalise(text):
    """``text`` as near-duplicate detection compares it: as the screening
    rules read it (forum/screening.py: case, compatibility forms, accents,
    invisible characters, look-alike letters and stand-ins), every run of
    white space one space."""
    return " ".join(screening.normalize(text).split())


# Fingerprints already made, by a digest of the text as written: the repeat
# check reads an author's recent comments at every post, and folding a long
# text costs milliseconds (a Python loop), a digest microseconds. Bounded:
# emptied when full.
_FINGERPRINTS = {}
FINGERPRINTS_KEPT = 10_000


def _digest(text):
    # surrogatepass: any str has a digest, even one with half a UTF-16 pair.
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16)


def fingerprint(text):
    """A short, fixed-length digest of normalise(text)."""
    key = _digest(text).digest()
    found = _FINGERPRINTS.get(key)
    if found is None:
        found = _digest(normalise(text)).hexdigest()
        if len(_FINGERPRINTS) >= FINGERPRINTS_KEPT:
            _FINGERPRINTS.clear()
        _FINGERPRINTS[key] = found
    return found
