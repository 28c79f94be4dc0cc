"""sunoapi.org's cover API, as its clients call it and parse it (issue 13 part 1).

Requests and response shapes are copied from sunoapi's published docs:
- generate:    https://docs.sunoapi.org/suno-api/cover-suno
- record-info: https://docs.sunoapi.org/suno-api/get-cover-suno-details
- callbacks:   https://docs.sunoapi.org/suno-api/cover-suno-callbacks
"""

from datetime import datetime

import pytest

from billing import ledger
from generation.models import CoverTask, Dialect, TaskStatus
from tests.contract.conftest import PNG_MAGIC, fetch, parsed, verify_standard_webhook

GENERATE = "/api/v1/suno/cover/generate"
RECORD_INFO = "/api/v1/suno/cover/record-info"
# The request body of https://docs.sunoapi.org/suno-api/cover-suno, as it is there.
DOC_BODY = {"taskId": "73d6128b3523a0079df10da9471017c8", "callBackUrl": "https://api.example.com/callback"}
# What the peer would read from its own music task, and we need in the request.
METADATA = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING"}
# The peer's time format: "2025-01-15T10:33:01.000Z".
SUNO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def generate(client, **fields) -> dict:
    response = client.post(GENERATE, {**DOC_BODY, **METADATA, **fields}, format="json")
    body = response.json()
    assert response.status_code == body["code"]
    return body


def record_info(client, task_id: str) -> dict:
    response = client.get(RECORD_INFO, {"taskId": task_id})
    body = response.json()
    assert response.status_code == 200 and body["code"] == 200 and body["msg"] == "success", body
    return body["data"]


def test_the_docs_bare_body_is_422_naming_each_metadata_field_and_why(client, org):
    response = client.post(GENERATE, DOC_BODY, format="json")
    body = response.json()
    assert response.status_code == 422 and body["code"] == 422
    errors = body["data"]["errors"]
    assert set(errors) == {"genre", "text_artist", "text_album"}
    assert body["msg"].startswith("Needed: genre, text_artist, text_album")
    assert "never guesses an artist's name" in errors["text_artist"][0]
    assert "hiphop" in errors["genre"][0]  # the valid genres are listed
    assert not CoverTask.objects.exists() and ledger.account(org).held == 0


def test_one_missing_field_is_named_alone(client):
    body = client.post(GENERATE, {**DOC_BODY, "genre": "trap", "text_album": "STILL STANDING"}, format="json").json()
    assert body["code"] == 422 and list(body["data"]["errors"]) == ["text_artist"]
    assert body["msg"].startswith("Needed: text_artist")


def test_the_music_task_id_is_required(client):
    body = client.post(GENERATE, {"callBackUrl": DOC_BODY["callBackUrl"], **METADATA}, format="json").json()
    assert body["code"] == 422 and list(body["data"]["errors"]) == ["taskId"]


def test_the_docs_body_with_metadata_answers_as_the_peer_does(client, org):
    body = generate(client)
    assert body["code"] == 200 and body["msg"] == "success"
    task_id = body["data"]["taskId"]  # {"code": 200, "msg": "success", "data": {"taskId": "..."}}
    assert isinstance(task_id, str) and task_id != DOC_BODY["taskId"]
    task = CoverTask.objects.get(pk=task_id)
    assert task.organization == org and task.dialect == Dialect.SUNOAPI
    assert task.client_task_id == DOC_BODY["taskId"] and task.callback_url == DOC_BODY["callBackUrl"]
    assert task.params["text_artist"] == "NOVA" and task.genre == "hiphop"


def test_a_pending_task_reads_as_the_peers_pending_record(client):
    task_id = generate(client)["data"]["taskId"]
    data = record_info(client, task_id)
    assert data["taskId"] == task_id and data["parentTaskId"] == DOC_BODY["taskId"]
    assert data["callbackUrl"] == DOC_BODY["callBackUrl"]
    assert data["successFlag"] == 0 and data["response"] is None and data["completeTime"] is None
    datetime.strptime(data["createTime"], SUNO_TIME)
    CoverTask.objects.get(pk=task_id).start()
    assert record_info(client, task_id)["successFlag"] == 2  # generating


def test_a_finished_task_parses_as_sunoapi_record_info(client, worker):
    task_id = generate(client, count=2)["data"]["taskId"]
    worker.render(task_id)
    data = record_info(client, task_id)
    # As a sunoapi client reads it: data.successFlag == 1, then data.response.images[i] is an image URL.
    assert data["successFlag"] == 1 and data["errorCode"] == 200 and data["errorMessage"] == ""
    images = data["response"]["images"]
    assert len(images) == 2 and all(isinstance(url, str) for url in images)
    assert fetch(client, images[0]).startswith(PNG_MAGIC)
    created = datetime.strptime(data["createTime"], SUNO_TIME)
    assert datetime.strptime(data["completeTime"], SUNO_TIME) >= created
    assert data["parentTaskId"] == DOC_BODY["taskId"] and data["callbackUrl"] == DOC_BODY["callBackUrl"]


def test_the_callback_parses_as_sunoapi_s_success_callback_and_is_signed(client, org, worker):
    task_id = generate(client, count=2)["data"]["taskId"]
    worker.render(task_id)
    url, headers, raw = worker.callback(task_id)
    assert url == DOC_BODY["callBackUrl"]
    assert verify_standard_webhook(org.webhook_secret, headers, raw) and headers["webhook-id"] == f"msg_{task_id}"
    body = parsed(raw)
    # {"code": 200, "msg": "success", "data": {"images": [...], "taskId": "..."}}: exactly the peer's keys.
    assert body["code"] == 200 and body["msg"] == "success" and set(body["data"]) == {"taskId", "images"}
    assert body["data"]["taskId"] == task_id
    assert len(body["data"]["images"]) == 2 and fetch(client, body["data"]["images"][0]).startswith(PNG_MAGIC)


def test_a_failed_task_calls_back_501_with_images_null(client, org, worker):
    task_id = generate(client, count=2)["data"]["taskId"]
    task = worker.render(task_id, verdict="fail")
    assert task.status == TaskStatus.FAILED and ledger.account(org).held == 0
    _, headers, raw = worker.callback(task_id)
    body = parsed(raw)
    assert verify_standard_webhook(org.webhook_secret, headers, raw)
    assert body["code"] == 501 and body["msg"] and body["data"] == {"taskId": task_id, "images": None}
    data = record_info(client, task_id)
    assert data["successFlag"] == 3 and data["response"] is None
    assert data["errorCode"] == 500 and data["errorMessage"]


def test_a_partial_task_is_a_success_listing_only_the_delivered_covers(client, worker):
    task_id = generate(client, count=2)["data"]["taskId"]
    assert worker.render(task_id, verdict=["pass", "fail"]).status == TaskStatus.PARTIAL
    assert record_info(client, task_id)["successFlag"] == 1
    assert len(record_info(client, task_id)["response"]["images"]) == 1
    body = parsed(worker.callback(task_id)[2])
    assert body["code"] == 200 and len(body["data"]["images"]) == 1


@pytest.mark.parametrize("finished", [False, True])
def test_a_second_cover_for_the_same_music_task_is_400_with_the_existing_task_id(client, worker, finished):
    first = generate(client)["data"]["taskId"]
    if finished:
        worker.render(first)
    again = generate(client)
    assert again["code"] == 400 and again["data"]["taskId"] == first
    assert CoverTask.objects.count() == 1


def test_a_misspelt_field_is_422_naming_it_not_dropped(client):
    body = client.post(GENERATE, {"taskId": DOC_BODY["taskId"], "callbackUrl": DOC_BODY["callBackUrl"],
                                  **METADATA}, format="json").json()
    assert body["code"] == 422 and "did you mean callBackUrl" in body["data"]["errors"]["callbackUrl"][0]
    assert body["msg"].startswith("callbackUrl:") and not CoverTask.objects.exists()


def test_the_callback_url_gets_the_same_ssrf_checks(client):
    body = generate(client, callBackUrl="http://169.254.169.254/latest/meta-data")
    assert body["code"] == 422 and "callBackUrl" in body["data"]["errors"]


def test_record_info_needs_a_task_id_and_hides_other_organisations_tasks(client, outsider_client):
    assert client.get(RECORD_INFO).json()["code"] == 422
    task_id = generate(client)["data"]["taskId"]
    response = outsider_client.get(RECORD_INFO, {"taskId": task_id})
    assert response.status_code == 404 and response.json()["code"] == 404
    assert client.get(RECORD_INFO, {"task_id": task_id}).json()["data"]["taskId"] == task_id
    assert client.get(RECORD_INFO, {"taskId": task_id, "task_id": "another"}).json()["code"] == 422


def test_a_native_task_keeps_native_callbacks_and_reads_in_either_format(client, worker):
    task_id = client.post("/api/v1/cover/generate", {**METADATA, "count": 1, "callBackUrl": DOC_BODY["callBackUrl"]},
                          format="json").json()["data"]["taskId"]
    worker.render(task_id)
    native = parsed(worker.callback(task_id)[2])
    assert native["data"]["status"] == "SUCCESS" and isinstance(native["data"]["images"][0], dict)
    assert isinstance(record_info(client, task_id)["response"]["images"][0], str)


def test_a_variation_of_a_suno_task_calls_back_in_sunoapi_s_format_too(client, worker):
    parent = generate(client, count=1)["data"]["taskId"]
    worker.render(parent)
    response = client.post(f"/api/v1/cover/{parent}/variations", {}, format="json")
    assert response.status_code == 200, response.json()
    child = response.json()["data"]["taskId"]
    worker.render(child)
    body = parsed(worker.callback(child)[2])
    assert body["code"] == 200 and set(body["data"]) == {"taskId", "images"} and body["data"]["taskId"] == child
