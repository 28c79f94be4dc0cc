"""Schema fuzzing (schemathesis): generated requests for every operation of the OpenAPI schema, sent to the app
with a valid key, never get a 500 (deep JSON, NUL bytes and odd types included)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from albumart.wsgi import application
from tests.conftest import api_client, make_org

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def key(db):
    return api_client(make_org("Fuzz Records", credits=1000)).plaintext_key


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """The photo URLs the fuzzer makes up (source_image, style_reference) are never fetched: a public IP address
    (names resolve to nothing, tests/hermetic.py) would hold each example for the whole fetch deadline."""
    from generation import netguard

    def unreachable(*args, **kwargs):
        raise OSError("no network in the fuzz tests")

    monkeypatch.setattr(netguard, "bounded", unreachable)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db(transaction=True)  # (a WSGI call closes the connection it used)
def test_no_generated_request_gets_a_server_error(case, key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # no renders queued: the answers are the subject
        response = case.call(headers={"Authorization": f"Bearer {key}"})
    case.validate_response(response, checks=(not_a_server_error,))
