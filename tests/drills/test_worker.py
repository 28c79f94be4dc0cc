"""The render worker loads its models and fonts before it forks, and its work horses render with them."""

import base64

import pytest

from albumart.worker import warm_up
from billing import ledger
from generation.models import CoverTask, TaskStatus
from tests.conftest import assert_ledger_consistent, jpeg_bytes, make_org
from tests.drills.test_outbox import submit
from tests.live import Worker, wait_for


def test_warm_up_loads_the_text_detector_and_the_fonts_once():
    from generation.engine import fonts
    from generation.engine.segmentation import text

    caches = [f for f in vars(fonts).values() if hasattr(f, "cache_info")]
    text._network.cache_clear()
    for cache in caches:
        cache.cache_clear()
    assert warm_up() > 0
    assert text._network.cache_info().currsize == 1  # kept for every work horse forked after this
    assert sum(cache.cache_info().currsize for cache in caches) > 11  # the faces of every genre


@pytest.mark.django_db(transaction=True)
def test_a_warmed_worker_renders_in_its_forked_horses(live, astronaut_jpeg):
    import io

    from PIL import Image

    worker = Worker(live.url, {"WORKER_WARM_UP": "1"}).start()
    org = make_org("Warm Records", credits=10)
    try:
        photo = jpeg_bytes(Image.open(io.BytesIO(astronaut_jpeg)))
        response = submit(org, live.url, count=2, source_image="data:image/jpeg;base64,"
                          + base64.b64encode(photo).decode())
        task_id = response.json()["data"]["taskId"]
        wait_for(lambda: CoverTask.objects.get(pk=task_id).is_terminal, timeout=180, what="the task to end")
    finally:
        log = worker.stop()
    assert "render worker warmed up" in log
    task = CoverTask.objects.get(pk=task_id)
    assert task.status == TaskStatus.SUCCESS and task.credits_charged == 2, log[-3000:]
    assert (ledger.account(org).balance, ledger.account(org).held) == (8, 0)
    assert_ledger_consistent(org)


@pytest.mark.django_db(transaction=True)
def test_render_workers_runs_one_per_core_and_replaces_one_that_dies(live):
    import os
    import signal

    import django_rq
    import psutil
    from rq import Worker as RQWorker

    queue = django_rq.get_queue("render")
    pool = Worker(live.url, command=("render_workers", "--num", "2")).start()

    def workers() -> set[int]:
        """The pool's children that have registered with RQ as workers of the render queue."""
        children = {p.pid for p in psutil.Process(pool.proc.pid).children()}
        return children & {w.pid for w in RQWorker.all(queue=queue)}

    try:
        first = wait_for(lambda: len(workers()) == 2 and workers(), timeout=120, what="two render workers")
        victim = min(first)
        os.kill(victim, signal.SIGKILL)  # as the OOM killer would
        wait_for(lambda: len(workers()) == 2 and victim not in workers(), timeout=120,
                 what="a worker in place of the killed one")
        pool.proc.send_signal(signal.SIGTERM)
        pool.proc.wait(timeout=120)
        assert pool.proc.returncode == 0
        survivors = first - {victim}
        wait_for(lambda: not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                                 for pid in survivors), timeout=30, what="the other workers to stop with it")
    finally:
        log = pool.stop()
    assert "2 render worker(s) started" in log and "starting another" in log, log[-3000:]
