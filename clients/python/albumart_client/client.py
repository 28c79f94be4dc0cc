"""The HTTP client: one method per endpoint, the envelope unwrapped, errors raised, safe requests retried."""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx

from albumart_client.errors import ConnectionFailed, WaitTimeout, error_for, retry_after_seconds
from albumart_client.models import Credits, Task
from albumart_client.webhooks import verify_callback

__version__ = "0.1.0"
DEFAULT_BASE_URL = "https://api.albumart.example"
USER_AGENT = f"albumart-client-python/{__version__} httpx/{httpx.__version__}"

# A photo or style reference: an http(s) URL or a data URI (sent in JSON as they are), or the image itself as
# bytes, a path or a binary file (uploaded as multipart).
Photo = str | bytes | bytearray | os.PathLike[str] | IO[bytes]
TaskRef = str | Task
Instant = datetime | date | str

PHOTO_FIELDS = ("source_image", "style_reference")
# 429 and 455 name their wait; a longer one than this is the caller's decision, not a silent sleep.
MAX_RETRY_AFTER = 60.0
# The methods the server treats as idempotent; a POST is retried only with an Idempotency-Key.
SAFE_METHODS = frozenset({"GET", "HEAD", "DELETE"})
RETRY_STATUSES = frozenset({429, 455, 500, 502, 503, 504})


class AlbumArt:
    """A client for one API key.

    `timeout`: seconds per request. `max_retries`: further attempts after a 429 (after its Retry-After), a 455, a
    5xx or a connection error, for GET and DELETE, and for POSTs that carry an Idempotency-Key (generate and cancel
    always do), so that a retry never starts or charges a task twice."""

    def __init__(self, api_key: str, base_url: str = DEFAULT_BASE_URL, *, timeout: float | httpx.Timeout = 30.0,
                 max_retries: int = 3, backoff: float = 0.5, http_client: httpx.Client | None = None):
        if not api_key:
            raise ValueError("api_key: pass your aa_... key (the dashboard's API keys page shows it once)")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff = backoff
        self._http = http_client or httpx.Client(timeout=timeout)
        self._owns_http = http_client is None
        self._sleep = time.sleep

    def __repr__(self) -> str:
        return f"AlbumArt(base_url={self.base_url!r}, key={self._api_key[:11]}...)"

    def __enter__(self) -> AlbumArt:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # Tasks

    def generate(self, genre: str, text_artist: str, text_album: str, *, source_image: Photo | None = None,
                 callback_url: str | None = None, task_id: str | None = None, count: int = 3,
                 idempotency_key: str | None = None, **options: Any) -> Task:
        """Start a cover task and return it as record-info shows it (PENDING at first).

        `task_id` is your own id for the release (the API's `taskId`). `options` are the API's other generate
        fields by their names: `size`, `seed`, `palette`, `style`, `style_reference`, `output_format`,
        `explicit`, `text_feature`... A photo as bytes, a path or a file is uploaded as multipart. Without an
        `idempotency_key` one is made, so that the client's own retries never start or charge a task twice."""
        fields: dict[str, Any] = {
            "taskId": task_id, "callBackUrl": callback_url, "genre": genre, "text_artist": text_artist,
            "text_album": text_album, "count": count, "source_image": source_image, **options,
        }
        fields = {name: value for name, value in fields.items() if value is not None}
        key = idempotency_key or str(uuid.uuid4())
        uploads = {name: _upload(name, fields.pop(name)) for name in PHOTO_FIELDS
                   if name in fields and not _is_url(fields[name])}
        if uploads:
            form = {name: _form_value(name, value) for name, value in fields.items()}
            data = self._request("POST", "/api/v1/cover/generate", data=form, files=uploads, idempotency_key=key)
        else:
            data = self._request("POST", "/api/v1/cover/generate", json_body=fields, idempotency_key=key)
        # The submit answers with the id only; the task itself (credits held, times) is record-info's.
        return self.get(data["taskId"])

    def get(self, task: TaskRef) -> Task:
        """The task and its delivered images (record-info); image URLs are signed afresh on every call."""
        return Task.from_api(self._request("GET", "/api/v1/cover/record-info", params={"taskId": _task_id(task)}))

    def get_by_client_id(self, client_task_id: str) -> Task:
        """The task with your own id: the live one, else the newest (a failed or cancelled one frees the id)."""
        return Task.from_api(self._request("GET", "/api/v1/cover/record-info",
                                           params={"clientTaskId": client_task_id}))

    def wait(self, task: TaskRef, timeout: float = 600.0, poll_interval: float = 2.0) -> Task:
        """Poll until the task ends (SUCCESS, PARTIAL, FAILED or CANCELLED; REVIEW waits for a person and goes
        on) and return it; WaitTimeout, carrying the last state seen, after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.get(task)
            if current.is_terminal:
                return current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(f"task {current.task_id} is still {current.status} after {timeout:g} s", current)
            self._sleep(min(poll_interval, remaining))

    def list(self, status: str | Iterable[str] | None = None, genre: str | None = None,
             created_after: Instant | None = None, created_before: Instant | None = None,
             client_task_id: str | None = None, limit: int | None = None) -> Iterator[Task]:
        """Every task matching the filters, newest first, fetched a page at a time as you iterate (`limit` is
        the page size, 1 to 100). `status`: one or several; `created_after` is inclusive, `created_before`
        exclusive; a naive datetime is UTC."""
        params: dict[str, Any] = {
            "status": status if status is None or isinstance(status, str) else ",".join(status),
            "genre": genre, "createdAfter": _instant(created_after), "createdBefore": _instant(created_before),
            "clientTaskId": client_task_id, "limit": limit,
        }
        params = {name: value for name, value in params.items() if value is not None}
        while True:
            page = self._request("GET", "/api/v1/cover/tasks", params=params)
            for item in page["tasks"]:
                yield Task.from_api(item)
            if not page.get("nextCursor"):
                return
            params["cursor"] = page["nextCursor"]

    def cancel(self, task: TaskRef) -> Task:
        """End a waiting task CANCELLED, its held credits released; a finished one raises Conflict."""
        path = f"/api/v1/cover/{quote(_task_id(task), safe='')}/cancel"
        return Task.from_api(self._request("POST", path, idempotency_key=str(uuid.uuid4())))

    def delete(self, task: TaskRef) -> Task:
        """Delete an ended task's photo and covers from storage; its record and credit history stay."""
        return Task.from_api(self._request("DELETE", f"/api/v1/cover/{quote(_task_id(task), safe='')}"))

    # The account

    def credits(self) -> Credits:
        return Credits.from_api(self._request("GET", "/api/v1/credits"))

    def webhook_secret(self) -> str:
        """The organisation's current callback signing secret (`whsec_...`)."""
        return str(self._request("GET", "/api/v1/webhooks/secret")["key"])

    verify_callback = staticmethod(verify_callback)

    # HTTP

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 json_body: Any = None, data: Mapping[str, Any] | None = None,
                 files: Mapping[str, Any] | None = None, idempotency_key: str | None = None) -> Any:
        """The envelope's `data` of a 200, or the error it stands for, after the retries allowed."""
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json",
                   "User-Agent": USER_AGENT}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        retryable = method in SAFE_METHODS or bool(idempotency_key)
        for attempt in range(self.max_retries + 1):
            last = attempt >= self.max_retries or not retryable
            try:
                response = self._http.request(method, self.base_url + path, params=params, json=json_body,
                                              data=data, files=files, headers=headers, timeout=self.timeout)
            except httpx.TransportError as exc:
                if last:
                    raise ConnectionFailed(f"{method} {path}: {exc.__class__.__name__}: {exc}") from exc
                self._sleep(self._backoff(attempt))
                continue
            body = _body(response)
            if response.status_code == 200 and isinstance(body, dict):
                return body.get("data")
            error = error_for(response.status_code, body, response.headers)
            if last or response.status_code not in RETRY_STATUSES:
                raise error
            wait = retry_after_seconds(response.headers, error.data)
            if wait is None:
                wait = self._backoff(attempt)
            elif wait > MAX_RETRY_AFTER:
                raise error
            self._sleep(wait)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _backoff(self, attempt: int) -> float:
        """Exponential with jitter, so that many clients failing at once do not come back at once."""
        return min(8.0, self.backoff * 2.0**attempt) * random.uniform(0.5, 1.0)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:  # a proxy's HTML page, an empty answer
        return response.text


def _task_id(task: TaskRef) -> str:
    return task.task_id if isinstance(task, Task) else task


def _instant(value: Instant | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://", "data:"))


def _upload(name: str, value: Photo) -> tuple[str, bytes, str]:
    """A photo as a multipart file: read once, so that a retry sends the same bytes."""
    if isinstance(value, bytes | bytearray | memoryview):
        content, filename = bytes(value), name
    elif isinstance(value, str | os.PathLike):
        path = Path(value)
        if not path.is_file():
            raise ValueError(f"{name}: {str(value)[:80]!r} is not an http(s) URL, a data URI or a file")
        content, filename = path.read_bytes(), path.name
    elif hasattr(value, "read"):
        content = value.read()
        filename = os.path.basename(str(getattr(value, "name", ""))) or name
    else:
        raise TypeError(f"{name}: expected a URL, a data URI, bytes, a path or a binary file, not "
                        f"{type(value).__name__}")
    mime, extension = _sniff(content)
    if "." not in filename:
        filename += extension
    return filename, content, mime


def _sniff(content: bytes) -> tuple[str, str]:
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", ".jpg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", ".png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if content[4:8] == b"ftyp":
        return "image/heic", ".heic"
    return "application/octet-stream", ""


def _form_value(name: str, value: Any) -> str | list[str]:
    """A generate field as a multipart form value: lists as repeated fields, except `palette`, which the server
    reads from a form as one comma-separated value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items = [str(v) for v in value]
        return ",".join(items) if name == "palette" else items
    if isinstance(value, Mapping):
        return json.dumps(value)
    return str(value)
