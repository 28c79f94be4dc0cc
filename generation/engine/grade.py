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
    """Saturation scaled around each pixel's grey, into a new array (a strip at a time: OpenCV's transform
    runs three times faster on strips that stay in the CPU cache than on a whole large image)."""
    if abs(amount - 1.0) < 1e-3:
        return rgb
    matrix = _saturation_matrix(amount)
    if rgb.ndim != 3 or rgb.shape[0] <= GRADE_STRIP:
        return cv2.transform(rgb, matrix)
    out = np.empty_like(rgb)
    for r0 in range(0, rgb.shape[0], GRADE_STRIP):
        cv2.transform(rgb[r0:r0 + GRADE_STRIP], matrix, dst=out[r0:r0 + GRADE_STRIP])
    return out


def _saturation_matrix(amount: float) -> np.ndarray:
    """rgb * amount + grey * (1 - amount) with grey = Rec. 601 luma (as OpenCV's RGB2GRAY), as a 3x3 transform."""
    matrix = amount * np.eye(3) + (1.0 - amount) * np.array([[0.299, 0.587, 0.114]] * 3)
    return matrix.astype(np.float32)


VIGNETTE_CELLS = 256  # the vignette is drawn on this grid and interpolated to any size (it is that smooth)


@lru_cache(maxsize=16)
def _vignette_cells(strength: float) -> np.ndarray:
    n = VIGNETTE_CELLS
    coords = (np.arange(n, dtype=np.float32) + 0.5) / n - 0.5
    d2 = (coords[:, None] ** 2 + coords[None, :] ** 2) * 2.0  # 1.0 at the corners
    factor = 1.0 - strength * np.clip(d2 - 0.15, 0.0, None) ** 1.2 / (0.85 ** 1.2)
    cells = np.clip(factor * 255.0 + 0.5, 0, 255).astype(np.uint8)
    cells.flags.writeable = False
    return cells


def vignette_map(size: int, strength: float) -> np.ndarray:
    """Full-size uint8 multiplier (255 = untouched) darkening the corners, smooth and elliptical."""
    return cv2.resize(_vignette_cells(strength), (size, size), interpolation=cv2.INTER_LINEAR)


def vignette_window(size: int, strength: float, x0: float, y0: float, step_x: float, step_y: float,
                    shape: tuple[int, int]) -> np.ndarray:
    """The vignette of a `size` cover sampled on a grid of `shape` (h, w) pixels: pixel (i, j) reads the cover at
    (x0 + j * step_x, y0 + i * step_y). The same bilinear reading of the cell grid as vignette_map, computed for
    the window alone (a late cut-out needs its own part, not a 9 MB map of the whole cover)."""
    k = VIGNETTE_CELLS / size
    matrix = np.array([[step_x * k, 0.0, (x0 + 0.5) * k - 0.5],
                       [0.0, step_y * k, (y0 + 0.5) * k - 0.5]], np.float64)
    return cv2.warpAffine(_vignette_cells(strength), matrix, (shape[1], shape[0]),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)


@lru_cache(maxsize=2)
def vignette_rgb(size: int, strength: float) -> np.ndarray:
    """The vignette map on three channels, kept per (size, strength): the variants of a task share it."""
    factor = cv2.cvtColor(vignette_map(size, strength), cv2.COLOR_GRAY2RGB)
    factor.flags.writeable = False
    return factor


def apply_vignette(rgb: np.ndarray, strength: float, *, in_place: bool = False) -> np.ndarray:
    if strength <= 0:
        return rgb
    factor = vignette_rgb(rgb.shape[0], float(strength))
    if in_place:
        return cv2.multiply(rgb, factor, dst=rgb, scale=1.0 / 255.0)
    return cv2.multiply(rgb, factor, scale=1.0 / 255.0)


def apply_grain(rgb: np.ndarray, amplitude: float, *, in_place: bool = False) -> np.ndarray:
    """Luminance-only grain from a tiled plate, as two saturating 8-bit passes a band of the plate at a time:
    the plate's lift added, its drop subtracted (one of the two is zero at every pixel, so this is exactly the
    plate's signed offset added once; twice as fast as OpenCV's weighted add, with a 9 MB plate, not 27)."""
    if amplitude <= 0:
        return rgb
    out = rgb if in_place else rgb.copy()
    lift, drop = _grain_band(out.shape[1], out.shape[2] if out.ndim == 3 else 1, round(amplitude, 2))
    period = lift.shape[0]
    for r0 in range(0, out.shape[0], period):
        strip = out[r0:r0 + period]
        rows = strip.shape[0]
        cv2.add(strip, lift[:rows], dst=strip)
        cv2.subtract(strip, drop[:rows], dst=strip)
    return out


@lru_cache(maxsize=4)
def _grain_plate(amplitude: float) -> np.ndarray:
    """A fixed 512 px luminance-grain tile centred on 128 (the same grain on every cover, like film stock)."""
    rng = np.random.default_rng(20240611)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (512, 512)).astype(np.float32), (0, 0), 0.7)
    noise *= amplitude / max(float(noise.std()), 1e-6)
    return np.clip(noise + 128.0, 0, 255).astype(np.uint8)


@lru_cache(maxsize=2)
def _grain_band(width: int, channels: int, amplitude: float) -> tuple[np.ndarray, np.ndarray]:
    """One band of the plate (its 512 rows) tiled across `width`, split into what it adds above 128 and what
    it takes below, on `channels` channels, kept per (width, channels, amplitude); read-only."""
    plate = _grain_plate(amplitude)
    tiled = np.ascontiguousarray(np.tile(plate, (1, -(-width // plate.shape[1])))[:, :width])
    lift, drop = cv2.subtract(tiled, 128), cv2.subtract(np.full_like(tiled, 128), tiled)
    if channels > 1:
        lift, drop = cv2.merge([lift] * channels), cv2.merge([drop] * channels)
    lift.flags.writeable = drop.flags.writeable = False
    return lift, drop


GRADE_STRIP = 96  # rows per strip: the four steps run on a strip while it is still in the CPU cache


def grade_image(rgb: np.ndarray, grade: Grade, *, full_grain: bool, in_place: bool = False) -> np.ndarray:
    """The whole grade in order: curves, saturation, vignette, then grain (JPEG only, see COVER-CRAFT).

    Every step is per pixel, so a square 3-channel image is graded strip by strip into a new array (the same
    pixels as the steps one after another over the whole image, without three passes through memory).
    `in_place` grades into `rgb` itself (the caller's canvas), saving a full-size allocation.
    """
    size = rgb.shape[0]
    if rgb.ndim != 3 or rgb.shape[1] != size or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        out = apply_curves(rgb, grade)
        out = apply_saturation(out, grade.saturation)
        own = out is not rgb  # the later steps may then work in place on the new array
        out = apply_vignette(out, grade.vignette, in_place=own)
        if full_grain:
            out = apply_grain(out, grade.grain, in_place=own)
        return out
    lut = curves(grade)
    saturate = abs(grade.saturation - 1.0) >= 1e-3
    matrix = _saturation_matrix(grade.saturation)
    vignette = vignette_rgb(size, float(grade.vignette)) if grade.vignette > 0 else None
    out = rgb if in_place else np.empty_like(rgb)
    for r0 in range(0, size, GRADE_STRIP):
        r1 = min(size, r0 + GRADE_STRIP)
        strip = out[r0:r1]
        cv2.LUT(rgb[r0:r1], lut, dst=strip)
        if saturate:
            cv2.transform(strip, matrix, dst=strip)
        if vignette is not None:
            cv2.multiply(strip, vignette[r0:r1], dst=strip, scale=1.0 / 255.0)
    if full_grain:
        apply_grain(out, grade.grain, in_place=True)
    return out
