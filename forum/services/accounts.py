"""Accounts: the stored look of each name, which keeps look-alike names apart
(forum/forms.py validate_new_username reads it)."""

import hashlib

from django.db import IntegrityError, transaction

from ..models import UsernameKey
from ..screening import skeleton


def username_key(username):
    """What ``username`` looks like (screening.skeleton: any case, look-alike
    letters, accents, digits for letters), as a short digest."""
    data = skeleton(username).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def name_is_free(*, username, user=None):
    """Whether no account but ``user`` has a name that looks like ``username``."""
    taken = UsernameKey.objects.filter(key=username_key(username))
    if user is not None and user.pk is not None:
        taken = taken.exclude(user=user)
    return not taken.exists()


def claim_username(*, user, strict):
    """Store the look of ``user``'s name. With ``strict`` a look another
    account holds raises IntegrityError, for the caller's transaction to roll
    back (a sign-up that lost a race); without, the account keeps no key."""
    key = username_key(user.get_username())
    with transaction.atomic():
        UsernameKey.objects.filter(user=user).delete()
        if strict:
            UsernameKey.objects.create(user=user, key=key)
            return
        try:
            with transaction.atomic():
                UsernameKey.objects.create(user=user, key=key)
        except IntegrityError:
            pass
