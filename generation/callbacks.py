"""Signed result callbacks, the Standard Webhooks way, with retries on the `callbacks` queue."""

import base64
import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from functools import partial

import django_rq
import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generation import netguard
from generation.models import CallbackDelivery, CoverTask, DisabledEndpoint
from generation.taskdata import callback_envelope

log = logging.getLogger(__name__)


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(key: bytes | list[bytes], webhook_id: str, body: bytes, timestamp: int | None = None
                   ) -> dict[str, str]:
    """Standard Webhooks headers; several keys (a rotation's overlap) give space-separated signatures."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    keys = [key] if isinstance(key, bytes) else key
    return {
        "content-type": "application/json",
        "user-agent": "AlbumArt-Webhooks/1.0",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(k, webhook_id, timestamp, body) for k in keys),
    }


def enqueue_delivery(task: CoverTask) -> None:
    """Schedule the first attempt once the transaction that finished the task has committed."""
    if task.callback_url:
        transaction.on_commit(partial(django_rq.get_queue("callbacks").enqueue, deliver_callback, task.id, 1))


def _post(url: str, headers: dict, body: bytes) -> tuple[int | None, str]:
    try:
        netguard.check_url(url)  # again at delivery: DNS may have changed since submit
        response = requests.post(url, data=body, headers=headers, timeout=settings.CALLBACK_TIMEOUT_SECONDS,
                                 allow_redirects=False)
        return response.status_code, ""
    except netguard.UnsafeUrl as exc:
        return None, f"refused: callBackUrl {exc}"
    except requests.RequestException as exc:
        return None, f"{exc.__class__.__name__}: {str(exc)[:300]}"


def deliver_callback(task_id: str, attempt: int = 1) -> None:
    task = CoverTask.objects.select_related("organization").get(pk=task_id)
    url = task.callback_url
    webhook_id = f"msg_{task.id}"  # stable across retries so that receivers can de-duplicate
    if DisabledEndpoint.objects.filter(organization=task.organization, url=url).exists():
        CallbackDelivery.objects.create(task=task, webhook_id=webhook_id, attempt=attempt, url=url,
                                        error="skipped: the endpoint answered 410 Gone earlier and is disabled")
        return
    body = json.dumps(callback_envelope(task), separators=(",", ":")).encode()
    headers = signed_headers(task.organization.webhook_keys, webhook_id, body)
    started = time.monotonic()
    status, error = _post(url, headers, body)
    delivery = CallbackDelivery(task=task, webhook_id=webhook_id, attempt=attempt, url=url, status_code=status,
                                error=error, duration_ms=int((time.monotonic() - started) * 1000))
    schedule = settings.CALLBACK_RETRY_SCHEDULE
    if status == 410:
        DisabledEndpoint.objects.get_or_create(organization=task.organization, url=url)
        delivery.error = "410 Gone: endpoint disabled, no more retries"
    elif not delivery.ok and attempt <= len(schedule):
        delay = timedelta(seconds=schedule[attempt - 1])
        delivery.next_attempt_at = timezone.now() + delay
        django_rq.get_queue("callbacks").enqueue_in(delay, deliver_callback, task.id, attempt + 1)
    delivery.save()
    log.info("callback %s attempt %s -> %s %s", task.id, attempt, status, error)
