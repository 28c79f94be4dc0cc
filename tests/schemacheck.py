"""Every API response the test suite gets is checked against the OpenAPI schema at Django's request handler, so
whether it came through the test client (and DRF's APIClient), the live server or a WSGI call (the schema
fuzzing): its status code must be documented for the operation, its JSON body must match that response's schema,
and its required headers (Retry-After on 429 and 455) must be there. A mismatch fails the test that got the
response, so the schema and the code cannot drift apart. Every callback body the suite's deliveries post
(generation.callbacks.callback_body) is checked against its callback schema the same way.

Objects are checked closed: a key the schema does not list is a mismatch here (the published schema leaves them
open, so that adding a key never breaks a client). A response with no operation (an unknown path: 404, or an
unsupported method: 405) is checked against the envelope only.

ALBUMART_SCHEMA_STRICT=0 only reports: the mismatches are listed at the end of the session and no test fails.
The end of the session prints how many API responses were validated and why the others were skipped.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from collections import Counter
from functools import cached_property

import pytest
from django.core.handlers.base import BaseHandler

STRICT = os.environ.get("ALBUMART_SCHEMA_STRICT", "1") != "0"
ROOT = "urn:albumart:openapi"
METHODS = ("get", "post", "put", "patch", "delete")


def _closed(node) -> None:
    """Forbid undocumented keys in every object schema that lists its properties and says nothing of others."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node and "unevaluatedProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _closed(value)
    elif isinstance(node, list):
        for value in node:
            _closed(value)


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class SchemaCheck:
    def __init__(self):
        self.validated = 0
        self.failed = 0  # responses with a mismatch
        self.callbacks = 0  # callback bodies validated
        self.skipped: Counter[str] = Counter()
        self.mismatches: list[tuple[str, str]] = []  # (test id, what)
        self.test_id = "(outside a test)"
        self._lock = threading.Lock()
        self._validators: dict[str, object] = {}

    @cached_property
    def schema(self) -> dict:
        """The schema as /api/schema/ serves it, generated once per session, objects closed for the check."""
        from drf_spectacular.generators import SchemaGenerator

        schema = copy.deepcopy(SchemaGenerator().get_schema(request=None, public=True))
        _closed(schema["components"]["schemas"])
        return schema

    @cached_property
    def _registry(self):
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        return Registry().with_resource(ROOT, Resource.from_contents(self.schema, default_specification=DRAFT202012))

    @cached_property
    def _paths(self) -> list[tuple[re.Pattern, str]]:
        # Literal paths before templated ones: /api/v1/cover/status is not /api/v1/cover/{task_id}.
        paths = sorted(self.schema["paths"], key=lambda p: (p.count("{"), p))
        return [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$"), p) for p in paths]

    def _validator(self, pointer: str):
        if pointer not in self._validators:
            from jsonschema import Draft202012Validator

            self._validators[pointer] = Draft202012Validator(
                {"$ref": ROOT + pointer}, registry=self._registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return self._validators[pointer]

    def _resolve(self, node: dict) -> dict:
        while "$ref" in node:
            node = self._registry.resolver(ROOT).lookup(ROOT + node["$ref"]).contents
        return node

    def check(self, request, response) -> None:
        before = len(self.mismatches)
        try:
            self._check(request, response)
        except Exception as exc:  # noqa: BLE001 (never break the answer, maybe in the live server's thread)
            self._fail(f"{request.method} {request.path}: the schema check itself failed: {exc!r}")
        if len(self.mismatches) > before:
            with self._lock:
                self.failed += 1

    def _check(self, request, response) -> None:
        from albumart.middleware import is_api_path

        path, method = request.path, request.method.lower()
        if not is_api_path(path):
            return self._skip("non-API path")
        content_type = response.get("Content-Type", "")
        if response.streaming or not content_type.startswith("application/json"):
            return self._skip(f"not JSON ({content_type.split(';')[0] or 'no content type'}, "
                              f"{response.status_code})")
        try:
            body = json.loads(response.content)
        except ValueError:
            return self._fail(f"{method.upper()} {path} -> {response.status_code}: the body is not JSON")
        where = f"{method.upper()} {path} -> {response.status_code}"
        template = next((t for pattern, t in self._paths if pattern.match(path)), None)
        operation = self.schema["paths"][template].get(method) if template else None
        if operation is None and method == "options":
            return self._skip("OPTIONS (DRF's metadata, no operation)")
        if operation is None:
            if response.status_code >= 400:  # no such endpoint or method (or the middleware said no first)
                self._skip(f"no operation ({response.status_code})")
                return self._validate(body, _pointer("components", "schemas", "Envelope"), where)
            return self._fail(f"{where}: no operation in the schema for {method.upper()} {template or path}")
        status = str(response.status_code)
        responses = operation["responses"]
        key = status if status in responses else f"{status[0]}XX" if f"{status[0]}XX" in responses else "default"
        if key not in responses:
            return self._fail(f"{where}: status {status} is not documented for {operation['operationId']} "
                              f"(documented: {', '.join(responses)})")
        declared = self._resolve(responses[key])
        for name, header in declared.get("headers", {}).items():
            if self._resolve(header).get("required") and name not in response:
                self._fail(f"{where}: the required header {name} is missing")
        pointer = _pointer("paths", template, method, "responses", key, "content", "application/json", "schema")
        if "application/json" not in declared.get("content", {}):
            return self._fail(f"{where}: {operation['operationId']} documents no JSON body for {status}")
        if self._validate(body, pointer, f"{where} ({operation['operationId']})"):
            with self._lock:
                self.validated += 1

    def check_callback(self, row, body: dict) -> None:
        """A callback body against the callback schema of its kind: a peer's final callback in the peer's format,
        every other one native."""
        from generation.models import Dialect, WebhookEvent

        dialect = row.task.dialect if row.event == WebhookEvent.COMPLETED else Dialect.NATIVE
        name = {Dialect.SUNOAPI: "SunoCoverCallback", Dialect.APIIN: "ApiinCoverCallback"}.get(dialect, "TaskCallback")
        where = f"callback {row.event} of a {dialect} task ({name})"
        if self._validate(json.loads(json.dumps(body)), _pointer("components", "schemas", name), where):
            with self._lock:
                self.callbacks += 1

    def _validate(self, body, pointer: str, where: str) -> bool:
        errors = sorted(self._validator(pointer).iter_errors(body), key=lambda e: list(e.absolute_path))
        for error in errors[:3]:
            at = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "(body)"
            self._fail(f"{where}: {at}: {error.message[:300]}")
        return not errors

    def _skip(self, why: str) -> None:
        with self._lock:
            self.skipped[why] += 1

    def _fail(self, what: str) -> None:
        with self._lock:
            self.mismatches.append((self.test_id, what))

    def mismatches_of(self, test_id: str) -> list[str]:
        with self._lock:
            return [what for tid, what in self.mismatches if tid == test_id]

    def summary(self) -> list[str]:
        api = self.validated + self.failed + sum(n for why, n in self.skipped.items() if why != "non-API path")
        if not api:
            return []
        share = 100 * self.validated / api
        lines = [f"schema: {self.validated} API responses validated against the OpenAPI schema ({share:.1f}% of "
                 f"API responses), {self.failed} mismatches"
                 + ("" if STRICT else " (report only: ALBUMART_SCHEMA_STRICT=0)")]
        skipped = ", ".join(f"{why}: {n}" for why, n in self.skipped.most_common())
        lines.append(f"schema: skipped {sum(self.skipped.values())} responses ({skipped}); {self.callbacks} "
                     f"callback bodies validated")
        by_what = Counter(re.sub(r"/[0-9a-f]{32}\b|'[0-9a-f]{32}'", "/<id>", w) for _, w in self.mismatches)
        for what, n in by_what.most_common(40):
            lines.append(f"schema mismatch ({n}x): {what}")
        return lines


CHECK = SchemaCheck()
_original_get_response = BaseHandler.get_response


def _checked_get_response(self, request):
    response = _original_get_response(self, request)
    CHECK.check(request, response)
    return response


def pytest_configure(config):
    BaseHandler.get_response = _checked_get_response


def pytest_sessionstart(session):
    from generation import callbacks  # (Django is set up by now)

    original = callbacks.callback_body

    def checked_body(row):
        body = original(row)
        CHECK.check_callback(row, body)
        return body

    callbacks.callback_body = checked_body


def pytest_unconfigure(config):
    BaseHandler.get_response = _original_get_response


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    CHECK.test_id = item.nodeid
    try:
        return (yield)
    finally:
        CHECK.test_id = "(outside a test)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    seen = getattr(item, "_schema_mismatches_reported", 0)
    found = CHECK.mismatches_of(item.nodeid)
    if len(found) > seen:
        item._schema_mismatches_reported = len(found)  # a phase that failed anyway reports them no later
        if STRICT and report.passed:
            report.outcome = "failed"
            report.longrepr = ("API responses that do not match the OpenAPI schema (albumart/openapi.py, "
                               "generation/schema.py):\n" + "\n".join(f"  {w}" for w in found[seen:]))
    return report


def pytest_terminal_summary(terminalreporter):
    for line in CHECK.summary():
        terminalreporter.write_line(line)
