"""Colour and contrast of the type: WCAG luminance, the text colour that reads over what lies beneath, and the
scrim that makes room for it when nothing does (COVER-CRAFT: 4.5:1 over the 90th-percentile-worst pixel)."""

from __future__ import annotations

import cv2
import numpy as np

from .composite import block_means

MIN_CONTRAST = 4.5
_SRGB_TO_LINEAR = ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4
_SRGB_TO_LINEAR[:11] = np.arange(11) / 255.0 / 12.92
_LUMA = np.array([0.2126, 0.7152, 0.0722])


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance per pixel (or of one colour), 0..1."""
    rgb = np.asarray(rgb, dtype=np.uint8)
    if rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.shape[0] * rgb.shape[1] > 4096:  # an image: OpenCV, same values
        return cv2.transform(cv2.LUT(rgb, _SRGB_TO_LINEAR), _LUMA[None, :])
    return _SRGB_TO_LINEAR[rgb] @ _LUMA


def contrast_ratio(a: float, b: float) -> float:
    high, low = max(a, b), min(a, b)
    return (high + 0.05) / (low + 0.05)


def worst_contrast(text_lum: float, lums: np.ndarray) -> float:
    """Contrast against the 10th/90th percentile background pixels, whichever is closer to the text."""
    if lums.size == 0:
        return 21.0
    return _contrast_within(text_lum, *np.percentile(lums, (10, 90)))


def _contrast_within(text_lum: float, p10: float, p90: float) -> float:
    if p10 <= text_lum <= p90:
        return 1.0
    return float(contrast_ratio(text_lum, p90 if text_lum > p90 else p10))


class LuminanceMap:
    """Quarter-size luminance of the canvas, for sampling what lies under each text box.

    Each cell is the mean of an exact 4 x 4 block (a side not a multiple of 4 leaves its last few rows and
    columns out), so a box's cells are the same computed alone: only the boxes asked for are computed
    (sample before changing the canvas: the pixels are read at `under`).
    """

    def __init__(self, rgb: np.ndarray):
        self.factor = 4
        self.rgb = rgb
        self.shape = (rgb.shape[0] // self.factor, rgb.shape[1] // self.factor)

    def under(self, box: tuple[int, int, int, int], pad: int = 0) -> np.ndarray:
        f = self.factor
        x0, y0 = (box[0] - pad) // f, (box[1] - pad) // f
        x1, y1 = -(-(box[2] + pad) // f), -(-(box[3] + pad) // f)  # rounded up
        h, w = self.shape
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 <= x0 or y1 <= y0:
            return np.zeros(0)
        small = block_means(self.rgb[y0 * f:y1 * f, x0 * f:x1 * f], f)
        return np.asarray(relative_luminance(small)).reshape(-1)


def choose_colour(candidates: list[tuple[int, int, int]], samples: list[np.ndarray]) -> tuple[tuple, float]:
    """The first candidate (the palette's ink first) reaching MIN_CONTRAST on every line as it stands.

    When none does, keep the ink colour: a scrim will make room for it, which looks designed,
    where swapping to whichever colour scores least badly usually looks accidental.
    """
    first = None
    bounds = [np.percentile(s, (10, 90)) for s in samples if s.size]  # once per line, not per candidate
    for colour in candidates:
        lum = float(relative_luminance(np.array(colour)))
        score = min((_contrast_within(lum, *b) for b in bounds), default=21.0)
        first = first or (colour, score)
        if score >= MIN_CONTRAST:
            return colour, score
    return first


def scrim_strength(text_lum: float, samples: list[np.ndarray]) -> float:
    """How much to darken (light text) or lighten (dark text) the area so the worst pixel reaches 4.5:1."""
    goal = MIN_CONTRAST * 1.1  # aim a little past the minimum: the scrim's soft edge costs some
    if not any(s.size for s in samples):
        return 0.0
    if text_lum > 0.4:  # darken: the 90th percentile must drop to this luminance
        target = (text_lum + 0.05) / goal - 0.05
        worst = max(float(np.percentile(s, 90)) for s in samples if s.size)
        if worst <= target:
            return 0.0
        return float(np.clip(1.0 - (max(target, 1e-3) / worst) ** (1 / 2.2), 0.0, 0.85))
    target = goal * (text_lum + 0.05) - 0.05
    worst = min(float(np.percentile(s, 10)) for s in samples if s.size)
    if worst >= target:
        return 0.0
    lift = (1 - target ** (1 / 2.2)) / max(1e-3, 1 - worst ** (1 / 2.2))
    return float(np.clip(1.0 - lift, 0.0, 0.85))


def apply_scrim(rgb: np.ndarray, box: tuple[int, int, int, int], strength: float, *, darken: bool,
                softness: float = 0.035) -> None:
    """A soft-edged rectangle of darkening (or lightening), in place; `softness` is the blur sigma
    as a fraction of the side (edges fade over about twice that)."""
    side = rgb.shape[0]
    sigma = side * softness
    # The factor map is built in cells a sixth of the blur wide (a Gaussian that wide in cells is smooth
    # under a linear upscale), never coarser than 1/375 of the side; the box keeps its sub-cell edges
    # as fractional coverage, so a coarse map puts the fade where a fine one would.
    f = max(1, side // 375, int(sigma // 6))
    n = -(-side // f)
    small = np.zeros((n, n), np.float32)
    x0, y0, x1, y1 = (min(max(float(v) / f, 0.0), n) for v in box)
    x1, y1 = max(x1, x0 + 1 / f), max(y1, y0 + 1 / f)
    edges = np.arange(n, dtype=np.float32)
    cols = np.clip(np.minimum(edges + 1, x1) - np.maximum(edges, x0), 0.0, 1.0)
    rows_in = np.clip(np.minimum(edges + 1, y1) - np.maximum(edges, y0), 0.0, 1.0)
    small[...] = rows_in[:, None] * cols[None, :]
    small = cv2.GaussianBlur(small, (0, 0), sigma / f)
    # Only the rows the scrim touches are upscaled and multiplied: the factor map is built small.
    rows = np.flatnonzero(small.max(axis=1) * strength > 0.5 / 255)
    if rows.size == 0:
        return
    r0, r1 = rows[0] * f, min(side, (rows[-1] + 1) * f)
    factor = np.clip(255.0 * (1.0 - strength * small[rows[0]:rows[-1] + 1]) + 0.5, 0, 255).astype(np.uint8)
    factor = cv2.resize(factor, (side, r1 - r0), interpolation=cv2.INTER_LINEAR)
    factor = cv2.cvtColor(factor, cv2.COLOR_GRAY2RGB)
    region = rgb[r0:r1]
    if darken:
        region[...] = cv2.multiply(region, factor, scale=1 / 255)
    else:
        region[...] = 255 - cv2.multiply(255 - region, factor, scale=1 / 255)


