"""The reconciler: the database says what must happen next, and this hands to Redis whatever Redis lost.

Run every 30 s by the cron process (`generation.cron`) and by `python manage.py reconcile`; safe on many
machines at once (a task is taken under a skip-locked row lock, a delivery by a conditional update, and a job
that is still queued, scheduled or running is left alone). It queues again:
- PENDING tasks with no live render job (Redis was down at submit, or flushed), per image: one job renders
  one image of a task (fan-out), and only the images with neither a stored cover nor a live job are queued;
- (a job still scheduled well past its time counts as lost: the scheduler that would have queued it died);
- GENERATING tasks with an image whose job is gone or failed (its work horse was killed, by the OOM killer say):
  run again, or after that image's last attempt, FAILED with its credits released and its callback sent;
- callback attempts that are due and not queued (Redis down when the task ended, or restarted with the retries
  it had scheduled), progress events included, in the order they were written; and attempts whose job died
  mid-post, which are recorded as such and retried (a final callback; a progress event is not retried).
"""

import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from albumart import queues
from generation.callbacks import delivery_job_id, hand_to_queue, settle_attempt
from generation.jobs import fail_task, queue_render, render_job_id
from generation.models import CallbackDelivery, CoverTask, TaskStatus

log = logging.getLogger(__name__)

LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
BATCH = 500  # rows per kind per run: a backlog drains over a few runs rather than in one long one


def _job_status(queue, job_id: str, now) -> JobStatus | None:
    """The job's status; a job still SCHEDULED well past its time counts as lost (the scheduler that would have
    queued it died, as one does when Redis goes away under it) and is taken out of the schedule."""
    try:
        status = Job.fetch(job_id, connection=queue.connection).get_status()
    except NoSuchJobError:
        return None
    if status == JobStatus.SCHEDULED:
        registry = queue.scheduled_job_registry
        try:
            due = registry.get_scheduled_time(job_id)
        except NoSuchJobError:
            return None
        if due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
        if due < now - timedelta(seconds=settings.RECONCILE_GRACE_SECONDS):
            registry.remove(job_id)
            return None
    return status


def reconcile(now=None) -> dict[str, int]:
    """One pass; returns how many of each thing it did."""
    now = now or timezone.now()
    done = {"renders_queued": 0, "renders_failed": 0, "deliveries_queued": 0, "attempts_interrupted": 0}
    try:
        _tasks(now, done)
    except Exception as exc:  # Redis still down: the rows wait for the next pass
        log.warning("reconcile: tasks skipped (%s: %s)", exc.__class__.__name__, exc)
    _interrupted_attempts(now, done)
    try:
        _deliveries(now, done)
    except Exception as exc:
        log.warning("reconcile: deliveries skipped (%s: %s)", exc.__class__.__name__, exc)
    if any(done.values()):
        log.info("reconcile: %s", done)
    return done


def _tasks(now, done: dict) -> None:
    queue = queues.get_queue("render")
    StartedJobRegistry(queue=queue).cleanup()  # jobs whose worker stopped heartbeating end as failed
    grace = now - timedelta(seconds=settings.RECONCILE_GRACE_SECONDS)
    waiting = (CoverTask.objects.filter(status=TaskStatus.PENDING, created_at__lt=grace)
               | CoverTask.objects.filter(status=TaskStatus.GENERATING, started_at__lt=grace))
    for pk in waiting.order_by("created_at").values_list("pk", flat=True)[:BATCH]:
        failed = False
        with transaction.atomic():
            task = (CoverTask.objects.select_for_update(skip_locked=True)
                    .filter(pk=pk, status__in=[TaskStatus.PENDING, TaskStatus.GENERATING]).first())
            if task is None or _job_status(queue, f"render-{pk}", now) in LIVE:  # (a job queued before fan-out)
                continue
            stored = set(task.images.values_list("index", flat=True))
            lost = [i for i in range(task.count)
                    if i not in stored and _job_status(queue, render_job_id(pk, i), now) not in LIVE]
            if not lost:
                continue
            starts = list(task.image_starts or []) + [0] * task.count
            if any(starts[i] > settings.RENDER_JOB_RETRIES for i in lost):
                failed = True  # an image whose every attempt died (after the lock: fail_task takes its own)
            elif queue_render(pk, lost):
                done["renders_queued"] += 1
                log.warning("reconcile: task %s (%s) had no live job for cover(s) %s; queued again", pk,
                            task.status, ", ".join(str(i + 1) for i in lost))
        if failed and fail_task(pk, "Rendering stopped on every attempt; credits released. Submit again, or "
                                    "contact support if it repeats."):
            done["renders_failed"] += 1
            log.error("reconcile: task %s failed after %s attempts whose jobs died", pk, task.attempts)


def _interrupted_attempts(now, done: dict) -> None:
    """Attempts claimed by a job that never recorded an answer (its work horse was killed mid-post)."""
    lost = now - timedelta(seconds=settings.CALLBACK_TIMEOUT_SECONDS + settings.RECONCILE_GRACE_SECONDS + 60)
    for row in (CallbackDelivery.objects.select_related("task__organization")
                .filter(finished_at__isnull=True, started_at__lt=lost)[:BATCH]):
        if CallbackDelivery.objects.filter(pk=row.pk, finished_at__isnull=True).update(finished_at=now):
            settle_attempt(row, None, "interrupted: the attempt's worker stopped before the answer was recorded", 0)
            done["attempts_interrupted"] += 1


def _deliveries(now, done: dict) -> None:
    queue = queues.get_queue("callbacks")
    grace = now - timedelta(seconds=settings.RECONCILE_GRACE_SECONDS)
    due = (CallbackDelivery.objects.filter(finished_at__isnull=True, started_at__isnull=True,
                                           next_attempt_at__lte=grace)
           .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=grace)).order_by("next_attempt_at", "pk"))
    for pk, enqueued in due.values_list("pk", "enqueued_at")[:BATCH]:
        if _job_status(queue, delivery_job_id(pk), now) in LIVE:
            continue
        if not CallbackDelivery.objects.filter(pk=pk, enqueued_at=enqueued).update(enqueued_at=now):
            continue  # another reconciler took it
        if hand_to_queue(pk):
            done["deliveries_queued"] += 1
