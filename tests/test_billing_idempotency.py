import json
import threading
from datetime import timedelta

import pytest
import requests
from django.test.client import encode_multipart
from django.utils import timezone

from billing import ledger
from billing.models import IdempotencyRecord
from generation.models import CoverTask
from tests.billing_helpers import fast_passwords  # noqa: F401 (an autouse fixture)
from tests.conftest import api_client, assert_ledger_consistent, make_org
from tests.live import empty_queues

GENERATE = "/api/v1/cover/generate"
BODY = {"genre": "edm", "text_artist": "Pulse", "text_album": "Grid", "count": 2}


@pytest.fixture(autouse=True)
def clean_queues():
    empty_queues()
    yield
    empty_queues()


def post(client, body=None, key="key-1", path=GENERATE, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, json.dumps(body or BODY), content_type="application/json", **headers, **extra)


def test_the_same_key_and_parameters_replay_the_first_response(client, org):
    first = post(client)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first
    for _ in range(3):
        again = post(client)
        assert again.status_code == 200
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
    assert CoverTask.objects.filter(organization=org).count() == 1
    assert ledger.account(org).held == 2
    assert_ledger_consistent(org)


def test_json_key_order_and_spacing_do_not_change_the_parameters(client, org):
    first = post(client, {"genre": "edm", "text_artist": "Pulse", "text_album": "Grid", "count": 2})
    reordered = client.post(GENERATE, '{"count": 2,  "text_album": "Grid", "text_artist": "Pulse", "genre": "edm"}',
                            content_type="application/json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert reordered.json() == first.json() and reordered["Idempotent-Replayed"] == "true"


def test_the_same_key_with_other_parameters_is_409(client, org):
    assert post(client).status_code == 200
    other = post(client, dict(BODY, text_album="Another Album"))
    assert other.status_code == 409
    assert "different parameters" in other.json()["msg"]
    assert post(client, path="/v1/album-art/generate").status_code == 409  # another endpoint is another request
    assert CoverTask.objects.filter(organization=org).count() == 1


def test_without_a_key_every_post_is_a_new_request(client, org):
    post(client, key=None)
    post(client, key=None)
    assert CoverTask.objects.filter(organization=org).count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_keys_are_scoped_per_organisation(client, outsider_client, org, other_org):
    ours, theirs = post(client), post(outsider_client)
    assert ours.status_code == theirs.status_code == 200
    assert ours.json()["data"]["taskId"] != theirs.json()["data"]["taskId"]
    assert CoverTask.objects.filter(organization=other_org).count() == 1


def test_a_stored_response_expires_after_24_hours(client, org):
    post(client)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    again = post(client)
    assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert CoverTask.objects.filter(organization=org).count() == 2
    assert IdempotencyRecord.objects.count() == 1


def test_requests_without_a_valid_api_key_pass_through_untouched(org, db):
    from rest_framework.test import APIClient

    anonymous = APIClient()
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer aa_nope.wrong")
    assert post(anonymous).status_code == 401
    assert post(APIClient()).status_code == 401
    assert not IdempotencyRecord.objects.exists()


def test_validation_errors_are_not_stored_so_the_key_can_be_retried(client, org):
    invalid = post(client, dict(BODY, count=9))
    assert invalid.status_code == 422
    assert not IdempotencyRecord.objects.exists()
    assert post(client).status_code == 200


def test_a_402_is_stored_and_replayed_like_any_first_response(client, org):
    ledger.hold(org, 99)
    first = post(client)
    assert first.status_code == 402
    ledger.grant(org, 10, note="top-up")
    assert post(client).json() == first.json()
    assert post(client, key="key-2").status_code == 200


def test_server_errors_are_not_stored(client, org, monkeypatch):
    from generation import api

    real = api.create_task
    monkeypatch.setattr(api, "create_task", lambda *a, **k: 1 / 0)
    failed = post(client)
    assert failed.status_code == 500
    monkeypatch.setattr(api, "create_task", real)
    assert post(client).status_code == 200
    assert CoverTask.objects.count() == 1


def test_a_key_longer_than_255_characters_is_422(client, org):
    assert post(client, key="k" * 256).status_code == 422


def test_multipart_retries_with_a_new_boundary_replay(client, org, coffee_jpeg):
    import io

    def upload(boundary):
        photo = io.BytesIO(coffee_jpeg)
        photo.name = "photo.jpg"
        body = encode_multipart(boundary, {**{k: str(v) for k, v in BODY.items()}, "source_image": photo})
        return client.post(GENERATE, body, content_type=f"multipart/form-data; boundary={boundary}",
                           HTTP_IDEMPOTENCY_KEY="upload-1")

    first, retry = upload("boundary-one"), upload("a-different-boundary-2")
    assert first.status_code == 200, first.content
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert CoverTask.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_key_still_in_flight_is_409(live_server, monkeypatch):
    from generation import api

    org = make_org("Slow Records", credits=10)
    key = api_client(org).plaintext_key
    entered, leave = threading.Event(), threading.Event()
    real = api.create_task

    def slow_create_task(*args, **kwargs):
        entered.set()
        assert leave.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "create_task", slow_create_task)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "in-flight-1"}
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", requests.post(
        live_server.url + GENERATE, json=BODY, headers=headers, timeout=30)))
    first.start()
    try:
        assert entered.wait(20)
        duplicate = requests.post(live_server.url + GENERATE, json=BODY, headers=headers, timeout=30)
        assert duplicate.status_code == 409
        assert "still in progress" in duplicate.json()["msg"]
    finally:
        leave.set()
        first.join()
    assert results["first"].status_code == 200
    replay = requests.post(live_server.url + GENERATE, json=BODY, headers=headers, timeout=30)
    assert replay.json() == results["first"].json() and replay.headers["Idempotent-Replayed"] == "true"
    assert CoverTask.objects.filter(organization=org).count() == 1
    assert_ledger_consistent(org)


def test_an_in_flight_record_abandoned_by_a_dead_process_is_reclaimed(client, org):
    post(client)
    IdempotencyRecord.objects.update(completed_at=None, status_code=None,
                                     created_at=timezone.now() - timedelta(minutes=11))
    again = post(client)
    assert again.status_code == 200 and "Idempotent-Replayed" not in again


def test_a_multipart_body_without_a_boundary_gets_the_envelope_with_or_without_a_key(client):
    for headers in ({}, {"HTTP_IDEMPOTENCY_KEY": "mp-1"}):
        response = client.generic("POST", "/api/v1/cover/generate", b"genre=hiphop",
                                  content_type="multipart/form-data", **headers)
        assert response["Content-Type"].startswith("application/json"), (headers, response.content[:200])
        assert 400 <= response.status_code < 500 and response.json()["code"] == response.status_code
