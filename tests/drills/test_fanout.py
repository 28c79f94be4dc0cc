"""Fan-out: one render job per image, so the covers of one task render on several workers at once; the last image
to be stored settles the task, exactly once."""

import threading
from datetime import timedelta

import django_rq
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from rq.job import Job

from billing import ledger
from billing.models import CreditEntry
from generation import files, jobs
from generation.models import CallbackDelivery, CoverTask, TaskStatus
from generation.reconcile import reconcile
from tests.conftest import assert_ledger_consistent, make_org
from tests.drills.test_outbox import submit
from tests.live import Worker, empty_queues, wait_for
from tests.test_review_flow import qa

pytestmark = pytest.mark.django_db(transaction=True)


def held_task(org, count: int, **fields) -> CoverTask:
    """A submitted task as the API leaves it: its credits held, waiting PENDING (no job queued)."""
    task = CoverTask.objects.create(organization=org, genre="hiphop", count=count,
                                    params={"text_artist": "NOVA", "text_album": "STILL STANDING", "seed": 5,
                                            "size": 1400}, **fields)
    ledger.hold(org, count, task)
    task.credits_held = count
    task.save(update_fields=["credits_held"])
    return task


def test_two_workers_render_the_images_of_one_task_at_once(live):
    workers = [Worker(live.url).start() for _ in range(2)]
    org = make_org("Fan Records", credits=10)
    try:
        response = submit(org, live.url, count=3, size=1400)
        task_id = response.json()["data"]["taskId"]
        wait_for(lambda: CoverTask.objects.get(pk=task_id).is_terminal, timeout=240, what="the task to end")
    finally:
        logs = [w.stop() for w in workers]
    task = CoverTask.objects.get(pk=task_id)
    assert task.status == TaskStatus.SUCCESS, (task.status, logs[0][-2000:], logs[1][-2000:])
    queue = django_rq.get_queue("render")
    ran = [Job.fetch(jobs.render_job_id(task_id, i), connection=queue.connection) for i in range(3)]
    assert len({job.worker_name for job in ran}) == 2  # both workers took images of the one task
    first, second = sorted(ran, key=lambda job: job.started_at)[:2]
    assert second.started_at < first.ended_at  # ... at the same time
    assert task.image_starts == [1, 1, 1] and task.attempts == 1
    charges = CreditEntry.objects.filter(task=task, kind=CreditEntry.Kind.CHARGE)
    assert [e.amount for e in charges] == [3]  # settled once, by the last image
    assert (ledger.account(org).balance, ledger.account(org).held) == (7, 0)
    assert_ledger_consistent(org)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the row lock that orders the images is PostgreSQL's")
def test_images_stored_at_the_same_moment_settle_the_task_once(monkeypatch):
    org = make_org("Race Records", credits=10)
    task = held_task(org, count=2, callback_url="https://hooks.example.com/covers")
    monkeypatch.setattr(jobs.sentinel, "check", lambda *a, **k: qa("pass", phash=""))
    both_rendered = threading.Barrier(2, timeout=60)
    real_save = files.save

    def save(path, data):  # both images reach the store step together
        stored = real_save(path, data)
        both_rendered.wait()
        return stored

    monkeypatch.setattr(jobs.files, "save", save)
    outcomes, errors = [], []

    def run(index):
        try:
            outcomes.append(jobs.render_image(task.id, index))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(outcomes) == ["done", "stored"]  # one stored and left the task, the other found both and settled
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCESS and task.credits_charged == 2 and task.credits_held == 0
    assert CreditEntry.objects.filter(task=task, kind=CreditEntry.Kind.CHARGE).count() == 1
    assert CallbackDelivery.objects.filter(task=task).count() == 1
    assert (ledger.account(org).balance, ledger.account(org).held) == (8, 0)
    assert_ledger_consistent(org)


def test_an_image_finished_after_its_task_ended_is_thrown_away(monkeypatch):
    org = make_org("Late Records", credits=10)
    task = held_task(org, count=1)
    monkeypatch.setattr(jobs.sentinel, "check", lambda *a, **k: qa("pass", phash=""))
    real_render = jobs.engine.render

    def render(spec, photo=None):  # the sweep fails the task while its image renders
        result = real_render(spec, photo)
        assert jobs.fail_task(task.id, "The task did not finish in time; credits released.")
        return result

    monkeypatch.setattr(jobs.engine, "render", render)
    assert jobs.render_image(task.id, 0) == "skipped"
    task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and not task.images.exists()
    assert not default_storage.exists(f"covers/{org.id}/{task.id}/0.png")  # the orphan file is deleted
    assert jobs.render_image(task.id, 0) == "skipped"  # a late retry does nothing either
    assert (ledger.account(org).balance, ledger.account(org).held) == (10, 0)
    assert_ledger_consistent(org)


def test_the_reconciler_queues_only_the_images_with_neither_a_cover_nor_a_live_job(monkeypatch):
    org = make_org("Gap Records", credits=10)
    task = held_task(org, count=3)
    monkeypatch.setattr(jobs.sentinel, "check", lambda *a, **k: qa("pass", phash=""))
    empty_queues()
    queue = django_rq.get_queue("render")
    try:
        assert jobs.render_image(task.id, 0) == "stored"  # image 0 done; the task is GENERATING
        queue.enqueue(jobs.render_image, task.id, 2, job_id=jobs.render_job_id(task.id, 2))  # image 2 waits
        CoverTask.objects.filter(pk=task.id).update(started_at=timezone.now() - timedelta(minutes=5))
        later = timezone.now() + timedelta(seconds=settings.RECONCILE_GRACE_SECONDS + 1)
        assert reconcile(later)["renders_queued"] == 1
        assert sorted(queue.get_job_ids()) == sorted([jobs.render_job_id(task.id, 1), jobs.render_job_id(task.id, 2)])
        assert reconcile(later)["renders_queued"] == 0  # every missing image has a live job now
    finally:
        empty_queues()


def test_an_image_whose_every_start_died_fails_the_task_with_its_credits_released(monkeypatch, settings):
    settings.RENDER_JOB_RETRIES = 1
    org = make_org("Dead Records", credits=10)
    task = held_task(org, count=2)
    empty_queues()
    # Image 1 was started twice (its work horses killed); no job of the task is live.
    CoverTask.objects.filter(pk=task.id).update(status=TaskStatus.GENERATING, image_starts=[1, 2], attempts=2,
                                                started_at=timezone.now() - timedelta(minutes=5))
    later = timezone.now() + timedelta(seconds=settings.RECONCILE_GRACE_SECONDS + 1)
    assert reconcile(later) == {"renders_queued": 0, "renders_failed": 1, "deliveries_queued": 0,
                                "attempts_interrupted": 0}
    task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and task.credits_held == 0
    assert (ledger.account(org).balance, ledger.account(org).held) == (10, 0)
    assert_ledger_consistent(org)


def test_the_photo_is_prepared_once_and_a_tampered_copy_is_never_loaded(monkeypatch, astronaut_jpeg, tmp_path,
                                                                       settings):
    settings.MEDIA_ROOT = str(tmp_path)  # no preparation left from an earlier run
    org = make_org("Prep Records", credits=10)
    task = held_task(org, count=3, source_path=files.save(f"sources/{org.pk}/prep-test", astronaut_jpeg))
    monkeypatch.setattr(jobs.sentinel, "check", lambda *a, **k: qa("pass", phash=""))
    real_prepare = jobs.engine.prepare_photo
    prepared = []
    monkeypatch.setattr(jobs.engine, "prepare_photo", lambda *a, **k: prepared.append(1) or real_prepare(*a, **k))
    seen = []
    real_render = jobs.engine.render
    monkeypatch.setattr(jobs.engine, "render", lambda spec, photo=None: seen.append(photo) or real_render(spec, photo))
    assert jobs.render_image(task.id, 0) == "stored"
    assert jobs.render_image(task.id, 1) == "stored"
    assert len(prepared) == 1  # the second image job loaded the first one's preparation
    assert seen[1].faces == seen[0].faces and (seen[1].mask == seen[0].mask).all()
    assert (seen[1].pixels == seen[0].pixels).all() and not seen[1].pixels.flags.writeable
    key = f"{task.source_path}.prepared-{settings.ALBUMART_SEGMENTATION}-{jobs.PREPARED_STAMP}"
    blob = bytearray(files.read(key))
    blob[-1] ^= 0xFF
    files.save(key, bytes(blob))
    assert jobs.render_image(task.id, 2) == "done"
    assert len(prepared) == 2  # a copy that fails its signature is prepared again, not unpickled
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCESS and task.credits_charged == 3


def test_image_jobs_that_start_together_prepare_the_photo_once(monkeypatch, astronaut_jpeg, tmp_path, settings):
    """Three image jobs start at once on three workers: one prepares the photo, the other two wait for its copy
    instead of preparing the same photo on the same cores."""
    if connection.vendor != "postgresql":
        pytest.skip("the wait is a PostgreSQL advisory lock; other databases prepare in every job")
    settings.MEDIA_ROOT = str(tmp_path)
    org = make_org("Together Records", credits=10)
    task = held_task(org, count=3, source_path=files.save(f"sources/{org.pk}/together", astronaut_jpeg))
    real_prepare = jobs.engine.prepare_photo
    prepared, inside = [], []

    def slow_prepare(*args, **kwargs):
        inside.append(1)
        assert len(inside) == 1, "two jobs prepared the photo at the same time"
        prepared.append(1)
        try:
            return real_prepare(*args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(jobs.engine, "prepare_photo", slow_prepare)
    results, errors = [], []
    start = threading.Barrier(3)

    def job():
        try:
            start.wait()
            results.append(jobs.prepare_task_photo(CoverTask.objects.get(pk=task.pk)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=job) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(prepared) == 1 and len(results) == 3
    first = results[0].prepared
    for other in results[1:]:
        assert other.prepared.faces == first.faces and (other.prepared.pixels == first.pixels).all()


def test_each_cover_appears_in_the_task_data_as_soon_as_it_passes(monkeypatch):
    from generation.taskdata import task_data

    org = make_org("Early Records", credits=10)
    task = held_task(org, count=3)
    verdicts = iter(["pass", "fail", "pass"])
    monkeypatch.setattr(jobs.sentinel, "check", lambda *a, **k: qa(next(verdicts), phash=""))
    monkeypatch.setattr(settings, "QA_MAX_ATTEMPTS", 0)
    assert task_data(task)["images"] == []
    assert jobs.render_image(task.id, 0) == "stored"
    task.refresh_from_db()
    data = task_data(task)
    assert data["status"] == "GENERATING" and [i["index"] for i in data["images"]] == [0]
    assert data["credits"] == {"held": 3, "charged": 0}  # charged when the task settles
    assert jobs.render_image(task.id, 1) == "stored"  # failed QA: not listed
    task.refresh_from_db()
    assert [i["index"] for i in task_data(task)["images"]] == [0]


def test_a_task_that_cannot_finish_keeps_and_charges_the_covers_it_delivered(monkeypatch):
    org = make_org("Half Records", credits=10)
    task = held_task(org, count=3, callback_url="https://hooks.example.com/covers")
    monkeypatch.setattr(jobs.sentinel, "check", lambda *a, **k: qa("pass", phash=""))
    assert jobs.render_image(task.id, 0) == "stored"
    assert jobs.fail_task(task.id, "Rendering stopped on every attempt; credits released.")
    task.refresh_from_db()
    assert task.status == TaskStatus.PARTIAL and (task.credits_held, task.credits_charged) == (0, 1)
    assert task.error_message.startswith("1 of 3 covers delivered; the others: Rendering stopped")
    assert (ledger.account(org).balance, ledger.account(org).held) == (9, 0)
    assert CallbackDelivery.objects.filter(task=task).count() == 1
    assert not jobs.fail_task(task.id, "again")  # once
    assert_ledger_consistent(org)
