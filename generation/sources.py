"""The source photo of a generate request: a multipart file, a data URI or a public URL, bounded and decoded."""

import base64
import binascii

from django.conf import settings

from albumart.api import ApiError
from generation import engine, netguard


class SourceError(ValueError):
    pass


def _too_big(size: int, field: str) -> ApiError:
    return ApiError(413, f"{field} is {size} bytes; the limit is {settings.MAX_UPLOAD_BYTES} bytes.")


def read_source(value, field: str = "source_image") -> bytes | None:
    """The raw bytes of the photo, or None when absent. Raises ApiError(413) or SourceError (-> 422)."""
    limit = settings.MAX_UPLOAD_BYTES
    if value in (None, ""):
        return None
    if hasattr(value, "read"):  # an uploaded file
        if value.size > limit:
            raise _too_big(value.size, field)
        return value.read()
    if not isinstance(value, str):
        raise SourceError("must be an uploaded file, a data URI or an http(s) URL")
    if value.startswith("data:"):
        header, sep, payload = value.partition(",")
        if not sep or ";base64" not in header:
            raise SourceError("data URI must be base64, like data:image/jpeg;base64,...")
        if len(payload) * 3 // 4 > limit:
            raise _too_big(len(payload) * 3 // 4, field)
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise SourceError("data URI is not valid base64") from None
    if value.startswith(("http://", "https://")):
        try:
            return netguard.fetch(value, max_bytes=limit)
        except netguard.UnsafeUrl as exc:
            raise SourceError(f"URL {exc}") from None
        except OSError as exc:
            raise SourceError(f"URL could not be fetched ({exc.__class__.__name__})") from None
    raise SourceError("must be an uploaded file, a data URI or an http(s) URL")


def check_photo(data: bytes) -> list[str]:
    """Decode once to refuse what the worker could not use; returns warnings for the task data."""
    try:
        photo = engine.load_photo(data, max_pixels=settings.MAX_SOURCE_PIXELS)
    except engine.PhotoError as exc:
        raise SourceError(str(exc)) from None
    warnings = []
    if min(photo.size) < 800:
        warnings.append(f"source_image is {photo.size[0]}x{photo.size[1]} px; 800 px or more on the short side "
                        f"gives sharper covers")
    return warnings


def reference_palette(data: bytes) -> list[str]:
    """The five palette roles of a style reference cover (any size from 64 px: thumbnails are fine)."""
    try:
        image = engine.load_photo(data, max_pixels=settings.MAX_SOURCE_PIXELS, min_side=64)
    except engine.PhotoError as exc:
        raise SourceError(str(exc)) from None
    return list(engine.extract_palette(image))
