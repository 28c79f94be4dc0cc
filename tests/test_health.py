"""Liveness and readiness for an orchestrator: /healthz touches nothing; /readyz checks the database, Redis, the
storage and the models, and fails (500, naming the part) while any of them is missing."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def ready(**headers):
    response = Client().get("/readyz?format=json", **headers)
    return response.status_code, response.json()


def test_liveness_needs_nothing(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing it depends on is asked
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_when_every_part_answers(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    status, checks = ready()
    assert status == 200, checks
    assert set(checks.values()) == {"OK"}
    assert {name.split("(")[0] for name in checks} == {"Database", "Storage", "Queue", "Models"}


def test_not_ready_without_redis(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    status, checks = ready()
    assert status == 500
    failing = {name.split("(")[0]: text for name, text in checks.items() if text != "OK"}
    assert list(failing) == ["Queue"] and "Redis does not answer" in failing["Queue"]


def test_not_ready_without_the_models(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.ALBUMART_MODEL_DIR = str(tmp_path / "empty")
    status, checks = ready()
    assert status == 500
    failing = {name.split("(")[0]: text for name, text in checks.items() if text != "OK"}
    assert list(failing) == ["Models"] and "fetch_models" in failing["Models"]
