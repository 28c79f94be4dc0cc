"""Why it failed (issue 13 part 6): FAILED and PARTIAL task data and callbacks carry, per cover that was not
delivered, its failing checks with their measured values and a plain-language reason; never a URL."""

import json

import pytest

from generation import jobs, review
from generation.engine.sentinel import CHECK_NAMES
from generation.models import CoverTask, TaskStatus
from generation.qareport import API_NAMES, REASONS, failing_checks, reason
from generation.taskdata import callback_envelope, task_data


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# -- the reasons table ---------------------------------------------------------------------------------------------

def test_every_check_has_a_reason_and_an_api_name():
    assert set(REASONS) == set(CHECK_NAMES)
    assert set(CHECK_NAMES) <= set(API_NAMES)


def test_a_reason_states_the_measured_value_and_what_was_needed():
    text = reason("legibility_56px", {"legibility_56px": 1.2})
    assert text == ("the largest line of text (usually the title) is not legible at 56 px, the size of a playlist "
                    "row: contrast 1.2:1, needs 2:1")
    assert reason("size", {"width": 1400, "height": 1400, "min_side": 3000}) == \
        "the cover is 1400 x 1400 px, smaller than the 3000 px requested"
    assert reason("bytes", {"bytes": 12 * 2**20}) == "the file is 12.0 MB; stores accept artwork under 10 MB"
    assert "3 of 64 hash bits differ, 10 or fewer is the same artwork" in reason("reuse", {"reuse_distance": 3})
    assert reason("srgb", {"icc_profile": ""}).startswith("the file carries no sRGB colour profile (found: none)")
    assert "45% covered, 100% inside the frame" in reason("face_clear", {"face_text_overlap": 0.45,
                                                                         "face_inside": 1.0})


@pytest.mark.parametrize("check", CHECK_NAMES)
def test_every_reason_reads_without_its_values(check):
    # An image that could not even be decoded has no measurements: the reason still reads, it does not crash.
    text = reason(check, {})
    assert text and "{" not in text and "}" not in text


def test_failing_checks_are_the_fails_or_else_the_reviews():
    qa = {"checks": {"size": "pass", "legibility_56px": "fail", "ocr_text": "review", "reuse": "fail"},
          "values": {"legibility_56px": 1.1, "reuse_distance": 2, "reuse_colour_distance": 0.4, "phash": "ab"}}
    checks = failing_checks(qa)
    assert [c["check"] for c in checks] == ["legibility56px", "reuse"]
    assert checks[0]["values"] == {"legibility56px": 1.1} and checks[0]["result"] == "fail"
    assert checks[1]["values"] == {"reuseDistance": 2, "reuseColourDistance": 0.4}
    qa["checks"].update(legibility_56px="review", reuse="pass")
    assert [c["check"] for c in failing_checks(qa)] == ["legibility56px", "ocrText"]
    assert failing_checks({}) == []


# -- in the task data and the callback -----------------------------------------------------------------------------

def qa(verdict: str, legibility: float = 3.1) -> dict:
    checks = {"size": "pass", "sharpness": "pass", "legibility_56px": "pass" if verdict == "pass" else verdict}
    return {"passed": verdict == "pass", "verdict": verdict, "score": 1.0 if verdict == "pass" else 0.5,
            "checks": checks, "values": {"legibility_56px": legibility if verdict == "pass" else 1.3,
                                         "sharpness": 240.0, "phash": "0123456789abcdef",
                                         "colour_signature": "00" * 48},
            "timings_ms": {"total": 1.0}}


@pytest.fixture
def scripted(monkeypatch):
    """The Sentinel replaced by a script of verdicts, one per render, in order."""
    script = []
    monkeypatch.setattr(jobs.sentinel, "check", lambda *a, **k: qa(script.pop(0)))
    return script


def submit(client, count: int) -> CoverTask:
    body = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": count, "size": 1400,
            "seed": 40}
    response = client.post("/api/v1/cover/generate", body, format="json")
    assert response.status_code == 200, response.content
    return CoverTask.objects.get(pk=response.json()["data"]["taskId"])


def record_info(client, task) -> dict:
    response = client.get("/api/v1/cover/record-info", {"taskId": task.id})
    assert response.status_code == 200
    return response.json()["data"]


def assert_not_deliverable(entry: dict, task: CoverTask) -> None:
    assert "url" not in entry and "filename" not in entry
    image = task.images.get(index=entry["index"])
    text = json.dumps(entry)
    assert image.storage_path not in text and "/media/" not in text and "signature=" not in text.lower()


def test_a_partial_task_says_why_each_missing_cover_failed(client, scripted, settings):
    settings.QA_MAX_ATTEMPTS = 2
    task = submit(client, count=2)
    scripted += ["pass", "fail", "fail", "fail"]  # image 1 fails all three attempts
    jobs.render_task(task.id)
    task.refresh_from_db()
    assert task.status == TaskStatus.PARTIAL
    data = record_info(client, task)
    assert [i["index"] for i in data["images"]] == [0]  # the delivered one, with its URL
    assert data["images"][0]["url"]
    [failed] = data["failedImages"]
    assert failed["index"] == 1 and failed["outcome"] == "failed" and failed["attempts"] == 3
    assert failed["failedChecks"] == [{
        "check": "legibility56px", "result": "fail", "values": {"legibility56px": 1.3},
        "reason": "the largest line of text (usually the title) is not legible at 56 px, the size of a playlist row: "
                  "contrast 1.3:1, needs 2:1"}]
    assert failed["reason"] == ("Failed the quality checks on all 3 attempts: the largest line of text (usually the "
                                "title) is not legible at 56 px, the size of a playlist row: contrast 1.3:1, needs "
                                "2:1.")
    assert_not_deliverable(failed, task)
    # The callback carries the same data.
    assert callback_envelope(task)["data"]["failedImages"] == data["failedImages"]


def test_a_failed_task_lists_every_cover_with_its_reason(client, scripted, settings):
    settings.QA_MAX_ATTEMPTS = 0
    task = submit(client, count=2)
    scripted += ["fail", "fail"]
    jobs.render_task(task.id)
    task.refresh_from_db()
    envelope = callback_envelope(task)
    assert task.status == TaskStatus.FAILED and envelope["code"] == 531
    data = envelope["data"]
    assert data["images"] == [] and [f["index"] for f in data["failedImages"]] == [0, 1]
    for failed in data["failedImages"]:
        assert failed["reason"].startswith("Failed the quality checks on its only attempt: ")
        assert failed["failedChecks"][0]["check"] == "legibility56px"
        assert_not_deliverable(failed, task)
    assert record_info(client, task)["failedImages"] == data["failedImages"]


def test_a_cover_staff_rejected_says_which_checks_sent_it_to_review(client, scripted):
    task = submit(client, count=2)
    scripted += ["pass", "review"]
    jobs.render_task(task.id)
    task.refresh_from_db()
    assert task.status == TaskStatus.REVIEW
    assert task_data(task)["failedImages"] == []  # waiting for a person: not a failure yet
    review.decide(task.images.get(verdict="review").pk, approve=False, note="internal: looks muddy")
    task.refresh_from_db()
    assert task.status == TaskStatus.PARTIAL
    [rejected] = task_data(task)["failedImages"]
    assert rejected["outcome"] == "rejected" and rejected["review"]["decision"] == "rejected"
    assert rejected["reason"].startswith("Not approved in staff review: the largest line of text")
    assert "internal" not in json.dumps(rejected)  # the staff's note is theirs, not the integrator's
    assert_not_deliverable(rejected, task)


def test_a_running_or_successful_task_has_no_failed_images(client, scripted, settings):
    settings.QA_MAX_ATTEMPTS = 0
    task = submit(client, count=2)
    scripted += ["fail"]
    jobs._render_image(task.id, 0)  # one cover stored (failed), the other still to come
    task.refresh_from_db()
    assert task.status == TaskStatus.GENERATING and task_data(task)["failedImages"] == []
    scripted += ["pass"]
    jobs._render_image(task.id, 1)
    task.refresh_from_db()
    assert task.status == TaskStatus.PARTIAL and len(task_data(task)["failedImages"]) == 1
    ok = submit(client, count=1)
    scripted += ["pass"]
    jobs.render_task(ok.id)
    ok.refresh_from_db()
    assert ok.status == TaskStatus.SUCCESS and task_data(ok)["failedImages"] == []
