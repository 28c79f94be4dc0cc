"""Brute force against the pages that take a password or send an email: wrong passwords pause one account's
sign-ins from one address (django-axes), and sign-ups and password resets are limited per address."""

import itertools

import pytest
import redis
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

_addresses = (f"198.51.100.{n}" for n in itertools.count(10))  # one per test: the windows live in Redis


def fresh_address(redis_url: str) -> str:
    """A new address with its windows cleared (they outlive a test run in Redis)."""
    value = next(_addresses)
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"albumart:throttle:*:{value}:*"):
        client.delete(key)
    return value


@pytest.fixture
def address(settings):
    return fresh_address(settings.REDIS_URL)


def sign_in(address: str, username: str, password: str):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user("owner@label.example", "owner@label.example", "right-horse-9")


def test_wrong_passwords_pause_that_accounts_sign_ins_from_that_address(settings, owner, address):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(address, owner.username, "wrong").status_code == 200  # the form again, with its error
    assert sign_in(address, owner.username, "wrong").status_code == 429  # the last one allowed
    locked = sign_in(address, owner.username, "right-horse-9")  # even the right password waits now
    assert locked.status_code == 429 and "Sign-in paused" in locked.content.decode()
    assert "15 minutes" in locked.content.decode()
    elsewhere = sign_in(next(_addresses), owner.username, "right-horse-9")  # the owner, from another address
    assert elsewhere.status_code == 302


def test_a_successful_sign_in_clears_the_count(settings, owner, address):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(address, owner.username, "wrong")
    assert sign_in(address, owner.username, "right-horse-9").status_code == 302
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(address, owner.username, "wrong")
    assert sign_in(address, owner.username, "right-horse-9").status_code == 302


@pytest.mark.parametrize(("path", "limit", "fields"), [
    ("/signup/", "SIGNUP_LIMIT", {"email": "x@example.com", "password": "short", "organization": ""}),
    ("/password-reset/", "PASSWORD_RESET_LIMIT", {"email": "nobody@example.com"}),
])
def test_sign_ups_and_password_resets_are_limited_per_address(settings, address, path, limit, fields):
    setattr(settings, limit, 3)
    browser = Client(REMOTE_ADDR=address)
    for _ in range(3):
        assert browser.post(path, fields).status_code in (200, 302)
    refused = browser.post(path, fields)
    assert refused.status_code == 429 and "Too many attempts" in refused.content.decode()
    assert browser.get(path).status_code == 200  # reading the page is never limited
    assert Client(REMOTE_ADDR=fresh_address(settings.REDIS_URL)).post(path, fields).status_code in (200, 302)


def test_redis_down_never_locks_anyone_out(settings, address):
    settings.SIGNUP_LIMIT = 1
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    browser = Client(REMOTE_ADDR=address)
    for _ in range(3):
        assert browser.post("/password-reset/", {"email": "nobody@example.com"}).status_code == 302
