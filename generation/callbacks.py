"""Signed result callbacks, the Standard Webhooks way, with retries on the `callbacks` queue.

The database is the outbox: every attempt is a CallbackDelivery row written before it is made (in the
transaction that ended the task, or with the failed attempt before it), due at `next_attempt_at`. The queue is
only how a row gets its turn: a job that Redis lost (down at commit, flushed, restarted with retries scheduled)
leaves its row due, and `reconcile` (generation/reconcile.py) hands it to the queue again. A job claims its row
(`started_at`) before posting, so a row is attempted once however many jobs carry it.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from albumart import queues
from albumart.logs import for_task
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


def delivery_job_id(delivery_id: int) -> str:
    return f"delivery-{delivery_id}"


def enqueue_delivery(task: CoverTask, *, replay: bool = False) -> CallbackDelivery | None:
    """Write the task's next attempt, due now, and hand it to the queue once this transaction commits. Called in
    the transaction that ends the task (or by a replay): the row commits with it, whatever Redis does."""
    if not task.callback_url:
        return None
    last = task.deliveries.aggregate(n=Max("attempt"))["n"] or 0
    if last and not replay:
        return None  # the task's callback is already in the outbox (a settle that ran twice)
    row = CallbackDelivery.objects.create(task=task, webhook_id=f"msg_{task.id}", attempt=last + 1,
                                          url=task.callback_url, next_attempt_at=timezone.now())
    transaction.on_commit(partial(hand_to_queue, row.pk))
    return row


def hand_to_queue(delivery_id: int, delay: timedelta | None = None) -> bool:
    """Queue the attempt (now, or after `delay`); False when Redis cannot take it (the row stays due, and the
    reconciler queues it when Redis is back)."""
    try:
        queue = queues.get_queue("callbacks")
        job_id = delivery_job_id(delivery_id)
        if delay:
            queue.enqueue_in(delay, deliver_callback, delivery_id, job_id=job_id)
        else:
            queue.enqueue(deliver_callback, delivery_id, job_id=job_id)
    except Exception as exc:  # Redis down or refusing: the row is the truth
        log.warning("callback delivery %s not queued (%s: %s); the reconciler will queue it", delivery_id,
                    exc.__class__.__name__, exc)
        return False
    CallbackDelivery.objects.filter(pk=delivery_id).update(enqueued_at=timezone.now())
    return True


MAX_ANSWER_BYTES = 64 * 1024  # of a receiver's answer we read (and drop); a receiver that sends more is cut off


def _post(url: str, headers: dict, body: bytes, deadline_seconds: float) -> tuple[int | None, str]:
    """POST within one total deadline: connecting, sending and reading the answer (at most MAX_ANSWER_BYTES of
    it). A receiver that trickles its answer a byte at a time is cut off at the deadline instead of getting a
    fresh timeout per read."""
    try:
        netguard.check_url(url)  # again at delivery: DNS may have changed since submit
        status, _, _, _ = netguard.bounded("POST", url, deadline=deadline_seconds, max_bytes=MAX_ANSWER_BYTES,
                                           data=body, headers=headers)
        return status, ""
    except netguard.Deadline as exc:
        return None, f"timeout: {exc}"
    except netguard.UnsafeUrl as exc:
        return None, f"refused: callBackUrl {exc}"
    except Exception as exc:  # noqa: BLE001 (any failure of the receiver is an attempt's answer, never a crash)
        return None, f"{exc.__class__.__name__}: {str(exc)[:300]}"


def deliver_callback(delivery_id: int, attempt: int | None = None) -> None:
    """Make one attempt: claim its row, POST, record the answer and write the next attempt if one is due."""
    if attempt is not None:  # a job queued before the outbox: (task id, attempt)
        task = CoverTask.objects.get(pk=delivery_id)
        with transaction.atomic():
            try:
                row = CallbackDelivery.objects.create(task=task, webhook_id=f"msg_{task.id}", attempt=attempt,
                                                      url=task.callback_url, next_attempt_at=timezone.now())
            except IntegrityError:
                return  # that attempt is already in the outbox
        delivery_id = row.pk
    now = timezone.now()
    if not CallbackDelivery.objects.filter(pk=delivery_id, started_at__isnull=True).update(started_at=now):
        return  # attempted already, or under way on another worker
    row = CallbackDelivery.objects.select_related("task__organization").get(pk=delivery_id)
    with for_task(row.task_id):
        _attempt(row)


def _attempt(row: CallbackDelivery) -> None:
    task = row.task
    if DisabledEndpoint.objects.filter(organization=task.organization, url=row.url).exists():
        settle_attempt(row, None, "skipped: the endpoint answered 410 Gone earlier and is disabled", 0, retry=False)
        return
    body = json.dumps(callback_envelope(task), separators=(",", ":")).encode()
    headers = signed_headers(task.organization.webhook_keys, row.webhook_id, body)
    started = time.monotonic()
    status, error = _post(row.url, headers, body, settings.CALLBACK_TIMEOUT_SECONDS)
    settle_attempt(row, status, error, int((time.monotonic() - started) * 1000))


def settle_attempt(row: CallbackDelivery, status: int | None, error: str, duration_ms: int, *,
                   retry: bool = True) -> None:
    """Record an attempt's answer; a failure with retries left writes the next attempt (due after the schedule's
    delay) in the same transaction, then queues it."""
    schedule = settings.CALLBACK_RETRY_SCHEDULE
    row.status_code, row.error, row.duration_ms, row.finished_at = status, error[:500], duration_ms, timezone.now()
    following = None
    with transaction.atomic():
        if status == 410:
            DisabledEndpoint.objects.get_or_create(organization=row.task.organization, url=row.url)
            row.error = "410 Gone: endpoint disabled, no more retries"
        elif retry and not row.ok and row.attempt <= len(schedule):
            delay = timedelta(seconds=schedule[row.attempt - 1])
            row.next_attempt_at = timezone.now() + delay
            following, _ = CallbackDelivery.objects.get_or_create(
                task=row.task, attempt=row.attempt + 1,
                defaults={"webhook_id": row.webhook_id, "url": row.url, "next_attempt_at": row.next_attempt_at})
        else:
            row.next_attempt_at = None
            if retry and not row.ok:  # the schedule is spent: said on the row, for the dashboard and support
                what = row.error or f"HTTP {status}"
                row.error = f"{what}; given up after {row.attempt} attempts (replay it from the dashboard)"[:500]
        row.save(update_fields=["status_code", "error", "duration_ms", "finished_at", "next_attempt_at"])
        if following is not None:
            transaction.on_commit(partial(hand_to_queue, following.pk, delay))
    if row.next_attempt_at is None and not row.ok:
        log.warning("callback given up: attempt %s -> %s %s", row.attempt, status, row.error)
    else:
        log.info("callback attempt %s -> %s %s", row.attempt, status, error)
