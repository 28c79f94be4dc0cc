"""The task list, lookup by the client's task id, cancel, delete and the photos' retention (issue part 5)."""

import io
import threading
import time
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from PIL import Image

from albumart.api import ApiError
from billing import ledger
from billing.models import CreditEntry
from generation import callbacks, files, jobs, review
from generation.api import cancel_task
from generation.models import CallbackDelivery, CoverImage, CoverTask, Decision, TaskStatus, Verdict
from generation.taskdata import callback_envelope
from tests.conftest import assert_ledger_consistent, make_org

LIST = "/api/v1/cover/tasks"
PARAMS = {"text_artist": "NOVA", "text_album": "STILL STANDING", "output_format": "png", "size": 1400}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(size=32) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (200, 40, 90)).save(buf, "PNG")
    return buf.getvalue()


def held_task(org, count=3, genre="hiphop", **fields) -> CoverTask:
    """A submitted task with its credits held, as generate leaves it."""
    task = CoverTask.objects.create(organization=org, genre=genre, params=dict(PARAMS, count=count, genre=genre),
                                    count=count, credits_held=count, **fields)
    ledger.hold(org, count, task)
    return task


def store_image(task, index, passed=True, verdict=None) -> CoverImage:
    path = files.save(f"covers/{task.organization_id}/{task.id}/{index}.png", png())
    return CoverImage.objects.create(task=task, index=index, variant="artist", seed=index, format="png", width=32,
                                     height=32, bytes=100, storage_path=path, filename=f"c{index}.png",
                                     passed=passed, verdict=verdict or (Verdict.PASS if passed else Verdict.FAIL))


def finished_task(org, count=2, source=True, **fields) -> CoverTask:
    """A task that ended SUCCESS through the ledger, with its photo and covers in storage."""
    task = held_task(org, count, **fields)
    if source:
        task.source_path = files.save(f"sources/{org.pk}/{task.id}", png(64))
        task.save(update_fields=["source_path"])
    task.start()
    for i in range(count):
        store_image(task, i)
    ledger.charge(org, count, task)
    task.finish(count)
    return task


def errors_of(response) -> dict:
    body = response.json()
    assert response.status_code == 422 and body["code"] == 422, body
    return body["data"]["errors"]


def entries(task) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for kind, amount in CreditEntry.objects.filter(task=task).order_by("pk").values_list("kind", "amount"):
        found.setdefault(kind, []).append(amount)
    return found


# The list


def test_pages_are_newest_first_with_ties_neither_skipped_nor_repeated(client, org, other_org):
    tasks = [CoverTask.objects.create(organization=org, genre="hiphop", params=PARAMS) for _ in range(8)]
    CoverTask.objects.create(organization=other_org, genre="hiphop", params=PARAMS)  # never listed
    now = timezone.now().replace(microsecond=0)
    # Five tasks share one timestamp, so that the page boundaries fall inside the tie.
    for i, task in enumerate(tasks):
        CoverTask.objects.filter(pk=task.pk).update(created_at=now - timedelta(seconds=max(i - 4, 0)))
    expected = [t.id for t in sorted(CoverTask.objects.filter(organization=org),
                                     key=lambda t: (t.created_at, t.id), reverse=True)]
    seen, pages, cursor = [], [], None
    while True:
        url = f"{LIST}?limit=3" + (f"&cursor={quote(cursor)}" if cursor else "")
        body = client.get(url).json()
        assert body["code"] == 200, body
        pages.append(len(body["data"]["tasks"]))
        seen += [t["taskId"] for t in body["data"]["tasks"]]
        cursor = body["data"]["nextCursor"]
        if cursor is None:
            break
    assert pages == [3, 3, 2]
    assert seen == expected


def test_exactly_full_last_page_has_no_next_cursor_and_the_default_is_20(client, org):
    CoverTask.objects.bulk_create([CoverTask(organization=org, genre="edm", params=PARAMS) for _ in range(21)])
    first = client.get(LIST).json()["data"]
    assert len(first["tasks"]) == 20 and first["nextCursor"]
    second = client.get(LIST, {"cursor": first["nextCursor"]}).json()["data"]
    assert len(second["tasks"]) == 1 and second["nextCursor"] is None
    exact = client.get(LIST, {"limit": 21}).json()["data"]
    assert len(exact["tasks"]) == 21 and exact["nextCursor"] is None


def test_list_entries_are_the_task_data_of_record_info(client, org):
    task = finished_task(org, client_task_id="rel-1")
    listed = client.get(LIST).json()["data"]["tasks"]
    single = client.get(f"/api/v1/cover/record-info?taskId={task.id}").json()["data"]
    for entry in (listed[0], single):
        for image in entry.pop("images"):  # signed afresh on each call
            assert "/files/" in image.pop("url")
    assert listed == [single]


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1", "2.5"])
def test_a_bad_limit_is_422_naming_it(client, limit):
    assert "1 to 100" in errors_of(client.get(LIST, {"limit": limit}))["limit"][0]


def test_status_filter_one_or_several(client, org):
    pending = held_task(org)
    generating = held_task(org)
    generating.start()
    failed = held_task(org)
    failed.fail("boom")

    def ids(query):
        return {t["taskId"] for t in client.get(LIST, query).json()["data"]["tasks"]}

    assert ids({"status": "PENDING"}) == {pending.id}
    assert ids({"status": "generating, FAILED"}) == {generating.id, failed.id}
    assert ids({"status": "SUCCESS"}) == set()


def test_an_unknown_status_is_422_listing_the_accepted_ones(client):
    message = errors_of(client.get(LIST, {"status": "PENDING,DONE"}))["status"][0]
    assert "'DONE'" in message
    for status in TaskStatus.values:
        assert status in message


def test_genre_filter_resolves_aliases_and_refuses_unknown_ones(client, org):
    hiphop = CoverTask.objects.create(organization=org, genre="hiphop", params=PARAMS)
    CoverTask.objects.create(organization=org, genre="edm", params=PARAMS)
    for genre in ("hiphop", "trap"):
        assert [t["taskId"] for t in client.get(LIST, {"genre": genre}).json()["data"]["tasks"]] == [hiphop.id]
    assert "unknown genre" in errors_of(client.get(LIST, {"genre": "zzzz"}))["genre"][0]


def test_created_after_and_before_bound_the_list(client, org):
    times = ["2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z", "2026-03-03T10:00:00Z"]
    made = []
    for when in times:
        task = CoverTask.objects.create(organization=org, genre="hiphop", params=PARAMS)
        CoverTask.objects.filter(pk=task.pk).update(created_at=when)
        made.append(task.id)

    def ids(query):
        body = client.get(LIST, query).json()
        assert body["code"] == 200, body
        return [t["taskId"] for t in body["data"]["tasks"]]

    assert ids({"createdAfter": "2026-03-02T10:00:00Z"}) == [made[2], made[1]]  # inclusive
    assert ids({"createdBefore": "2026-03-02T10:00:00Z"}) == [made[0]]  # exclusive
    assert ids({"createdAfter": "2026-03-02", "createdBefore": "2026-03-03"}) == [made[1]]
    assert ids({"createdAfter": "2026-03-02T12:00:00+02:00"}) == [made[2], made[1]]  # 10:00 UTC


@pytest.mark.parametrize("field", ["createdAfter", "createdBefore"])
@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-03-02T10:00:00 02:00", "0001-01-01T00:00:00+05:00"])
def test_a_bad_date_is_422_naming_the_field(client, field, value):
    assert "ISO 8601" in errors_of(client.get(LIST, {field: value}))[field][0]


def test_client_task_id_filter_under_both_names(client, org):
    mine = CoverTask.objects.create(organization=org, genre="hiphop", params=PARAMS, client_task_id="rel-9")
    CoverTask.objects.create(organization=org, genre="hiphop", params=PARAMS, client_task_id="rel-10")
    for name in ("clientTaskId", "taskId"):
        assert [t["taskId"] for t in client.get(LIST, {name: "rel-9"}).json()["data"]["tasks"]] == [mine.id]


def test_unknown_parameters_and_forged_cursors_are_422(client):
    errors = errors_of(client.get(LIST, {"stauts": "FAILED", "created_after": "2026-01-01"}))
    assert set(errors) == {"stauts", "created_after"}
    assert "nextCursor" in errors_of(client.get(LIST, {"cursor": "eyJhIjoxfQ:forged"}))["cursor"][0]


def test_another_organisations_tasks_are_never_listed(client, outsider_client, org):
    task = CoverTask.objects.create(organization=org, genre="hiphop", params=PARAMS, client_task_id="rel-1")
    assert [t["taskId"] for t in client.get(LIST).json()["data"]["tasks"]] == [task.id]
    assert outsider_client.get(LIST).json()["data"] == {"tasks": [], "nextCursor": None}
    assert outsider_client.get(LIST, {"clientTaskId": "rel-1"}).json()["data"]["tasks"] == []


# record-info by the client's task id


def test_record_info_by_client_task_id_prefers_the_live_task(client, org, outsider_client):
    failed = held_task(org, client_task_id="rel-5")
    failed.fail("boom")
    live = held_task(org, client_task_id="rel-5")
    CoverTask.objects.filter(pk=failed.pk).update(created_at=timezone.now() + timedelta(minutes=1))  # newer
    for path in ("/api/v1/cover/record-info", "/api/v1/cover/status"):
        data = client.get(path, {"clientTaskId": "rel-5"}).json()["data"]
        assert data["taskId"] == live.id and data["musicTaskId"] == "rel-5"
    assert client.get("/api/v1/cover/record-info", {"taskId": failed.id}).json()["data"]["status"] == "FAILED"
    assert client.get("/api/v1/cover/record-info", {"taskId": failed.id, "clientTaskId": "other"}).status_code == 404
    assert outsider_client.get("/api/v1/cover/record-info", {"clientTaskId": "rel-5"}).status_code == 404


def test_record_info_without_a_live_task_answers_the_newest(client, org):
    older = held_task(org, client_task_id="rel-6")
    older.fail("first")
    newer = held_task(org, client_task_id="rel-6")
    cancel_task(org, newer.id)
    CoverTask.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=1))
    data = client.get("/api/v1/cover/record-info", {"clientTaskId": "rel-6"}).json()["data"]
    assert data["taskId"] == newer.id and data["status"] == "CANCELLED"
    missing = client.get("/api/v1/cover/record-info", {"clientTaskId": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["msg"]


def test_record_info_with_neither_id_is_422_naming_both(client):
    assert set(errors_of(client.get("/api/v1/cover/record-info"))) == {"taskId", "clientTaskId"}
    assert set(errors_of(client.get("/api/v1/cover/status"))) == {"task_id", "clientTaskId"}


# Cancel


def test_cancel_releases_the_held_credits_once_and_calls_back(client, org, django_capture_on_commit_callbacks):
    task = held_task(org, count=3, callback_url="https://hooks.example.com/covers")
    before = ledger.account(org)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(f"/api/v1/cover/{task.id}/cancel")
    body = response.json()
    assert response.status_code == 200, body
    assert body["data"]["status"] == "CANCELLED" and body["data"]["credits"] == {"held": 0, "charged": 0}
    assert entries(task) == {"hold": [3], "release": [3]}
    after = ledger.account(org)
    assert (after.balance, after.held) == (before.balance, before.held - 3)
    assert_ledger_consistent(org)
    assert sum("hand_to_queue" in repr(c) for c in queued) == 1
    task.refresh_from_db()
    assert task.completed_at and callback_envelope(task)["code"] == 200
    assert callback_envelope(task)["msg"] == "cancelled" and callback_envelope(task)["data"]["status"] == "CANCELLED"

    again = client.post(f"/api/v1/cover/{task.id}/cancel")
    assert again.status_code == 409 and "CANCELLED" in again.json()["msg"]
    assert entries(task) == {"hold": [3], "release": [3]}
    assert CallbackDelivery.objects.filter(task=task).count() == 1
    assert_ledger_consistent(org)


def test_cancel_of_a_finished_task_is_409_with_its_status(client, org):
    task = finished_task(org)
    response = client.post(f"/api/v1/cover/{task.id}/cancel")
    assert response.status_code == 409 and "SUCCESS" in response.json()["msg"]
    assert response.json()["data"] == {"taskId": task.id, "status": "SUCCESS"}
    assert entries(task) == {"hold": [2], "charge": [2]}


def test_cancel_while_rendering_charges_the_covers_already_delivered(client, org):
    task = held_task(org, count=4)
    task.start()
    store_image(task, 0, passed=True)
    store_image(task, 1, passed=False)
    flagged = store_image(task, 2, passed=False, verdict=Verdict.REVIEW)  # not settled yet: no review started
    listed = client.get(f"/api/v1/cover/record-info?taskId={task.id}").json()["data"]["images"]
    assert [i["index"] for i in listed] == [0]  # delivered before the cancel
    data = client.post(f"/api/v1/cover/{task.id}/cancel").json()["data"]
    assert data["status"] == "CANCELLED" and data["credits"] == {"held": 0, "charged": 1}
    assert [i["index"] for i in data["images"]] == [0]
    assert entries(task) == {"hold": [4], "charge": [1], "release": [3]}
    flagged.refresh_from_db()
    assert flagged.decision == Decision.REJECTED  # never left waiting in the staff queue
    assert_ledger_consistent(org)


def test_cancel_in_review_releases_the_pending_images_and_empties_the_queue(client, org):
    task = held_task(org, count=3)
    task.start()
    store_image(task, 0, passed=True)
    pending = store_image(task, 1, passed=False, verdict=Verdict.REVIEW)
    store_image(task, 2, passed=False)
    jobs.settle_render(task.id)  # charges 1, releases 1, holds 1 for the review
    task.refresh_from_db()
    assert task.status == TaskStatus.REVIEW
    data = client.post(f"/api/v1/cover/{task.id}/cancel").json()["data"]
    assert data["status"] == "CANCELLED" and data["credits"] == {"held": 0, "charged": 1}
    assert entries(task) == {"hold": [3], "charge": [1], "release": [1, 1]}
    pending.refresh_from_db()
    assert pending.decision == Decision.REJECTED and not pending.passed
    assert review.decide(pending.pk, approve=True) is False  # a late staff decision moves nothing
    assert not review.pending_reviews().filter(pk=pending.pk).exists()
    assert_ledger_consistent(org)


def test_a_cancelled_client_task_id_can_be_submitted_again(client, org):
    body = {"taskId": "rel-77", "genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING"}
    first = client.post("/api/v1/cover/generate", body, format="json").json()["data"]["taskId"]
    assert client.post("/api/v1/cover/generate", body, format="json").status_code == 409
    assert client.post(f"/api/v1/cover/{first}/cancel").status_code == 200
    again = client.post("/api/v1/cover/generate", body, format="json")
    assert again.status_code == 200 and again.json()["data"]["taskId"] != first
    assert_ledger_consistent(org)


def test_another_organisations_task_cannot_be_cancelled(outsider_client, org):
    task = held_task(org)
    response = outsider_client.post(f"/api/v1/cover/{task.id}/cancel")
    assert response.status_code == 404 and response.json()["code"] == 404
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING and entries(task) == {"hold": [3]}
    assert outsider_client.post("/api/v1/cover/no-such-task/cancel").status_code == 404


def test_another_organisations_task_cannot_be_deleted(outsider_client, org):
    task = finished_task(org)
    response = outsider_client.delete(f"/api/v1/cover/{task.id}")
    assert response.status_code == 404 and response.json()["code"] == 404
    task.refresh_from_db()
    assert task.deleted_at is None and default_storage.exists(task.source_path)
    assert outsider_client.delete("/api/v1/cover/no-such-task").status_code == 404


# Cancel against a render that is finishing


@pytest.fixture
def fake_render(monkeypatch):
    """An instant render in place of the engine: every cover passes QA. `during(task, index)` runs inside the
    render, where a real one spends its seconds."""
    hooks = {"during": None}

    def render_checked(task, index, photo, known):
        if hooks["during"]:
            hooks["during"](task, index)
        result = SimpleNamespace(format="png", data=png(), width=32, height=32, filename=f"c{index}.png",
                                 measurements={})
        return SimpleNamespace(variant="artist", seed=index), result, {"verdict": "pass", "values": {}}, 1

    monkeypatch.setattr(jobs, "render_checked", render_checked)
    monkeypatch.setattr(jobs, "known_hashes", lambda task: [])
    monkeypatch.setattr(jobs, "prepare_task_photo", lambda task: None)
    monkeypatch.setattr(callbacks, "hand_to_queue", lambda *a, **k: True)  # the outbox row is what counts
    return hooks


def test_cancel_during_the_last_render_stores_nothing_and_settles_once(org, fake_render,
                                                                       django_capture_on_commit_callbacks):
    task = held_task(org, count=2, callback_url="https://hooks.example.com/covers")
    assert jobs._render_image(task.id, 0) == "stored"
    fake_render["during"] = lambda t, index: cancel_task(org, t.id)  # the client cancels mid-render
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs._render_image(task.id, 1) == "skipped"
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and task.credits_charged == 1
    assert list(task.images.values_list("index", flat=True)) == [0]
    assert not default_storage.exists(f"covers/{org.pk}/{task.id}/1.png")  # the refused cover's file is gone
    assert entries(task) == {"hold": [2], "charge": [1], "release": [1]}
    assert CallbackDelivery.objects.filter(task=task).count() == 1
    fake_render["during"] = None
    assert jobs._render_image(task.id, 1) == "skipped"  # a retry of the job finds the task ended
    assert_ledger_consistent(org)


def test_cancel_after_the_last_render_settled_is_409_and_moves_no_credit(org, fake_render):
    task = held_task(org, count=2)
    assert jobs._render_image(task.id, 0) == "stored"
    assert jobs._render_image(task.id, 1) == "done"
    with pytest.raises(ApiError) as refused:
        cancel_task(org, task.id)
    assert refused.value.status_code == 409 and "SUCCESS" in refused.value.msg
    assert entries(task) == {"hold": [2], "charge": [2]}
    assert_ledger_consistent(org)


def race_once(org, fake_render, monkeypatch, leader: str) -> tuple[CoverTask, dict]:
    """The last cover's store and a cancel in two threads, on PostgreSQL's row lock: `leader` takes the task's lock
    first and holds it (inside its first ledger move) while the other one asks for it."""
    task = held_task(org, count=2, callback_url="https://hooks.example.com/covers")
    fake_render["during"] = None
    assert jobs._render_image(task.id, 0) == "stored"
    rendering, holding, result = threading.Event(), threading.Event(), {}

    def hold_the_lock(move):
        def moved(*args, **kwargs):
            done = move(*args, **kwargs)
            if threading.current_thread().name == leader and not holding.is_set():
                holding.set()
                time.sleep(0.3)  # the other thread is now waiting for the row
            return done
        return moved

    monkeypatch.setattr(ledger, "charge", hold_the_lock(ledger.charge))
    monkeypatch.setattr(ledger, "release", hold_the_lock(ledger.release))

    def during(t, index):
        rendering.set()
        if leader == "cancel":
            holding.wait(10)

    fake_render["during"] = during

    def store():
        try:
            result["render"] = jobs._render_image(task.id, 1)
        finally:
            connection.close()

    def cancel():
        try:
            rendering.wait(10)  # the job has claimed its cover: a cancel before that would only make it skip
            if leader == "store":
                holding.wait(10)
            try:
                result["cancel"] = cancel_task(org, task.id).status
            except ApiError as exc:  # the 409
                result["cancel"] = exc.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=store, name="store"), threading.Thread(target=cancel, name="cancel")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    task.refresh_from_db()
    return task, result


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("leader", ["cancel", "store"])
def test_cancel_and_the_last_store_race_on_postgresql(fake_render, monkeypatch, leader):
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks between threads: SQLite serialises whole transactions, so there is no race")
    org = make_org("Race Records", credits=100)
    task, result = race_once(org, fake_render, monkeypatch, leader)
    if leader == "cancel":  # the store waited for the lock, then found the task cancelled: the cover is refused
        assert task.status == TaskStatus.CANCELLED, result
        assert result == {"render": "skipped", "cancel": TaskStatus.CANCELLED}
        assert entries(task) == {"hold": [2], "charge": [1], "release": [1]}
        assert not default_storage.exists(f"covers/{org.pk}/{task.id}/1.png")
    else:  # the cancel waited for the lock, then found the task settled: too late, nothing moves
        assert task.status == TaskStatus.SUCCESS, result
        assert result == {"render": "done", "cancel": 409}
        assert entries(task) == {"hold": [2], "charge": [2]}
    assert CallbackDelivery.objects.filter(task=task).count() == 1
    assert_ledger_consistent(org)


# Delete


def test_delete_removes_the_files_and_keeps_the_record_and_ledger(client, org):
    task = finished_task(org, client_task_id="rel-3")
    source = task.source_path
    caches = [files.save(f"{source}.prepared-{kind}", b"x") for kind in ("selfie-0badc0de", "none-12345678")]
    covers = list(task.images.values_list("storage_path", flat=True))
    thumbs = [files.save(f"thumbs/{px}/{covers[0]}.jpg", b"t") for px in (360, 1200)]
    neighbour = files.save(f"sources/{org.pk}/{'f' * 32}", b"another task's photo")
    neighbour_cache = files.save(f"{neighbour}.prepared-selfie-0badc0de", b"x")
    ledger_rows = list(CreditEntry.objects.filter(task=task).values_list("pk", flat=True))

    response = client.delete(f"/api/v1/cover/{task.id}")
    body = response.json()
    assert response.status_code == 200, body
    assert body["data"]["images"] == [] and body["data"]["deleteTime"] and body["data"]["status"] == "SUCCESS"
    for path in [source, *caches, *covers, *thumbs]:
        assert not default_storage.exists(path), path
    assert default_storage.exists(neighbour) and default_storage.exists(neighbour_cache)
    task.refresh_from_db()
    assert task.deleted_at and task.source_path == "" and task.images.count() == 2
    assert list(CreditEntry.objects.filter(task=task).values_list("pk", flat=True)) == ledger_rows
    info = client.get("/api/v1/cover/record-info", {"clientTaskId": "rel-3"}).json()["data"]
    assert info["taskId"] == task.id and info["images"] == [] and info["credits"]["charged"] == 2
    again = client.delete(f"/api/v1/cover/{task.id}")
    assert again.status_code == 200 and again.json()["data"]["deleteTime"] == body["data"]["deleteTime"]
    refused = client.post(f"/api/v1/cover/{task.id}/variations", {}, format="json")
    assert refused.status_code == 409 and "deleted" in refused.json()["msg"]
    assert_ledger_consistent(org)


def test_delete_of_a_waiting_task_is_409_cancel_it_first(client, org):
    task = held_task(org)
    response = client.delete(f"/api/v1/cover/{task.id}")
    assert response.status_code == 409 and "cancel it first" in response.json()["msg"]
    task.refresh_from_db()
    assert task.deleted_at is None and task.status == TaskStatus.PENDING
    assert client.post(f"/api/v1/cover/{task.id}/cancel").status_code == 200
    assert client.delete(f"/api/v1/cover/{task.id}").status_code == 200


def test_a_photo_shared_with_a_variation_goes_with_the_last_task_using_it(client, org):
    parent = finished_task(org)
    source = parent.source_path
    child_id = client.post(f"/api/v1/cover/{parent.id}/variations", {}, format="json").json()["data"]["taskId"]
    assert CoverTask.objects.get(pk=child_id).source_path == source
    assert client.delete(f"/api/v1/cover/{parent.id}").status_code == 200
    assert default_storage.exists(source)  # the variation still renders from it
    assert client.post(f"/api/v1/cover/{child_id}/cancel").status_code == 200
    assert client.delete(f"/api/v1/cover/{child_id}").status_code == 200
    assert not default_storage.exists(source)
    assert_ledger_consistent(org)


def test_a_render_of_a_task_deleted_meanwhile_leaves_no_prepared_photo(org, fake_render,
                                                                       django_capture_on_commit_callbacks):
    task = held_task(org, count=1)
    task.source_path = files.save(f"sources/{org.pk}/{task.id}", png(64))
    task.save(update_fields=["source_path"])
    late_cache = f"{task.source_path}.prepared-selfie-0badc0de"

    def cancel_and_delete_mid_render(t, index):
        from generation.api import delete_task

        cancel_task(org, t.id)
        delete_task(org, t.id)
        files.save(late_cache, b"written by the job after the delete")

    fake_render["during"] = cancel_and_delete_mid_render
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs._render_image(task.id, 0) == "skipped"
    assert not default_storage.exists(late_cache)
    assert not default_storage.exists(f"covers/{org.pk}/{task.id}/0.png")


# Retention


def test_purge_sources_deletes_old_photos_only(client, org, settings):
    settings.SOURCE_RETENTION_DAYS = 30
    long_ago = timezone.now() - timedelta(days=31)
    old = finished_task(org)
    recent = finished_task(org)
    shared = finished_task(org)
    variation = held_task(org, source_path=shared.source_path, parent=shared)  # still waiting: keeps the photo
    CoverTask.objects.filter(pk__in=[old.pk, shared.pk]).update(completed_at=long_ago)
    cache = files.save(f"{old.source_path}.prepared-selfie-0badc0de", b"x")
    out = io.StringIO()
    call_command("purge_sources", stdout=out)
    assert "deleted 1 source photo(s) older than 30 days" in out.getvalue()
    assert not default_storage.exists(old.source_path) and not default_storage.exists(cache)
    for task in (recent, shared, variation):
        assert default_storage.exists(task.source_path)
    old.refresh_from_db()
    assert old.source_path == "" and old.source_purged_at and old.images.count() == 2
    assert CoverTask.objects.get(pk=shared.pk).source_path == shared.source_path
    assert default_storage.exists(old.images.first().storage_path)  # the covers stay: only the photo goes
    refused = client.post(f"/api/v1/cover/{old.id}/variations", {}, format="json")
    assert refused.status_code == 409 and "retention" in refused.json()["msg"]

    cancel_task(org, variation.id)
    CoverTask.objects.filter(pk=variation.pk).update(completed_at=long_ago)
    from generation.management.commands.purge_sources import purge_sources

    assert purge_sources() == 1  # now no task needs the shared photo
    assert not default_storage.exists(shared.source_path)
    assert purge_sources() == 0
    assert_ledger_consistent(org)


def test_purge_sources_runs_daily_from_the_cron(settings):
    import redis
    from rq.cron import CronScheduler

    from generation.management.commands.purge_sources import purge_sources

    scheduler = CronScheduler(connection=redis.Redis.from_url(settings.REDIS_URL))
    scheduler.load_config_from_file("generation.cron")
    jobs_by_func = {job.func: job for job in scheduler._cron_jobs}
    assert jobs_by_func[purge_sources].interval == 24 * 3600


# The new status elsewhere


def test_the_dashboard_shows_a_cancelled_task(users, org):
    from django.test import Client

    task = held_task(org, client_task_id="rel-1")
    cancel_task(org, task.id)
    browser = Client()
    browser.force_login(users["member"])
    listed = browser.get("/covers/?status=CANCELLED")
    assert listed.status_code == 200 and "rel-1" in listed.content.decode()
    assert "rel-1" not in browser.get("/covers/?status=FAILED").content.decode()
    assert browser.get(f"/covers/{task.id}/").status_code == 200
    assert browser.get(f"/covers/{task.id}/progress").json()["terminal"] is True


def test_the_schema_lists_the_new_operations(client):
    schema = client.get("/api/schema/?format=json").json()
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()
                  if isinstance(op, dict) and "operationId" in op}
    assert {"cover_tasks", "cover_cancel", "cover_delete"} <= operations
