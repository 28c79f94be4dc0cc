"""The Python client (clients/python) against the live test server: submit with an uploaded photo, wait for a real
worker's render, list through the cursor, cancel, the typed errors, its retries, and callback verification with
the server's own signing code (issue 13, part 12)."""

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from billing import ledger
from generation.callbacks import deliver_callback, signed_headers
from generation.models import CallbackDelivery, CoverTask, TaskStatus
from generation.taskdata import callback_envelope
from tests.conftest import api_client, assert_ledger_consistent, make_org
from tests.live import Receiver, Worker, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients" / "python"))

from albumart_client import (  # noqa: E402 (importable once its folder is on the path)
    AlbumArt,
    AuthenticationError,
    Conflict,
    ConnectionFailed,
    Image,
    InsufficientCredits,
    InvalidCallback,
    Maintenance,
    NotFound,
    RateLimited,
    Task,
    ValidationError,
    WaitTimeout,
    verify_callback,
)

pytestmark = pytest.mark.django_db(transaction=True)

RELEASE = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING"}
# Quick renders; a fixed seed, so that no borderline cover waits for staff review (see test_end_to_end.py).
QUICK = {"size": 1400, "seed": 11}


class Recorder:
    """The requests a client sends, as its http client's event hook sees them."""

    def __init__(self):
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def to(self, path: str, method: str = "GET") -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path and r.method == method]


OPEN: list[httpx.Client] = []


def client_for(org, base_url: str, *, key: str | None = None, transport=None, **kwargs) -> tuple[AlbumArt, Recorder]:
    recorder = Recorder()
    http = httpx.Client(event_hooks={"request": [recorder]}, transport=transport, timeout=30)
    OPEN.append(http)
    client = AlbumArt(key or api_client(org).plaintext_key, base_url, http_client=http, **kwargs)
    return client, recorder


@pytest.fixture(autouse=True)
def close_clients():
    """Close the test's kept-alive connections: the live server's thread for one holds a database connection
    until it closes, and PostgreSQL refuses to drop the test database while one is open."""
    yield
    while OPEN:
        OPEN.pop().close()


@pytest.fixture
def org(db):
    return make_org("Client Records", credits=20)


def test_generate_with_an_uploaded_photo_waits_for_the_render_and_verifies_its_callback(live, org, astronaut_jpeg):
    client, sent = client_for(org, live.url)
    receiver = Receiver()
    worker = Worker(live.url)
    try:
        task = client.generate(**RELEASE, source_image=astronaut_jpeg, task_id="release-42", count=2,
                               callback_url=receiver.url, **QUICK)
        upload = sent.to("/api/v1/cover/generate", "POST")[0]
        assert upload.headers["content-type"].startswith("multipart/form-data")
        assert upload.headers["idempotency-key"]  # set by the client: its retries never charge twice
        assert isinstance(task, Task) and task.status == "PENDING" and not task.is_terminal
        assert (task.client_task_id, task.genre, task.count, task.credits.held) == ("release-42", "hiphop", 2, 2)
        assert any("512x512" in w for w in task.warnings)  # the server decoded the uploaded photo
        assert CoverTask.objects.get(pk=task.task_id).source_path

        worker.start()  # only now: the task above was surely still PENDING
        done = client.wait(task, timeout=240, poll_interval=0.5)
        wait_for(lambda: receiver.calls, timeout=60, what="the callback")
    finally:
        receiver.close()
        print(worker.stop()[-4000:])
    assert done.status == "SUCCESS" and done.is_terminal and done.completed_at is not None
    assert (done.credits.held, done.credits.charged) == (0, 2)
    assert len(done.images) == 2 and all(isinstance(i, Image) for i in done.images)
    for image in done.images:
        assert (image.width, image.height, image.format) == (1400, 1400, "png")
        assert image.qa["passed"] is True and image.variant in {"artist", "background"}
        cover = httpx.get(image.url, timeout=30)  # signed: no key needed
        assert cover.status_code == 200 and len(cover.content) == image.size_bytes
    assert client.get_by_client_id("release-42").task_id == done.task_id
    assert client.credits().balance == 18

    # The worker's own callback, as the platform receives it.
    call = receiver.calls[0]
    called_back = verify_callback(call["body"], call["headers"], client.webhook_secret())
    assert (called_back.task_id, called_back.status, len(called_back.images)) == (done.task_id, "SUCCESS", 2)
    assert called_back.event == "completed" and done.event is None  # (record-info has no event)

    removed = client.delete(done)
    assert removed.images == () and removed.deleted_at is not None and removed.credits.charged == 2
    assert_ledger_consistent(org)


def test_list_iterates_every_page_through_the_cursor(live, org):
    client, sent = client_for(org, live.url)
    ids = [client.generate(**RELEASE, task_id=f"page-{i}", count=1, **QUICK).task_id for i in range(3)]
    pages_before = len(sent.to("/api/v1/cover/tasks"))

    listed = list(client.list(limit=1))
    assert [t.task_id for t in listed] == ids[::-1]  # newest first
    assert len(sent.to("/api/v1/cover/tasks")) - pages_before == 3
    assert all(isinstance(t, Task) and t.status == "PENDING" for t in listed)

    assert [t.task_id for t in client.list(status=["PENDING", "GENERATING"], genre="trap", limit=2)] == ids[::-1]
    assert [t.task_id for t in client.list(client_task_id="page-1")] == [ids[1]]
    assert list(client.list(created_after=datetime.now(UTC) + timedelta(hours=1))) == []
    assert len(list(client.list(created_before=datetime.now(UTC) + timedelta(hours=1)))) == 3
    assert list(client.list(status="SUCCESS")) == []


def test_cancel_releases_the_held_credits_and_a_finished_task_is_a_conflict(live, org):
    client, _ = client_for(org, live.url)
    task = client.generate(**RELEASE, task_id="release-7", count=3, **QUICK)
    assert client.credits().available == 17

    with pytest.raises(Conflict) as running:  # the same release while it waits
        client.generate(**RELEASE, task_id="release-7", count=3, **QUICK)
    assert running.value.status == 409 and running.value.task_id == task.task_id

    with pytest.raises(WaitTimeout) as waited:  # no worker here: it stays PENDING
        client.wait(task, timeout=0.3, poll_interval=0.1)
    assert waited.value.task.status == "PENDING"

    cancelled = client.cancel(task.task_id)
    assert cancelled.status == "CANCELLED" and cancelled.is_terminal and cancelled.credits.held == 0
    assert client.credits().available == 20
    with pytest.raises(Conflict) as again:
        client.cancel(task)
    assert again.value.data == {"taskId": task.task_id, "status": "CANCELLED"}
    # A cancelled task frees its client task id.
    assert client.generate(**RELEASE, task_id="release-7", count=1, **QUICK).task_id != task.task_id
    assert_ledger_consistent(org)


def test_too_few_credits_raise_insufficient_credits_without_a_retry(live):
    poor = make_org("Poor Records", credits=2)
    client, sent = client_for(poor, live.url)
    with pytest.raises(InsufficientCredits) as refused:
        client.generate(**RELEASE, count=3, **QUICK)
    error = refused.value
    assert (error.status, error.code, error.needed, error.available) == (402, 402, 3, 2)
    assert "3 needed, 2 available" in error.msg
    assert len(sent.to("/api/v1/cover/generate", "POST")) == 1
    assert not CoverTask.objects.filter(organization=poor).exists()


def test_invalid_fields_raise_validation_error_naming_them(live, org):
    client, _ = client_for(org, live.url)
    with pytest.raises(ValidationError) as bad_genre:
        client.generate("polka", "NOVA", "STILL STANDING")
    assert bad_genre.value.status == 422 and "genre" in bad_genre.value.errors
    assert "unknown genre 'polka'" in bad_genre.value.errors["genre"][0]

    with pytest.raises(ValidationError) as misspelt:  # an option by a wrong name is refused, not dropped
        client.generate(**RELEASE, callbackUrl="https://platform.example/hook")
    assert "did you mean callBackUrl?" in misspelt.value.errors["callbackUrl"][0]

    with pytest.raises(ValidationError) as bad_size:  # a multipart request's fields are checked alike
        client.generate(**RELEASE, source_image=b"\xff\xd8\xff not really a photo", size=99)
    assert set(bad_size.value.errors) >= {"size"}

    with pytest.raises(ValidationError) as bad_limit:
        list(client.list(limit=500))
    assert "limit" in bad_limit.value.errors

    with pytest.raises(NotFound):
        client.get("no-such-task")
    with pytest.raises(AuthenticationError), AlbumArt("aa_0123456789ab.wrong", live.url) as stranger:
        stranger.credits()
    assert not CoverTask.objects.filter(organization=org).exists()


def test_a_lost_answer_is_retried_with_the_same_idempotency_key_and_charges_once(live, org):
    class LoseFirstAnswer(httpx.HTTPTransport):
        """The server answers the first POST, and the connection drops before the client reads it."""

        lost = False

        def handle_request(self, request):
            response = super().handle_request(request)
            if request.method == "POST" and not self.lost:
                response.read()
                response.close()
                self.lost = True
                raise httpx.ReadError("connection reset after the server answered", request=request)
            return response

    client, sent = client_for(org, live.url, transport=LoseFirstAnswer(), backoff=0.01)
    task = client.generate(**RELEASE, count=3, **QUICK)
    posts = sent.to("/api/v1/cover/generate", "POST")
    assert len(posts) == 2 and posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert list(CoverTask.objects.filter(organization=org).values_list("pk", flat=True)) == [task.task_id]
    acct = ledger.account(org)
    assert (acct.balance, acct.held) == (20, 3)
    assert_ledger_consistent(org)


def test_a_rate_limit_is_waited_out_as_retry_after_says(live, org, settings):
    settings.RATE_LIMIT_WINDOW_SECONDS = 2
    org.rate_limit_read = 1
    org.save(update_fields=["rate_limit_read"])
    client, sent = client_for(org, live.url)
    slept: list[float] = []
    client._sleep = lambda seconds: (slept.append(seconds), time.sleep(seconds))

    assert client.credits().balance == 20
    assert client.credits().balance == 20  # a 429 first, then the same request after Retry-After
    assert len(sent.to("/api/v1/credits")) == 3 and len(slept) == 1 and 1 <= slept[0] <= 2

    impatient, _ = client_for(org, live.url, max_retries=0)
    with pytest.raises(RateLimited) as limited:
        for _ in range(2):
            impatient.credits()
    assert limited.value.status == 429 and 1 <= limited.value.retry_after <= 2


def test_maintenance_is_retried_after_retry_after_and_raised_when_retries_run_out(live, org, settings):
    settings.MAINTENANCE_MODE = True
    settings.MAINTENANCE_RETRY_AFTER_SECONDS = 3
    client, sent = client_for(org, live.url)
    slept: list[float] = []

    def maintenance_ends(seconds):
        slept.append(seconds)
        settings.MAINTENANCE_MODE = False

    client._sleep = maintenance_ends
    task = client.generate(**RELEASE, count=1, **QUICK)  # a POST, retried under its Idempotency-Key
    assert slept == [3.0] and len(sent.to("/api/v1/cover/generate", "POST")) == 2
    assert CoverTask.objects.get(organization=org).pk == task.task_id

    settings.MAINTENANCE_MODE = True
    stubborn, _ = client_for(org, live.url, max_retries=2)
    stubborn._sleep = lambda seconds: None
    with pytest.raises(Maintenance) as down:
        stubborn.credits()
    assert down.value.status == 455 and down.value.retry_after == 3


def test_connection_errors_are_retried_with_backoff_then_raised(org):
    client, sent = client_for(org, "http://127.0.0.1:9", max_retries=2, backoff=0.2)
    slept: list[float] = []
    client._sleep = slept.append
    with pytest.raises(ConnectionFailed):
        client.credits()
    assert len(sent.requests) == 3 and len(slept) == 2 and slept[0] < slept[1] <= 0.4


def test_verify_callback_checks_signature_timestamp_and_rotation(live, org):
    client, _ = client_for(org, live.url)
    receiver = Receiver()
    try:
        task = client.generate(**RELEASE, count=2, callback_url=receiver.url, **QUICK)
        client.cancel(task)
        # The callback the cancel queued, delivered by the server's own code (no worker runs in this test).
        deliver_callback(CallbackDelivery.objects.get(task_id=task.task_id).pk)
        wait_for(lambda: receiver.calls, timeout=10, what="the callback")
    finally:
        receiver.close()
    call = receiver.calls[0]
    secret = client.webhook_secret()
    received = verify_callback(call["body"], call["headers"], secret)
    assert (received.task_id, received.status, received.credits.held) == (task.task_id, "CANCELLED", 0)
    assert AlbumArt.verify_callback(call["body"], call["headers"], [secret]).task_id == task.task_id

    with pytest.raises(InvalidCallback):  # a tampered body
        verify_callback(call["body"].replace(b"CANCELLED", b"SUCCESS"), call["headers"], secret)
    with pytest.raises(InvalidCallback):  # somebody else's secret
        verify_callback(call["body"], call["headers"], "whsec_" + "A" * 32)

    cover = CoverTask.objects.select_related("organization").get(pk=task.task_id)
    body = callback_envelope_bytes(cover)
    old = signed_headers(org.webhook_keys, f"msg_{cover.id}", body, timestamp=int(time.time()) - 600)
    with pytest.raises(InvalidCallback, match="too old"):  # a replay of an old callback
        verify_callback(body, old, secret)

    # A rotation: the server signs with both secrets for a day, so a receiver that still knows only the previous
    # one, and one that knows both, accept the callback.
    previous = secret
    org.rotate_webhook_secret()
    current = client.webhook_secret()
    assert current != previous
    during = signed_headers(org.webhook_keys, f"msg_{cover.id}", body)
    assert verify_callback(body, during, previous).status == "CANCELLED"
    assert verify_callback(body, during, [current, previous]).status == "CANCELLED"

    # After the overlap the previous secret signs nothing: it is rotated out.
    org.previous_webhook_secret_expires_at = timezone.now() - timedelta(seconds=1)
    org.save(update_fields=["previous_webhook_secret_expires_at"])
    after = signed_headers(org.webhook_keys, f"msg_{cover.id}", body)
    with pytest.raises(InvalidCallback, match="No matching signature"):
        verify_callback(body, after, previous)
    assert verify_callback(body, after, [current, previous]).task_id == cover.id


def callback_envelope_bytes(task: CoverTask) -> bytes:
    """A callback body built the way generation/callbacks.py builds it."""
    return json.dumps(callback_envelope(task), separators=(",", ":")).encode()


def test_every_status_the_server_knows_is_typed_terminal_as_the_server_says():
    from albumart_client import TERMINAL_STATUSES

    from generation.models import TERMINAL

    assert TERMINAL_STATUSES == {str(s) for s in TERMINAL}
    assert "REVIEW" in TaskStatus.values and "REVIEW" not in TERMINAL_STATUSES
