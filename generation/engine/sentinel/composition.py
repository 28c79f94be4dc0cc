"""Composition: the face is whole and uncovered; one focal point stands out from the rest."""

from __future__ import annotations

import cv2
import numpy as np

from . import thresholds as T


def _area(box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _overlap(a, b) -> float:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def face_clear(face, text_boxes, side: int) -> tuple[str, dict]:
    """The face box must lie inside the frame and (almost) free of text."""
    if not face:
        return "skip", {}
    area = _area(face) or 1.0
    covered = sum(_overlap(face, box) for box in text_boxes) / area
    cut = face[0] < -T.FACE_EDGE_MARGIN or face[1] < -T.FACE_EDGE_MARGIN or \
        face[2] > side + T.FACE_EDGE_MARGIN or face[3] > side + T.FACE_EDGE_MARGIN
    inside = _area((max(0, face[0]), max(0, face[1]), min(side, face[2]), min(side, face[3]))) / area
    values = {"face_text_overlap": round(covered, 3), "face_inside": round(inside, 3)}
    if cut or covered >= T.FACE_TEXT_OVERLAP_FAIL:  # a face cut by the frame is as unusable as a covered one
        return "fail", values
    if covered >= T.FACE_TEXT_OVERLAP_REVIEW:
        return "review", values
    return "pass", values


def cutout_mask(subject: dict | None, gate: dict | None) -> tuple[str, dict]:
    """A cut-out person on a scene needs a mask that passed the gate (one blob, no other faces, not cut by the
    frame, no holes, a narrow edge): anything else shows halos, bystanders or straight edges."""
    if not subject or subject.get("shape") != "cutout":
        return "skip", {}
    passed = bool(gate and gate.get("passed"))
    return ("pass" if passed else "fail"), {"mask_gate": "passed" if passed else "; ".join((gate or {}).get(
        "reasons") or ["no verdict"])}


def focal_point(grey_small: np.ndarray, regions, side: int) -> tuple[str, dict]:
    """Edge energy per pixel inside the focal regions (face, dominant text) against the rest of the cover."""
    if not regions:
        return "skip", {}
    n = grey_small.shape[0]
    gx = cv2.Sobel(grey_small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey_small, cv2.CV_32F, 0, 1, ksize=3)
    energy = np.hypot(gx, gy)
    mask = np.zeros((n, n), bool)
    f = n / side
    for x0, y0, x1, y1 in regions:
        mask[max(0, int(y0 * f)):min(n, int(np.ceil(y1 * f))), max(0, int(x0 * f)):min(n, int(np.ceil(x1 * f)))] = True
    if mask.all() or not mask.any():
        return "skip", {}
    ratio = float(energy[mask].mean() / (energy[~mask].mean() + 1e-3))
    verdict = "pass" if ratio >= T.FOCAL_RATIO_PASS else "review"
    return verdict, {"focal_ratio": round(ratio, 2)}
