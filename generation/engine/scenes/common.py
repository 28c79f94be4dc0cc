"""Vectorised building blocks shared by the procedural scenes.

Every scene works on an n x n float32 RGB array in 0..1 (values may overshoot before the final clip);
coordinates are fractions of the side so a scene looks the same at any working resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

Colour = np.ndarray  # shape (3,), float32, 0..1


def grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Column vector y and row vector x, pixel centres in 0..1, ready to broadcast."""
    coords = (np.arange(n, dtype=np.float32) + 0.5) / n
    return coords[:, None], coords[None, :]


def mix(a: Colour, b: Colour, t: float) -> Colour:
    return (a * (1.0 - t) + b * t).astype(np.float32)


def lighten(colour: Colour, t: float) -> Colour:
    return mix(colour, np.ones(3, np.float32), t)


def darken(colour: Colour, t: float) -> Colour:
    return (colour * (1.0 - t)).astype(np.float32)


def vertical_gradient(n: int, stops: list[tuple[float, Colour]]) -> np.ndarray:
    """n x n x 3 image whose rows follow colour stops [(position 0..1, colour), ...]."""
    y = (np.arange(n, dtype=np.float32) + 0.5) / n
    positions = [p for p, _ in stops]
    column = np.stack([np.interp(y, positions, [c[i] for _, c in stops]) for i in range(3)], axis=-1)
    return np.ascontiguousarray(np.broadcast_to(column[:, None, :], (n, n, 3)), dtype=np.float32)


RAMP_LEVELS = 4096


def ramp(values: np.ndarray, stops: list[tuple[float, Colour]]) -> np.ndarray:
    """Map a 2-D field of 0..1 values through colour stops (a gradient map).

    Through a 4096-entry table (a step of 1/4096 moves a colour by far less than one output level),
    looked up in one pass instead of three interpolations over the whole field.
    """
    positions = [p for p, _ in stops]
    levels = np.linspace(0.0, 1.0, RAMP_LEVELS, dtype=np.float64)
    table = np.stack([np.interp(levels, positions, [c[i] for _, c in stops]) for i in range(3)],
                     axis=-1).astype(np.float32)
    index = np.clip(values * np.float32(RAMP_LEVELS - 1) + np.float32(0.5), 0, RAMP_LEVELS - 1).astype(np.int32)
    return table[index]


def value_noise(rng: np.random.Generator, n: int, cells: int) -> np.ndarray:
    """A smooth random field: a cells x cells grid of random values upscaled bicubically to n x n."""
    field = rng.random((cells, cells), dtype=np.float32)
    return cv2.resize(field, (n, n), interpolation=cv2.INTER_CUBIC)


def fractal_noise(rng: np.random.Generator, n: int, cells: int = 4, octaves: int = 5,
                  persistence: float = 0.5) -> np.ndarray:
    """Sum of octaves of value noise, normalised to 0..1 (clouds, smoke, fields).

    Summed at the size where the finest octave still spans 4+ pixels per cell, then upscaled once:
    the field is smooth, so the result is the same picture for a fraction of the work.
    """
    finest = cells * 2 ** (octaves - 1)
    work = int(min(n, max(64, finest * 4)))
    total = np.zeros((work, work), np.float32)
    weight, norm = 1.0, 0.0
    for octave in range(octaves):
        size = min(cells * 2 ** octave, work)
        total += weight * value_noise(rng, work, size)
        norm += weight
        weight *= persistence
    if work != n:
        total = cv2.resize(total, (n, n), interpolation=cv2.INTER_CUBIC)
    total /= norm
    low, high = np.percentile(total[:: max(1, n // 128), :: max(1, n // 128)], (1, 99))
    return np.clip((total - np.float32(low)) / np.float32(max(high - low, 1e-6)), 0.0, 1.0)


def noise_1d(rng: np.random.Generator, n: int, cells: int = 6, octaves: int = 4) -> np.ndarray:
    """A fractal profile along x (ridges, mountains), 0..1, length n."""
    x = np.linspace(0, 1, n, dtype=np.float32)
    total = np.zeros(n, np.float32)
    weight, norm = 1.0, 0.0
    for octave in range(octaves):
        k = cells * 2 ** octave
        knots = rng.random(k + 1, dtype=np.float32)
        total += weight * np.interp(x, np.linspace(0, 1, k + 1), knots).astype(np.float32)
        norm += weight
        weight *= 0.5
    total /= norm
    return (total - total.min()) / max(float(total.max() - total.min()), 1e-6)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur, sigma in pixels; large sigmas run on a reduced copy (the result is smooth anyway)."""
    if sigma <= 0:
        return image
    h, w = image.shape[:2]
    factor = int(max(1, min(8, sigma // 3)))  # the reduced blur keeps a sigma of 3+ px: smooth enough
    if factor == 1:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    small = cv2.resize(image, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def gaussian_spot(n: int, cx: float, cy: float, radius: float, aspect: float = 1.0) -> np.ndarray:
    """exp(-(d/r)^2) around (cx, cy); aspect > 1 stretches it horizontally."""
    y, x = grid(n)
    r2 = radius * radius
    # Separable: exp(-(dx^2 + dy^2) / r^2) = exp(-dx^2 / r^2) * exp(-dy^2 / r^2), two 1-D exps and one product.
    return np.exp(-(y - cy) ** 2 / r2).astype(np.float32) * np.exp(-((x - cx) / aspect) ** 2 / r2).astype(np.float32)


def disc(n: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """Anti-aliased filled circle, 0..1."""
    y, x = grid(n)
    d = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    return np.clip((radius - d) * n + 0.5, 0.0, 1.0).astype(np.float32)


def _fast(image: np.ndarray, mask: np.ndarray) -> bool:
    """Whether OpenCV can work in place on `image` (NumPy broadcasting over 3 channels is slow)."""
    return (image.dtype == np.float32 and image.ndim == 3 and image.shape[2] == 3 and image.flags.c_contiguous
            and mask.shape == image.shape[:2])


def _fast_view(image: np.ndarray, mask: np.ndarray) -> bool:
    """As _fast, for a box cut out of a contiguous image (rows are strided; OpenCV handles that)."""
    return (image.dtype == np.float32 and image.ndim == 3 and image.shape[2] == 3 and image.strides[2] == 4
            and image.strides[1] == 12 and mask.shape == image.shape[:2])


def _scalar(colour, scale: float = 1.0) -> tuple[float, float, float, float]:
    return tuple(float(v) * scale for v in np.asarray(colour).reshape(3)) + (0.0,)


def tinted(weight: np.ndarray, colour: Colour) -> np.ndarray:
    """weight[..., None] * colour as an n x n x 3 float32 image (OpenCV: NumPy is slow broadcasting over 3)."""
    out = cv2.cvtColor(np.ascontiguousarray(weight, dtype=np.float32), cv2.COLOR_GRAY2RGB)
    return cv2.multiply(out, _scalar(colour), dst=out)


def support(mask: np.ndarray, floor: float = 1 / 2048) -> tuple[slice, slice] | None:
    """The rows and columns where a 0..1 mask is above `floor` (None: nowhere). Light spots, beams and
    bokeh cover a fraction of the frame: blending only their box saves most of the work."""
    rows = np.flatnonzero(mask.max(axis=1) > floor)
    if rows.size == 0:
        return None
    band = mask[rows[0]:rows[-1] + 1]
    cols = np.flatnonzero(band.max(axis=0) > floor)
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def add_light(image: np.ndarray, mask: np.ndarray, colour: Colour, strength: float = 1.0) -> None:
    """Additive light (in place): glows, beams, lit windows; only over the box where the light is."""
    if _fast(image, mask):
        box = support(mask)
        if box is None:
            return
        image, mask = image[box], mask[box]
    if not _fast_view(image, mask):
        image += (mask[..., None] * strength) * colour
        return
    light = cv2.cvtColor(np.asarray(mask, np.float32), cv2.COLOR_GRAY2RGB)
    cv2.multiply(light, _scalar(colour, strength), dst=light)
    cv2.add(image, light, dst=image)


def paint(image: np.ndarray, mask: np.ndarray, colour: Colour | np.ndarray, opacity: float = 1.0) -> None:
    """Normal blend (in place) of a flat colour or an image through a 0..1 mask, over the mask's box only."""
    colour = np.asarray(colour)
    if _fast(image, mask) and (colour.size == 3 or colour.shape == image.shape):
        box = support(mask)
        if box is None:
            return
        image, mask = image[box], mask[box]
        if colour.size != 3:
            colour = colour[box]
    if not _fast_view(image, mask) or (colour.size != 3 and colour.shape != image.shape):
        alpha = mask[..., None] * opacity
        image *= 1.0 - alpha
        image += alpha * colour
        return
    alpha = np.asarray(mask, np.float32) * np.float32(opacity)
    if colour.size == 3:  # image * (1 - a) + colour * a
        top = cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB)
        cv2.multiply(top, _scalar(colour), dst=top)
        cv2.multiply(image, cv2.cvtColor(1.0 - alpha, cv2.COLOR_GRAY2RGB), dst=image)
        cv2.add(image, top, dst=image)
    else:  # image + a * (colour - image)
        step = cv2.subtract(np.asarray(colour, np.float32), image)
        cv2.multiply(step, cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB), dst=step)
        cv2.add(image, step, dst=image)


def bokeh(rng: np.random.Generator, n: int, count: int, colours: list[Colour], radius: tuple[float, float],
          region: tuple[float, float, float, float] = (0, 0, 1, 1),
          strength: tuple[float, float] = (0.1, 0.35),
          softness: float = 0.12) -> np.ndarray:
    """Out-of-focus light discs (drawn, then slightly blurred) as an additive RGB layer."""
    layer = np.zeros((n, n, 3), np.float32)
    x0, y0, x1, y1 = region
    for _ in range(count):
        r = rng.uniform(*radius)
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        colour = colours[int(rng.integers(len(colours)))]
        amount = rng.uniform(*strength)
        centre = (int(cx * n * 16), int(cy * n * 16))
        cv2.circle(layer, centre, int(r * n * 16), [float(c * amount) for c in colour], -1,
                   lineType=cv2.LINE_AA, shift=4)
    return blur(layer, max(1.0, radius[0] * n * softness))


def stars(rng: np.random.Generator, n: int, count: int,
          region: tuple[float, float, float, float]) -> np.ndarray:
    """Faint point lights (single channel), for night skies."""
    layer = np.zeros((n, n), np.float32)
    xs = rng.uniform(region[0], region[2], count) * n
    ys = rng.uniform(region[1], region[3], count) * n
    layer[np.clip(ys.astype(int), 0, n - 1), np.clip(xs.astype(int), 0, n - 1)] = rng.uniform(0.2, 0.9, count)
    return cv2.GaussianBlur(layer, (0, 0), 0.6) * 3.0


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def silhouette(n: int, top: np.ndarray) -> np.ndarray:
    """Mask of everything below a per-column top edge (fractions), anti-aliased vertically."""
    y, _ = grid(n)
    return np.clip((y - top[None, :]) * n + 0.5, 0.0, 1.0).astype(np.float32)
