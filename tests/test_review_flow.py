"""QA in the task flow: regeneration bounded, only passes charged, the REVIEW path and its timeout, ledger exact."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing import ledger
from generation import jobs, review
from generation.models import CoverImage, CoverTask, TaskStatus
from generation.taskdata import callback_envelope, task_data
from tests.conftest import assert_ledger_consistent


def qa(verdict: str, phash: str = "0123456789abcdef") -> dict:
    checks = {"size": "pass", "sharpness": "pass", "legibility_56px": "pass" if verdict == "pass" else verdict}
    return {"passed": verdict == "pass", "verdict": verdict, "score": 1.0 if verdict == "pass" else 0.5,
            "checks": checks, "values": {"legibility_56px": 3.1 if verdict == "pass" else 1.7, "phash": phash,
                                         "colour_signature": "00" * 48}, "timings_ms": {"total": 1.0}}


@pytest.fixture
def scripted(monkeypatch):
    """The Sentinel replaced by a script of verdicts, one per render, in order; records the seeds it saw."""
    state = {"script": [], "seeds": [], "known": []}

    def check(result, measurements, *, requested_size, texts, known_hashes=(), ocr=True):
        state["known"].append(list(known_hashes))
        return qa(state["script"].pop(0))

    real_render = jobs.engine.render

    def render(spec, photo=None):
        state["seeds"].append(spec.seed)
        return real_render(spec)

    monkeypatch.setattr(jobs.sentinel, "check", check)
    monkeypatch.setattr(jobs.engine, "render", render)
    return state


def submit(client, count=3, **fields) -> CoverTask:
    body = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": count, "size": 1400,
            "seed": 40, **fields}
    response = client.post("/api/v1/cover/generate", body, format="json")
    assert response.status_code == 200, response.content
    task = CoverTask.objects.get(pk=response.json()["data"]["taskId"])
    task.callback_url = "https://hooks.example.com/covers"  # set here: submit would resolve it
    task.save(update_fields=["callback_url"])
    return task


def deliveries(callbacks) -> int:
    """How many callback deliveries were handed to the queue (the submit's render job is captured too)."""
    return sum("hand_to_queue" in repr(c) for c in callbacks)


def balance(org):
    acct = ledger.account(org)
    return acct.balance, acct.held


def test_failures_are_regenerated_with_new_seeds_and_only_passes_charged(client, org, scripted, settings,
                                                                        django_capture_on_commit_callbacks):
    settings.QA_MAX_ATTEMPTS = 2
    task = submit(client)
    # image 0 passes at once; image 1 fails then passes; image 2 fails all three attempts.
    scripted["script"] = ["pass", "fail", "pass", "fail", "fail", "fail"]
    with django_capture_on_commit_callbacks() as callbacks:
        jobs.render_task(task.id)
    task.refresh_from_db()
    assert scripted["script"] == []  # bounded: 1 + 2 regenerations for the image that kept failing
    assert task.status == TaskStatus.PARTIAL and task.credits_charged == 2 and task.credits_held == 0
    images = list(task.images.order_by("index"))
    assert [i.attempts for i in images] == [1, 2, 3]
    assert [i.verdict for i in images] == ["pass", "pass", "fail"]
    assert len(set(scripted["seeds"])) == 6 and scripted["seeds"][:2] == [40, 41]
    assert [a["verdict"] for a in images[2].qa["attempts"]] == ["fail", "fail", "fail"]
    assert balance(org) == (98, 0)
    assert_ledger_consistent(org)
    assert deliveries(callbacks) == 1
    data = task_data(task)
    assert [i["index"] for i in data["images"]] == [0, 1]  # the failed image is neither charged nor listed
    # The API names QA checks and values in camelCase (generation/qareport.API_NAMES); the stored result keeps
    # the Sentinel's names.
    assert data["images"][0]["qa"]["values"]["legibility56px"] == 3.1 and data["images"][0]["verdict"] == "pass"
    assert images[0].qa["values"]["legibility_56px"] == 3.1


def test_all_images_failing_ends_failed_531_with_credits_released(client, org, scripted, settings,
                                                                   django_capture_on_commit_callbacks):
    settings.QA_MAX_ATTEMPTS = 1
    task = submit(client, count=2)
    scripted["script"] = ["fail"] * 4
    with django_capture_on_commit_callbacks() as callbacks:
        jobs.render_task(task.id)
    task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and task.error_code == 531 and task.credits_charged == 0
    assert callback_envelope(task)["code"] == 531
    assert balance(org) == (100, 0) and deliveries(callbacks) == 1
    assert_ledger_consistent(org)


def to_review(client, org, scripted, script=("pass", "review", "review"), count=3):
    task = submit(client, count=count)
    scripted["script"] = list(script)
    jobs.render_task(task.id)
    task.refresh_from_db()
    return task


def test_review_holds_credits_then_approve_and_reject_settle_and_call_back_once(
        client, org, scripted, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        task = to_review(client, org, scripted)
    assert task.status == TaskStatus.REVIEW and not deliveries(callbacks)  # no callback while staff decide
    assert (task.credits_held, task.credits_charged) == (2, 1)
    assert balance(org) == (99, 2)
    assert_ledger_consistent(org)
    # The passed (and charged) cover is delivered at once; the two under review are not listed yet.
    assert task_data(task)["status"] == "REVIEW" and [i["index"] for i in task_data(task)["images"]] == [0]
    first, second = task.images.filter(verdict="review").order_by("index")

    with django_capture_on_commit_callbacks() as callbacks:
        assert review.decide(first.pk, approve=True, user=users["owner"])
    assert not deliveries(callbacks)  # one decision still pending
    assert not review.decide(first.pk, approve=False)  # exactly once: a second decision is refused
    task.refresh_from_db()
    assert task.status == TaskStatus.REVIEW and (task.credits_held, task.credits_charged) == (1, 2)
    assert balance(org) == (98, 1)
    assert_ledger_consistent(org)

    with django_capture_on_commit_callbacks() as callbacks:
        assert review.decide(second.pk, approve=False, user=users["owner"], note="title unreadable")
    task.refresh_from_db()
    assert deliveries(callbacks) == 1
    assert task.status == TaskStatus.PARTIAL and (task.credits_held, task.credits_charged) == (0, 2)
    assert balance(org) == (98, 0)
    assert_ledger_consistent(org)
    data = task_data(task)
    assert [i["index"] for i in data["images"]] == [0, 1]
    assert data["images"][1]["review"]["decision"] == "approved"
    second.refresh_from_db()
    assert second.decision == "rejected" and second.reviewed_by == users["owner"] and not second.passed


def test_all_approved_is_success(client, org, scripted, django_capture_on_commit_callbacks):
    task = to_review(client, org, scripted, script=("review",), count=1)
    with django_capture_on_commit_callbacks() as callbacks:
        assert review.decide_many(task.images.values_list("pk", flat=True), approve=True) == 1
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCESS and task.credits_charged == 1 and deliveries(callbacks) == 1
    assert balance(org) == (99, 0)
    assert_ledger_consistent(org)


def test_all_rejected_is_failed_531(client, org, scripted):
    task = to_review(client, org, scripted, script=("review", "fail", "fail", "fail"), count=2)
    assert (task.credits_held, task.credits_charged) == (1, 0)
    review.decide(task.images.get(verdict="review").pk, approve=False)
    task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and task.error_code == 531
    assert balance(org) == (100, 0)
    assert_ledger_consistent(org)


@pytest.mark.parametrize("rule, status, charged", [("reject", TaskStatus.PARTIAL, 1), ("approve", TaskStatus.SUCCESS,
                                                                                       3)])
def test_review_timeout_follows_the_rule(client, org, scripted, settings, rule, status, charged):
    settings.REVIEW_TIMEOUT_SECONDS = 3600
    settings.REVIEW_TIMEOUT_RULE = rule
    task = to_review(client, org, scripted)
    assert review.sweep_review_timeouts() == 0  # not old yet
    later = timezone.now() + timedelta(seconds=3601)
    assert review.sweep_review_timeouts(now=later) == 2
    assert review.sweep_review_timeouts(now=later) == 0
    task.refresh_from_db()
    assert task.status == status and task.credits_charged == charged and task.credits_held == 0
    assert CoverImage.objects.filter(task=task, review_note__startswith="review timed out").count() == 2
    assert balance(org) == (100 - charged, 0)
    assert_ledger_consistent(org)


def test_reuse_compares_with_other_releases_only(client, org, other_org, scripted):
    first = to_review(client, org, scripted, script=("pass",), count=1)
    CoverImage.objects.filter(task=first).update(phash="00000000000000ff")
    # A variation of the first task is its family: its hashes are not "another release".
    family = submit(client, count=1, taskId="family")
    family.parent = first
    family.save(update_fields=["parent"])
    assert jobs.known_hashes(family) == []
    # Another release (another title): compared. The same artist and title again would be the same release.
    other = submit(client, count=1, taskId="other", text_album="ANOTHER RECORD")
    assert jobs.known_hashes(other) == [("00000000000000ff", "00" * 48)]
    assert jobs.known_hashes(submit(client, count=1, taskId="again")) == []
    # Another organisation's covers are never compared.
    foreign = CoverTask.objects.create(organization=other_org, genre="hiphop", params={}, count=1)
    assert jobs.known_hashes(foreign) == []
