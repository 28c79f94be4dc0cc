"""Sandbox keys (`aa_test_...`): no credits held, charged or released and no ledger rows on any path (submit,
render, review, cancel, failure), covers watermarked SAMPLE after the Sentinel, tasks marked as test data in the
task data, callbacks, dashboard and admin, their own generate rate limit, and taskIds apart from the live ones."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import ApiKey
from albumart import ratelimit
from billing import ledger
from billing.models import CreditEntry
from generation import callbacks, files, jobs, review
from generation.engine.watermark import apply_sample, sample_masks
from generation.models import CallbackDelivery, CoverImage, CoverTask, TaskStatus, Verdict
from tests.conftest import api_client, assert_ledger_consistent, make_org

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
GENERATE = "/api/v1/cover/generate"
VALID = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": 2, "size": 1400}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def sandbox_client(org) -> APIClient:
    _, plaintext = ApiKey.create(org, "tests", sandbox=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    client.plaintext_key = plaintext
    return client


@pytest.fixture
def sandbox(org):
    return sandbox_client(org)


def entries(org) -> list:
    return list(CreditEntry.objects.filter(organization=org).exclude(kind=CreditEntry.Kind.GRANT)
                .values_list("kind", "amount"))


def submitted(response) -> CoverTask:
    assert response.status_code == 200, response.content
    return CoverTask.objects.get(pk=response.json()["data"]["taskId"])


def png(size=32) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (200, 40, 90)).save(buf, "PNG")
    return buf.getvalue()


def decoded(path: str) -> np.ndarray:
    with Image.open(io.BytesIO(files.read(path))) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


def assert_untouched(org, balance: int) -> None:
    """No ledger row but the grant, the balance as granted, nothing held, and verify_ledger clean."""
    assert entries(org) == []
    acct = ledger.account(org)
    assert (acct.balance, acct.held) == (balance, 0)
    assert_ledger_consistent(org)
    assert ledger.drift() == []
    call_command("verify_ledger")  # raises CommandError on any drift


# Keys


def test_a_sandbox_key_has_the_test_prefix_is_stored_as_a_digest_and_authenticates(org):
    key, plaintext = ApiKey.create(org, "ci", sandbox=True)
    key_id, secret = plaintext.removeprefix("aa_test_").split(".")
    assert plaintext.startswith("aa_test_") and key_id == key.key_id and key.sandbox
    assert secret not in key.digest and len(key.digest) == 64
    assert ApiKey.authenticate(plaintext) == key
    assert str(key).startswith(f"aa_test_{key.key_id}")
    # The prefix must name the key's kind: the same id and secret under the live prefix is refused, and so is a
    # live key under the sandbox prefix.
    assert ApiKey.authenticate(f"aa_{key_id}.{secret}") is None
    live, live_plain = ApiKey.create(org, "prod")
    assert live_plain.startswith("aa_") and not live_plain.startswith("aa_test_") and not live.sandbox
    assert ApiKey.authenticate("aa_test_" + live_plain.removeprefix("aa_")) is None
    assert ApiKey.authenticate(live_plain) == live


def test_the_keys_page_creates_a_sandbox_key_shown_once_and_lists_it_as_test(users, org):
    owner = Client()
    owner.force_login(users["owner"])
    page = owner.post("/keys/create/", {"name": "staging", "kind": "sandbox"}, follow=True).content.decode()
    key = ApiKey.objects.get(name="staging")
    assert key.sandbox
    start = page.index('id="new-key">') + len('id="new-key">')
    plaintext = page[start:page.index("<", start)]
    assert plaintext.startswith(f"aa_test_{key.key_id}.") and "sandbox key" in page
    listing = owner.get("/keys/").content.decode()
    assert plaintext not in listing and f"aa_test_{key.key_id}…" in listing
    assert 'class="badge test"' in listing and 'value="sandbox"' in listing
    # Without a kind (as before), a live key.
    owner.post("/keys/create/", {"name": "production"})
    assert ApiKey.objects.get(name="production").sandbox is False


def test_the_admin_shows_and_filters_the_kind_of_key_and_of_task(org, sandbox, client):
    submitted(sandbox.post(GENERATE, {**VALID, "text_album": "TEST RUN"}, format="json"))
    submitted(client.post(GENERATE, {**VALID, "text_album": "LIVE RUN"}, format="json"))
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123"))
    tasks = admin.get("/admin/generation/covertask/?sandbox__exact=1").content.decode()
    live_task = CoverTask.objects.get(sandbox=False)
    sandbox_task = CoverTask.objects.get(sandbox=True)
    assert sandbox_task.id in tasks and live_task.id not in tasks
    assert "column-sandbox" in tasks
    keys = admin.get("/admin/accounts/apikey/?sandbox__exact=1").content.decode()
    assert "aa_test_" in keys and "column-sandbox" in keys


# Submit: no credits, no 402


def test_a_sandbox_submit_at_a_balance_of_zero_holds_nothing_and_writes_no_ledger_row():
    broke = make_org("Broke Records", credits=0)
    assert api_client(broke).post(GENERATE, VALID, format="json").status_code == 402  # a live key: no credits
    task = submitted(sandbox_client(broke).post(GENERATE, VALID, format="json"))
    assert task.sandbox and task.status == TaskStatus.PENDING and task.credits_held == 0
    assert_untouched(broke, 0)


def test_a_sandbox_submit_is_not_blocked_by_a_debt(org):
    ledger.reverse(org, 130, note="dispute")  # 100 taken, 30 owed: live submits are blocked
    assert api_client(org).post(GENERATE, VALID, format="json").status_code == 402
    before = entries(org)
    submitted(sandbox_client(org).post(GENERATE, VALID, format="json"))
    assert entries(org) == before


@pytest.mark.parametrize("path, body", [
    ("/api/v1/suno/cover/generate", {"taskId": "music-1"}),
    ("/api/v1/audio/music/cover/generate", {"task_id": "music-2"}),
    ("/v1/album-art/generate", {}),
])
def test_every_dialect_submits_a_sandbox_key_as_a_sandbox_task(path, body):
    broke = make_org("Broke Records", credits=0)
    response = sandbox_client(broke).post(path, {**VALID, **body}, format="json")
    assert response.status_code == 200, response.content
    assert CoverTask.objects.get(organization=broke).sandbox
    assert_untouched(broke, 0)


def test_sandbox_and_live_task_ids_are_apart_and_record_info_answers_the_keys_kind(org, sandbox, client):
    test_task = submitted(sandbox.post(GENERATE, {**VALID, "taskId": "rel-1"}, format="json"))
    live_task = submitted(client.post(GENERATE, {**VALID, "taskId": "rel-1"}, format="json"))
    again = sandbox.post(GENERATE, {**VALID, "taskId": "rel-1"}, format="json")
    assert again.status_code == 409 and again.json()["data"] == {"taskId": test_task.id}
    by_id = "/api/v1/cover/record-info?clientTaskId=rel-1"
    assert sandbox.get(by_id).json()["data"]["taskId"] == test_task.id
    assert client.get(by_id).json()["data"]["taskId"] == live_task.id
    # a task id is a task id, whatever the key
    assert client.get(f"/api/v1/cover/record-info?taskId={test_task.id}").json()["data"]["sandbox"] is True


def test_an_idempotency_key_is_never_replayed_across_the_two_kinds(org, sandbox, client):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-77"}
    first = sandbox.post(GENERATE, VALID, format="json", **headers)
    assert first.status_code == 200
    assert sandbox.post(GENERATE, VALID, format="json", **headers)["Idempotent-Replayed"] == "true"
    live = client.post(GENERATE, VALID, format="json", **headers)
    assert live.status_code == 409 and "different parameters" in live.json()["msg"]
    assert CoverTask.objects.filter(organization=org, sandbox=False).count() == 0


def test_a_variation_costs_what_the_calling_key_costs(org, sandbox):
    parent = CoverTask.objects.create(organization=org, genre="hiphop", params={**VALID, "genre": "hiphop"},
                                      count=2, status=TaskStatus.SUCCESS)
    child = submitted(sandbox.post(f"/api/v1/cover/{parent.id}/variations", {}, format="json"))
    assert child.sandbox and child.parent == parent and child.credits_held == 0
    assert_untouched(org, 100)


def test_the_ledger_itself_refuses_to_move_credits_for_a_sandbox_task(org):
    task = CoverTask.objects.create(organization=org, genre="hiphop", params={}, count=1, sandbox=True)
    with pytest.raises(ValueError, match="sandbox"):
        ledger.hold(org, 1, task)
    with pytest.raises(ValueError, match="sandbox"):
        ledger.release(org, 1, task)
    assert_untouched(org, 100)


# Rendering: watermarked after the Sentinel, settled without the ledger


def test_sandbox_covers_are_the_live_covers_under_the_sample_watermark(org, sandbox, client, settings, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    settings.QA_MAX_ATTEMPTS = 0
    body = {**VALID, "count": 1, "seed": 4242, "output_format": "png"}
    test_task = submitted(sandbox.post(GENERATE, body, format="json"))
    test_task.callback_url = "https://hooks.example.com/covers"  # set here: submit would resolve the name
    test_task.save(update_fields=["callback_url"])
    live_task = submitted(client.post(GENERATE, body, format="json"))
    with django_capture_on_commit_callbacks():
        jobs.render_task(test_task.id)
    jobs.render_task(live_task.id)
    test_task.refresh_from_db()
    test_image, live_image = test_task.images.get(), live_task.images.get()
    watermarked, plain = decoded(test_image.storage_path), decoded(live_image.storage_path)

    band, letters = sample_masks(1400)
    outside = (band == 0) & (letters == 0)
    assert outside.mean() > 0.6 and np.array_equal(watermarked[outside], plain[outside])
    inside = (band == 255) & (letters == 0)
    assert watermarked[inside].mean() < 0.5 * plain[inside].mean()  # the band darkens the cover under it
    ink = letters == 255
    assert watermarked[ink].min() > 200  # the SAMPLE lettering is white
    assert np.array_equal(watermarked, apply_sample(plain.astype(np.uint8)))  # and nothing else changed

    # The Sentinel judged the cover itself (the same verdict and values as the live one), and the test cover is
    # out of the reuse index; the stored size is the watermarked file's.
    assert test_image.verdict == live_image.verdict and test_image.qa["checks"] == live_image.qa["checks"]
    assert test_image.phash == "" and live_image.phash
    assert test_image.bytes == len(files.read(test_image.storage_path))

    data = sandbox.get(f"/api/v1/cover/record-info?taskId={test_task.id}").json()["data"]
    assert data["sandbox"] is True and data["credits"] == {"held": 0, "charged": 0}
    assert data["status"] in (TaskStatus.SUCCESS, TaskStatus.FAILED)
    live_data = client.get(f"/api/v1/cover/record-info?taskId={live_task.id}").json()["data"]
    assert live_data["sandbox"] is False
    assert sorted(entries(org)) == [("charge" if live_image.passed else "release", 1), ("hold", 1)]  # live only
    assert ledger.drift() == []

    # The callback goes out as for a live task, signed, and says sandbox.
    sent = {}

    def post(url, headers, body, timeout):
        sent.update(url=url, headers=headers, body=body)
        return 200, ""

    monkeypatch.setattr(callbacks, "_post", post)
    callbacks.deliver_callback(CallbackDelivery.objects.get(task=test_task).pk)
    assert sent["url"] == "https://hooks.example.com/covers" and sent["headers"]["webhook-signature"].startswith("v1,")
    assert json.loads(sent["body"])["data"]["sandbox"] is True


@pytest.fixture
def fake_render(monkeypatch):
    """An instant render in place of the engine, with the verdicts of `verdicts` in turn (default pass)."""
    state = {"verdicts": [], "during": None}

    def render_checked(task, index, photo, known):
        if state["during"]:
            state["during"](task, index)
        verdict = state["verdicts"].pop(0) if state["verdicts"] else Verdict.PASS
        result = SimpleNamespace(format="png", data=png(), width=32, height=32, filename=f"c{index}.png",
                                 measurements={}, pixels=np.full((32, 32, 3), 90, np.uint8))
        return (SimpleNamespace(variant="artist", seed=index, jpeg_quality=92), result,
                {"verdict": verdict, "values": {"phash": "0123456789abcdef"}}, 1)

    monkeypatch.setattr(jobs, "render_checked", render_checked)
    monkeypatch.setattr(jobs, "known_hashes", lambda task: [])
    monkeypatch.setattr(jobs, "prepare_task_photo", lambda task: None)
    monkeypatch.setattr(callbacks, "hand_to_queue", lambda *a, **k: True)
    return state


def sandbox_task(org, count=3) -> CoverTask:
    return submitted(sandbox_client(org).post(GENERATE, {**VALID, "count": count}, format="json"))


def test_a_partial_sandbox_task_charges_and_releases_nothing(org, fake_render):
    task = sandbox_task(org)
    fake_render["verdicts"] = [Verdict.PASS, Verdict.FAIL, Verdict.PASS]
    jobs.render_task(task.id)
    task.refresh_from_db()
    assert task.status == TaskStatus.PARTIAL and (task.credits_held, task.credits_charged) == (0, 0)
    assert_untouched(org, 100)


def test_the_review_path_of_a_sandbox_task_moves_no_credit(org, fake_render):
    task = sandbox_task(org)
    fake_render["verdicts"] = [Verdict.PASS, Verdict.REVIEW, Verdict.REVIEW]
    jobs.render_task(task.id)
    task.refresh_from_db()
    assert task.status == TaskStatus.REVIEW and (task.credits_held, task.credits_charged) == (0, 0)
    first, second = task.images.filter(verdict=Verdict.REVIEW).order_by("index")
    assert review.decide(first.pk, approve=True) and review.decide(second.pk, approve=False)
    task.refresh_from_db()
    assert task.status == TaskStatus.PARTIAL and (task.credits_held, task.credits_charged) == (0, 0)
    assert_untouched(org, 100)


def test_cancelling_a_sandbox_task_waiting_or_rendering_moves_no_credit(org, sandbox, fake_render):
    waiting = sandbox_task(org)
    answer = sandbox.post(f"/api/v1/cover/{waiting.id}/cancel")
    assert answer.status_code == 200 and answer.json()["data"]["status"] == TaskStatus.CANCELLED
    assert answer.json()["data"]["credits"] == {"held": 0, "charged": 0}
    assert "no credits were held" in answer.json()["data"]["errorMessage"]
    rendering = sandbox_task(org)
    assert jobs._render_image(rendering.id, 0) == "stored"  # one cover delivered before the cancel
    answer = sandbox.post(f"/api/v1/cover/{rendering.id}/cancel")
    assert answer.status_code == 200 and answer.json()["data"]["credits"] == {"held": 0, "charged": 0}
    assert jobs._render_image(rendering.id, 1) == "skipped"
    assert_untouched(org, 100)


def test_failing_a_sandbox_task_waiting_or_part_rendered_moves_no_credit(org, fake_render):
    waiting = sandbox_task(org)
    assert jobs.fail_task(waiting.id, "Rendering failed.")
    part = sandbox_task(org)
    jobs._render_image(part.id, 0)
    assert jobs.fail_task(part.id, "the worker died")
    waiting.refresh_from_db()
    part.refresh_from_db()
    assert waiting.status == TaskStatus.FAILED and part.status == TaskStatus.PARTIAL
    assert (part.credits_held, part.credits_charged) == (0, 0)
    assert_untouched(org, 100)


# Rate limits


@pytest.fixture
def production_limits(settings, monkeypatch):
    settings.RATE_LIMIT_GENERATE, settings.RATE_LIMIT_READ, settings.RATE_LIMIT_WINDOW_SECONDS = 20, 100, 10
    settings.RATE_LIMIT_SANDBOX_GENERATE = 5
    monkeypatch.setattr(ratelimit, "_down_until", {})


def test_a_sandbox_key_has_its_own_generate_limit_apart_from_the_live_keys(org, sandbox, client, production_limits):
    org.rate_limit_generate = 50  # the organisation's own limit is for its live keys
    org.save()
    body = {**VALID, "count": 1}
    for n in range(5):
        response = sandbox.post(GENERATE, body, format="json")
        assert response.status_code == 200 and response["RateLimit-Limit"] == "5"
        assert response["RateLimit-Remaining"] == str(4 - n)
    refused = sandbox.post(GENERATE, body, format="json")
    assert refused.status_code == 429 and refused["Retry-After"]
    assert refused.json()["msg"].startswith("Rate limit reached: 5 generate and variations requests per 10 s for "
                                            "this sandbox API key")
    live = client.post(GENERATE, body, format="json")  # the live key of the same organisation is untouched
    assert live.status_code == 200 and (live["RateLimit-Limit"], live["RateLimit-Remaining"]) == ("50", "49")
    read = sandbox.get("/api/v1/credits")  # and the sandbox key's reads have the read limit
    assert read.status_code == 200 and read["RateLimit-Limit"] == "100"


def test_the_production_sandbox_generate_default_is_5(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATE_LIMIT_", "ALBUMART_"))}
    env.update(SECRET_KEY="s" * 50, API_KEY_PEPPERS="1:" + "p" * 32, ALBUMART_VAR_DIR=str(tmp_path),
               MEDIA_ROOT=str(tmp_path / "media"), DEBUG="0")
    code = "from albumart import settings as s; print(s.TESTING, s.RATE_LIMIT_SANDBOX_GENERATE)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "5"]


# Dashboard


def delivered_task(org, sandbox: bool, album: str) -> CoverTask:
    task = CoverTask.objects.create(organization=org, genre="hiphop", count=1, status=TaskStatus.SUCCESS,
                                    sandbox=sandbox, credits_charged=0 if sandbox else 1,
                                    params={"text_artist": "NOVA", "text_album": album, "size": 1400})
    path = files.save(f"covers/{org.pk}/{task.id}/0.png", png())
    CoverImage.objects.create(task=task, index=0, variant="artist", seed=1, format="png", width=32, height=32,
                              bytes=100, storage_path=path, filename="c0.png", passed=True, verdict=Verdict.PASS)
    return task


def test_the_dashboard_badges_test_tasks_and_leaves_them_out_of_usage(users, org):
    test_task = delivered_task(org, True, "SANDBOX ALBUM")
    live_task = delivered_task(org, False, "LIVE ALBUM")
    member = Client()
    member.force_login(users["member"])
    badge = 'class="badge test"'

    covers = member.get("/covers/").content.decode()
    rows = {album: covers[covers.index(album):covers.index("</tr>", covers.index(album))]
            for album in ("SANDBOX ALBUM", "LIVE ALBUM")}
    assert badge in rows["SANDBOX ALBUM"] and badge not in rows["LIVE ALBUM"]
    only_test = member.get("/covers/?kind=test").content.decode()
    assert "SANDBOX ALBUM" in only_test and "LIVE ALBUM" not in only_test
    assert badge in member.get(f"/covers/{test_task.id}/").content.decode()
    assert badge not in member.get(f"/covers/{live_task.id}/").content.decode()
    overview = member.get("/dashboard/")
    assert badge in overview.content.decode()
    assert overview.context["images"]["passed"] == 1 and overview.context["month"]["tasks"] == 1
    assert overview.context["month"]["test_tasks"] == 1

    usage = member.get("/usage/")
    assert usage.context["totals"]["delivered"] == 1 and usage.context["test_tasks"] == 1
    assert [g["tasks"] for g in usage.context["genres"]] == [1]


def test_another_organisations_sandbox_task_is_404_on_the_dashboard_and_the_api(users, org, other_org):
    theirs = delivered_task(other_org, True, "THEIRS")
    member = Client()
    member.force_login(users["member"])
    assert member.get(f"/covers/{theirs.id}/").status_code == 404
    assert sandbox_client(org).get(f"/api/v1/cover/record-info?taskId={theirs.id}").status_code == 404
