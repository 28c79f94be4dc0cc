"""Per API key rate limits (albumart/ratelimit.py) against the real Redis of REDIS_URL: 20 generate and 100 other
requests per 10 s, per-organisation overrides, the draft IETF RateLimit fields, Redis down letting everyone
through, and Retry-After on 455. The test settings raise the defaults out of reach of the rest of the suite, so
every test here sets the production ones, and one proves that they are the production ones."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from albumart import ratelimit
from generation.models import CoverTask
from tests.conftest import api_client

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
GENERATE = "/api/v1/cover/generate"
READ = "/api/v1/webhooks/secret"
VALID = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": 1}


@pytest.fixture(autouse=True)
def production_limits(settings, monkeypatch):
    settings.RATE_LIMIT_GENERATE, settings.RATE_LIMIT_READ, settings.RATE_LIMIT_WINDOW_SECONDS = 20, 100, 10
    monkeypatch.setattr(ratelimit, "_down_until", {})  # no Redis back-off left over from another test


def generate(client, path: str = GENERATE, **fields):
    return client.post(path, {**VALID, **fields}, format="json")


def test_the_21st_generate_in_the_window_is_429_with_retry_after_in_the_envelope(client, org):
    for n in range(20):
        response = generate(client)
        assert response.status_code == 200, response.json()
        assert response["RateLimit-Remaining"] == str(19 - n)
    refused = generate(client)
    body = refused.json()
    assert refused.status_code == 429 and body["code"] == 429
    assert body["msg"].startswith("Rate limit reached: 20 generate and variations requests per 10 s")
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 10 and body["data"] == {"scope": "generate", "limit": 20, "windowSeconds": 10,
                                                  "retryAfter": wait}
    assert (refused["RateLimit-Limit"], refused["RateLimit-Remaining"], refused["RateLimit-Reset"]) == \
        ("20", "0", str(wait))
    assert CoverTask.objects.filter(organization=org).count() == 20  # refused before the view: no task
    # every generate path and variations count in the same bucket...
    assert generate(client, "/v1/album-art/generate").status_code == 429
    assert client.post("/api/v1/cover/any-task/variations", {}, format="json").status_code == 429
    # ...and reads in their own
    read = client.get(READ)
    assert read.status_code == 200 and (read["RateLimit-Limit"], read["RateLimit-Remaining"]) == ("100", "99")


def test_reads_have_their_own_bucket_of_100(client):
    for n in range(100):
        response = client.get(READ)
        assert response.status_code == 200 and response["RateLimit-Remaining"] == str(99 - n)
    refused = client.get("/api/v1/credits")
    assert refused.status_code == 429 and refused.json()["data"]["scope"] == "read"
    assert refused.json()["msg"].startswith("Rate limit reached: 100 requests (other than generate) per 10 s")
    assert refused["Retry-After"] == refused["RateLimit-Reset"]
    assert client.post("/api/v1/cover/any-task/cancel").status_code == 429  # other POSTs count as reads
    accepted = generate(client)
    assert accepted.status_code == 200 and accepted["RateLimit-Remaining"] == "19"


def test_an_organisations_own_limits_override_the_defaults(client, org, outsider_client):
    org.rate_limit_generate, org.rate_limit_read = 3, 5
    org.save(update_fields=["rate_limit_generate", "rate_limit_read"])
    assert [generate(client).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [client.get(READ).status_code for _ in range(6)] == [200] * 5 + [429]
    refused = client.get(READ)
    assert refused["RateLimit-Limit"] == "5" and refused["RateLimit-Policy"] == "5;w=10"
    assert refused.json()["data"]["limit"] == 5
    other = generate(outsider_client)  # another organisation keeps the defaults
    assert other.status_code == 200 and other["RateLimit-Limit"] == "20"


def test_the_fields_are_on_every_answer_to_a_key_and_remaining_counts_down(client):
    answers = [
        client.get(READ),  # 200
        client.get("/api/v1/cover/record-info", {"taskId": "no-such-task"}),  # 404 from the view
        client.get("/api/v1/no-such-thing"),  # 404 from Django's URL resolver
        client.get("/api/v1/cover/tasks?status=%01"),  # 422 from the input guard middleware
        client.post("/api/v1/cover/no-such-task/feedback", {"image": 0, "accepted": True}, format="json"),  # 404
    ]
    assert [a.status_code for a in answers] == [200, 404, 404, 422, 404]
    assert [a["RateLimit-Remaining"] for a in answers] == ["99", "98", "97", "96", "95"]
    for answer in answers:
        assert answer["RateLimit-Limit"] == "100" and answer["RateLimit-Policy"] == "100;w=10"
        assert 1 <= int(answer["RateLimit-Reset"]) <= 10
        assert "Retry-After" not in answer
    invalid = client.post(GENERATE, {"genre": "hiphop"}, format="json")  # 422: counted all the same
    assert invalid.status_code == 422 and invalid["RateLimit-Limit"] == "20" and invalid["RateLimit-Remaining"] == "19"
    assert generate(client)["RateLimit-Remaining"] == "18"


def test_answers_without_a_valid_key_carry_no_fields_and_count_nothing(client):
    from rest_framework.test import APIClient

    anonymous, wrong = APIClient(), APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Bearer {client.plaintext_key}x")
    for response in (anonymous.get(READ), wrong.get(READ)):
        assert response.status_code == 401 and "RateLimit-Limit" not in response
    assert client.get(READ)["RateLimit-Remaining"] == "99"


def test_every_key_has_its_own_bucket(client, org, outsider_client):
    org.rate_limit_generate = 2
    org.save(update_fields=["rate_limit_generate"])
    assert [generate(client).status_code for _ in range(3)] == [200, 200, 429]
    second_key = api_client(org)  # the same organisation and limit, its own count
    answer = generate(second_key)
    assert answer.status_code == 200 and (answer["RateLimit-Limit"], answer["RateLimit-Remaining"]) == ("2", "1")
    assert generate(outsider_client)["RateLimit-Remaining"] == "19"


def test_redis_down_lets_every_request_through_and_is_logged(client, settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.RATE_LIMIT_GENERATE = settings.RATE_LIMIT_READ = 1
    with caplog.at_level(logging.WARNING, logger="albumart.ratelimit"):
        answers = [client.get(READ) for _ in range(3)] + [generate(client) for _ in range(2)]
    assert [a.status_code for a in answers] == [200] * 5
    assert not any("RateLimit-Limit" in a for a in answers)  # no count to show
    warnings = [r.getMessage() for r in caplog.records if r.name == "albumart.ratelimit"]
    assert len(warnings) == 1 and "Redis unavailable" in warnings[0]  # then not asked again for a while


def test_maintenance_answers_455_with_retry_after(client, settings):
    settings.MAINTENANCE_MODE, settings.MAINTENANCE_RETRY_AFTER_SECONDS = True, 120
    response = client.get(READ)
    assert response.status_code == 455 and response["Retry-After"] == "120"
    assert response.json() == {"code": 455, "msg": "The service is in maintenance; retry in 120 s.",
                               "data": {"retryAfter": 120}}


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("POST", "/api/v1/cover/generate", "generate"),
    ("POST", "/v1/album-art/generate", "generate"),
    ("POST", "/api/v1/suno/cover/generate", "generate"),
    ("POST", "/api/v1/audio/music/cover/generate", "generate"),
    ("POST", "/api/v1/cover/abc/variations", "generate"),
    ("GET", "/api/v1/cover/generate", "read"),
    ("POST", "/api/v1/cover/abc/cancel", "read"),
    ("POST", "/api/v1/cover/abc/feedback", "read"),
    ("GET", "/api/v1/cover/record-info", "read"),
])
def test_generate_scope_covers_every_dialects_generate_and_variations(method, path, scope):
    assert ratelimit.scope_of(RequestFactory().generic(method, path)) == scope


def test_the_admin_edits_an_organisations_limits(org):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    browser = Client()
    browser.force_login(admin)
    page = browser.get(f"/admin/accounts/organization/{org.pk}/change/").content.decode()
    assert 'name="rate_limit_generate"' in page and 'name="rate_limit_read"' in page


def test_the_production_defaults_are_20_generate_and_100_other_requests_per_10_s(tmp_path):
    """The suite runs with raised defaults (TESTING); a process outside the tests gets these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATE_LIMIT_", "ALBUMART_", "MAINTENANCE_"))}
    env.update(SECRET_KEY="s" * 50, API_KEY_PEPPERS="1:" + "p" * 32, ALBUMART_VAR_DIR=str(tmp_path),
               MEDIA_ROOT=str(tmp_path / "media"), DEBUG="0")
    code = ("from albumart import settings as s; print(s.TESTING, s.RATE_LIMIT_GENERATE, s.RATE_LIMIT_READ, "
            "s.RATE_LIMIT_WINDOW_SECONDS, s.MAINTENANCE_RETRY_AFTER_SECONDS)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "20", "100", "10", "300"]
