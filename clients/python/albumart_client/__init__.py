"""A small typed client for the AlbumArt cover API: submit, poll, list, cancel, delete, verify callbacks."""

from albumart_client.client import DEFAULT_BASE_URL, AlbumArt, __version__
from albumart_client.errors import (
    AlbumArtError,
    AuthenticationError,
    Conflict,
    ConnectionFailed,
    InsufficientCredits,
    Maintenance,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    TaskExists,
    ValidationError,
    WaitTimeout,
)
from albumart_client.models import TERMINAL_STATUSES, Credits, FailedImage, Image, Task, TaskCredits
from albumart_client.webhooks import InvalidCallback, verify_callback

__all__ = [
    "DEFAULT_BASE_URL", "TERMINAL_STATUSES", "AlbumArt", "AlbumArtError", "AuthenticationError", "Conflict",
    "ConnectionFailed", "Credits", "FailedImage", "Image", "InsufficientCredits", "InvalidCallback", "Maintenance",
    "NotFound", "PayloadTooLarge", "RateLimited", "ServerError", "Task", "TaskCredits", "TaskExists",
    "ValidationError", "WaitTimeout", "__version__", "verify_callback",
]
