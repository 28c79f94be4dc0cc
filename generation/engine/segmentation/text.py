"""Third-party text in the photo (a banner, a sign, a scoreboard, a printed logo), found so it can be scrubbed.

The detector is PP-OCRv4's DB network (PaddleOCR, Apache-2.0), run by OpenCV's dnn module: it predicts, for
every pixel, the probability that it lies inside a line of text. Regions above `PIXEL_THRESHOLD` whose mean
probability reaches `BOX_THRESHOLD` are text, grown by the DB "unclip" margin. It finds lettering of any
script, which is what a cover needs: whatever a store would read as someone else's brand goes, in any language.

Teeth, eyes and a zipper look like text to it, so nothing that overlaps a face counts: the face is never
scrubbed. A large squat region is an object the network half-recognised (a cup, a lamp), not a line of text.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from .models import TEXT, model_path

LONG_SIDE = 736  # detection input: 0.1 s on one core; lettering about 1% of the photo high is still found
# A second, finer look for the background only: an out-of-focus banner behind the subject is found at this
# size and missed at the first; on the person it would also take hands and patterned cloth for lettering.
FINE_SIDE = 960
BACKGROUND_ONLY = 0.2  # a fine-pass box may cover at most this share of person pixels
PIXEL_THRESHOLD = 0.3
BOX_THRESHOLD = 0.7  # PaddleOCR uses 0.5 to read every word; we only act on text it is sure of
MIN_SIDE = 0.006  # of the photo's long side: specks are not lettering
UNCLIP = 0.6  # the DB network marks the core of a line; grow the box by this share of its height
FACE_MARGIN = 0.25
MAX_BLOCK = 0.02  # a squat region larger than this share of the photo is an object (a cup, a lamp), not a line

Box = tuple[float, float, float, float]


@lru_cache(maxsize=2)
def _network(path: str):
    return cv2.dnn.readNetFromONNX(path)


def probability(photo: np.ndarray, model_dir: str | Path | None, long_side: int = LONG_SIDE) -> np.ndarray:
    """The detector's text probability map (float32 in [0, 1]) at its input size, for an RGB uint8 photo."""
    net = _network(str(model_path(model_dir, TEXT)))
    h, w = photo.shape[:2]
    scale = long_side / max(h, w)
    size = (max(32, round(w * scale / 32) * 32), max(32, round(h * scale / 32) * 32))
    blob = cv2.dnn.blobFromImage(photo, 1 / 127.5, size, (127.5, 127.5, 127.5), swapRB=True)
    net.setInput(blob)
    return net.forward()[0, 0]


def find_text(photo: np.ndarray, model_dir: str | Path | None, faces=(), person: np.ndarray | None = None
              ) -> list[Box]:
    """Boxes (x0, y0, x1, y1, photo pixels) of the lines of text in `photo`, none overlapping a face; with the
    `person` mask (uint8, 255 = person), also the background's lettering that only the finer look finds."""
    boxes = _boxes(photo, probability(photo, model_dir), faces)
    if person is not None:
        for box in _boxes(photo, probability(photo, model_dir, FINE_SIDE), faces):
            x0, y0, x1, y1 = (int(v) for v in box)
            on_person = float((person[y0:y1 + 1, x0:x1 + 1] > 127).mean()) if x1 > x0 and y1 > y0 else 1.0
            if on_person <= BACKGROUND_ONLY and not any(_overlaps(box, b) for b in boxes):
                boxes.append(box)
    return boxes


def _boxes(photo: np.ndarray, prob: np.ndarray, faces) -> list[Box]:
    h, w = photo.shape[:2]
    sy, sx = h / prob.shape[0], w / prob.shape[1]
    count, labels, stats, _ = cv2.connectedComponentsWithStats((prob > PIXEL_THRESHOLD).astype(np.uint8))
    guarded = [_grown(f, FACE_MARGIN) for f in faces]
    boxes = []
    for i in range(1, count):
        x, y, bw, bh, _area = stats[i]
        if min(bw * sx, bh * sy) < MIN_SIDE * max(h, w):
            continue
        if bw * bh > MAX_BLOCK * prob.size and max(bw, bh) < 2 * min(bw, bh):
            continue
        if float(prob[y:y + bh, x:x + bw][labels[y:y + bh, x:x + bw] == i].mean()) < BOX_THRESHOLD:
            continue
        pad = UNCLIP * min(bw * sx, bh * sy)
        box = (max(0.0, x * sx - pad), max(0.0, y * sy - pad),
               min(float(w), (x + bw) * sx + pad), min(float(h), (y + bh) * sy + pad))
        if any(_overlaps(box, g) for g in guarded):
            continue
        boxes.append(box)
    return boxes


def scrub(photo: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """`photo` with every box blurred past reading, feathered into its surroundings (a new array)."""
    if not boxes:
        return photo
    out = photo.copy()
    h, w = photo.shape[:2]
    for x0, y0, x1, y1 in boxes:
        side = max(x1 - x0, y1 - y0)
        sigma = max(2.0, 0.22 * min(x1 - x0, y1 - y0) + 0.02 * side)
        m = int(3 * sigma)
        X0, Y0 = max(0, int(x0) - m), max(0, int(y0) - m)
        X1, Y1 = min(w, int(np.ceil(x1)) + m), min(h, int(np.ceil(y1)) + m)
        region = out[Y0:Y1, X0:X1].astype(np.float32)
        blurred = cv2.GaussianBlur(region, (0, 0), sigma)
        weight = np.zeros(region.shape[:2], np.float32)
        weight[int(y0) - Y0:int(np.ceil(y1)) - Y0, int(x0) - X0:int(np.ceil(x1)) - X0] = 1.0
        weight = cv2.GaussianBlur(weight, (0, 0), sigma / 2)[..., None]
        out[Y0:Y1, X0:X1] = np.clip(region + (blurred - region) * weight, 0, 255).astype(np.uint8)
    return out


def _grown(box, share: float) -> Box:
    x0, y0, x1, y1 = box
    dx, dy = share * (x1 - x0), share * (y1 - y0)
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
