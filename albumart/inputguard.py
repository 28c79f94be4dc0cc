"""Input that the database or the parser cannot take is refused up front with a clear error, never a 500.

- A JSON body nested deeper than MAX_JSON_DEPTH is a 400 before it is parsed (a deep enough one would exhaust
  the parser's recursion).
- A NUL or another control character (all of C0 but tab, line feed and carriage return, and DEL) in the path, a
  query parameter or a JSON body's key or string is a 422 naming the field: PostgreSQL refuses NUL in text, and
  no id, name or search term needs the others.
The API answers in its envelope; the dashboard in plain text.
"""

import json
import re

import numpy as np
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse

from albumart.api import json_envelope
from albumart.middleware import is_api_path

MAX_JSON_DEPTH = 32
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# JSON's escapes of those characters (\u0000-\u001f but \t \n \r, \u007f, \b, \f), after an even run of backslashes.
CONTROL_ESCAPE = re.compile(rb'(?<!\\)(?:\\\\)*\\(?:u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])|[bf])')
STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text, its strings skipped (C-speed: bodies carry data URIs
    of many megabytes)."""
    skeleton = np.frombuffer(STRINGS.sub(b'""', body), np.uint8)
    if not skeleton.size:
        return 0
    step = np.isin(skeleton, (91, 123)).astype(np.int32)
    step -= np.isin(skeleton, (93, 125))
    return int(np.cumsum(step).max())


def first_control(data, path: str = "") -> str | None:
    """The dotted path of the first key or string in parsed JSON that holds a control character."""
    if isinstance(data, str):
        return path or "body" if CONTROL.search(data) else None
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if CONTROL.search(str(key)):
                return here
            if (found := first_control(value, here)) is not None:
                return found
    if isinstance(data, list):
        for index, value in enumerate(data):
            if (found := first_control(value, f"{path}[{index}]")) is not None:
                return found
    return None


def _message(text: str) -> str:
    found = CONTROL.search(text)
    code = f"U+{ord(found.group()):04X}" if found else "a control character"
    return f"contains a control character ({code}); remove it"


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = is_api_path(request.path)
        problem = self._path_or_query(request)
        if problem is None and api and request.method in ("POST", "PUT", "PATCH") \
                and request.content_type == "application/json":
            try:
                body = request.body
            except RequestDataTooBig:
                return json_envelope(413, "The request body is larger than any accepted request; send the photo as "
                                          "a multipart file or a URL.")
            depth = json_depth(body)
            if depth > MAX_JSON_DEPTH:
                msg = f"The JSON body nests {depth} levels deep; at most {MAX_JSON_DEPTH} are accepted."
                return json_envelope(400, msg, {"errors": {"body": [msg]}})
            if CONTROL_ESCAPE.search(body):
                try:
                    field = first_control(json.loads(body))
                except (ValueError, RecursionError):
                    field = None  # not valid JSON: the parser's 400 says so
                if field is not None:
                    problem = (field, "contains a control character; remove it")
        if problem is None:
            return self.get_response(request)
        field, msg = problem
        if api:
            return json_envelope(422, f"{field}: {msg}", {"errors": {field: [msg]}})
        return HttpResponse(f"{field}: {msg}\n", status=422, content_type="text/plain; charset=utf-8")

    @staticmethod
    def _path_or_query(request) -> tuple[str, str] | None:
        if CONTROL.search(request.path):
            return "path", _message(request.path)
        for key, values in request.GET.lists():
            for text in (key, *values):
                if CONTROL.search(text):
                    return key if CONTROL.search(key) is None else "query", _message(text)
        return None
