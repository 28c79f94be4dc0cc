"""The production backend: rembg sessions on operator-provided ONNX models, never downloaded here.

The operator places `<model_dir>/rembg/<model name>.onnx` on each worker. rembg looks for a model in
`$U2NET_HOME/<name>.onnx` before it would download one, so we check the file ourselves, point
U2NET_HOME at that folder only while the session is built, and refuse clearly when it is missing.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from .models import ModelNotFoundError, resolve_dir
from .refine import check_photo, refine_mask

DEFAULT_MODEL = "birefnet-portrait"
# rembg sessions that run locally from one `<name>.onnx` file and output a single foreground mask.
# (Excluded: SAM needs prompts and two files, cloth segmentation has three class masks, the custom
# sessions take arbitrary paths, and the cloud ones send the photo off the machine.)
MODELS = frozenset({
    "birefnet-portrait", "birefnet-general", "birefnet-general-lite", "birefnet-hrsod", "birefnet-massive",
    "birefnet-dis", "bria-rmbg", "isnet-general-use", "u2net", "u2netp", "u2net_human_seg", "silueta",
})

# The sessions that resize the photo to 320x320 (rembg's U2-Net family); the others use 1024x1024.
LOW_RES_MODELS = frozenset({"u2net", "u2netp", "u2net_human_seg", "silueta"})

_LOCK = threading.Lock()
_SESSIONS: dict[tuple[str, int], object] = {}


def rembg_model_path(model_dir: str | Path | None, model_name: str) -> Path:
    """Where the operator must place the ONNX file for `model_name`; ModelNotFoundError if it is not there."""
    if model_name not in MODELS:
        raise ValueError(f"unknown rembg model {model_name!r}; choose one of {', '.join(sorted(MODELS))}")
    path = resolve_dir(model_dir) / "rembg" / f"{model_name}.onnx"
    if not path.is_file():
        raise ModelNotFoundError(f"rembg model {model_name} not found at {path}; copy the operator-provided "
                                 f"{model_name}.onnx there (rembg is never allowed to download it), "
                                 "or use the selfie backend")
    return path


class RembgSegmenter:
    """A rembg session's mask for the photo, refined against the photo like the selfie backend's."""

    name = "rembg"

    def __init__(self, model_dir: str | Path | None, model_name: str = DEFAULT_MODEL):
        self.model_name = model_name
        self.path = rembg_model_path(model_dir, model_name)

    def mask(self, photo: np.ndarray) -> np.ndarray:
        check_photo(photo)
        # The session's own predict does the resizing, normalisation and min-max scaling its model expects.
        (soft,) = _session(self.path, self.model_name).predict(Image.fromarray(photo))[:1]
        soft = np.asarray(soft.convert("L"))
        # rembg hands back its model's output resized to the photo. The 320 px U2-Nets give a blurred
        # mask that is refined like the selfie model's; the 1024 px models give a real matte.
        low_res = self.model_name in LOW_RES_MODELS
        return refine_mask(photo, soft, model_side=320 if low_res else 1024, matte=not low_res)


def _session(path: Path, model_name: str) -> object:
    key = (str(path), os.getpid())
    with _LOCK:
        if key not in _SESSIONS:
            from rembg import new_session

            before = os.environ.get("U2NET_HOME")
            os.environ["U2NET_HOME"] = str(path.parent)
            try:
                _SESSIONS[key] = new_session(model_name)
            finally:
                if before is None:
                    os.environ.pop("U2NET_HOME", None)
                else:
                    os.environ["U2NET_HOME"] = before
        return _SESSIONS[key]
