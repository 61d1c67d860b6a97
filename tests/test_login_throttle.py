"""Log-in throttling (django-axes): repeated failures lock out the account and
the address for a while, and a locked-out attempt is refused before any
password hash is computed (defect: 30 wrong passwords in 10 s all got a normal
answer, and 8 guessing clients slowed the front page a hundredfold)."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


def _log_in(client, username, password, ip="10.0.0.1"):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip
    )


@pytest.fixture
def hashes(monkeypatch):
    """Counts the password checks the model backend makes."""
    calls = []
    real = ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        calls.append(username)
        return real(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    return calls


def test_an_account_is_locked_after_repeated_failures(client, settings, hashes):
    user = UserFactory()
    limit = settings.AXES_FAILURE_LIMIT

    answers = [
        _log_in(client, user.username, "wrong", ip=f"10.0.0.{i}").status_code
        for i in range(limit)
    ]
    locked = _log_in(client, user.username, PASSWORD, ip="10.0.0.99")

    # The form again, with an error; the failure that reaches the limit is
    # answered with the lock-out.
    assert answers == [200] * (limit - 1) + [429]
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    # The right password, from a new address, was not even checked.
    assert len(hashes) == limit
    assert "_auth_user_id" not in client.session


def test_an_address_is_locked_after_failures_on_many_accounts(client, settings):
    users = UserFactory.create_batch(settings.AXES_FAILURE_LIMIT + 1)
    for user in users[:-1]:
        _log_in(client, user.username, "wrong", ip="10.9.9.9")

    locked = _log_in(client, users[-1].username, PASSWORD, ip="10.9.9.9")
    elsewhere = _log_in(client, users[-1].username, PASSWORD, ip="10.1.1.1")

    assert locked.status_code == 429
    assert elsewhere.status_code == 302


def test_an_ipv6_network_is_locked_out_as_one_address(client, settings):
    users = UserFactory.create_batch(settings.AXES_FAILURE_LIMIT + 1)
    for number, user in enumerate(users[:-1], start=1):
        _log_in(client, user.username, "wrong", ip=f"2001:db8:5:5::{number:x}")

    locked = _log_in(client, users[-1].username, PASSWORD, ip="2001:db8:5:5::abcd")
    elsewhere = _log_in(client, users[-1].username, PASSWORD, ip="2001:db8:5:6::1")

    assert locked.status_code == 429
    assert elsewhere.status_code == 302


def test_a_successful_log_in_clears_the_failures(client, settings):
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, user.username, "wrong")
    assert _log_in(client, user.username, PASSWORD).status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, user.username, "wrong")

    assert _log_in(client, user.username, PASSWORD).status_code == 302


def test_the_admin_log_in_is_throttled_too(client, settings):
    admin = UserFactory(is_staff=True, is_superuser=True)
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": admin.username, "password": "wrong"})

    response = client.post(url, {"username": admin.username, "password": PASSWORD})

    assert response.status_code == 429
