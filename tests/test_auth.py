from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey
from albumart.api import AUTH_MESSAGE
from generation.models import CoverTask

URL = "/api/v1/credits"


def _get(headers: dict):
    return APIClient().get(URL, **headers)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer aa_000000000000.secret-that-does-not-exist",
        "Bearer aa_missingdot",
    ],
)
def test_missing_malformed_and_unknown_keys_get_one_401(org, header):
    response = _get({"HTTP_AUTHORIZATION": header} if header else {})
    assert response.status_code == 401
    assert response.json() == {"code": 401, "msg": AUTH_MESSAGE, "data": None}


def test_wrong_secret_for_a_real_key_id_is_the_same_401(org):
    key, plaintext = ApiKey.create(org)
    wrong = plaintext[:-4] + ("AAAA" if not plaintext.endswith("AAAA") else "BBBB")
    response = _get({"HTTP_AUTHORIZATION": f"Bearer {wrong}"})
    assert response.status_code == 401
    assert response.json()["msg"] == AUTH_MESSAGE


def test_revoked_key_is_401(org):
    key, plaintext = ApiKey.create(org)
    assert _get({"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}).status_code == 200
    key.revoke()
    response = _get({"HTTP_AUTHORIZATION": f"Bearer {plaintext}"})
    assert response.status_code == 401
    assert response.json()["msg"] == AUTH_MESSAGE


def test_key_is_stored_as_digest_only(org):
    key, plaintext = ApiKey.create(org)
    secret = plaintext.split(".", 1)[1]
    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    assert all(secret not in str(value) for value in stored.values())
    assert key.digest and len(key.digest) == 64 and key.pepper_id == 1


def test_last_used_is_written_at_most_once_a_minute(org, django_assert_max_num_queries):
    key, plaintext = ApiKey.create(org)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    client.get(URL)
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    client.get(URL)
    key.refresh_from_db()
    assert key.last_used_at == first


def test_another_organisations_task_is_404(client, outsider_client, org):
    task = CoverTask.objects.create(organization=org, genre="hiphop", params={}, count=3)
    assert client.get(f"/api/v1/cover/record-info?taskId={task.id}").status_code == 200
    response = outsider_client.get(f"/api/v1/cover/record-info?taskId={task.id}")
    assert response.status_code == 404
    assert response.json()["code"] == 404
    assert outsider_client.get(f"/api/v1/cover/status?task_id={task.id}").status_code == 404


def test_webhook_secret_is_the_organisations_own(client, outsider_client, org, other_org):
    data = client.get("/api/v1/webhooks/secret").json()["data"]
    assert data["key"] == org.webhook_secret and data["key"].startswith("whsec_")
    assert outsider_client.get("/api/v1/webhooks/secret").json()["data"]["key"] == other_org.webhook_secret


def test_webhook_secret_shows_the_previous_one_only_while_it_still_signs(client, org):
    assert client.get("/api/v1/webhooks/secret").json()["data"]["previousKey"] is None
    before = org.webhook_secret
    org.rotate_webhook_secret()
    data = client.get("/api/v1/webhooks/secret").json()["data"]
    assert data["key"] == org.webhook_secret != before and data["previousKey"] == before
    assert data["previousExpiresAt"] == org.previous_webhook_secret_expires_at.isoformat()
    org.previous_webhook_secret_expires_at = timezone.now() - timedelta(seconds=1)
    org.save(update_fields=["previous_webhook_secret_expires_at"])
    data = client.get("/api/v1/webhooks/secret").json()["data"]
    assert data["previousKey"] is None and data["previousExpiresAt"] is None


def test_maintenance_mode_answers_455(client, settings):
    settings.MAINTENANCE_MODE = True
    response = client.get(URL)
    assert response.status_code == 455
    assert response.json()["code"] == 455


def test_unknown_api_path_is_an_enveloped_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json()["code"] == 404


def test_unexpected_error_is_an_enveloped_500_with_request_id(client, org, monkeypatch):
    from generation import api

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api, "task_data", boom)
    task = CoverTask.objects.create(organization=org, genre="pop", params={}, count=1)
    client.raise_request_exception = False
    response = client.get(f"/api/v1/cover/record-info?taskId={task.id}")
    assert response.status_code == 500
    body = response.json()
    assert "secret internals" not in body["msg"] and response["X-Request-Id"] in body["msg"]
