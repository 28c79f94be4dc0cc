"""Stage 2, segment: the subject's alpha mask at photo resolution, from one of three backends.

`selfie` (default) runs MediaPipe's small person-segmentation model on the CPU; `rembg` runs
operator-provided ONNX models (production GPU workers); `none` keeps the whole photo. Model files
come from `fetch` (`python manage.py fetch_models`); a missing one is an error, never a fallback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from .faces import find_faces
from .models import DEFAULT_MODEL_DIR, MODEL_FILES, ModelFetchError, ModelNotFoundError, fetch
from .refine import check_photo, guided_filter, refine_mask

BACKENDS = ("selfie", "rembg", "none")


class Segmenter(Protocol):
    name: str

    def mask(self, photo: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 RGB photo -> HxW uint8 alpha (255 = subject) at the photo's resolution, refined."""
        ...


class OpaqueSegmenter:
    """The `none` backend: everything is subject, so the interface stays the same for every pipeline."""

    name = "none"

    def mask(self, photo: np.ndarray) -> np.ndarray:
        check_photo(photo)
        return np.full(photo.shape[:2], 255, dtype=np.uint8)


def get_segmenter(backend: str, model_dir: str | Path | None = None, *, rembg_model: str | None = None) -> Segmenter:
    """The segmenter for `backend`, its model file checked now so a worker fails at start, not mid-render."""
    if backend == "selfie":
        from .selfie import SelfieSegmenter

        return SelfieSegmenter(model_dir)
    if backend == "rembg":
        from .rembg_backend import DEFAULT_MODEL, RembgSegmenter

        return RembgSegmenter(model_dir, rembg_model or DEFAULT_MODEL)
    if backend == "none":
        return OpaqueSegmenter()
    raise ValueError(f"unknown segmentation backend {backend!r}; choose one of {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL_DIR",
    "MODEL_FILES",
    "ModelFetchError",
    "ModelNotFoundError",
    "OpaqueSegmenter",
    "Segmenter",
    "fetch",
    "find_faces",
    "get_segmenter",
    "guided_filter",
    "refine_mask",
]
