"""Nothing lost when Redis is: the database is the outbox, and the reconciler queues again what Redis lost.

Drills with real parts: the live API, PostgreSQL (or SQLite), Redis, an RQ worker process, a callback receiver;
"Redis down" is a real queue on a port where nothing listens.
"""

import os
import signal
import subprocess
import time
from datetime import timedelta

import django_rq
import pytest
import redis
import requests
from django.conf import settings
from django.utils import timezone
from rq import Queue
from rq.job import Job, JobStatus

from billing import ledger
from generation import callbacks, jobs
from generation.models import CallbackDelivery, CoverTask, TaskStatus
from generation.reconcile import reconcile
from tests.conftest import api_client, assert_ledger_consistent, make_org
from tests.live import Receiver, Trickle, Worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def later(seconds: float = 0) -> timezone.datetime:
    """A reconciler's clock past the grace it gives a job to appear."""
    return timezone.now() + timedelta(seconds=settings.RECONCILE_GRACE_SECONDS + 1 + seconds)


@pytest.fixture
def worker(live):
    w = Worker(live.url).start()
    yield w
    print(w.stop()[-3000:])


def submit(org, base_url: str, **fields) -> requests.Response:
    client = api_client(org)
    body = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "seed": 11, "count": 1,
            **fields}
    return requests.post(f"{base_url}/api/v1/cover/generate", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {client.plaintext_key}"})


def test_submit_while_redis_is_down_is_accepted_and_runs_when_it_returns(live, worker, redis_down):
    org = make_org("Outage Records", credits=10)
    response = submit(org, live.url)
    assert response.status_code == 200, response.text  # not a 500: the task and its hold committed
    task_id = response.json()["data"]["taskId"]
    task = CoverTask.objects.get(pk=task_id)
    assert task.status == TaskStatus.PENDING and task.credits_held == 1
    assert reconcile(later())["renders_queued"] == 0  # Redis still down: nothing queued, nothing lost

    redis_down.restore()
    assert reconcile(timezone.now())["renders_queued"] == 0  # within the grace a job may still be on its way
    assert reconcile(later())["renders_queued"] == 1
    assert reconcile(later())["renders_queued"] == 0  # its job is live now: never queued twice
    wait_for(lambda: CoverTask.objects.get(pk=task_id).is_terminal, timeout=120, what="the task to finish")
    task = CoverTask.objects.get(pk=task_id)
    assert task.status == TaskStatus.SUCCESS and task.credits_charged == 1 and task.attempts == 1
    assert (ledger.account(org).balance, ledger.account(org).held) == (9, 0)
    assert_ledger_consistent(org)


def _ended_task(org, url: str) -> CoverTask:
    task = CoverTask.objects.create(organization=org, genre="hiphop", count=1, callback_url=url,
                                    params={"text_artist": "NOVA", "text_album": "STILL STANDING"})
    assert jobs.fail_task(task.id, "Rendering failed; credits released.")
    return task


def test_a_callback_due_while_redis_was_down_is_sent_when_it_returns(live, worker, redis_down):
    org = make_org("Quiet Records", credits=0)
    receiver = Receiver()
    try:
        task = _ended_task(org, receiver.url)  # the task ends while Redis is down
        row = CallbackDelivery.objects.get(task=task)
        assert row.pending and row.attempt == 1 and row.enqueued_at is None  # in the outbox, not in Redis
        redis_down.restore()
        assert reconcile(later())["deliveries_queued"] == 1
        wait_for(lambda: receiver.calls, timeout=60, what="the callback")
        wait_for(lambda: not CallbackDelivery.objects.get(pk=row.pk).pending, timeout=10, what="its record")
    finally:
        receiver.close()
    row = CallbackDelivery.objects.get(pk=row.pk)
    assert row.status_code == 200 and row.next_attempt_at is None and row.error == ""
    assert receiver.json(0)["data"]["status"] == "FAILED"
    assert reconcile(later())["deliveries_queued"] == 0 and len(receiver.calls) == 1  # sent once


def test_a_retry_that_a_redis_restart_dropped_is_sent_from_its_row(live):
    worker = Worker(live.url, {"CALLBACK_RETRY_SCHEDULE": "30"}).start()  # the retry waits in Redis' schedule
    org = make_org("Restart Records", credits=0)
    receiver = Receiver(answers=[503])
    try:
        task = _ended_task(org, receiver.url)
        wait_for(lambda: CallbackDelivery.objects.filter(task=task).count() == 2, timeout=60,
                 what="the failed attempt and the next one")
        first, second = CallbackDelivery.objects.filter(task=task).order_by("attempt")
        assert first.status_code == 503 and second.pending and second.next_attempt_at == first.next_attempt_at
        job_id = callbacks.delivery_job_id(second.pk)
        queue = django_rq.get_queue("callbacks")
        assert Job.fetch(job_id, connection=queue.connection).get_status() == JobStatus.SCHEDULED
        queue.scheduled_job_registry.remove(job_id, delete_job=True)  # what a Redis restart does to it
        assert reconcile(later())["deliveries_queued"] == 0  # not due yet
        assert reconcile(later(30))["deliveries_queued"] == 1
        wait_for(lambda: len(receiver.calls) == 2, timeout=60, what="the retry")
        wait_for(lambda: not CallbackDelivery.objects.get(pk=second.pk).pending, timeout=10, what="its record")
    finally:
        receiver.close()
        print(worker.stop()[-3000:])
    assert CallbackDelivery.objects.get(pk=second.pk).status_code == 200
    assert CallbackDelivery.objects.filter(task=task).count() == 2


def test_an_attempt_whose_worker_died_mid_post_is_recorded_and_retried():
    org = make_org("Killed Records", credits=0)
    task = _ended_task(org, "https://hooks.example.com/albumart")
    row = CallbackDelivery.objects.get(task=task)
    started = timezone.now() - timedelta(seconds=settings.CALLBACK_TIMEOUT_SECONDS + 200)
    CallbackDelivery.objects.filter(pk=row.pk).update(started_at=started)  # claimed, then nothing recorded
    done = reconcile()
    assert done["attempts_interrupted"] == 1
    row.refresh_from_db()
    assert not row.pending and row.status_code is None and row.error.startswith("interrupted")
    following = CallbackDelivery.objects.get(task=task, attempt=2)
    assert following.pending and following.next_attempt_at == row.next_attempt_at
    assert reconcile()["attempts_interrupted"] == 0  # recorded once
    django_rq.get_queue("callbacks").empty()
    django_rq.get_queue("callbacks").scheduled_job_registry.remove(callbacks.delivery_job_id(following.pk),
                                                                   delete_job=True)


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline(settings):
    settings.ALLOW_PRIVATE_CALLBACKS = True
    trickle = Trickle()
    try:
        started = time.monotonic()
        status, error = callbacks._post(trickle.url, {"content-type": "application/json"}, b"{}", 1.5)
        elapsed = time.monotonic() - started
    finally:
        trickle.close()
    assert status is None and error.startswith("timeout"), (status, error)
    # The whole answer had 1.5 s, not 1.5 s per byte (it would trickle for 11 hours); the slack is a busy machine.
    assert 1.4 <= elapsed < 6.0, elapsed


def test_a_work_horse_killed_on_its_last_attempt_ends_failed_with_credits_released(live, settings):
    settings.RENDER_JOB_RETRIES = 0  # the worker's and the reconciler's (one deployment, one setting)
    worker = Worker(live.url, {"RENDER_JOB_RETRIES": "0"}).start()
    org = make_org("Horse Records", credits=10)
    receiver = Receiver()
    try:
        scheduler = worker.settled_child_pids()
        task_id = submit(org, live.url, callBackUrl=receiver.url).json()["data"]["taskId"]
        wait_for(lambda: CoverTask.objects.get(pk=task_id).status == TaskStatus.GENERATING, timeout=60,
                 interval=0.02, what="rendering to start")
        killed_at = time.monotonic()
        horses = wait_for(lambda: worker.child_pids() - scheduler, timeout=10, interval=0.02, what="the horse")
        for pid in horses:
            os.kill(pid, signal.SIGKILL)  # as the OOM killer does
        queue = django_rq.get_queue("render")
        job_id = jobs.render_job_id(task_id, 0)
        wait_for(lambda: Job.fetch(job_id, connection=queue.connection).get_status() not in
                 (JobStatus.STARTED, JobStatus.QUEUED), timeout=30, what="the worker to notice")
        reconcile(later())  # the cron's next pass
        task = CoverTask.objects.get(pk=task_id)
        assert task.status == TaskStatus.FAILED, task.status
        assert time.monotonic() - killed_at < 60
        wait_for(lambda: receiver.calls, timeout=30, what="the failure callback")
    finally:
        receiver.close()
        print(worker.stop()[-3000:])
    assert task.credits_held == 0 and task.credits_charged == 0
    assert (ledger.account(org).balance, ledger.account(org).held) == (10, 0)
    assert receiver.json(0)["data"]["status"] == "FAILED"
    assert_ledger_consistent(org)


def test_a_job_left_in_the_schedule_by_a_dead_scheduler_is_queued_again():
    """Redis going away takes a worker's scheduler down with it; a retry it held stays SCHEDULED forever."""
    org = make_org("Schedule Records", credits=5)
    task = CoverTask.objects.create(organization=org, genre="hiphop", count=1, params={})
    queue = django_rq.get_queue("render")
    job_id = jobs.render_job_id(task.id, 0)
    try:
        queue.enqueue_in(timedelta(seconds=30), jobs.render_image, task.id, 0, job_id=job_id)  # a retry, still ahead
        assert reconcile(later())["renders_queued"] == 0
        queue.scheduled_job_registry.remove(job_id, delete_job=True)
        queue.enqueue_at(timezone.now() - timedelta(minutes=5), jobs.render_image, task.id, 0, job_id=job_id)
        assert Job.fetch(job_id, connection=queue.connection).get_status() == JobStatus.SCHEDULED
        assert reconcile(later())["renders_queued"] == 1  # overdue: its scheduler is gone
        assert Job.fetch(job_id, connection=queue.connection).get_status() == JobStatus.QUEUED
        assert job_id not in queue.scheduled_job_registry.get_job_ids()
    finally:
        queue.scheduled_job_registry.remove(job_id)
        queue.empty()


def _redis_server(port: int):
    from albumart.local import redis_server_binary

    proc = subprocess.Popen([redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    wait_for(lambda: redis.Redis(port=port).ping(), timeout=10, interval=0.05, what="redis-server")
    return proc


def test_a_worker_that_loses_redis_waits_and_picks_up_work_when_it_returns(live):
    """Redis restarts under a running worker: the worker neither exits nor needs a restart."""
    from albumart.local import free_port

    port = free_port()
    server = _redis_server(port)
    url = f"redis://127.0.0.1:{port}/0"
    worker = Worker(live.url, {"REDIS_URL": url}).start()
    try:
        wait_for(lambda: redis.Redis(port=port).keys("rq:worker:*"), timeout=30, what="the worker to register")
        server.terminate()
        server.wait(timeout=10)
        time.sleep(4)  # the worker meets a closed port for a while
        assert worker.proc.poll() is None, "the worker exited when Redis went away"
        server = _redis_server(port)
        job = Queue("callbacks", connection=redis.Redis(port=port)).enqueue(os.getpid)
        wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, timeout=60, what="the job to run")
        assert job.return_value() != os.getpid()  # run by the worker's own process
    finally:
        print(worker.stop()[-2000:])
        server.terminate()
        server.wait(timeout=10)


def test_a_callback_whose_schedule_is_spent_says_it_gave_up(settings):
    settings.CALLBACK_RETRY_SCHEDULE = [5]  # one retry
    org = make_org("Gone Quiet Records", credits=0)
    task = _ended_task(org, "https://hooks.example.com/albumart")
    first = CallbackDelivery.objects.get(task=task)
    callbacks.settle_attempt(first, 503, "", 40)
    second = CallbackDelivery.objects.get(task=task, attempt=2)
    assert first.next_attempt_at == second.next_attempt_at and "given up" not in first.error
    callbacks.settle_attempt(second, None, "ConnectTimeout: no route", 5000)
    second.refresh_from_db()
    assert not second.pending and second.next_attempt_at is None
    assert second.error == "ConnectTimeout: no route; given up after 2 attempts (replay it from the dashboard)"
    assert not CallbackDelivery.objects.filter(task=task, attempt=3).exists()
    django_rq.get_queue("callbacks").empty()
    django_rq.get_queue("callbacks").scheduled_job_registry.remove(callbacks.delivery_job_id(second.pk))
