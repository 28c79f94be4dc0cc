"""/v1/album-art/generate, the path Runflow-style integrations call (issue 13 part 3): our native request, with the
callback URL also accepted as `webhook_url`, and as `callback_url`, the name Runflow's published docs give it
(https://docs.runflow.io/webhooks: "You call the async endpoint with a callback_url pointing at your webhook
handler"). Runflow documents no album-art route; answers and callbacks here are native. Unknown fields are a 422
naming them on this path and on /api/v1/cover/generate, never dropped.
"""

import pytest

from billing import ledger
from generation.models import CoverTask, Dialect
from tests.contract.conftest import parsed, verify_standard_webhook

PATH = "/v1/album-art/generate"
NATIVE = "/api/v1/cover/generate"
BODY = {"genre": "indie", "text_artist": "NOVA & Layla Moore", "text_album": "Harbour Lights", "count": 1}
HOOK = "https://yourapp.com/webhook/album-art"


def post(client, path=PATH, **fields):
    response = client.post(path, {**BODY, **fields}, format="json")
    body = response.json()
    assert response.status_code == body["code"]
    return body


@pytest.mark.parametrize("name", ["webhook_url", "callback_url", "callBackUrl"])
def test_the_callback_url_under_each_name_becomes_the_tasks_callback(client, name):
    body = post(client, **{name: HOOK})
    assert body["code"] == 200 and body["msg"] == "success"
    task = CoverTask.objects.get(pk=body["data"]["taskId"])
    assert task.callback_url == HOOK and task.dialect == Dialect.NATIVE
    assert "webhook_url" not in task.params and "callback_url" not in task.params


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hook", "http://169.254.169.254/latest/meta-data",
                                 "ftp://example.com/hook"])
def test_webhook_url_gets_the_same_ssrf_checks(client, org, url):
    body = post(client, webhook_url=url)
    assert body["code"] == 422 and list(body["data"]["errors"]) == ["webhook_url"]
    assert not CoverTask.objects.exists() and ledger.account(org).held == 0


def test_two_different_callback_urls_are_refused(client):
    body = post(client, webhook_url=HOOK, callBackUrl="https://other.example.com/hook")
    assert body["code"] == 422 and "webhook_url" in body["data"]["errors"]
    assert post(client, webhook_url=HOOK, callBackUrl=HOOK)["code"] == 200  # the same one twice is fine


def test_the_callback_of_a_webhook_url_task_is_native_and_signed(client, org, worker):
    task_id = post(client, webhook_url=HOOK)["data"]["taskId"]
    worker.render(task_id)
    url, headers, raw = worker.callback(task_id)
    assert url == HOOK and verify_standard_webhook(org.webhook_secret, headers, raw)
    body = parsed(raw)
    assert body["code"] == 200 and body["data"]["taskId"] == task_id and body["data"]["status"] == "SUCCESS"
    assert body["data"]["images"][0]["url"].startswith("http")


@pytest.mark.parametrize("path", [PATH, NATIVE])
@pytest.mark.parametrize("field, hint", [("callbackUrl", "callBackUrl"), ("textArtist", "text_artist"),
                                         ("webhook", "callBackUrl"), ("colour", None)])
def test_an_unknown_field_is_422_naming_it_and_nothing_is_held(client, org, path, field, hint):
    body = post(client, path, **{field: "x"})
    assert body["code"] == 422 and list(body["data"]["errors"]) == [field]
    assert body["msg"].startswith(f"{field}:")
    message = body["data"]["errors"][field][0]
    assert (f"did you mean {hint}?" in message) if hint else ("did you mean" not in message)
    assert not CoverTask.objects.exists() and ledger.account(org).held == 0


def test_unknown_fields_are_reported_with_the_other_errors(client):
    body = client.post(NATIVE, {"genre": "polka-gabber", "text_artist": "NOVA", "artist": "NOVA"},
                       format="json").json()
    assert body["code"] == 422 and set(body["data"]["errors"]) == {"artist", "genre", "text_album"}
    assert "did you mean text_artist?" in body["data"]["errors"]["artist"][0]


def test_webhook_url_on_the_native_path_is_refused_with_the_native_name(client):
    body = post(client, NATIVE, webhook_url=HOOK)
    assert body["code"] == 422 and "did you mean callBackUrl?" in body["data"]["errors"]["webhook_url"][0]


def test_the_photo_fields_are_known_fields(client):
    body = post(client, source_image=None, style_reference=None)
    assert body["code"] == 200, body


def test_a_multipart_form_with_an_unknown_field_is_refused_too(client):
    response = client.post(PATH, {**BODY, "webhook_url": HOOK, "colour": "red"}, format="multipart")
    assert response.status_code == 422 and list(response.json()["data"]["errors"]) == ["colour"]
