"""RQ jobs: render a task's covers on the `render` queue; sweep tasks whose jobs were lost."""

import logging
import random
from datetime import timedelta
from functools import partial

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rq import Retry

from billing import ledger
from generation import engine, files
from generation.callbacks import enqueue_delivery
from generation.models import CoverImage, CoverTask, TaskStatus

log = logging.getLogger(__name__)


def enqueue_render(task: CoverTask) -> None:
    """Queue the render after the submitting transaction commits, so the worker always finds the row."""
    retries = settings.RENDER_JOB_RETRIES
    job = partial(
        django_rq.get_queue("render").enqueue,
        render_task, task.id,
        job_id=f"render-{task.id}",
        retry=Retry(max=retries, interval=[2] * retries) if retries else None,
        on_failure=on_render_failure,
    )
    transaction.on_commit(job)


def plain(value):
    """Measurements as JSON-ready Python values (the engine may hand back numpy scalars and tuples)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def spec_for(task: CoverTask, index: int, photo) -> engine.CoverSpec:
    p = task.params
    variant = p.get("variant_lock") or engine.VARIANTS[index % len(engine.VARIANTS)]
    base_seed = p.get("seed")
    seed = (base_seed + index) if base_seed is not None else random.SystemRandom().randrange(2**31)
    return engine.CoverSpec(
        genre=task.genre, artist=p["text_artist"], album=p["text_album"], feature=p.get("text_feature") or None,
        variant=variant, size=p.get("size", 3000), seed=seed, output_format=p.get("output_format", "png"),
        jpeg_quality=p.get("jpeg_quality", 92), explicit=p.get("explicit", False),
        palette=tuple(p["palette"]) if p.get("palette") else None, photo=photo,
    )


def render_task(task_id: str) -> str:
    with transaction.atomic():
        task = CoverTask.objects.select_for_update().get(pk=task_id)
        if task.is_terminal:
            return task.status  # a duplicate or late job: nothing to do
        task.images.all().delete()  # a retried job starts over
        task.start()
    photo = engine.load_photo(files.read(task.source_path)) if task.source_path else None
    passed = 0
    for index in range(task.count):
        spec = spec_for(task, index, photo)
        result = engine.render(spec)
        qa = engine.basic_qa(result, requested_size=spec.size)
        ext = "jpg" if result.format == "jpeg" else "png"
        path = files.save(f"covers/{task.organization_id}/{task.id}/{index}.{ext}", result.data)
        CoverImage.objects.create(
            task=task, index=index, variant=spec.variant, seed=spec.seed, format=result.format,
            width=result.width, height=result.height, bytes=len(result.data), storage_path=path,
            filename=result.filename, passed=bool(qa["passed"]), qa=plain(qa), measurements=plain(result.measurements),
        )
        passed += qa["passed"]
    finish_task(task_id, passed)
    return "done"


def finish_task(task_id: str, passed: int) -> None:
    """Charge what passed, release the rest, end the task, and queue its callback: exactly once."""
    with transaction.atomic():
        task = CoverTask.objects.select_for_update().select_related("organization").get(pk=task_id)
        if task.is_terminal:
            return
        held = task.credits_held
        if passed:
            ledger.charge(task.organization, passed, task)
        if held - passed:
            ledger.release(task.organization, held - passed, task)
        task.finish(passed)
        enqueue_delivery(task)


def fail_task(task_id: str, message: str) -> bool:
    """End an unfinished task as FAILED with every held credit released; False if it had already ended."""
    with transaction.atomic():
        task = CoverTask.objects.select_for_update().select_related("organization").get(pk=task_id)
        if task.is_terminal:
            return False
        if task.credits_held:
            ledger.release(task.organization, task.credits_held, task)
        task.fail(message)
        enqueue_delivery(task)
    return True


def on_render_failure(job, connection, exc_type, exc_value, tb) -> None:
    """RQ calls this on every failure, also those it will retry; only the last one ends the task."""
    if job.retries_left:
        log.warning("render %s failed (%s); %s retries left", job.args[0], exc_type.__name__, job.retries_left)
        return
    log.error("render %s failed for good: %s", job.args[0], exc_value)
    fail_task(job.args[0], "Rendering failed; credits released. Submit again, or contact support if it repeats.")


def sweep_stuck_tasks(now=None) -> int:
    """Fail tasks still waiting past their deadline (their job was lost with Redis, or every retry died)."""
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.TASK_DEADLINE_SECONDS)
    stuck = CoverTask.objects.filter(status__in=[TaskStatus.PENDING, TaskStatus.GENERATING], created_at__lt=deadline)
    return sum(fail_task(pk, "The task did not finish in time; credits released.") for pk in stuck.values_list("pk",
                                                                                                                flat=True))
