"""The "SAMPLE" watermark of sandbox covers: a dark band from the bottom-left corner to the top-right one, with
SAMPLE repeated along it in white between two light rules. It crosses the middle of every layout (the subject,
the title), so a test cover cannot pass for a delivered one, and it is drawn with OpenCV's built-in stroke font,
so it needs no font file.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image

from .export import encode
from .spec import RenderResult

WORD = "SAMPLE"
BAND = 0.18  # the band's width, as a share of the cover's side
SHADE = 0.55  # how much the band darkens what lies under it
INK = 0.92  # the opacity of the letters
ROWS = 512  # rows blended at a time: a 3000 px cover never needs a full-size float copy


@lru_cache(maxsize=4)
def sample_masks(side: int) -> tuple[np.ndarray, np.ndarray]:
    """(band, letters) of a `side` px cover: uint8 coverage masks, 255 where the band (or a letter) covers a
    pixel fully. The same side always gives the same masks."""
    length = int(math.ceil(side * math.sqrt(2))) + 2  # the diagonal, so the band runs off both corners
    height = max(8, round(side * BAND))
    band = np.full((height, length), 255, np.uint8)
    letters = np.zeros((height, length), np.uint8)
    font = cv2.FONT_HERSHEY_DUPLEX
    thickness = max(2, height // 14)
    scale = cv2.getFontScaleFromHeight(font, max(4, round(height * 0.5)), thickness)
    (width, cap), _ = cv2.getTextSize(WORD, font, scale, thickness)
    step = int(width * 1.5)
    baseline = (height + cap) // 2
    # Centred on the middle of the band, so the cover's centre always shows one whole word.
    x = (length - width) // 2
    while x > -width:
        x -= step
    while x < length:
        cv2.putText(letters, WORD, (x, baseline), font, scale, 255, thickness, cv2.LINE_AA)
        x += step
    # Light rules along both edges: on a dark cover the shade alone would not show where the band is.
    rule = max(1, height // 40)
    letters[rule:2 * rule] = letters[height - 2 * rule:height - rule] = 160
    # Turn the horizontal strip 45 degrees counter-clockwise about its centre, onto the cover's centre.
    turn = cv2.getRotationMatrix2D((length / 2, height / 2), 45, 1.0)
    turn[:, 2] += (side / 2 - length / 2, side / 2 - height / 2)
    placed = tuple(cv2.warpAffine(m, turn, (side, side), flags=cv2.INTER_LINEAR, borderValue=0)
                   for m in (band, letters))
    for mask in placed:
        mask.setflags(write=False)  # cached: shared by every caller
    return placed


def apply_sample(rgb: np.ndarray) -> np.ndarray:
    """A watermarked copy of a square uint8 RGB cover."""
    side = rgb.shape[0]
    band, letters = sample_masks(side)
    out = np.empty_like(rgb)
    for y0 in range(0, side, ROWS):
        rows = slice(y0, min(side, y0 + ROWS))
        shade = 1.0 - SHADE * (band[rows].astype(np.float32) / 255)
        ink = INK * (letters[rows].astype(np.float32) / 255)
        block = rgb[rows].astype(np.float32) * shade[..., None]
        block += (255.0 - block) * ink[..., None]
        out[rows] = np.clip(block + 0.5, 0, 255).astype(np.uint8)
    return out


def watermark_result(result: RenderResult, jpeg_quality: int = 92) -> bytes:
    """The cover of `result` watermarked SAMPLE and encoded again as it was (format, sRGB profile, 72 DPI,
    under the byte limit), from its pixels before compression when the result carries them."""
    if result.pixels is not None:
        pixels = result.pixels
    else:
        with Image.open(io.BytesIO(result.data)) as image:  # our own sRGB export: no conversion to do
            pixels = np.asarray(image.convert("RGB"))
    data, _ = encode(apply_sample(pixels), result.format, jpeg_quality)
    return data
