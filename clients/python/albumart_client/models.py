"""Typed views of the API's answers. Each keeps the answer it was built from in `raw`, so a field the server adds
later is never lost, only not typed yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PENDING, GENERATING, REVIEW = "PENDING", "GENERATING", "REVIEW"
SUCCESS, PARTIAL, FAILED, CANCELLED = "SUCCESS", "PARTIAL", "FAILED", "CANCELLED"
# REVIEW is not an end: a person still decides on an image, after which the task ends SUCCESS, PARTIAL or FAILED.
TERMINAL_STATUSES = frozenset({SUCCESS, PARTIAL, FAILED, CANCELLED})


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    # fromisoformat reads "Z" only from Python 3.11 on.
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True)
class Image:
    """A delivered cover: it passed QA and is charged. `url` is signed and works without a key."""

    index: int
    url: str
    variant: str
    width: int
    height: int
    format: str
    size_bytes: int
    seed: int | None = None
    filename: str | None = None
    qa: dict[str, Any] = field(default_factory=dict)
    verdict: str | None = None
    attempts: int | None = None
    review: dict[str, Any] | None = None
    accepted: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Image:
        return cls(
            index=data.get("index", 0), url=data["url"], variant=data.get("variant", ""),
            width=data.get("width", 0), height=data.get("height", 0), format=data.get("format", ""),
            size_bytes=data.get("bytes", 0), seed=data.get("seed"), filename=data.get("filename"),
            qa=data.get("qa") or {}, verdict=data.get("verdict"), attempts=data.get("attempts"),
            review=data.get("review"), accepted=data.get("accepted"), raw=data,
        )


@dataclass(frozen=True)
class FailedImage:
    """A cover that was not delivered (and not charged), with the checks that stopped it and a plain reason."""

    index: int
    variant: str
    reason: str
    outcome: str | None = None
    seed: int | None = None
    attempts: int | None = None
    failed_checks: list[dict[str, Any]] = field(default_factory=list)
    qa: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> FailedImage:
        return cls(
            index=data.get("index", 0), variant=data.get("variant", ""), reason=data.get("reason", ""),
            outcome=data.get("outcome"), seed=data.get("seed"), attempts=data.get("attempts"),
            failed_checks=list(data.get("failedChecks") or []), qa=data.get("qa") or {}, raw=data,
        )


@dataclass(frozen=True)
class TaskCredits:
    held: int = 0
    charged: int = 0


@dataclass(frozen=True)
class Task:
    """A cover task as record-info, the list, cancel, delete and the callback answer it.

    `client_task_id` is your own id (sent as `task_id` to generate; the API's `musicTaskId`). `event` is set in a
    callback only: `completed` for the final one, `started` or `image` for the progress ones a task asked for
    (`webhook_events_filter`; an `image` event's cover is in `raw["image"]`)."""

    task_id: str
    status: str
    genre: str | None = None
    client_task_id: str | None = None
    parent_task_id: str | None = None
    count: int | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    deleted_at: datetime | None = None
    images: tuple[Image, ...] = ()
    failed_images: tuple[FailedImage, ...] = ()
    credits: TaskCredits = field(default_factory=TaskCredits)
    sandbox: bool = False
    warnings: tuple[str, ...] = ()
    error_code: int | None = None
    error_message: str | None = None
    event: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        """Ended: SUCCESS, PARTIAL, FAILED or CANCELLED (REVIEW still waits for a person)."""
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Task:
        held_charged = data.get("credits") or {}
        return cls(
            task_id=data["taskId"], status=data.get("status", PENDING), genre=data.get("genre"),
            client_task_id=data.get("musicTaskId"), parent_task_id=data.get("parentTaskId"),
            count=data.get("count"), created_at=parse_time(data.get("createTime")),
            completed_at=parse_time(data.get("completeTime")), deleted_at=parse_time(data.get("deleteTime")),
            images=tuple(Image.from_api(i) for i in data.get("images") or () if isinstance(i, dict)),
            failed_images=tuple(FailedImage.from_api(i) for i in data.get("failedImages") or ()),
            credits=TaskCredits(held=held_charged.get("held", 0), charged=held_charged.get("charged", 0)),
            sandbox=bool(data.get("sandbox", False)), warnings=tuple(data.get("warnings") or ()),
            error_code=data.get("errorCode"), error_message=data.get("errorMessage"), event=data.get("event"),
            raw=data,
        )


@dataclass(frozen=True)
class Credits:
    """The organisation's account: `available` = `balance` - `held`."""

    balance: int
    held: int
    available: int
    debt: int = 0
    charged_this_month: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Credits:
        return cls(balance=data["balance"], held=data["held"], available=data["available"],
                   debt=data.get("debt", 0), charged_this_month=data.get("chargedThisMonth", 0), raw=data)
