"""Face boxes from MediaPipe's short-range BlazeFace model (128x128 input, 896 SSD anchors).

The decoding follows MediaPipe's face_detection_short_range graph: letterboxed input in [-1, 1],
fixed-size anchors on a 16x16 grid (2 per cell) and an 8x8 grid (6 per cell), box offsets in input
pixels, sigmoid scores, then weighted non-maximum suppression. "Short range" means faces that fill a
fair part of the frame (a portrait or half-body shot); a small face in a wide shot may be missed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from . import tflite
from .models import FACE, model_path

INPUT_SIDE = 128
MIN_SCORE = 0.5
SUPPRESSION_IOU = 0.3
SCORE_CLIP = 100.0

Box = tuple[float, float, float, float]


@lru_cache(maxsize=1)
def anchors() -> np.ndarray:
    """The 896 anchor centres (x, y) in [0, 1], in the order of the model's outputs.

    SsdAnchorsCalculator with strides [8, 16, 16, 16]: layers sharing a stride share a grid, and each
    layer contributes two anchors per cell (its own scale and the interpolated one); with a fixed
    anchor size only the centres matter.
    """
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        side = INPUT_SIDE // stride
        ys, xs = np.meshgrid((np.arange(side) + 0.5) / side, (np.arange(side) + 0.5) / side, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


TILE_SHARE = 0.5  # tiles of half the short side, overlapping by half: a face a tenth of the frame high is found
TILE_MIN_SCORE = 0.8  # a tile shows the model less context (a shirt fold, a bush): surer before a box counts
SEARCH_SHORT_SIDE = 768  # the search runs on the photo reduced to this: a tile is then 3x the model's input


def _detect(path, photo: np.ndarray, min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (x0, y0, x1, y1 in the region's pixels) and scores of one pass of the model over `photo`."""
    tensor, (pad_x, pad_y, content) = _letterbox(photo)
    outputs = {o.shape[-1]: o for o in tflite.run(path, tensor)}
    boxes, scores = decode(outputs[16][0], outputs[1][0, :, 0], min_score)
    height, width = photo.shape[:2]
    # Undo the letterbox: normalised input coordinates -> region pixels, clipped to the region.
    px = np.clip((boxes[:, [0, 2]] - pad_x) / content[0], 0.0, 1.0) * width
    py = np.clip((boxes[:, [1, 3]] - pad_y) / content[1], 0.0, 1.0) * height
    return np.stack([px[:, 0], py[:, 0], px[:, 1], py[:, 1]], axis=1), scores


def find_faces(photo: np.ndarray, model_dir: str | Path | None, *, tiles: bool = True) -> list[Box]:
    """Faces as (x0, y0, x1, y1) in photo pixels, most confident first; [] when there is none.

    The short-range model sees the whole photo at 128 px, where a face in a full-body, couple or street shot
    is a few pixels high; overlapping tiles of half the short side find those too (a dozen passes at ~1 ms).
    """
    path = model_path(model_dir, FACE)
    scale = min(1.0, SEARCH_SHORT_SIDE / min(photo.shape[:2]))
    if scale < 1.0:  # one reduction instead of one per tile (a phone photo costs 25 full-size resizes otherwise)
        small = cv2.resize(photo, (round(photo.shape[1] * scale), round(photo.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
        return [tuple(v / scale for v in face) for face in find_faces(small, model_dir, tiles=tiles)]
    all_boxes, all_scores = [], []
    boxes, scores = _detect(path, photo, MIN_SCORE)
    all_boxes.append(boxes)
    all_scores.append(scores)
    height, width = photo.shape[:2]
    tile = int(min(height, width) * TILE_SHARE)
    if tiles and tile >= 96:
        step = tile // 2
        for y0 in range(0, max(1, height - tile + step), step):
            for x0 in range(0, max(1, width - tile + step), step):
                y0c, x0c = min(y0, height - tile), min(x0, width - tile)
                boxes, scores = _detect(path, photo[y0c:y0c + tile, x0c:x0c + tile], TILE_MIN_SCORE)
                if len(boxes):
                    all_boxes.append(boxes + np.array([x0c, y0c, x0c, y0c], np.float64))
                    all_scores.append(scores)
    boxes, scores = np.concatenate(all_boxes), np.concatenate(all_scores)
    faces = []
    for x0, y0, x1, y1 in weighted_nms(boxes, scores):
        if x1 > x0 and y1 > y0:
            faces.append((float(x0), float(y0), float(x1), float(y1)))
    return _drop_nested(faces)


def _drop_nested(faces: list[Box]) -> list[Box]:
    """A box mostly inside a larger one is the same face seen by a tile (or a part of it): keep the larger."""
    kept: list[Box] = []
    for face in sorted(faces, key=lambda f: (f[2] - f[0]) * (f[3] - f[1]), reverse=True):
        area = (face[2] - face[0]) * (face[3] - face[1])
        inside = any(max(0.0, min(face[2], k[2]) - max(face[0], k[0])) * max(0.0, min(face[3], k[3]) -
                     max(face[1], k[1])) > 0.5 * area for k in kept)
        if not inside:
            kept.append(face)
    return kept


def decode(raw: np.ndarray, logits: np.ndarray, min_score: float = MIN_SCORE) -> tuple[np.ndarray, np.ndarray]:
    """Raw regressors (896x16) and logits (896) -> boxes (Nx4 x0, y0, x1, y1 in [0, 1]) and scores above min_score."""
    # float64: exp(100) overflows float32, and MediaPipe clips the logits at 100.
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    keep = scores >= min_score
    raw, scores, centres = raw[keep], scores[keep], anchors()[keep]
    # Offsets are in input pixels, x before y (MediaPipe's reverse_output_order), anchors of size 1.
    cx = raw[:, 0] / INPUT_SIDE + centres[:, 0]
    cy = raw[:, 1] / INPUT_SIDE + centres[:, 1]
    half_w, half_h = raw[:, 2] / INPUT_SIDE / 2, raw[:, 3] / INPUT_SIDE / 2
    return np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1), scores


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = SUPPRESSION_IOU) -> list[np.ndarray]:
    """MediaPipe's weighted NMS: each kept box is the score-weighted mean of the boxes it suppresses."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    kept = []
    remaining = np.ones(len(boxes), dtype=bool)
    for i in range(len(boxes)):
        if not remaining[i]:
            continue
        cluster = remaining & (iou(boxes[i], boxes) > iou_threshold)
        cluster[i] = True
        weights = scores[cluster][:, None]
        kept.append((boxes[cluster] * weights).sum(axis=0) / weights.sum())
        remaining &= ~cluster
    return kept


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _letterbox(photo: np.ndarray) -> tuple[np.ndarray, tuple[float, float, tuple[float, float]]]:
    """The photo fitted into 128x128 with zero padding, values in [-1, 1]; plus the padding to undo."""
    height, width = photo.shape[:2]
    scale = INPUT_SIDE / max(height, width)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    x0, y0 = (INPUT_SIDE - w) // 2, (INPUT_SIDE - h) // 2
    canvas = np.zeros((INPUT_SIDE, INPUT_SIDE, 3), dtype=np.float32)
    small = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
    canvas[y0:y0 + h, x0:x0 + w] = small.astype(np.float32) / 127.5 - 1.0
    return canvas[None], (x0 / INPUT_SIDE, y0 / INPUT_SIDE, (w / INPUT_SIDE, h / INPUT_SIDE))
