"""Consistent names (issue 13 part 13): both poll paths take taskId and task_id; responses are camelCase throughout,
QA check names and values included (generation/qareport.API_NAMES); no CORS (the keys are server-to-server)."""

import re

import pytest

from generation import jobs
from generation.engine.sentinel import CHECK_NAMES
from generation.models import CoverImage, CoverTask, TaskStatus
from generation.qareport import API_NAMES, api_name, api_qa

POLLS = ("/api/v1/cover/record-info", "/api/v1/cover/status")
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def submit(client, **fields) -> str:
    body = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": 1, "size": 1400,
            "seed": 5, **fields}
    response = client.post("/api/v1/cover/generate", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["data"]["taskId"]


# -- taskId and task_id --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", POLLS)
@pytest.mark.parametrize("name", ["taskId", "task_id"])
def test_both_poll_paths_take_both_names(client, outsider_client, path, name):
    task_id = submit(client)
    response = client.get(path, {name: task_id})
    assert response.status_code == 200 and response.json()["data"]["taskId"] == task_id
    assert outsider_client.get(path, {name: task_id}).status_code == 404  # another tenant's: not found


@pytest.mark.parametrize("path", POLLS)
def test_the_two_names_must_agree(client, path):
    first, second = submit(client), submit(client)
    assert client.get(path, {"taskId": first, "task_id": first}).json()["data"]["taskId"] == first
    response = client.get(path, {"taskId": first, "task_id": second})
    assert response.status_code == 422 and set(response.json()["data"]["errors"]) == {"taskId", "task_id"}


# -- camelCase -----------------------------------------------------------------------------------------------------

def keys_of(value, path="data"):
    """Every dict key in a JSON value, with where it was found."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, f"{path}.{key}"
            yield from keys_of(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from keys_of(item, f"{path}[{n}]")


def test_api_names_are_camel_case_and_cover_every_check():
    assert all(CAMEL.match(name) for name in API_NAMES.values())
    assert set(CHECK_NAMES) <= set(API_NAMES)
    assert len(set(API_NAMES.values())) == len(API_NAMES)  # one name for one thing
    assert api_name("legibility_56px") == "legibility56px" and api_name("some_new_value") == "someNewValue"


def test_the_qa_result_is_renamed_everywhere_it_names_a_check():
    stored = {"passed": False, "verdict": "fail", "checks": {"legibility_gray": "fail", "face_clear": "pass"},
              "values": {"legibility_gray": 1.2, "blank_std": 40.0}, "timings_ms": {"total_without_ocr": 3.0},
              "attempts": [{"seed": 1, "verdict": "fail", "failed": ["legibility_gray", "ocr_text"]}]}
    assert api_qa(stored) == {
        "passed": False, "verdict": "fail", "checks": {"legibilityGray": "fail", "faceClear": "pass"},
        "values": {"legibilityGray": 1.2, "blankStd": 40.0}, "timingsMs": {"totalWithoutOcr": 3.0},
        "attempts": [{"seed": 1, "verdict": "fail", "failed": ["legibilityGray", "ocrText"]}]}


def test_record_info_is_camel_case_throughout_with_the_real_sentinel(client, settings):
    settings.QA_MAX_ATTEMPTS = 0
    task_id = submit(client, count=2)
    jobs.render_task(task_id)
    task = CoverTask.objects.get(pk=task_id)
    stored = task.images.order_by("index").first()
    # Every name the Sentinel produced is in the table (no fallback needed).
    unlisted = {*stored.qa["checks"], *stored.qa["values"], *stored.qa["timings_ms"]} - set(API_NAMES)
    assert not unlisted, unlisted
    # And a failed cover of the same task (its real QA, one check failed) for failedImages.
    if task.status == TaskStatus.SUCCESS:
        qa = dict(stored.qa, verdict="fail", passed=False, checks=dict(stored.qa["checks"], legibility_56px="fail"))
        CoverImage.objects.filter(task=task, index=1).update(passed=False, verdict="fail", qa=qa)
        CoverTask.objects.filter(pk=task_id).update(status=TaskStatus.PARTIAL)
    for path, name in zip(POLLS, ("taskId", "task_id"), strict=True):
        data = client.get(path, {name: task_id}).json()["data"]
        assert data["images"] and data["failedImages"]
        assert "legibility56px" in data["images"][0]["qa"]["checks"]
        snake = [where for key, where in keys_of(data) if not CAMEL.match(key)]
        assert not snake, snake


# -- CORS ----------------------------------------------------------------------------------------------------------

def test_no_cors_a_browser_cannot_read_the_api(client):
    task_id = submit(client)
    origin = "https://app.example.com"
    preflight = client.options("/api/v1/cover/record-info", HTTP_ORIGIN=origin,
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization")
    answer = client.get("/api/v1/cover/record-info", {"taskId": task_id}, HTTP_ORIGIN=origin)
    assert answer.status_code == 200
    for response in (preflight, answer):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")], response.headers
