"""Signed result callbacks, the Standard Webhooks way, with retries on the `callbacks` queue.

The database is the outbox: every attempt is a CallbackDelivery row written before it is made (in the
transaction that ended the task, or with the failed attempt before it), due at `next_attempt_at`. The queue is
only how a row gets its turn: a job that Redis lost (down at commit, flushed, restarted with retries scheduled)
leaves its row due, and `reconcile` (generation/reconcile.py) hands it to the queue again. A job claims its row
(`started_at`) before posting, so a row is attempted once however many jobs carry it.

Events (`webhook_events_filter`): the final callback (`completed`) is always written and retried on the schedule.
A task that asked for them also gets progress callbacks, `started` and one `image` per stored cover, each its own
row and webhook-id, attempted once with a short deadline (as Replicate: no retries for intermediate states) and
dropped when the task's final callback has already gone out. So a progress event never follows the final one, holds
it up by a few seconds at most, and only by answering 410 (which disables the URL for every event) keeps it away.
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
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from albumart import queues
from albumart.logs import for_task
from generation import netguard
from generation.models import CallbackDelivery, CoverTask, DisabledEndpoint, WebhookEvent
from generation.taskdata import callback_envelope, progress_envelope

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
    """Write the task's next attempt of its final callback, due now, and hand it to the queue once this transaction
    commits. Called in the transaction that ends the task (or by a replay): the row commits with it, whatever Redis
    does."""
    if not task.callback_url:
        return None
    last = task.deliveries.filter(event=WebhookEvent.COMPLETED).aggregate(n=Max("attempt"))["n"] or 0
    if last and not replay:
        return None  # the task's callback is already in the outbox (a settle that ran twice)
    row = CallbackDelivery.objects.create(task=task, webhook_id=f"msg_{task.id}", attempt=last + 1,
                                          url=task.callback_url, next_attempt_at=timezone.now())
    transaction.on_commit(partial(hand_to_queue, row.pk))
    return row


def wanted_events(task: CoverTask) -> set[str]:
    """The progress events the task's request asked for (its `webhook_events_filter`); `completed` goes regardless."""
    return set(task.params.get("webhook_events_filter") or ()) - {WebhookEvent.COMPLETED}


def enqueue_progress(task: CoverTask, event: str, image_index: int | None = None) -> CallbackDelivery | None:
    """Write a progress callback (`started`, or `image` with the cover's index) if the task asked for it, in the
    caller's transaction (the one that started the task or stored the cover), and queue it once that commits."""
    if not task.callback_url or event not in wanted_events(task):
        return None
    webhook_id = f"msg_{task.id}_{event}" + ("" if image_index is None else f"_{image_index}")
    row, created = CallbackDelivery.objects.get_or_create(
        task=task, webhook_id=webhook_id, attempt=1,
        defaults={"event": event, "image_index": image_index, "url": task.callback_url,
                  "next_attempt_at": timezone.now()})
    if created:
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


GONE = "410 Gone: endpoint disabled, no more retries"
SKIPPED_GONE = "skipped: the endpoint answered 410 Gone earlier and is disabled"
SUPERSEDED = "skipped: the task's completed callback went out first (a progress event never follows it)"
# A progress event's own deadline: a slow receiver holds the callbacks worker (and the final callback queued behind
# it) for a few seconds at most, not the final callback's full timeout.
PROGRESS_TIMEOUT_SECONDS = 5


def callback_body(row: CallbackDelivery) -> dict:
    """The JSON an attempt posts: the final callback in the task's dialect, or a progress event (native format)."""
    if row.event == WebhookEvent.COMPLETED:
        return callback_envelope(row.task)
    return progress_envelope(row.task, row.event, row.image_index)


def _attempt(row: CallbackDelivery) -> None:
    task = row.task
    if DisabledEndpoint.objects.filter(organization=task.organization, url=row.url).exists():
        settle_attempt(row, None, SKIPPED_GONE, 0, retry=False)
        return
    progress = row.event != WebhookEvent.COMPLETED
    if progress and task.deliveries.filter(event=WebhookEvent.COMPLETED, started_at__isnull=False).exists():
        settle_attempt(row, None, SUPERSEDED, 0, retry=False)
        return
    body = json.dumps(callback_body(row), separators=(",", ":")).encode()
    headers = signed_headers(task.organization.webhook_keys, row.webhook_id, body)
    timeout = settings.CALLBACK_TIMEOUT_SECONDS
    started = time.monotonic()
    status, error = _post(row.url, headers, body, min(timeout, PROGRESS_TIMEOUT_SECONDS) if progress else timeout)
    settle_attempt(row, status, error, int((time.monotonic() - started) * 1000))


def settle_attempt(row: CallbackDelivery, status: int | None, error: str, duration_ms: int, *,
                   retry: bool = True) -> None:
    """Record an attempt's answer; a failure of the final callback with retries left writes the next attempt (due
    after the schedule's delay) in the same transaction, then queues it. A progress event is never retried."""
    schedule = settings.CALLBACK_RETRY_SCHEDULE
    row.status_code, row.error, row.duration_ms, row.finished_at = status, error[:500], duration_ms, timezone.now()
    retry = retry and row.event == WebhookEvent.COMPLETED
    following = None
    with transaction.atomic():
        if status == 410:  # whatever the event: the receiver says the URL is gone
            DisabledEndpoint.objects.get_or_create(organization=row.task.organization, url=row.url)
            row.error, row.next_attempt_at = GONE, None
        elif retry and not row.ok and row.attempt <= len(schedule):
            delay = timedelta(seconds=schedule[row.attempt - 1])
            row.next_attempt_at = timezone.now() + delay
            following, _ = CallbackDelivery.objects.get_or_create(
                task=row.task, webhook_id=row.webhook_id, attempt=row.attempt + 1,
                defaults={"url": row.url, "next_attempt_at": row.next_attempt_at})
        else:
            row.next_attempt_at = None
            if retry and not row.ok:  # the schedule is spent: said on the row, for the dashboard and support
                what = row.error or f"HTTP {status}"
                row.error = f"{what}; given up after {row.attempt} attempts (replay it from the dashboard)"[:500]
            elif not row.ok and row.event != WebhookEvent.COMPLETED and not row.error.startswith("skipped"):
                row.error = f"{row.error or f'HTTP {status}'}; a progress event is not retried"[:500]
        row.save(update_fields=["status_code", "error", "duration_ms", "finished_at", "next_attempt_at"])
        if following is not None:
            transaction.on_commit(partial(hand_to_queue, following.pk, delay))
    if row.next_attempt_at is None and not row.ok and row.event == WebhookEvent.COMPLETED:
        log.warning("callback given up: %s attempt %s -> %s %s", row.event, row.attempt, status, row.error)
    else:
        log.info("callback attempt: %s attempt %s -> %s %s", row.event, row.attempt, status, error)


def given_up_because_gone(org, url: str):
    """The final callbacks to `url` that a 410 ended: per task of the organisation, its last attempt was the 410
    itself or was skipped while the URL was disabled (a later attempt, such as a replay, means it is not given up)."""
    later = CallbackDelivery.objects.filter(task=OuterRef("task"), event=WebhookEvent.COMPLETED,
                                            attempt__gt=OuterRef("attempt"))
    return (CallbackDelivery.objects.filter(task__organization=org, url=url, event=WebhookEvent.COMPLETED,
                                            finished_at__isnull=False)
            .filter(Q(status_code=410) | Q(error=SKIPPED_GONE)).exclude(Exists(later)))


def enable_endpoint(org, url: str) -> int | None:
    """Re-enable a callback URL that a 410 disabled; None when it is not disabled for this organisation. The final
    callbacks given up because of the 410 are queued again (one more attempt each, as a replay), and their number
    returned; the progress events are not, since the final callback carries everything they said."""
    with transaction.atomic():
        if not DisabledEndpoint.objects.filter(organization=org, url=url).delete()[0]:
            return None
        tasks = CoverTask.objects.select_for_update().filter(
            pk__in=given_up_because_gone(org, url).values("task_id"), callback_url=url).order_by("completed_at")
        requeued = sum(enqueue_delivery(task, replay=True) is not None for task in tasks)
    log.info("callback URL re-enabled for organisation %s: %s final callback(s) queued again", org.pk, requeued)
    return requeued
