"""The default backend: MediaPipe's selfie segmentation model (256x256, one person channel) on the CPU."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from . import tflite
from .models import SELFIE, model_path
from .refine import check_photo, refine_mask


class SelfieSegmenter:
    """Person mask from the MediaPipe selfie model, refined against the photo at full resolution."""

    name = "selfie"

    def __init__(self, model_dir: str | Path | None):
        self.path = model_path(model_dir, SELFIE)

    def low_res(self, photo: np.ndarray) -> np.ndarray:
        """The model's own person probability, 256x256 float32 in [0, 1], for the whole photo."""
        _, height, width, _ = tflite.input_shape(self.path)
        # Stretched, not letterboxed: MediaPipe's own graph feeds this model that way
        # (ImageToTensor with keep_aspect_ratio false, values in [0, 1]), so that is what it was tuned on.
        small = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)
        tensor = (small.astype(np.float32) * np.float32(1.0 / 255.0))[None]
        (out,) = tflite.run(self.path, tensor)
        return np.clip(out[0, :, :, 0], 0.0, 1.0)

    def mask(self, photo: np.ndarray) -> np.ndarray:
        check_photo(photo)
        soft = self.low_res(photo)
        return refine_mask(photo, soft, model_side=max(soft.shape))

