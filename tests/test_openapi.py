"""The OpenAPI 3.1 schema (/api/schema/): valid, complete for every operation (security, operation id, every error
code with the envelope, rate-limit headers, Idempotency-Key, the callback), and its docs pages served offline.
tests/schemacheck.py checks every API response of the suite against it."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from generation.api import cancel_task
from generation.catalogue import PALETTES
from generation.models import CoverTask
from generation.taskdata import callback_envelope, progress_envelope, task_data
from tests.schemacheck import CHECK, SchemaCheck

PUBLIC_OPERATIONS: set[str] = set()  # none: /healthz, /readyz and /metrics are outside the schema
EVERY_API_ERROR = {"401", "422", "429", "455", "500"}
POST_ERRORS = {"400", "409", "413"}
GENERATE_BODY = {"genre": "trap", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": 1}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def validator(schema, component: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:oas", Resource.from_contents(schema, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"urn:oas#/components/schemas/{component}"}, registry=registry)


def test_the_served_schema_is_valid_openapi_3_1(db):
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    served = json.loads(response.content)
    assert served["openapi"] == "3.1.0"
    errors = [f"{list(e.path)}: {e.message}" for e in OpenAPIV31SpecValidator(served).iter_errors()]
    assert errors == []


def test_the_schema_is_generated_without_warnings():
    GENERATOR_STATS.reset()
    SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS, f"drf-spectacular warnings: {dict(GENERATOR_STATS._warn_cache)}"


def test_every_operation_has_an_id_a_security_requirement_and_every_error(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        **schema["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    ids = [op["operationId"] for _, _, op in operations(schema)]
    assert len(ids) == len(set(ids)) >= 18
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        if operation["operationId"] not in PUBLIC_OPERATIONS:
            assert operation.get("security") == [{"bearerAuth": []}], where
        codes = set(operation["responses"])
        expected = {"200"} | EVERY_API_ERROR | (POST_ERRORS if method == "post" else set())
        assert expected <= codes, f"{where} lacks {expected - codes}"
        for code, response in operation["responses"].items():
            body = response["content"]["application/json"]["schema"]
            assert body["$ref"].startswith("#/components/schemas/"), (where, code)
            envelope = schema["components"]["schemas"][body["$ref"].rpartition("/")[2]]
            assert envelope["required"] == ["code", "msg", "data"], (where, code)
            assert envelope["properties"]["code"] == {"type": "integer", "const": int(code)}, (where, code)
            headers = set(response.get("headers", {}))
            assert "X-Request-Id" in headers
            if code != "401":
                assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= headers, (where, code)
            if code in ("429", "455"):
                assert "Retry-After" in headers, (where, code)
        idempotency = {"$ref": "#/components/parameters/IdempotencyKey"} in operation.get("parameters", [])
        assert idempotency == (method == "post"), where
    assert schema["components"]["headers"]["Retry-After"]["required"] is True
    assert schema["components"]["parameters"]["IdempotencyKey"]["in"] == "header"


def test_the_operations_own_errors(schema):
    def codes(path, method):
        return set(schema["paths"][path][method]["responses"])

    assert {"400", "402", "409", "413", "422"} <= codes("/api/v1/cover/generate", "post")
    assert {"402", "404", "409"} <= codes("/api/v1/cover/{task_id}/variations", "post")
    assert {"404", "409"} <= codes("/api/v1/cover/{task_id}/cancel", "post")
    assert {"404", "409"} <= codes("/api/v1/cover/{task_id}", "delete")
    for path in ("/api/v1/cover/record-info", "/api/v1/cover/status", "/api/v1/suno/cover/record-info",
                 "/api/v1/audio/music/cover/status"):
        assert "404" in codes(path, "get"), path
    assert "404" not in codes("/api/v1/credits", "get")  # nothing to look up


def test_the_envelope_and_the_task_data_are_components(schema, org):
    schemas = schema["components"]["schemas"]
    assert schemas["Envelope"]["required"] == ["code", "msg", "data"]
    task = CoverTask.objects.create(organization=org, genre="hiphop", params={}, count=1)
    assert set(schemas["TaskData"]["properties"]) == set(task_data(task))
    task_ref = {"$ref": "#/components/schemas/TaskData"}
    assert schemas["TaskDataEnvelope"]["properties"]["data"] == task_ref
    assert schemas["TaskData"]["properties"]["images"]["items"] == {"$ref": "#/components/schemas/Image"}
    assert {"qa", "url", "seed", "variant"} <= set(schemas["Image"]["properties"])


def test_photos_are_a_url_or_data_uri_in_json_and_a_file_in_multipart(schema):
    schemas = schema["components"]["schemas"]
    for name in ("Generate", "RunflowGenerate", "SunoCover", "ApiinCover"):
        for field in ("source_image", "style_reference"):
            text = schemas[name]["properties"][field]["oneOf"]
            assert {"type": "null"} in text
            assert {s.get("pattern") for s in text} >= {"^https?://", "^data:[^,]*;base64,"}
            upload = schemas[f"{name}Multipart"]["properties"][field]
            assert upload["type"] == "string" and upload["format"] == "binary" and upload["contentMediaType"]
            assert "x-multipart" not in json.dumps(schemas[name])
    body = schema["paths"]["/api/v1/cover/generate"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/Generate"}
    assert body["multipart/form-data"]["schema"] == {"$ref": "#/components/schemas/GenerateMultipart"}


def test_palette_is_a_name_or_a_list_of_hex_colours(schema):
    palette = schema["components"]["schemas"]["Palette"]
    name, colours = palette["oneOf"]
    assert name["enum"] == sorted(PALETTES)
    assert colours["type"] == "array" and colours["items"]["pattern"] == "^#[0-9a-fA-F]{6}$"
    check = validator(schema, "Palette")
    assert check.is_valid("dark_gold") and check.is_valid(["#0b0b0f", "#D4A017"])
    assert not check.is_valid("not_a_palette") and not check.is_valid(["gold"])


def test_generate_documents_its_callback_signed_the_standard_webhooks_way(schema):
    expected = {"/api/v1/cover/generate": "TaskCallback", "/v1/album-art/generate": "TaskCallback",
                "/api/v1/cover/{task_id}/variations": "TaskCallback",
                "/api/v1/suno/cover/generate": "SunoCoverCallback",
                "/api/v1/audio/music/cover/generate": "ApiinCoverCallback"}
    for path, body in expected.items():
        (callback,) = schema["paths"][path]["post"]["callbacks"].values()
        (url, item), = callback.items()
        assert url.startswith("{$request.body#/"), path
        post = item["post"]
        headers = {p["name"] for p in post["parameters"] if p["in"] == "header" and p["required"]}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}, path
        assert post["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{body}"}, path
        assert {"2XX", "410"} <= set(post["responses"]), path


def test_callback_bodies_match_the_callback_schema(schema, org):
    task = CoverTask.objects.create(organization=org, genre="hiphop", params={}, count=1, credits_held=0)
    check = validator(schema, "TaskCallback")
    for body in (progress_envelope(task, "started"), callback_envelope(cancel_task(org, task.id))):
        errors = [e.message for e in check.iter_errors(json.loads(json.dumps(body)))]
        assert errors == [], body


def _assets(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_are_served_offline(db, path):
    response = Client().get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"https?://|//cdn|jsdelivr|unpkg|googleapis|gstatic", html), "a CDN URL in the page"
    assets = [a for a in _assets(html) if not a.startswith("?")]
    assert assets and all(a.startswith("/static/drf_spectacular_sidecar/") for a in assets), assets
    for asset in assets:
        served = Client().get(asset)
        assert served.status_code == 200, asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} would be missing after collectstatic"
    assert "/api/schema/" in html


def test_swagger_ui_tries_requests_out_with_a_bearer_key(db):
    html = Client().get("/api/docs/").content.decode()
    assert "SwaggerUIBundle" in html and '"tryItOutEnabled": true' in html
    assert '"validatorUrl": null' in html  # no spec sent to an online validator


def test_a_response_that_drifts_from_the_schema_is_a_mismatch(client):
    checker = SchemaCheck()
    checker.__dict__["schema"] = CHECK.schema  # (generated once per session)
    response = client.get("/api/v1/credits")
    checker.check(response.wsgi_request, response)
    assert (checker.validated, checker.mismatches) == (1, [])
    data = {**response.json()["data"], "balance": "100", "extra": 1}
    response.content = json.dumps({"code": 200, "msg": "success", "data": data})
    checker.check(response.wsgi_request, response)
    response.status_code = 418
    checker.check(response.wsgi_request, response)
    found = "\n".join(what for _, what in checker.mismatches)
    assert "'100' is not of type 'integer'" in found and "'extra' was unexpected" in found
    assert "status 418 is not documented for credits" in found
    assert checker.failed == 2
