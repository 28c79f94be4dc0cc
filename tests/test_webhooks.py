"""Webhooks: progress callbacks (`webhook_events_filter`), re-enabling a URL that a 410 disabled (API and dashboard),
and a variation's own callBackUrl. An instant render stands in for the engine; the callbacks queue is a list the
test drains in order, as one worker would, and the receiver is a recording stand-in for `_post`."""

import io
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from PIL import Image
from standardwebhooks import Webhook

from generation import callbacks, jobs, reconcile
from generation.models import CallbackDelivery, CoverTask, DisabledEndpoint, TaskStatus

HOOK = "https://hooks.example.com/covers"
OTHER_HOOK = "https://variations.example.com/hook"
BODY = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "seed": 7, "count": 2,
        "callBackUrl": HOOK}


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 90)).save(buf, "PNG")
    return buf.getvalue()


class Callbacks:
    """The callbacks queue (delivery ids, first in first out) and the receiver: every POST and its answer."""

    def __init__(self):
        self.queued: list[int] = []
        self.sent: list[SimpleNamespace] = []
        self.answers: list[int] = []  # the receiver's next answers; 200 once they run out

    def hand_to_queue(self, delivery_id: int, delay=None) -> bool:
        self.queued.append(delivery_id)
        return True

    def post(self, url, headers, body, deadline):
        self.sent.append(SimpleNamespace(url=url, headers=headers, body=body, json=json.loads(body),
                                         deadline=deadline))
        return (self.answers.pop(0) if self.answers else 200), ""

    def drain(self) -> None:
        while self.queued:
            callbacks.deliver_callback(self.queued.pop(0))

    def events(self) -> list[str]:
        return [s.json["data"]["event"] for s in self.sent]


@pytest.fixture
def hooks(monkeypatch, settings, tmp_path):  # (pytest-django's settings fixture: restored after the test)
    settings.MEDIA_ROOT = tmp_path / "media"
    hooks = Callbacks()
    hooks.verdicts = ["pass"]

    def render_checked(task, index, photo, known):
        result = SimpleNamespace(format="png", data=png(), width=64, height=64, filename=f"c{index}.png",
                                 measurements={})
        verdict = hooks.verdicts[index % len(hooks.verdicts)]
        qa = {"verdict": verdict, "passed": verdict == "pass", "checks": {}, "values": {}}
        return SimpleNamespace(variant="artist", seed=100 + index), result, qa, 1

    monkeypatch.setattr(jobs, "render_checked", render_checked)
    monkeypatch.setattr(jobs, "known_hashes", lambda task: [])
    monkeypatch.setattr(jobs, "prepare_task_photo", lambda task: None)
    monkeypatch.setattr(callbacks, "hand_to_queue", hooks.hand_to_queue)
    monkeypatch.setattr(callbacks, "_post", hooks.post)
    return hooks


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what a request queues on commit (the test's transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def render(hooks, django_capture_on_commit_callbacks):
    """Render a task (every image job, as the workers would), commit, then deliver what was queued."""

    def render(task_id: str, verdicts=("pass",)) -> CoverTask:
        hooks.verdicts = list(verdicts)
        with django_capture_on_commit_callbacks(execute=True):
            jobs.render_task(task_id)
        hooks.drain()
        return CoverTask.objects.get(pk=task_id)

    return render


def submit(client, **fields) -> str:
    response = client.post("/api/v1/cover/generate", {**BODY, **fields}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["data"]["taskId"]


# The filter's validation


@pytest.mark.django_db
@pytest.mark.parametrize("value,says", [
    (["started", "finished"], "'finished'"),
    (["start"], "Replicate's 'start' is 'started' here"),
    (["output", "completed"], "Replicate's 'output' is 'image' here"),
    ([1, 2], "must be a list of events"),
    ({"started": True}, "must be a list of events"),
])
def test_an_unknown_event_is_a_422_naming_the_field_and_the_valid_events(client, value, says):
    response = client.post("/api/v1/cover/generate", {**BODY, "webhook_events_filter": value}, format="json")
    assert response.status_code == 422
    message = response.json()["data"]["errors"]["webhook_events_filter"][0]
    assert says in message and "started, image, completed" in message
    assert response.json()["msg"].startswith("webhook_events_filter: ")
    assert not CoverTask.objects.exists()


@pytest.mark.django_db
def test_the_filter_is_kept_in_the_events_order_without_duplicates(client):
    task_id = submit(client, webhook_events_filter=["image", "started", "image"])
    assert CoverTask.objects.get(pk=task_id).params["webhook_events_filter"] == ["started", "image"]
    task_id = submit(client, taskId="form", webhook_events_filter="completed,started")  # a form's comma list
    assert CoverTask.objects.get(pk=task_id).params["webhook_events_filter"] == ["started", "completed"]


# Progress events


def verified(org, sent) -> dict:
    """The body as a receiver using the standardwebhooks package accepts it (raises when the signature is wrong)."""
    return Webhook(org.webhook_secret).verify(sent.body, sent.headers)


@pytest.mark.django_db
def test_started_image_and_completed_arrive_in_order_signed_with_distinct_ids(client, org, hooks, render):
    task_id = submit(client, webhook_events_filter=["started", "image", "completed"])
    task = render(task_id, verdicts=["pass", "fail"])
    assert task.status == TaskStatus.PARTIAL

    assert hooks.events() == ["started", "image", "image", "completed"]
    assert [s.headers["webhook-id"] for s in hooks.sent] == [
        f"msg_{task_id}_started", f"msg_{task_id}_image_0", f"msg_{task_id}_image_1", f"msg_{task_id}"]
    assert all(s.url == HOOK for s in hooks.sent)
    bodies = [verified(org, s) for s in hooks.sent]
    assert all(b["data"]["taskId"] == task_id for b in bodies)
    started, passed, failed, final = bodies
    assert started["code"] == 200 and started["msg"] == "started"
    # Each stored image, passed or not, with its entry: the passed one as record-info lists it, the failed one why.
    assert passed["data"]["image"]["index"] == 0 and passed["data"]["image"]["passed"] is True
    assert "/files/" in passed["data"]["image"]["url"]
    assert failed["data"]["image"]["index"] == 1 and failed["data"]["image"]["passed"] is False
    assert "url" not in failed["data"]["image"] and failed["data"]["image"]["reason"]
    # The final one is today's callback, with the event added.
    assert final["code"] == 200 and final["msg"] == "success" and final["data"]["status"] == "PARTIAL"
    assert [i["index"] for i in final["data"]["images"]] == [0]
    # A slow receiver of a progress event holds the queue (and the final callback behind it) for a few seconds only.
    progress, final = callbacks.PROGRESS_TIMEOUT_SECONDS, settings.CALLBACK_TIMEOUT_SECONDS
    assert [s.deadline for s in hooks.sent] == [progress] * 3 + [final]


@pytest.mark.django_db
def test_without_a_filter_only_the_final_callback_is_sent_as_today(client, org, hooks, render):
    task_id = submit(client)
    render(task_id)
    assert hooks.events() == ["completed"] and hooks.sent[0].headers["webhook-id"] == f"msg_{task_id}"
    body = verified(org, hooks.sent[0])
    assert body["code"] == 200 and body["data"]["status"] == "SUCCESS" and len(body["data"]["images"]) == 2
    assert CallbackDelivery.objects.filter(task_id=task_id).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("wanted,expected", [
    (["started"], ["started", "completed"]),
    (["image"], ["image", "image", "completed"]),
    ([], ["completed"]),
    (None, ["completed"]),
])
def test_the_final_callback_is_always_sent_whatever_the_filter(client, hooks, render, wanted, expected):
    render(submit(client, webhook_events_filter=wanted))
    assert hooks.events() == expected


@pytest.mark.django_db
def test_a_failed_task_also_sends_its_final_callback_after_the_events(client, hooks, render):
    task_id = submit(client, webhook_events_filter=["started", "image"])
    task = render(task_id, verdicts=["fail"])
    assert task.status == TaskStatus.FAILED
    assert hooks.events() == ["started", "image", "image", "completed"]
    assert hooks.sent[-1].json["code"] == 531 and hooks.sent[-1].json["data"]["status"] == "FAILED"


@pytest.mark.django_db
def test_a_progress_event_that_fails_is_not_retried_and_the_final_one_still_goes(client, hooks, render):
    hooks.answers = [500]  # the receiver fails the started event
    task_id = submit(client, webhook_events_filter=["started"])
    render(task_id)
    assert hooks.events() == ["started", "completed"]
    started = CallbackDelivery.objects.get(task_id=task_id, event="started")
    assert started.status_code == 500 and started.next_attempt_at is None and "not retried" in started.error
    assert CallbackDelivery.objects.filter(task_id=task_id, event="started").count() == 1
    final = CallbackDelivery.objects.get(task_id=task_id, event="completed")
    assert final.ok and not DisabledEndpoint.objects.exists()


@pytest.mark.django_db
def test_a_progress_event_never_arrives_after_the_final_one(client, hooks, django_capture_on_commit_callbacks):
    task_id = submit(client, webhook_events_filter=["started", "image"])
    with django_capture_on_commit_callbacks(execute=True):
        jobs.render_task(task_id)
    hooks.queued.reverse()  # the final callback's turn comes first (say, the reconciler queued the others late)
    hooks.drain()
    assert hooks.events() == ["completed"]
    skipped = CallbackDelivery.objects.filter(task_id=task_id).exclude(event="completed")
    assert skipped.count() == 3 and all(r.error.startswith("skipped") and r.status_code is None for r in skipped)


@pytest.mark.django_db
def test_a_410_on_a_progress_event_disables_the_url_for_the_final_one_until_re_enabled(client, org, hooks, render,
                                                                                     committed):
    hooks.answers = [410]
    task_id = submit(client, webhook_events_filter=["started"])
    render(task_id)
    assert hooks.events() == ["started"]  # the URL said it is gone: the final callback is not sent to it
    assert DisabledEndpoint.objects.filter(organization=org, url=HOOK).exists()
    final = CallbackDelivery.objects.get(task_id=task_id, event="completed")
    assert final.error == callbacks.SKIPPED_GONE

    with committed():
        response = client.post("/api/v1/webhooks/enable", {"url": HOOK}, format="json")
    assert response.status_code == 200 and response.json()["data"]["requeued"] == 1
    hooks.drain()
    assert hooks.events() == ["started", "completed"]  # the final callback again; the stale progress event not
    assert hooks.sent[-1].headers["webhook-id"] == f"msg_{task_id}"
    assert CallbackDelivery.objects.get(task_id=task_id, event="completed", attempt=2).ok


# Re-enabling through the API


def gone(client, hooks, render, n: int = 1) -> list[str]:
    """`n` tasks whose final callback the receiver refused with 410 (the first) or that were skipped after it."""
    hooks.answers = [410]
    task_ids = [render(submit(client, taskId=f"rel-{i}")).id for i in range(n)]
    assert hooks.events() == ["completed"]  # the others were not sent: the URL was disabled
    return task_ids


@pytest.mark.django_db
def test_re_enabling_queues_again_the_callbacks_given_up_because_of_the_410(client, org, hooks, render, committed):
    task_ids = gone(client, hooks, render, n=2)
    listed = client.get("/api/v1/webhooks/disabled").json()["data"]["endpoints"]
    assert [e["url"] for e in listed] == [HOOK] and listed[0]["disabledAt"].endswith("Z")

    with committed():
        response = client.post("/api/v1/webhooks/enable", {"url": HOOK}, format="json")
    assert response.status_code == 200
    assert response.json()["data"] == {"url": HOOK, "enabled": True, "requeued": 2}
    assert not DisabledEndpoint.objects.exists()
    hooks.drain()
    assert sorted(s.json["data"]["taskId"] for s in hooks.sent[1:]) == sorted(task_ids)
    assert all(CallbackDelivery.objects.get(task_id=t, attempt=2).ok for t in task_ids)
    assert client.get("/api/v1/webhooks/disabled").json()["data"]["endpoints"] == []
    # Enabled now: again is a 404, and nothing more is queued.
    assert client.post("/api/v1/webhooks/enable", {"url": HOOK}, format="json").status_code == 404
    assert not hooks.queued


@pytest.mark.django_db
@pytest.mark.parametrize("body,field", [
    ({"url": "not a url"}, "url"),
    ({}, "url"),
    ({"url": HOOK, "urls": [HOOK]}, "urls"),
])
def test_a_bad_re_enable_request_is_a_422_naming_the_field(client, body, field):
    response = client.post("/api/v1/webhooks/enable", body, format="json")
    assert response.status_code == 422 and field in response.json()["data"]["errors"]


@pytest.mark.django_db
def test_a_url_that_is_not_disabled_is_a_404(client):
    response = client.post("/api/v1/webhooks/enable", {"url": HOOK}, format="json")
    assert response.status_code == 404 and "not a disabled callback URL" in response.json()["msg"]


@pytest.mark.django_db
def test_another_organisation_can_neither_see_nor_re_enable_the_url(client, outsider_client, org, hooks, render):
    gone(client, hooks, render)
    assert outsider_client.get("/api/v1/webhooks/disabled").json()["data"]["endpoints"] == []
    assert outsider_client.post("/api/v1/webhooks/enable", {"url": HOOK}, format="json").status_code == 404
    assert DisabledEndpoint.objects.filter(organization=org, url=HOOK).exists() and not hooks.queued


# Re-enabling from the dashboard


def browser(user, **kwargs) -> Client:
    c = Client(**kwargs)
    c.force_login(user)
    return c


@pytest.mark.django_db
def test_the_task_page_offers_to_re_enable_and_a_member_can(client, users, org, hooks, render, committed):
    task_id = gone(client, hooks, render)[0]
    member = browser(users["member"])
    page = member.get(f"/covers/{task_id}/").content.decode()
    assert "410 Gone" in page and "Re-enable URL" in page
    assert member.get(f"/covers/{task_id}/enable-callback").status_code == 405  # a POST only
    with committed():
        response = member.post(f"/covers/{task_id}/enable-callback")
    assert response.status_code == 302 and response["Location"] == f"/covers/{task_id}/"
    assert not DisabledEndpoint.objects.exists()
    hooks.drain()
    assert [s.json["data"]["taskId"] for s in hooks.sent] == [task_id, task_id]
    page = member.get(f"/covers/{task_id}/").content.decode()
    assert "Re-enable URL" not in page and "callback(s) given up because of the 410 queued again" in page


@pytest.mark.django_db
def test_the_dashboard_button_needs_the_csrf_token(client, users, hooks, render):
    task_id = gone(client, hooks, render)[0]
    strict = browser(users["member"], enforce_csrf_checks=True)
    assert strict.post(f"/covers/{task_id}/enable-callback").status_code == 403
    assert DisabledEndpoint.objects.exists()


@pytest.mark.django_db
def test_another_organisations_user_gets_404_and_the_url_stays_disabled(client, users, hooks, render):
    task_id = gone(client, hooks, render)[0]
    assert browser(users["outsider"]).post(f"/covers/{task_id}/enable-callback").status_code == 404
    assert DisabledEndpoint.objects.exists() and not hooks.queued


# A variation's own callBackUrl


@pytest.fixture
def parent(client, hooks, render) -> CoverTask:
    task = render(submit(client, webhook_events_filter=["started"]))
    hooks.sent.clear()
    return task


@pytest.mark.django_db
def test_a_variation_with_its_own_callback_url_is_called_back_there(client, org, hooks, render, parent):
    response = client.post(f"/api/v1/cover/{parent.id}/variations", {"callBackUrl": OTHER_HOOK}, format="json")
    assert response.status_code == 200, response.json()
    child = CoverTask.objects.get(pk=response.json()["data"]["taskId"])
    assert child.parent_id == parent.id and child.callback_url == OTHER_HOOK
    render(child.id)
    assert [s.url for s in hooks.sent] == [OTHER_HOOK, OTHER_HOOK]  # its started event (inherited) and final one
    assert hooks.events() == ["started", "completed"]
    assert verified(org, hooks.sent[-1])["data"]["taskId"] == child.id


@pytest.mark.django_db
def test_a_variation_without_one_inherits_the_parents_url_and_events(client, hooks, render, parent):
    response = client.post(f"/api/v1/cover/{parent.id}/variations", {}, format="json")
    child = render(response.json()["data"]["taskId"])
    assert child.callback_url == HOOK and [s.url for s in hooks.sent] == [HOOK, HOOK]
    assert hooks.events() == ["started", "completed"]


@pytest.mark.django_db
def test_a_variation_may_ask_for_its_own_events(client, hooks, render, parent):
    response = client.post(f"/api/v1/cover/{parent.id}/variations",
                           {"callBackUrl": OTHER_HOOK, "webhook_events_filter": ["image"], "count": 1}, format="json")
    render(response.json()["data"]["taskId"])
    assert hooks.events() == ["image", "completed"]


@pytest.mark.django_db
@pytest.mark.parametrize("body,field,says", [
    ({"callBackUrl": "http://10.1.2.3/hook"}, "callBackUrl", "private"),
    ({"callBackUrl": "http://169.254.169.254/latest/meta-data"}, "callBackUrl", "link-local"),
    ({"callBackUrl": "ftp://example.com/hook"}, "callBackUrl", ""),
    ({"callbackUrl": OTHER_HOOK}, "callbackUrl", "did you mean callBackUrl?"),
    ({"webhook_events_filter": ["logs"]}, "webhook_events_filter", "started, image, completed"),
])
def test_a_variations_callback_url_gets_the_same_checks_as_generate(client, parent, body, field, says):
    response = client.post(f"/api/v1/cover/{parent.id}/variations", body, format="json")
    assert response.status_code == 422
    assert says in response.json()["data"]["errors"][field][0]
    assert not CoverTask.objects.filter(parent=parent).exists()


# The outbox


@pytest.mark.django_db
def test_progress_events_wait_in_the_outbox_while_redis_is_down_and_go_in_order(client, hooks, monkeypatch,
                                                                                django_capture_on_commit_callbacks):
    monkeypatch.setattr(callbacks, "hand_to_queue", lambda *a, **k: False)  # Redis refuses every job
    task_id = submit(client, webhook_events_filter=["started", "image"])
    with django_capture_on_commit_callbacks(execute=True):
        jobs.render_task(task_id)
    rows = CallbackDelivery.objects.filter(task_id=task_id)
    assert rows.count() == 4 and all(r.pending and r.enqueued_at is None for r in rows)

    monkeypatch.setattr(reconcile, "hand_to_queue", hooks.hand_to_queue)  # Redis is back
    later = timezone.now() + timedelta(seconds=settings.RECONCILE_GRACE_SECONDS + 1)
    assert reconcile.reconcile(later)["deliveries_queued"] == 4
    hooks.drain()
    assert hooks.events() == ["started", "image", "image", "completed"]
    assert reconcile.reconcile(later)["deliveries_queued"] == 0  # each sent once
