"""The peers' documented requests against our dialects: an instant render in place of the engine, and the callback
as the receiver gets it (URL, headers and raw body), verified the Standard Webhooks way."""

import base64
import hashlib
import hmac
import io
import json
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from PIL import Image

from generation import callbacks, jobs
from generation.models import CallbackDelivery, CoverTask

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 40, 90)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class Worker:
    """Renders a task at once, with the Sentinel verdict `verdict` for every cover (or one per cover, a list), and
    delivers its callback to a recording stand-in for the receiver."""

    def __init__(self):
        self.verdicts = ["pass"]
        self.sent: list[tuple[str, dict, bytes]] = []

    def render(self, task_id: str, verdict: str | list[str] = "pass") -> CoverTask:
        self.verdicts = [verdict] if isinstance(verdict, str) else verdict
        jobs.render_task(task_id)
        return CoverTask.objects.get(pk=task_id)

    def callback(self, task_id: str) -> tuple[str, dict, bytes]:
        """The task's callback as its receiver gets it: URL, headers and the raw body."""
        row = CallbackDelivery.objects.get(task_id=task_id, webhook_id=f"msg_{task_id}", attempt=1)  # the final one
        callbacks.deliver_callback(row.pk)
        return self.sent[-1]


@pytest.fixture
def worker(monkeypatch):
    worker = Worker()

    def render_checked(task, index, photo, known):
        result = SimpleNamespace(format="png", data=png(), width=32, height=32, filename=f"cover_{index}.png",
                                 measurements={})
        verdict = worker.verdicts[index % len(worker.verdicts)]
        qa = {"verdict": verdict, "passed": verdict == "pass", "checks": {}, "values": {}}
        return SimpleNamespace(variant="artist", seed=index), result, qa, 1

    def post(url, headers, body, deadline):
        worker.sent.append((url, headers, body))
        return 200, ""

    monkeypatch.setattr(jobs, "render_checked", render_checked)
    monkeypatch.setattr(jobs, "known_hashes", lambda task: [])
    monkeypatch.setattr(jobs, "prepare_task_photo", lambda task: None)
    monkeypatch.setattr(callbacks, "hand_to_queue", lambda *a, **k: True)  # the outbox row is what counts
    monkeypatch.setattr(callbacks, "_post", post)
    return worker


def verify_standard_webhook(secret: str, headers: dict, body: bytes) -> bool:
    """What a receiver does with the `whsec_...` secret (README, Callbacks)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())


def fetch(client, url: str) -> bytes:
    """Download an image URL from a peer's answer, as its client would (the test server has no host)."""
    assert isinstance(url, str) and url.startswith(("http://", "https://")), url
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content) if response.streaming else response.content


def parsed(body: bytes) -> dict:
    return json.loads(body)
