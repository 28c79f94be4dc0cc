"""Prometheus metrics: behind a token or an allow-list; requests, the work waiting (tasks, credits held, callbacks
due, queue depth) and the workers' render and QA times and verdicts, kept in Redis across machines."""

import pytest
import redis
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from albumart import metrics
from generation.models import CoverTask
from tests.conftest import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def clean_redis(settings):
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{metrics.KEY}:*"):
        client.delete(key)
    yield
    for key in client.scan_iter(f"{metrics.KEY}:*"):
        client.delete(key)


def scrape(**extra) -> dict:
    response = Client(**extra).get("/metrics")
    assert response.status_code == 200, response.status_code
    return {sample.name + str(sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.content.decode()) for sample in family.samples}


def test_metrics_are_hidden_from_strangers(settings):
    settings.METRICS_TOKEN = "scrape-secret"
    settings.METRICS_ALLOW = ["10.1.0.0/16"]
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 404
    assert Client(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong").get("/metrics").status_code == 404
    assert Client(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-secret").get("/metrics") \
        .status_code == 200
    assert Client(REMOTE_ADDR="10.1.4.2").get("/metrics").status_code == 200


def test_the_work_waiting_and_the_workers_observations_are_exposed(settings, clean_redis):
    settings.METRICS_ALLOW = ["127.0.0.1/32"]
    org = make_org("Metric Records", credits=10)
    CoverTask.objects.create(organization=org, genre="hiphop", count=1, params={})
    metrics.observe(0.7, 0.3, "pass")
    metrics.observe(3.0, 0.2, "review")
    Client().get("/healthz")  # a request for the request metrics
    samples = scrape(REMOTE_ADDR="127.0.0.1")
    assert samples["albumart_tasks_waiting[('status', 'PENDING')]"] == 1
    assert samples["albumart_credits_held[]"] == 0
    assert "albumart_queue_jobs[('queue', 'render')]" in samples
    assert samples["albumart_render_seconds_count[]"] == 2
    assert samples["albumart_render_seconds_bucket[('le', '1.0')]"] == 1
    assert samples["albumart_render_seconds_bucket[('le', '4.0')]"] == 2
    assert samples["albumart_render_seconds_sum[]"] == pytest.approx(3.7)
    assert samples["albumart_qa_seconds_bucket[('le', '0.25')]"] == 1
    assert samples["albumart_qa_verdicts_total[('verdict', 'pass')]"] == 1
    assert samples["albumart_qa_verdicts_total[('verdict', 'review')]"] == 1
    assert any(name.startswith("django_http_requests_total_by_view_transport_method_total") for name in samples)


def test_redis_down_leaves_the_rest_of_the_metrics(settings):
    settings.METRICS_ALLOW = ["127.0.0.1/32"]
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    metrics.observe(1.0, 1.0, "pass")  # a worker losing Redis loses the observation, not the render
    samples = scrape(REMOTE_ADDR="127.0.0.1")
    assert "albumart_tasks_waiting[('status', 'PENDING')]" in samples
    assert not any(name.startswith("albumart_render_seconds") for name in samples)
