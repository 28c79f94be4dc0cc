"""Structured logs: one JSON object per line (LOG_FORMAT=json, the default outside DEBUG), each carrying the id of
the request (X-Request-Id) and of the task it was written for, so that one task's life can be followed from the
submit through the render to its callbacks across the web and worker processes."""

import contextvars
import logging

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
task_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("task_id", default=None)


class ContextFilter(logging.Filter):
    """Puts the current request id and task id on every record (None outside a request or a task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or request_id.get()
        record.task_id = getattr(record, "task_id", None) or task_id.get()
        return True


class for_task:  # noqa: N801 (used as a context manager, like a function)
    """`with for_task(task_id):` tags the logs written inside with the task's id."""

    def __init__(self, value: str):
        self.value = value

    def __enter__(self):
        self.token = task_id.set(self.value)
        return self

    def __exit__(self, *exc):
        task_id.reset(self.token)
        return False
