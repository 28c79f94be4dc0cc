"""Legibility: WCAG contrast between each line's ink and what lies under it, at thumbnail sizes.

The boxes come from the typesetter, so the check knows where the text is; the ink inside a box is
the pixels near the typesetter's text colour (or, without one, the minority side of an Otsu split); letters
knocked out of a flat ground (the photo seen through them) are what differs from the ground the typesetter
recorded.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import thresholds as T

_LINEAR = ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4
_LINEAR[:11] = np.arange(11) / 255.0 / 12.92
_LINEAR = _LINEAR.astype(np.float32)
_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


def _hex(colour) -> np.ndarray | None:
    if isinstance(colour, str) and len(colour.lstrip("#")) == 6:
        c = colour.lstrip("#")
        return np.array([int(c[i:i + 2], 16) for i in (0, 2, 4)], np.float32)
    return None


def ink_mask(work: np.ndarray, lines: list[dict], scale: float, text_colour) -> np.ndarray:
    """Float mask (0/1) of the text ink at working size."""
    mask = np.zeros(work.shape[:2], np.float32)
    colour = _hex(text_colour)
    side = work.shape[0]
    for line in lines:
        x0, y0, x1, y1 = (int(round(v * scale)) for v in line["box"])
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(side, x1 + 1), min(side, y1 + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        crop = work[y0:y1, x0:x1].astype(np.float32)
        ground = _hex(line.get("ground"))
        if ground is not None:  # letters knocked out of a flat ground: their ink is whatever is not the ground
            ink = np.linalg.norm(crop - ground, axis=2) >= T.TEXT_INK_DISTANCE
        elif colour is not None:
            ink = np.linalg.norm(crop - colour, axis=2) < T.TEXT_INK_DISTANCE
        else:
            grey = cv2.cvtColor(crop.astype(np.uint8), cv2.COLOR_RGB2GRAY)
            _, split = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            ink = split.astype(bool) if split.mean() < 0.5 else ~split.astype(bool)
        mask[y0:y1, x0:x1] = np.maximum(mask[y0:y1, x0:x1], ink)
    return mask


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.reshape(1, -1, 3).astype(np.uint8), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(
        np.float32) * np.array([100 / 255, 1, 1], np.float32)


def line_contrast(small: np.ndarray, coverage: np.ndarray, box, colour_alt: bool) -> float:
    """Contrast of one line at one size: ink median against the worst background pixel around the box."""
    side = small.shape[0]
    x0, y0, x1, y1 = box
    pad = max(1, round((y1 - y0) * 0.25))
    x0, y0 = max(0, int(x0) - pad), max(0, int(y0) - pad)
    x1, y1 = min(side, int(np.ceil(x1)) + pad + 1), min(side, int(np.ceil(y1)) + pad + 1)
    cov = coverage[y0:y1, x0:x1]
    pix = small[y0:y1, x0:x1]
    # Thin strokes (a small CJK or Devanagari credit at 128 px) may never fill half a pixel: their densest
    # pixels are the ink then, as long as some reach a quarter (below that the strokes have dissolved).
    densest = float(cov.max()) if cov.size else 0.0
    if densest < T.TEXT_INK_MIN_COVERAGE:
        return 1.0
    ink = pix[cov >= min(T.TEXT_INK_COVERAGE, densest * 0.8)]
    ground = pix[cov <= 0.02]
    if len(ground) == 0:  # lines stacked tight: the ground is what the letters barely touch
        ground = pix[cov <= 0.1]
    if len(ink) == 0 or len(ground) == 0:
        return 1.0
    lum_ink = _LINEAR[ink] @ _LUMA
    lum_ground = _LINEAR[ground] @ _LUMA
    text = float(np.median(lum_ink))
    light_text = text > float(np.median(lum_ground))
    worst = float(np.percentile(lum_ground, T.BACKGROUND_PERCENTILE if light_text else 100 - T.BACKGROUND_PERCENTILE))
    hi, lo = max(text, worst), min(text, worst)
    ratio = (hi + 0.05) / (lo + 0.05)
    if colour_alt and ratio < T.LEGIBILITY_PASS:
        delta_e = float(np.linalg.norm(np.median(_lab(ink), axis=0) - np.median(_lab(ground), axis=0)))
        if delta_e >= T.LEGIBILITY_DELTA_E_PASS:
            ratio = max(ratio, T.LEGIBILITY_PASS)
    return ratio


def _verdict(value: float) -> str:
    return "pass" if value >= T.LEGIBILITY_PASS else "review" if value >= T.LEGIBILITY_REVIEW else "fail"


def legibility(work: np.ndarray, lines: list[dict], scale: float, text_colour) -> tuple[dict, dict]:
    """checks and values for legibility_56px/128px/256px, legibility_gray and legibility_blur."""
    names = [f"legibility_{s}px" for s in T.LEGIBILITY_SIZES] + ["legibility_gray", "legibility_blur"]
    if not lines:
        return {n: "skip" for n in names}, {}
    mask = ink_mask(work, lines, scale, text_colour)
    work_side = work.shape[0]
    biggest = max(line.get("cap_px") or 0 for line in lines)
    chosen = {
        56: [ln for ln in lines if (ln.get("cap_px") or 0) >= T.LEGIBILITY_56_DOMINANT * biggest],
        128: [ln for ln in lines if ln.get("role") != "feature"] or lines,
        256: lines,
    }
    checks, values = {}, {}
    resized = {}

    def at(size, image=work):
        key = (size, id(image))
        if key not in resized:
            resized[key] = (cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA),
                            cv2.resize(mask, (size, size), interpolation=cv2.INTER_AREA))
        return resized[key]

    def measure(size, subset, small, coverage, colour_alt=True):
        f = size / work_side * scale
        return min(line_contrast(small, coverage, [v * f for v in ln["box"]], colour_alt) for ln in subset)

    for size in T.LEGIBILITY_SIZES:
        small, coverage = at(size)
        values[f"legibility_{size}px"] = round(measure(size, chosen[size], small, coverage), 2)
    small, coverage = at(T.LEGIBILITY_GRAY_SIZE)
    grey = cv2.cvtColor(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    values["legibility_gray"] = round(measure(T.LEGIBILITY_GRAY_SIZE, lines, grey, coverage, False), 2)
    small, coverage = at(T.LEGIBILITY_BLUR_SIZE)
    blurred = cv2.GaussianBlur(small, (0, 0), T.LEGIBILITY_BLUR_SIGMA)
    values["legibility_blur"] = round(measure(T.LEGIBILITY_BLUR_SIZE, chosen[128], blurred, coverage), 2)
    checks = {name: _verdict(values[name]) for name in names}
    return checks, values
