import io

import pytest
from django.contrib.auth import get_user_model
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import ApiKey, Membership, Organization
from billing import ledger

# Every API response of the suite is checked against the OpenAPI schema (tests/schemacheck.py); no test resolves a
# public name (tests/hermetic.py).
pytest_plugins = ["tests.schemacheck", "tests.hermetic"]


def make_org(name: str, credits: int = 0) -> Organization:
    org = Organization.objects.create(name=name)
    if credits:
        ledger.grant(org, credits, note="test")
    return org


def api_client(org: Organization) -> APIClient:
    _, plaintext = ApiKey.create(org)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    client.plaintext_key = plaintext
    return client


def jpeg_bytes(image: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=90, **kwargs)
    return buf.getvalue()


@pytest.fixture
def org(db):
    return make_org("Northside Records", credits=100)


@pytest.fixture
def other_org(db):
    return make_org("Outsider Music", credits=100)


@pytest.fixture
def users(org, other_org):
    User = get_user_model()
    owner = User.objects.create_user("owner", password="pw-owner-123")
    member = User.objects.create_user("member", password="pw-member-123")
    outsider = User.objects.create_user("outsider", password="pw-outsider-123")
    Membership.objects.create(organization=org, user=owner, role=Membership.Role.OWNER)
    Membership.objects.create(organization=org, user=member, role=Membership.Role.MEMBER)
    Membership.objects.create(organization=other_org, user=outsider, role=Membership.Role.OWNER)
    return {"owner": owner, "member": member, "outsider": outsider}


@pytest.fixture
def client(org):
    return api_client(org)


@pytest.fixture
def outsider_client(other_org):
    return api_client(other_org)


@pytest.fixture(scope="session")
def astronaut_jpeg() -> bytes:
    from skimage import data

    return jpeg_bytes(Image.fromarray(data.astronaut()))


@pytest.fixture(scope="session")
def coffee_jpeg() -> bytes:
    from skimage import data

    return jpeg_bytes(Image.fromarray(data.coffee()))


def assert_ledger_consistent(org: Organization) -> None:
    acct = ledger.account(org)
    assert (acct.balance, acct.held) == ledger.expected_from_ledger(org)
    assert acct.held >= 0 and acct.balance >= acct.held


@pytest.fixture
def live(live_server, settings, tmp_path):
    """The live server with its own media folder, public URLs pointing at it and empty queues around the test."""
    from tests.live import empty_queues

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ALLOW_PRIVATE_CALLBACKS = True
    empty_queues()
    yield live_server
    empty_queues()


@pytest.fixture
def redis_down(monkeypatch):
    """Every queue the code asks for talks to a Redis that is not there; `.restore()` brings it back."""
    import django_rq
    import redis
    from rq import Queue

    real = django_rq.get_queue
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(django_rq, "get_queue", lambda name="default", *a, **k: Queue(name, connection=dead))

    class Switch:
        @staticmethod
        def restore():
            monkeypatch.setattr(django_rq, "get_queue", real)

    return Switch
