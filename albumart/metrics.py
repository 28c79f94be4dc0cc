"""Prometheus metrics on /metrics, behind a token or an address allow-list.

- Requests: django-prometheus' middleware (counts, latencies and statuses by view).
- What the work looks like now, read at scrape time: jobs waiting per queue, tasks waiting per status, credits
  held, callback attempts due.
- Render and QA time and the QA verdicts: observed by the workers on any machine and kept in Redis as
  cumulative Prometheus histograms and counters (a Redis restart resets them, as a process restart would).
"""

import ipaddress
import logging
import time

import prometheus_client
import redis
from django.conf import settings
from django.db.models import Sum
from django.http import HttpResponse
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from albumart import queues
from albumart.env import redis_client

log = logging.getLogger(__name__)

BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
KEY = "albumart:metrics"
HISTOGRAMS = {"render": "Seconds to render one cover (one attempt)",
              "qa": "Seconds the Sentinel spent checking one cover (one attempt)"}


def _client() -> redis.Redis:
    return redis_client()


def observe(render_seconds: float, qa_seconds: float, verdict: str) -> None:
    """A worker's record of one attempt; never fails the render (metrics are lost, not the cover)."""
    try:
        pipe = _client().pipeline(transaction=False)
        for name, value in (("render", render_seconds), ("qa", qa_seconds)):
            for bound in BUCKETS:
                if value <= bound:
                    pipe.hincrby(f"{KEY}:{name}", f"le:{bound}", 1)
            pipe.hincrby(f"{KEY}:{name}", "count", 1)
            pipe.hincrbyfloat(f"{KEY}:{name}", "sum", value)
        pipe.hincrby(f"{KEY}:verdicts", verdict, 1)
        pipe.execute()
    except redis.RedisError as exc:
        log.debug("metrics not recorded (%s)", exc.__class__.__name__)


class AlbumArtCollector:
    def describe(self):
        """The families' names, without touching the database or Redis (asked at registration)."""
        yield GaugeMetricFamily("albumart_tasks_waiting", "", labels=["status"])
        yield GaugeMetricFamily("albumart_credits_held", "")
        yield GaugeMetricFamily("albumart_callbacks_pending", "")
        yield GaugeMetricFamily("albumart_queue_jobs", "", labels=["queue"])
        for name in HISTOGRAMS:
            yield HistogramMetricFamily(f"albumart_{name}_seconds", "", labels=[])
        yield CounterMetricFamily("albumart_qa_verdicts", "", labels=["verdict"])

    def collect(self):
        yield from self._work()
        yield from self._observed()

    def _work(self):
        from billing.models import CreditAccount
        from generation.models import CallbackDelivery, CoverTask, TaskStatus

        tasks = GaugeMetricFamily("albumart_tasks_waiting", "Tasks not ended, by status", labels=["status"])
        for status in (TaskStatus.PENDING, TaskStatus.GENERATING, TaskStatus.REVIEW):
            tasks.add_metric([status.value], CoverTask.objects.filter(status=status).count())
        yield tasks
        held = CreditAccount.objects.aggregate(n=Sum("held"))["n"] or 0
        yield GaugeMetricFamily("albumart_credits_held", "Credits held by tasks not yet settled", value=held)
        due = CallbackDelivery.objects.filter(finished_at__isnull=True).count()
        yield GaugeMetricFamily("albumart_callbacks_pending", "Callback attempts due or under way", value=due)
        queued = GaugeMetricFamily("albumart_queue_jobs", "Jobs waiting in each queue", labels=["queue"])
        try:
            for name in ("render", "callbacks"):
                queued.add_metric([name], queues.get_queue(name).count)
        except redis.RedisError:
            pass  # Redis down: the queues are unknown (and /readyz says so)
        yield queued

    def _observed(self):
        try:
            client = _client()
            data = {name: client.hgetall(f"{KEY}:{name}") for name in HISTOGRAMS}
            verdicts = client.hgetall(f"{KEY}:verdicts")
        except redis.RedisError:
            return
        for name, help_text in HISTOGRAMS.items():
            values = {k.decode(): v.decode() for k, v in data[name].items()}
            buckets = [(str(bound), int(values.get(f"le:{bound}", 0))) for bound in BUCKETS]
            count = int(values.get("count", 0))
            buckets.append(("+Inf", count))
            yield HistogramMetricFamily(f"albumart_{name}_seconds", help_text, buckets=buckets,
                                        sum_value=float(values.get("sum", 0.0)))
        family = CounterMetricFamily("albumart_qa_verdicts", "Sentinel verdicts per attempt", labels=["verdict"])
        for verdict, n in sorted(verdicts.items()):
            family.add_metric([verdict.decode()], int(n))
        yield family


_registered = False


def register() -> None:
    global _registered
    if not _registered:
        prometheus_client.REGISTRY.register(AlbumArtCollector())
        _registered = True


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header == f"Bearer {token}":
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOW)


def metrics(request):
    """The Prometheus exposition; 404 to anyone without the token or outside the allow-list (not advertised)."""
    if not _allowed(request):
        return HttpResponse("Not found\n", status=404, content_type="text/plain")
    started = time.monotonic()
    body = prometheus_client.generate_latest(prometheus_client.REGISTRY)
    log.debug("metrics rendered in %.3f s", time.monotonic() - started)
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
