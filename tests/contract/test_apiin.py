"""apiin.one's cover API, as its clients call it and parse it (issue 13 part 2).

Requests and responses are copied from apiin.one's published docs, https://apiin.one/docs/suno/cover (the body names
the music task `task_id`); the earlier edition, https://apiin.one/pt/docs/suno/cover (the same on
apiin-one.pages.dev/docs/suno/cover), names it `taskId`. Both are accepted. The docs show no callback for this
route: a `callback_url` gets the status data in the envelope.
"""

from datetime import datetime
from urllib.parse import urlsplit

import pytest

from billing import ledger
from generation.models import CoverTask, Dialect, TaskStatus
from tests.contract.conftest import PNG_MAGIC, fetch, parsed, verify_standard_webhook

GENERATE = "/api/v1/audio/music/cover/generate"
STATUS = "/api/v1/audio/music/cover/status"
DOC_BODY = {"task_id": "gen123213213213123bksv"}  # https://apiin.one/docs/suno/cover
EARLIER_DOC_BODY = {"taskId": "gen123213213213123bksv"}  # https://apiin.one/pt/docs/suno/cover
METADATA = {"genre": "edm", "text_artist": "Layla Moore", "text_album": "Velvet Hours"}
APIIN_TIME = "%Y-%m-%dT%H:%M:%SZ"  # "created_at": "2026-02-24T12:00:30Z"


def generate(client, body=DOC_BODY, **fields) -> dict:
    response = client.post(GENERATE, {**body, **METADATA, **fields}, format="json")
    data = response.json()
    assert response.status_code == data["code"]
    return data


def status(client, task_id: str) -> dict:
    # curl -X GET "https://apiin.one/api/v1/audio/music/cover/status?task_id=cover123123213213b880d2"
    response = client.get(STATUS, {"task_id": task_id})
    body = response.json()
    assert response.status_code == 200 and body["code"] == 200 and body["msg"] == "success", body
    return body["data"]


def test_the_docs_bare_body_is_422_naming_the_metadata_needed(client, org):
    body = client.post(GENERATE, DOC_BODY, format="json").json()
    assert body["code"] == 422 and set(body["data"]["errors"]) == {"genre", "text_artist", "text_album"}
    assert body["msg"].startswith("Needed: genre, text_artist, text_album")
    assert "never guesses" in body["data"]["errors"]["text_artist"][0]
    assert not CoverTask.objects.exists() and ledger.account(org).held == 0


def test_without_a_music_task_id_it_is_named_with_the_rest(client):
    body = client.post(GENERATE, {"text_album": "Velvet Hours"}, format="json").json()
    assert body["code"] == 422 and set(body["data"]["errors"]) == {"task_id", "genre", "text_artist"}
    assert "taskId" in body["data"]["errors"]["task_id"][0]


@pytest.mark.parametrize("doc_body", [DOC_BODY, EARLIER_DOC_BODY], ids=["task_id", "taskId"])
def test_the_docs_body_with_metadata_answers_as_the_peer_does(client, org, doc_body):
    body = generate(client, doc_body)
    # {"code": 200, "msg": "success", "data": {"taskId": "cover123123213213b880d2"}}
    assert body["code"] == 200 and body["msg"] == "success" and isinstance(body["data"]["taskId"], str)
    task = CoverTask.objects.get(pk=body["data"]["taskId"])
    assert task.dialect == Dialect.APIIN and task.client_task_id == "gen123213213213123bksv"
    assert task.organization == org and task.params["text_album"] == "Velvet Hours"


def test_two_different_music_task_ids_are_refused(client):
    body = generate(client, {**DOC_BODY, "taskId": "another"})
    assert body["code"] == 422 and "task_id" in body["data"]["errors"]


def test_a_pending_task_has_no_images_yet(client):
    task_id = generate(client)["data"]["taskId"]
    data = status(client, task_id)
    assert data["taskId"] == task_id and data["status"] == "PENDING" and data["images"] == []
    datetime.strptime(data["created_at"], APIIN_TIME)


def test_a_finished_task_parses_as_the_docs_completed_response(client, worker):
    task_id = generate(client, count=2)["data"]["taskId"]
    worker.render(task_id)
    data = status(client, task_id)
    # {"taskId": ..., "status": "SUCCESS", "images": ["https://...png", ...], "created_at": "2026-02-24T12:00:30Z"}
    assert data["taskId"] == task_id and data["status"] == "SUCCESS"
    assert len(data["images"]) == 2 and all(isinstance(url, str) for url in data["images"])
    assert fetch(client, data["images"][1]).startswith(PNG_MAGIC)
    datetime.strptime(data["created_at"], APIIN_TIME)


def test_a_failed_task_reads_failed_with_a_reason(client, worker):
    task_id = generate(client, count=1)["data"]["taskId"]
    assert worker.render(task_id, verdict="fail").status == TaskStatus.FAILED
    data = status(client, task_id)
    assert data["status"] == "FAILED" and data["images"] == [] and data["error_message"]


def test_callback_url_gets_the_status_data_signed(client, org, worker):
    task_id = generate(client, count=1, callback_url="https://api.example.com/apiin-hook")["data"]["taskId"]
    worker.render(task_id)
    url, headers, raw = worker.callback(task_id)
    assert url == "https://api.example.com/apiin-hook" and verify_standard_webhook(org.webhook_secret, headers, raw)
    body = parsed(raw)
    polled = status(client, task_id)
    # The image URLs are signed afresh on every answer (their expiry moves with the clock): the same files.
    assert [urlsplit(u).path for u in body["data"]["images"]] == [urlsplit(u).path for u in polled["images"]]
    assert body["code"] == 200 and without_images(body["data"]) == without_images(polled)


def without_images(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "images"}


def test_callback_url_gets_the_same_ssrf_checks(client):
    body = generate(client, callback_url="http://10.1.2.3/hook")
    assert body["code"] == 422 and "callback_url" in body["data"]["errors"]
    assert not CoverTask.objects.exists()


@pytest.mark.parametrize("finished", [False, True])
def test_cover_already_generated_for_this_task_is_400(client, worker, finished):
    first = generate(client, count=1)["data"]["taskId"]
    if finished:
        worker.render(first)
    again = generate(client, count=1)
    assert again["code"] == 400 and again["data"]["taskId"] == first


def test_an_unknown_field_is_422_naming_it(client):
    body = generate(client, model="suno-cover")
    assert body["code"] == 422 and list(body["data"]["errors"]) == ["model"] and not CoverTask.objects.exists()


def test_status_needs_a_task_id_and_hides_other_organisations_tasks(client, outsider_client):
    assert client.get(STATUS).json()["code"] == 422
    task_id = generate(client)["data"]["taskId"]
    assert outsider_client.get(STATUS, {"task_id": task_id}).status_code == 404
    assert client.get(STATUS, {"task_id": "cover123123213213b880d2"}).status_code == 404
    assert client.get(STATUS, {"taskId": task_id}).json()["data"]["taskId"] == task_id
