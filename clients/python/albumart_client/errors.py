"""The API's error envelope as exceptions: one class per code a caller handles differently."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any


class AlbumArtError(Exception):
    """An answer other than 200: `status` is the HTTP status (equal to the envelope's `code`), `msg` the API's
    message, `data` the envelope's data (None when the answer was not the API's envelope)."""

    def __init__(self, status: int | None, code: int | None, msg: str, data: Any = None,
                 headers: Mapping[str, str] | None = None):
        super().__init__(f"{code or status}: {msg}" if (code or status) else msg)
        self.status = status
        self.code = code
        self.msg = msg
        self.data = data
        self.headers = dict(headers or {})


class TaskExists(AlbumArtError):
    """400: a cover already exists for this client task id; `task_id` is the existing cover task."""

    @property
    def task_id(self) -> str | None:
        return self.data.get("taskId") if isinstance(self.data, dict) else None


class AuthenticationError(AlbumArtError):
    """401: the API key is missing, unknown, revoked or malformed."""


class InsufficientCredits(AlbumArtError):
    """402: the available balance does not cover `count`."""

    @property
    def needed(self) -> int | None:
        return self.data.get("needed") if isinstance(self.data, dict) else None

    @property
    def available(self) -> int | None:
        return self.data.get("available") if isinstance(self.data, dict) else None


class NotFound(AlbumArtError):
    """404: no such task in your organisation (another organisation's is a 404 too)."""


class Conflict(AlbumArtError):
    """409: the client task id is being generated, the task is already finished (cancel), or the Idempotency-Key
    was used with other parameters or is still in flight."""

    @property
    def task_id(self) -> str | None:
        return self.data.get("taskId") if isinstance(self.data, dict) else None


class PayloadTooLarge(AlbumArtError):
    """413: the photo or reference is larger than the server accepts."""


class ValidationError(AlbumArtError):
    """422: `errors` maps each invalid field to its messages; the message leads with the first."""

    @property
    def errors(self) -> dict[str, list[str]]:
        errors = self.data.get("errors") if isinstance(self.data, dict) else None
        return dict(errors) if isinstance(errors, dict) else {}


class RateLimited(AlbumArtError):
    """429: too many requests for this key; `retry_after` is the seconds until its window resets."""

    @property
    def retry_after(self) -> float | None:
        return retry_after_seconds(self.headers, self.data)


class Maintenance(AlbumArtError):
    """455: the service is in maintenance; `retry_after` says when to come back."""

    @property
    def retry_after(self) -> float | None:
        return retry_after_seconds(self.headers, self.data)


class ServerError(AlbumArtError):
    """5xx: unexpected on the server side; the message carries a request id to quote to support."""


class ConnectionFailed(AlbumArtError):
    """No answer at all (connection refused, reset or timed out), after the retries allowed."""

    def __init__(self, msg: str):
        super().__init__(None, None, msg)


class WaitTimeout(AlbumArtError, TimeoutError):
    """`wait()` gave up before the task ended; `task` is the last state seen."""

    def __init__(self, msg: str, task: Any):
        super().__init__(None, None, msg)
        self.task = task


BY_STATUS: dict[int, type[AlbumArtError]] = {
    400: TaskExists, 401: AuthenticationError, 402: InsufficientCredits, 404: NotFound, 409: Conflict,
    413: PayloadTooLarge, 422: ValidationError, 429: RateLimited, 455: Maintenance,
}


def error_for(status: int, body: Any, headers: Mapping[str, str]) -> AlbumArtError:
    """The exception for an answer: the envelope's code, msg and data when it is one, else the raw text."""
    if isinstance(body, dict) and "msg" in body:
        code, msg, data = body.get("code", status), str(body.get("msg")), body.get("data")
    else:
        code, msg, data = status, f"HTTP {status}: {str(body)[:300]}", None
    cls = BY_STATUS.get(status) or (ServerError if status >= 500 else AlbumArtError)
    return cls(status, code, msg, data, headers)


def retry_after_seconds(headers: Mapping[str, str], data: Any = None) -> float | None:
    """Retry-After as seconds (a number or an HTTP date), else the envelope's `retryAfter`, else None."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                when = parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=timezone.utc)
                return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    if isinstance(data, dict) and isinstance(data.get("retryAfter"), int | float):
        return float(data["retryAfter"])
    return None
