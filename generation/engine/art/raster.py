"""Raster primitives of the art-directed covers: one reduction, one resize, one blur, one blend, one noise.

Everything works on float32 images in 0..1 (H x W or H x W x 3) unless it says otherwise; the callers turn
the finished picture into 8 bits once.
"""

from __future__ import annotations

import cv2
import numpy as np

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


def colour_luminance(colour) -> float:
    """The luma of one colour (sRGB values 0..1, Rec. 709 weights)."""
    return float(np.asarray(colour, np.float32) @ LUMA)


def as_float(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) * (1.0 / 255.0)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return cv2.convertScaleAbs(np.clip(image, 0.0, 1.0), alpha=255.0)


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """To (width, height): area averaging when shrinking (no aliasing), cubic when enlarging."""
    h, w = image.shape[:2]
    if (w, h) == tuple(size):
        return image
    shrinking = size[0] < w and size[1] < h
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur; wide ones run at a reduced size and come back smooth (a sigma of 40 px costs like 5)."""
    if sigma <= 0.3:
        return image
    h, w = image.shape[:2]
    k = int(max(1, sigma // 6))
    if k == 1:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    small = cv2.resize(image, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / k)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def mix(base: np.ndarray, top: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """base * (1 - alpha) + top * alpha; a one-channel alpha applies to every channel. `top` may be one colour
    (or a broadcast of one): then no plane of it is ever made. A one-channel alpha over three channels is
    blended a plane at a time, so the temporaries stay one plane big."""
    base = np.asarray(base, np.float32)
    top = np.asarray(top, np.float32)
    colour = _colour_of(top, base.shape)
    if not isinstance(alpha, np.ndarray) or alpha.ndim == 0:
        a = np.float32(alpha)
        if colour is not None:
            out = base * (np.float32(1.0) - a)
            out += colour * a
            return out
        return cv2.addWeighted(np.ascontiguousarray(base), 1.0 - float(a),
                               np.ascontiguousarray(np.broadcast_to(top, base.shape)), float(a), 0.0)
    alpha = np.asarray(alpha, np.float32)
    if base.ndim == 3 and alpha.ndim == 2:
        out = np.empty(base.shape, np.float32)
        plane = np.empty(alpha.shape, np.float32)
        for channel in range(base.shape[2]):
            b = base[..., channel]
            t = colour[channel] if colour is not None else top[..., channel]
            np.subtract(t, b, out=plane)
            plane *= alpha
            plane += b
            out[..., channel] = plane
        return out
    base = np.ascontiguousarray(base)
    top = np.ascontiguousarray(np.broadcast_to(top, base.shape))
    return cv2.add(base, cv2.multiply(cv2.subtract(top, base), np.ascontiguousarray(alpha)))


def _colour_of(top: np.ndarray, shape: tuple) -> np.ndarray | None:
    """The one colour `top` is, when it is one (a colour, or a broadcast of one with zero strides)."""
    if len(shape) != 3:
        return None
    if top.ndim == 1 and top.shape[0] == shape[2]:
        return top
    if top.ndim == 3 and top.strides[0] == 0 and top.strides[1] == 0:
        return np.ascontiguousarray(top[0, 0])
    return None


def screen(base: np.ndarray, top: np.ndarray) -> np.ndarray:
    """1 - (1 - base)(1 - top), as base + top - base * top (OpenCV: no NumPy temporaries)."""
    base = np.ascontiguousarray(base, np.float32)
    top = np.ascontiguousarray(np.broadcast_to(top, base.shape), np.float32)
    return cv2.subtract(cv2.add(base, top), cv2.multiply(base, top))


def smooth_field(fn, size: tuple[int, int], step: int = 8) -> np.ndarray:
    """A smooth one-channel field computed at 1/step of the size and enlarged (vignettes, leaks, glows)."""
    h, w = size
    small = fn((max(2, h // step), max(2, w // step)))
    return cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def luminance(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim != 3:
        return rgb
    out = cv2.transform(np.ascontiguousarray(rgb, np.float32), LUMA.reshape(1, 3))
    return out[..., 0] if out.ndim == 3 else out


def gradient_map(value: np.ndarray, stops: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """Map a 0..1 field through colour stops [(position, rgb), ...] (duotone, tritone, any palette ramp)."""
    positions = np.array([p for p, _ in stops], np.float32)
    colours = np.array([c for _, c in stops], np.float32)
    table = np.empty((256, 3), np.float32)
    x = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    for ch in range(3):
        table[:, ch] = np.interp(x, positions, colours[:, ch])
    index = cv2.convertScaleAbs(np.clip(value, 0.0, 1.0), alpha=255.0)
    return table[index]


def fbm(rng: np.random.Generator, size: tuple[int, int], *, octaves: int = 6, base: int = 3,
        persistence: float = 0.55) -> np.ndarray:
    """Fractal noise 0..1: octaves of smooth random fields, each twice as fine and `persistence` as strong."""
    h, w = size
    total = np.zeros((h, w), np.float32)
    amplitude, norm, cells = 1.0, 0.0, base
    for _ in range(octaves):
        field = rng.random((cells + 1, cells + 1), dtype=np.float32)
        total += cv2.resize(field, (w, h), interpolation=cv2.INTER_CUBIC) * amplitude
        norm += amplitude
        amplitude *= persistence
        cells *= 2
        if cells > max(h, w):
            break
    total /= norm
    lo, hi = np.percentile(total[:: 8, :: 8], (1, 99))
    return np.clip((total - lo) / max(hi - lo, 1e-4), 0.0, 1.0)


def radial(size: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    """1 at the centre (fractions of the width/height) falling smoothly to 0 at `radius` (fraction of the width)."""
    h, w = size
    ys = (np.arange(h, dtype=np.float32)[:, None] + 0.5) / w
    xs = (np.arange(w, dtype=np.float32)[None, :] + 0.5) / w
    d = np.sqrt((xs - centre[0]) ** 2 + (ys - centre[1] * h / w) ** 2) / max(radius, 1e-4)
    t = np.clip(1.0 - d, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def vertical(size: tuple[int, int], top: float, bottom: float) -> np.ndarray:
    """A smooth ramp down the rows: `top` at the first row to `bottom` at the last."""
    h, w = size
    t = np.linspace(top, bottom, h, dtype=np.float32)[:, None]
    return np.broadcast_to(t, (h, w)).copy()


def curve(points: list[tuple[float, float]]) -> np.ndarray:
    """A 256-entry 8-bit table through (input, output) points in 0..1, smoothly interpolated."""
    xs, ys = zip(*points, strict=True)
    x = np.linspace(0.0, 1.0, 256)
    return np.clip(np.interp(x, xs, ys) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def grain_plate(rng_seed: int, size: tuple[int, int], amplitude: float, *, softness: float = 0.7) -> np.ndarray:
    """Film grain in 8-bit levels, one channel, zero mean (fine, a little clumped: silver, not digital noise)."""
    rng = np.random.default_rng(rng_seed)
    noise = rng.standard_normal(size, dtype=np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), softness)
    return noise * (amplitude / max(float(noise.std()), 1e-6))
