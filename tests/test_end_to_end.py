"""The whole product path with real parts: HTTP API, PostgreSQL or SQLite, Redis, an RQ worker process, callbacks."""

import base64
import hashlib
import hmac
import io
import os
import signal
import time

import pytest
import requests
from django.core.files.storage import default_storage
from PIL import Image

from billing import ledger
from generation.models import CallbackDelivery, CoverTask, TaskStatus
from tests.conftest import api_client, assert_ledger_consistent, make_org
from tests.live import Receiver, Worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(live):
    w = Worker(live.url).start()
    yield w
    output = w.stop()
    print(output[-4000:])


def submit(org, base_url: str, **fields) -> requests.Response:
    client = api_client(org)
    headers = {"Authorization": f"Bearer {client.plaintext_key}"}
    # A fixed seed: with a random one a few tasks in a hundred hold a borderline cover for staff review, and a
    # task in REVIEW sends its callback only after the decision.
    body = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "seed": 11, **fields}
    return requests.post(f"{base_url}/api/v1/cover/generate", json=body, headers=headers, timeout=30)


def verify_signature(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, headers["webhook-signature"])


def task_status(task_id: str) -> str:
    return CoverTask.objects.get(pk=task_id).status


@pytest.mark.parametrize("output_format", ["png", "jpeg"])
def test_photo_to_signed_callback(live, worker, astronaut_jpeg, output_format):
    org = make_org("E2E Records", credits=10)
    receiver = Receiver()
    try:
        photo = "data:image/jpeg;base64," + base64.b64encode(astronaut_jpeg).decode()
        started = time.monotonic()
        response = submit(org, live.url, source_image=photo, callBackUrl=receiver.url, taskId="e2e-1",
                          output_format=output_format)
        assert response.status_code == 200, response.text
        task_id = response.json()["data"]["taskId"]
        wait_for(lambda: receiver.calls, timeout=120, what="the callback")
        elapsed = time.monotonic() - started
        print(f"submit -> callback, 3 covers {output_format}: {elapsed:.2f}s")
    finally:
        receiver.close()

    call = receiver.calls[0]
    assert verify_signature(org.webhook_secret, call["headers"], call["body"])
    assert not verify_signature("whsec_" + base64.b64encode(b"x" * 24).decode(), call["headers"], call["body"])
    payload = receiver.json(0)
    assert payload["code"] == 200 and payload["data"]["taskId"] == task_id
    assert payload["data"]["status"] == "SUCCESS" and len(payload["data"]["images"]) == 3

    client = api_client(org)
    data = client.get(f"/api/v1/cover/record-info?taskId={task_id}").json()["data"]
    assert data["status"] == "SUCCESS" and data["musicTaskId"] == "e2e-1"
    assert data["credits"] == {"held": 0, "charged": 3}
    assert {i["variant"] for i in data["images"]} == {"artist", "background", "text"}
    for image in data["images"]:
        assert image["qa"]["passed"] is True
        downloaded = requests.get(image["url"], timeout=30)  # no auth header: signed URLs work without a login
        assert downloaded.status_code == 200
        assert len(downloaded.content) == image["bytes"] < 10 * 1024 * 1024
        cover = Image.open(io.BytesIO(downloaded.content))
        assert cover.size == (3000, 3000) and cover.mode == "RGB"
        assert cover.format == {"png": "PNG", "jpeg": "JPEG"}[output_format]
    acct = ledger.account(org)
    assert (acct.balance, acct.held) == (7, 0)
    assert_ledger_consistent(org)
    assert CallbackDelivery.objects.get(task_id=task_id).status_code == 200


def test_render_job_that_raises_ends_failed_with_credits_released(live, worker):
    org = make_org("Crash Records", credits=10)
    receiver = Receiver()
    try:
        photo_task = submit(org, live.url, callBackUrl=receiver.url,
                            source_image="data:image/jpeg;base64," + base64.b64encode(_photo()).decode())
        task_id = photo_task.json()["data"]["taskId"]
        # The stored upload vanishes before the worker reads it: every attempt raises.
        default_storage.delete(CoverTask.objects.get(pk=task_id).source_path)
        wait_for(lambda: task_status(task_id) == TaskStatus.FAILED, timeout=90, what="the task to fail")
        wait_for(lambda: receiver.calls, timeout=30, what="the failure callback")
    finally:
        receiver.close()
    task = CoverTask.objects.get(pk=task_id)
    assert task.attempts == 3  # the first run and two retries
    assert task.error_code == 531 and task.credits_held == 0 and task.credits_charged == 0
    payload = receiver.json(0)
    assert payload["code"] == 531 and payload["data"]["status"] == "FAILED" and payload["data"]["errorMessage"]
    acct = ledger.account(org)
    assert (acct.balance, acct.held) == (10, 0)
    assert_ledger_consistent(org)


def test_killed_work_horse_is_retried_to_completion(live, worker):
    org = make_org("Kill Records", credits=10)
    # The worker's lasting child is its scheduler; the work horse is forked per job after it.
    scheduler = worker.settled_child_pids()
    task_id = submit(org, live.url).json()["data"]["taskId"]
    wait_for(lambda: task_status(task_id) == TaskStatus.GENERATING, timeout=60, interval=0.02,
             what="rendering to start")
    horses = wait_for(lambda: worker.child_pids() - scheduler, timeout=10, interval=0.02, what="the work horse")
    for pid in horses:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: CoverTask.objects.get(pk=task_id).is_terminal, timeout=120, what="the retry to finish")
    task = CoverTask.objects.get(pk=task_id)
    assert task.status == TaskStatus.SUCCESS and task.attempts >= 2
    assert task.images.count() == 3 and task.credits_charged == 3
    acct = ledger.account(org)
    assert (acct.balance, acct.held) == (7, 0)
    assert_ledger_consistent(org)


def test_callback_receiver_down_is_retried_and_410_stops(live, worker):
    org = make_org("Flaky Records", credits=10)
    receiver = Receiver(answers=[503, 500])
    try:
        task_id = submit(org, live.url, callBackUrl=receiver.url, count=1).json()["data"]["taskId"]
        wait_for(lambda: len(receiver.calls) >= 3, timeout=120, what="three callback attempts")
        wait_for(lambda: CallbackDelivery.objects.filter(task_id=task_id, finished_at__isnull=False).count() == 3,
                 timeout=10, what="three logged attempts")
        deliveries = list(CallbackDelivery.objects.filter(task_id=task_id).order_by("attempt"))
        assert [d.status_code for d in deliveries] == [503, 500, 200]  # and no attempt left due after the 200
        assert deliveries[0].next_attempt_at is not None and deliveries[2].next_attempt_at is None
        ids = {c["headers"]["webhook-id"] for c in receiver.calls}
        assert ids == {f"msg_{task_id}"}  # stable across retries

        gone = Receiver(answers=[410, 200, 200])
        try:
            task2 = submit(org, live.url, callBackUrl=gone.url, count=1).json()["data"]["taskId"]
            wait_for(lambda: CallbackDelivery.objects.filter(task_id=task2).exists(), timeout=120,
                     what="the first attempt")
            time.sleep(3)  # longer than the retry schedule: no more attempts may come
            assert len(gone.calls) == 1
            assert CallbackDelivery.objects.get(task_id=task2).status_code == 410
        finally:
            gone.close()
    finally:
        receiver.close()


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (900, 900), (200, 120, 60)).save(buf, "JPEG")
    return buf.getvalue()
