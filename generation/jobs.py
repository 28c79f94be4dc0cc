"""RQ jobs: render a task's covers on the `render` queue; sweep tasks whose jobs were lost."""

import hashlib
import hmac
import logging
import pickle
import random
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rq import Callback, Queue, Retry

from albumart import metrics, queues
from albumart.logs import for_task
from generation import credits, engine, files, renditions
from generation.callbacks import enqueue_delivery, enqueue_progress
from generation.engine import sentinel
from generation.models import CoverImage, CoverTask, TaskStatus, Verdict, WebhookEvent

log = logging.getLogger(__name__)


def render_job_id(task_id: str, index: int) -> str:
    return f"render-{task_id}-{index}"


def enqueue_render(task: CoverTask) -> None:
    """Queue the render after the submitting transaction commits, so the worker always finds the row. The task
    row is the truth: if Redis cannot take the jobs, the task waits PENDING and the reconciler queues them."""
    transaction.on_commit(partial(queue_render, task.id, range(task.count)))


def queue_render(task_id: str, indexes) -> bool:
    """Hand one job per image to the queue now (fan-out: the covers of one task render on as many workers as are
    free); False (logged) when Redis cannot take them."""
    retries = settings.RENDER_JOB_RETRIES
    queue = queues.get_queue("render")
    try:
        queue.enqueue_many([  # one pipeline: all of the task's jobs are queued, or none
            Queue.prepare_data(render_image, (task_id, index), job_id=render_job_id(task_id, index),
                               retry=Retry(max=retries, interval=[2] * retries) if retries else None,
                               on_failure=Callback(on_render_failure))
            for index in indexes])
    except Exception as exc:  # Redis down or refusing: the PENDING row is the outbox
        log.warning("render %s not queued (%s: %s); the reconciler will queue it", task_id, exc.__class__.__name__,
                    exc)
        return False
    return True


def plain(value):
    """Measurements as JSON-ready Python values (the engine may hand back numpy scalars and tuples)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


RESEED_STEP = 1_000_003  # a regeneration's seed offset: far from the next image's seed (base + index)


def spec_for(task: CoverTask, index: int, photo, attempt: int = 0) -> engine.CoverSpec:
    """The spec of image `index`; a regeneration (attempt > 0) gets a new seed, still reproducible from the base."""
    p = task.params
    variant = p.get("variant_lock") or engine.VARIANTS[index % len(engine.VARIANTS)]
    base_seed = p.get("seed")
    if base_seed is not None:
        seed = (base_seed + index + attempt * RESEED_STEP) % 2**63
    else:
        seed = random.SystemRandom().randrange(2**31)
    return engine.CoverSpec(
        genre=task.genre, artist=p["text_artist"], album=p["text_album"], feature=p.get("text_feature") or None,
        variant=variant, size=p.get("size", 3000), seed=seed, output_format=p.get("output_format", "png"),
        jpeg_quality=p.get("jpeg_quality", 92), explicit=p.get("explicit", False),
        palette=tuple(p["palette"]) if p.get("palette") else None, photo=photo,
        segmentation=settings.ALBUMART_SEGMENTATION, model_dir=settings.ALBUMART_MODEL_DIR,
        background_backend=settings.ALBUMART_BACKGROUND, diffusion_model=settings.ALBUMART_DIFFUSION_MODEL or None,
        style=p.get("style", ""), mood=p.get("mood", ""), style_tags=p.get("style_tags", ""),
        lyrics=p.get("lyrics", ""),
        text_position=p.get("text_position", "auto"), background_intensity=p.get("background_intensity", 0.5),
        subject_crop=p.get("subject_crop", "auto"),
        reference_palette=tuple(p["reference_palette"]) if p.get("reference_palette") else None,
    )


def known_hashes(task: CoverTask):
    """(pHash, colour signature) of the organisation's delivered covers of other releases, behind the reuse index.

    Reused artwork is a store's objection to one cover on two releases, so the covers of the task's own release
    are left out: its family (its parent and the parent's other variations: a variation is meant to look like its
    parent) and every task of the organisation with the same client taskId or the same artist and title
    (CoverTask.same_release): a resubmission of a release with the same photo and text is not a reuse.

    The Sentinel's reuse check asks the index (at check time) only for the covers near the new cover's hash: one
    query on the indexed reuse_key0..3 columns (organisation x 65536 + pHash band), then one for the release,
    organisation and colour signature of the few that matter. Iterated, it lists every (pHash, colour signature)
    pair, as this function used to return.
    """
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    from generation.engine.sentinel.phash import IndexedHashes

    root = task.parent_id or task.id
    delivered = CoverImage.objects.filter(passed=True).exclude(phash="").exclude(task_id__in=[task.id, root])
    counted = delivered.filter(task__organization_id=task.organization_id).exclude(task__parent_id=root)
    if (same_release := task.same_release("task__")) is not None:
        counted = counted.exclude(same_release)
    quote, table = connection.ops.quote_name, connection.ops.quote_name(CoverImage._meta.db_table)
    scope = int(task.organization_id) * 65536

    def candidates(keys: list[list[int]]):
        # The ~430 keys go in as SQL integers (int() makes them safe): ~5 ms less than as many `__in` parameters
        # built by the ORM. A row without its organisation (a bulk_create that left it out) is always a candidate.
        # No join: the family and the organisation are checked on the few candidates that matter (counted).
        match = " OR ".join(f"{table}.{quote(f'reuse_key{n}')} IN ({','.join(str(scope + int(v)) for v in values)})"
                            for n, values in enumerate(keys))
        match += f" OR {table}.{quote('organization_id')} IS NULL"
        # Sorted here, not by the database: ORDER BY would have SQLite scan the table in its order.
        return sorted(delivered.filter(RawSQL(f"({match})", (), output_field=BooleanField())).order_by()
                      .values_list("pk", "phash"))

    def signatures(pks: list[int]) -> dict:
        return dict(counted.filter(pk__in=pks).order_by().values_list("pk", "qa__values__colour_signature"))

    return IndexedHashes(candidates, signatures,
                         counted.order_by("pk").values_list("phash", "qa__values__colour_signature").all)


@dataclass(frozen=True)
class TaskPhoto:
    image: object  # the decoded PIL image (the spec keeps it for the diffusion backend's img2img)
    prepared: engine.PreparedPhoto


def render_checked(task: CoverTask, index: int, photo, known) -> tuple[engine.CoverSpec, engine.RenderResult, dict,
                                                                        int]:
    """Render image `index`, regenerating with a new seed while the Sentinel fails it; the last attempt counts."""
    texts = {"artist": task.params["text_artist"], "album": task.params["text_album"],
             "feature": task.params.get("text_feature") or None}
    attempts = 1 + settings.QA_MAX_ATTEMPTS
    history = []
    for attempt in range(attempts):
        spec = spec_for(task, index, photo.image if photo else None, attempt)
        started = time.monotonic()
        result = engine.render(spec, photo.prepared if photo else None)
        rendered = time.monotonic()
        qa = sentinel.check(result, result.measurements, requested_size=spec.size, texts=texts,
                            known_hashes=known, ocr=settings.QA_OCR)
        metrics.observe(rendered - started, time.monotonic() - rendered, qa["verdict"])
        history.append({"seed": spec.seed, "verdict": qa["verdict"],
                        "failed": sorted(k for k, v in qa["checks"].items() if v == "fail")})
        if qa["verdict"] != Verdict.FAIL:
            break
    qa["attempts"] = history
    return spec, result, qa, len(history)


def render_image(task_id: str, index: int) -> str:
    """The fan-out job: render image `index` of the task; the last image to be stored settles the task."""
    with for_task(task_id):
        return _render_image(task_id, index)


def render_task(task_id: str) -> str:
    """Render every image the task still lacks in this process, one after another (the embedded path and the
    tests; the workers run one `render_image` job per image)."""
    with for_task(task_id):
        outcome = "done"
        for index in range(CoverTask.objects.get(pk=task_id).count):
            outcome = _render_image(task_id, index)
        return outcome


def _claim(task_id: str, index: int) -> CoverTask | None:
    """Under the task's row lock: None when there is nothing left to do for this image (the task ended or waits
    for staff, or the image is stored already: a duplicate or late job); else count the start, the task's first
    moving it to GENERATING."""
    with transaction.atomic():
        task = CoverTask.objects.select_for_update().get(pk=task_id)
        if task.is_terminal or task.status == TaskStatus.REVIEW or task.images.filter(index=index).exists():
            return None
        starts = list(task.image_starts or []) + [0] * task.count
        starts = starts[:task.count]
        starts[index] += 1
        task.image_starts = starts
        if task.status == TaskStatus.PENDING:
            task.start()
            enqueue_progress(task, WebhookEvent.STARTED)  # when the request's webhook_events_filter asks for it
        task.attempts = max(starts)
        task.save(update_fields=["image_starts", "attempts"])
    return task


def prepare_task_photo(task: CoverTask) -> TaskPhoto | None:
    """The task's photo, decoded and prepared (faces, mask, gate). Each image job can run on its own machine, so
    the first to prepare the photo stores the result next to it (signed, so only what we wrote is ever loaded)
    and the later ones, the task's retries and its variations load it in a fraction of the time. The image jobs
    of one task start together: one prepares while the others wait for its copy, instead of all of them
    preparing the same photo at once on the same cores."""
    if not task.source_path:
        return None
    image = engine.load_photo(files.read(task.source_path))
    key = f"{task.source_path}.prepared-{settings.ALBUMART_SEGMENTATION}-{PREPARED_STAMP}"
    prepared = _load_prepared(key, image)
    if prepared is None:
        with _one_at_a_time(key):
            prepared = _load_prepared(key, image)  # another job prepared it while this one waited
            if prepared is None:
                prepared = engine.prepare_photo(image, segmentation=settings.ALBUMART_SEGMENTATION,
                                                model_dir=settings.ALBUMART_MODEL_DIR)
                _store_prepared(key, prepared)
    return TaskPhoto(image, prepared)


PREPARE_WAIT_SECONDS = 60  # past this, a job prepares the photo itself rather than wait for a stuck one


@contextmanager
def _one_at_a_time(key: str):
    """A PostgreSQL advisory lock named after `key`, held while the body runs; on another database, no lock.

    The lock belongs to the database session, so a work horse that dies while holding it (SIGKILL, the OOM
    killer) releases it with its connection. Waiting is bounded: after PREPARE_WAIT_SECONDS the body runs anyway.
    """
    if connection.vendor != "postgresql":
        yield
        return
    name = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    deadline = time.monotonic() + PREPARE_WAIT_SECONDS
    locked = False
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [name])
            locked = cursor.fetchone()[0]
            if locked or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    try:
        yield
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [name])


# Another shape of PreparedPhoto (a deploy changed it) is another file, never a wrong read of this one.
PREPARED_STAMP = f"{zlib.crc32(repr([(f.name, str(f.type)) for f in fields(engine.PreparedPhoto)]).encode()):08x}"


def _mac(data: bytes) -> bytes:
    return salted_hmac("albumart.prepared-photo", data, algorithm="sha256").digest()


def _store_prepared(key: str, prepared: engine.PreparedPhoto) -> None:
    """The prepared photo without its pixels: they are the source's own with the found lettering blurred, made
    again on load in a few milliseconds, while compressing them took longer than everything else together."""
    data = zlib.compress(pickle.dumps(replace(prepared, pixels=None), protocol=5), 1)
    try:
        files.save(key, _mac(data) + data)
    except Exception as exc:  # only a cache: the next job prepares the photo again
        log.warning("prepared photo not stored (%s: %s)", exc.__class__.__name__, exc)


def _load_prepared(key: str, image) -> engine.PreparedPhoto | None:
    try:
        blob = files.read(key)
    except Exception:  # not there yet (the first job), or the store could not answer: prepare it
        return None
    mac, data = blob[:32], blob[32:]
    if not hmac.compare_digest(mac, _mac(data)):
        log.warning("prepared photo %s has a bad signature; preparing it again", key)
        return None
    try:
        prepared = pickle.loads(zlib.decompress(data))  # noqa: S301 - our own bytes: the signature says so
    except Exception as exc:  # written by another version of the engine
        log.warning("prepared photo %s unreadable (%s); preparing it again", key, exc.__class__.__name__)
        return None
    if not isinstance(prepared, engine.PreparedPhoto):
        return None
    return replace(prepared, pixels=engine.scrubbed_pixels(image, prepared.text))


def _render_image(task_id: str, index: int) -> str:
    task = _claim(task_id, index)
    if task is None:
        return "skipped"
    log.info("render started: cover %s of %s, start %s", index + 1, task.count, task.image_starts[index])
    source = task.source_path
    spec, result, qa, attempts = render_checked(task, index, prepare_task_photo(task), known_hashes(task))
    data, phash = result.data, qa["values"].get("phash", "")
    if task.sandbox:
        # Watermarked after the Sentinel, which so judges the cover a live key would get: over it, the band and its
        # lettering would read as stray text, cut the title's contrast and move the hashes. Kept out of the reuse
        # index (no phash): test covers must not make a live cover of the same artwork look reused.
        data, phash = engine.watermark_result(result, spec.jpeg_quality), ""
    ext = "jpg" if result.format == "jpeg" else "png"
    path = files.save(f"covers/{task.organization_id}/{task.id}/{index}.{ext}", data)
    # The platform presets, from the cover as delivered. A cover under staff review gets them too: approved, it is
    # delivered with them; a failed one is never delivered, so nothing is made for it.
    wanted = (task.params.get("renditions") or []) if qa["verdict"] != Verdict.FAIL else []
    made = renditions.store(data, wanted, path, task.params["text_artist"], task.params["text_album"])
    with transaction.atomic():
        # The row lock orders the images' arrivals: the one that finds every image stored settles the task, and
        # settle_render's own check of the status (GENERATING -> an end or REVIEW) makes that happen once.
        task = CoverTask.objects.select_for_update().get(pk=task_id)
        if task.images.filter(index=index).exists():
            return "skipped"  # a duplicate job stored this image (at the same path)
        if task.status != TaskStatus.GENERATING:
            for stored in [path, *renditions.stored_paths(made)]:
                transaction.on_commit(partial(files.delete, stored))
            if task.deleted_at and source and not CoverTask.objects.filter(source_path=source).exists():
                # Cancelled and deleted while this job ran: the prepared photo it may have cached goes as well.
                transaction.on_commit(partial(files.delete_source, source))
            return "skipped"  # the task ended meanwhile (failed, swept, cancelled): settled without this one
        CoverImage.objects.create(
            task=task, index=index, variant=spec.variant, seed=spec.seed, format=result.format,
            width=result.width, height=result.height, bytes=len(data), storage_path=path,
            filename=result.filename, passed=qa["verdict"] == Verdict.PASS, verdict=qa["verdict"],
            attempts=attempts, phash=phash, qa=plain(qa),
            measurements=plain(result.measurements), renditions=made,
        )
        # Before the final callback that the last cover's settle writes: the queue gets them in this order.
        enqueue_progress(task, WebhookEvent.IMAGE, index)
        if task.images.count() < task.count:
            return "stored"
        settle_render(task_id)
    return "done"


def settle_render(task_id: str) -> None:
    """After rendering: charge what passed, release what failed; the task ends, or waits in REVIEW for staff."""
    with transaction.atomic():
        task = CoverTask.objects.select_for_update().select_related("organization").get(pk=task_id)
        if task.status != TaskStatus.GENERATING:
            return
        verdicts = list(task.images.values_list("verdict", flat=True))
        passed = verdicts.count(Verdict.PASS)
        review = verdicts.count(Verdict.REVIEW)
        if not review:
            finish_task(task_id, passed)
            return
        credits.settle(task, charge=passed, release=task.credits_held - passed - review)
        task.await_review(held=review, charged=passed)  # the callback waits for the last staff decision


def finish_task(task_id: str, passed: int) -> None:
    """Charge what passed, release the rest, end the task, and queue its callback: exactly once."""
    with transaction.atomic():
        task = CoverTask.objects.select_for_update().select_related("organization").get(pk=task_id)
        if task.is_terminal:
            return
        credits.settle(task, charge=passed, release=task.credits_held - passed)
        task.finish(passed)
        enqueue_delivery(task)


def fail_task(task_id: str, message: str) -> bool:
    """End an unfinished task whose rendering cannot go on (a job failed for good, the reconciler gave up, the
    deadline passed); False if it had already ended. The covers that passed before are charged and stay
    delivered (they were already listed), so the task ends PARTIAL; with none it ends FAILED. Every other held
    credit is released."""
    with transaction.atomic():
        task = CoverTask.objects.select_for_update().select_related("organization").get(pk=task_id)
        if task.is_terminal:
            return False
        passed = task.images.filter(passed=True).count() if task.status == TaskStatus.GENERATING else 0
        credits.settle(task, charge=passed, release=task.credits_held - passed)
        if passed:
            task.end_incomplete(passed, f"{passed} of {task.count} covers delivered; the others: {message}")
        else:
            task.fail(message)
        enqueue_delivery(task)
    return True


def on_render_failure(job, connection, exc_type, exc_value, tb) -> None:
    """RQ calls this on every failure, also those it will retry; only the last one ends the task."""
    if job.retries_left:
        log.warning("render %s failed (%s); %s retries left", job.id, exc_type.__name__, job.retries_left)
        return
    log.error("render %s failed for good: %s", job.id, exc_value)
    fail_task(job.args[0], "Rendering failed; credits released. Submit again, or contact support if it repeats.")


def sweep_stuck_tasks(now=None) -> int:
    """Fail tasks still waiting past their deadline (their job was lost with Redis, or every retry died)."""
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.TASK_DEADLINE_SECONDS)
    stuck = CoverTask.objects.filter(status__in=[TaskStatus.PENDING, TaskStatus.GENERATING], created_at__lt=deadline)
    return sum(fail_task(pk, "The task did not finish in time; credits released.") for pk in stuck.values_list("pk",
                                                                                                                flat=True))
