"""Stage 4, grade: the genre's colour identity as per-channel curves plus a few cheap full-size ops."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from .presets import Grade
from .spec import parse_hex

_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


@lru_cache(maxsize=32)
def curves(grade: Grade) -> np.ndarray:
    """A (256, 1, 3) uint8 LUT: levels (crush), S-curve contrast, warmth, split toning, faded blacks."""
    x = np.linspace(0.0, 1.0, 256, dtype=np.float64)
    v = np.clip((x - grade.black) / max(grade.white - grade.black, 1e-3), 0.0, 1.0)
    v = v + grade.contrast * (v * v * (3.0 - 2.0 * v) - v)
    channels = []
    shadow = np.array(parse_hex(grade.shadow_tint), np.float64) / 255.0
    light = np.array(parse_hex(grade.highlight_tint), np.float64) / 255.0
    # Tint by the colour's hue only (minus its own luminance) so split toning doesn't change brightness.
    shadow -= float(shadow @ _LUMA)
    light -= float(light @ _LUMA)
    for index, gamma in enumerate((1.0 - grade.warmth, 1.0, 1.0 + grade.warmth)):
        c = v ** max(gamma, 0.1)
        c = c + grade.split * (shadow[index] * (1.0 - c) ** 2 + light[index] * c ** 2)
        c = grade.fade + (1.0 - grade.fade) * np.clip(c, 0.0, 1.0)
        channels.append(c)
    lut = np.stack(channels, axis=-1)
    return np.clip(lut * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)


def apply_curves(rgb: np.ndarray, grade: Grade) -> np.ndarray:
    return cv2.LUT(rgb, curves(grade))


def apply_saturation(rgb: np.ndarray, amount: float) -> np.ndarray:
    if abs(amount - 1.0) < 1e-3:
        return rgb
    grey = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(rgb, amount, grey, 1.0 - amount, 0.0)


def vignette_map(size: int, strength: float) -> np.ndarray:
    """Full-size uint8 multiplier (255 = untouched) darkening the corners, smooth and elliptical."""
    n = 256
    coords = (np.arange(n, dtype=np.float32) + 0.5) / n - 0.5
    d2 = (coords[:, None] ** 2 + coords[None, :] ** 2) * 2.0  # 1.0 at the corners
    factor = 1.0 - strength * np.clip(d2 - 0.15, 0.0, None) ** 1.2 / (0.85 ** 1.2)
    small = np.clip(factor * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)


def apply_vignette(rgb: np.ndarray, strength: float) -> np.ndarray:
    if strength <= 0:
        return rgb
    factor = cv2.cvtColor(vignette_map(rgb.shape[0], strength), cv2.COLOR_GRAY2RGB)
    return cv2.multiply(rgb, factor, scale=1.0 / 255.0)


@lru_cache(maxsize=4)
def _grain_plate(amplitude: float) -> np.ndarray:
    """A fixed 512 px luminance-grain tile centred on 128 (the same grain on every cover, like film stock)."""
    rng = np.random.default_rng(20240611)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (512, 512)).astype(np.float32), (0, 0), 0.7)
    noise *= amplitude / max(float(noise.std()), 1e-6)
    return np.clip(noise + 128.0, 0, 255).astype(np.uint8)


def apply_grain(rgb: np.ndarray, amplitude: float) -> np.ndarray:
    """Luminance-only grain from a tiled plate; saturating add keeps it cheap."""
    if amplitude <= 0:
        return rgb
    size = rgb.shape[0]
    plate = _grain_plate(round(amplitude, 2))
    reps = -(-size // plate.shape[0])
    tiled = np.tile(plate, (reps, reps))[:size, :size]
    return cv2.addWeighted(rgb, 1.0, cv2.cvtColor(tiled, cv2.COLOR_GRAY2RGB), 1.0, -128.0)


def grade_image(rgb: np.ndarray, grade: Grade, *, full_grain: bool) -> np.ndarray:
    """The whole grade in order: curves, saturation, vignette, then grain (JPEG only, see COVER-CRAFT)."""
    out = apply_curves(rgb, grade)
    out = apply_saturation(out, grade.saturation)
    out = apply_vignette(out, grade.vignette)
    if full_grain:
        out = apply_grain(out, grade.grain)
    return out
