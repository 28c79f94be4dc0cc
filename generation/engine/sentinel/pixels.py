"""Whole-image checks on the grey working copy: border or frame, sharpness, pixelation, blank."""

from __future__ import annotations

import cv2
import numpy as np

from . import thresholds as T


def _band(lines: np.ndarray) -> tuple[int, float]:
    """Width of the uniform band at the start of `lines` (rows of grey levels, edge first) and its edge step."""
    stds = lines.std(axis=1)
    means = lines.mean(axis=1)
    width = 0
    limit = len(lines) // 4
    while width < limit and stds[width] < T.BAND_ROW_STD and abs(means[width] - means[0]) < T.BAND_COLOUR_STEP:
        width += 1
    if width == 0 or width >= limit:
        return 0, 0.0
    # A frame has an edge along (most of) its length; a vignette or a scrim under text ends raggedly.
    inside = lines[width:width + 2]
    step = float((np.abs(inside - means[:width].mean()) > T.BAND_EDGE_STEP).mean())
    return width, step


def border(grey: np.ndarray) -> tuple[str, dict]:
    """A frame is uniform bands with a visible inner edge along the sides of the cover."""
    side = grey.shape[0]
    edges = {"top": grey, "bottom": grey[::-1], "left": grey.T, "right": grey.T[::-1]}
    widths = {}
    for name, lines in edges.items():
        width, step = _band(lines.astype(np.float32))
        widths[name] = width / side if step >= T.BAND_EDGE_SHARE else 0.0
    framed = [name for name, fraction in widths.items() if fraction >= T.BORDER_MIN_FRACTION]
    verdict = "fail" if len(framed) >= T.BORDER_FAIL_SIDES else "review" if framed else "pass"
    return verdict, {"border": round(max(widths.values()), 4), "border_sides": len(framed)}


def sharpness(grey: np.ndarray) -> tuple[str, dict]:
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=3))
    value = float(np.percentile(lap[::2, ::2], 99.5))
    verdict = "pass" if value >= T.SHARPNESS_PASS else "review" if value >= T.SHARPNESS_REVIEW else "fail"
    return verdict, {"sharpness": round(value, 2)}


def _seam_share(grad: np.ndarray) -> tuple[float, int]:
    """Share of the gradient energy on isolated lines (block seams) and how many such lines there are."""
    profile = grad.sum(axis=0).astype(np.float64)
    total = profile.sum()
    if total <= 0:
        return 0.0, 0
    background = cv2.medianBlur(profile.astype(np.float32).reshape(1, -1), 5).ravel().astype(np.float64)
    spikes = np.clip(profile - 2 * background, 0, None)
    seams = int((spikes > 0.002 * total).sum())
    return float(spikes.sum() / total), seams


def pixelation(grey: np.ndarray, text_mask: np.ndarray | None) -> tuple[str, dict]:
    """Blocks from an upscaled tiny source leave their energy on a grid of seams in both directions."""
    g = grey.astype(np.int16)
    dx = np.abs(np.diff(g, axis=1)).astype(np.float32)
    dy = np.abs(np.diff(g, axis=0)).astype(np.float32)
    if text_mask is not None:  # letters have straight stems too; they are not blocks
        dx[text_mask[:, 1:]] = 0
        dy[text_mask[1:, :]] = 0
    share_x, seams_x = _seam_share(dx)
    share_y, seams_y = _seam_share(dy.T)
    value = min(share_x, share_y) if min(seams_x, seams_y) >= T.PIXELATION_MIN_SEAMS else 0.0
    verdict = "fail" if value >= T.PIXELATION_FAIL else "review" if value >= T.PIXELATION_REVIEW else "pass"
    return verdict, {"pixelation": round(value, 3)}


def blank(grey: np.ndarray) -> tuple[str, dict]:
    value = float(grey[::2, ::2].std())
    verdict = "pass" if value >= T.BLANK_STD_REVIEW else "review" if value >= T.BLANK_STD_FAIL else "fail"
    return verdict, {"blank_std": round(value, 2)}
