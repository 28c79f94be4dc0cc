"""Input the parser or the database cannot take is a clear 400 or 422 naming the field, never a 500 or an HTML
page: JSON nested too deep, and NUL or other control characters in ids, text and query fields."""

import json

import pytest
from django.test import Client

from albumart.inputguard import CONTROL_ESCAPE, MAX_JSON_DEPTH, json_depth
from generation.models import CoverTask

URL = "/api/v1/cover/generate"
VALID = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING"}


def test_json_depth_skips_brackets_inside_strings():
    assert json_depth(b"{}") == 1 and json_depth(b"[[[]]]") == 3
    assert json_depth(json.dumps({"a": "[[[[{{{{", "b": [{"c": "]]]\\\"[["}]}).encode()) == 3
    assert json_depth(b"") == 0


def test_control_escapes_are_told_from_text_that_only_looks_like_them():
    assert CONTROL_ESCAPE.search(json.dumps("NO\x00VA").encode())
    assert CONTROL_ESCAPE.search(json.dumps("bell\x07").encode())
    assert not CONTROL_ESCAPE.search(json.dumps("a literal \\u0000 typed out").encode())
    assert not CONTROL_ESCAPE.search(json.dumps("lyrics\twith\ttabs\nand lines\r\n").encode())


@pytest.mark.parametrize("idempotency_key", [None, "retry-7"])
def test_deeply_nested_json_is_a_400_in_the_envelope(client, idempotency_key):
    deep = "[" * 100_000 + "]" * 100_000  # deep enough to exhaust a recursive parser
    body = '{"genre": "hiphop", "text_artist": "NOVA", "text_album": "X", "extra": ' + deep + "}"
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    response = client.generic("POST", URL, body, content_type="application/json", **headers)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    payload = response.json()
    assert payload["code"] == 400 and f"at most {MAX_JSON_DEPTH}" in payload["msg"]
    assert "body" in payload["data"]["errors"]
    assert not CoverTask.objects.exists()


def test_json_within_the_depth_limit_is_not_refused_by_it(client):
    nested = {"a": [[[[{"b": [1]}]]]]}
    response = client.post(URL, {**VALID, "taskId": "depth-ok", "metadata": nested}, format="json")
    assert response.status_code != 400, response.json()


@pytest.mark.parametrize(("fields", "field"), [
    ({"text_artist": "NO\x00VA"}, "text_artist"),
    ({"taskId": "rel\x00-1"}, "taskId"),
    ({"text_album": "still\x1bstanding"}, "text_album"),
    ({"palette": ["#111111", "#2\x00"]}, "palette[1]"),
])
def test_control_characters_in_the_body_are_422_naming_the_field(client, fields, field):
    response = client.post(URL, {**VALID, **fields}, format="json")
    payload = response.json()
    assert response.status_code == 422 and payload["code"] == 422, payload
    assert field in payload["data"]["errors"] and "control character" in payload["msg"]
    assert not CoverTask.objects.exists()


@pytest.mark.parametrize("path", [
    "/api/v1/cover/record-info?taskId=abc%00",
    "/api/v1/cover/status?taskId=%00",
    "/api/v1/cover/record-info?clientTaskId=x%01y",
])
def test_control_characters_in_a_query_are_422_naming_the_parameter(client, path):
    response = client.get(path)
    payload = response.json()
    assert response.status_code == 422, payload
    name = path.split("?")[1].split("=")[0]
    assert list(payload["data"]["errors"]) == [name] and "U+00" in payload["msg"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_nul_in_a_path_id_is_422(client, method):
    response = getattr(client, method)("/api/v1/cover/abc%00def/variations")
    assert response.status_code == 422 and "path" in response.json()["data"]["errors"]


@pytest.mark.parametrize("path", ["/covers/?q=nova%00", "/credits/?task=%00", "/covers/abc%00/"])
def test_the_dashboard_answers_a_nul_with_a_plain_422(users, path):
    browser = Client()
    browser.force_login(users["owner"])
    response = browser.get(path)
    assert response.status_code == 422
    assert "control character (U+0000)" in response.content.decode()
