"""Soft scenes: warm radial glow (R&B, pop), flowing colour fields (ambient), fine paper (classical)."""

from __future__ import annotations

import cv2
import numpy as np

from .common import (
    add_light,
    blur,
    bokeh,
    darken,
    disc,
    fractal_noise,
    gaussian_spot,
    grid,
    lighten,
    mix,
    paint,
    ramp,
    smoothstep,
    vertical_gradient,
)


def warm_glow(rng: np.random.Generator, n: int, pal: list[np.ndarray], opts: dict) -> np.ndarray:
    """Layered radial gradients with light leaks from the edges and shallow-focus bokeh."""
    base, mid, accent, highlight, _ink = pal
    vivid = bool(opts.get("vivid"))
    image = vertical_gradient(n, [(0.0, mix(base, mid, 0.25)), (0.6, mix(base, mid, 0.55)), (1.0, base)])
    colours = [mid, accent, highlight, mix(mid, accent, 0.5)]
    for _ in range(int(rng.integers(4, 7))):
        colour = colours[int(rng.integers(len(colours)))]
        spot = gaussian_spot(n, float(rng.uniform(-0.1, 1.1)), float(rng.uniform(-0.1, 1.1)),
                             float(rng.uniform(0.22, 0.5)), aspect=float(rng.uniform(0.7, 1.5)))
        paint(image, spot, colour, float(rng.uniform(0.45, 0.8)))
    # Light leaks: large blurred warm blobs entering from one or two edges.
    for _ in range(int(rng.integers(1, 3))):
        edge = int(rng.integers(4))
        along = float(rng.uniform(0.1, 0.9))
        cx, cy = [(along, -0.12), (1.12, along), (along, 1.12), (-0.12, along)][edge]
        add_light(image, gaussian_spot(n, cx, cy, float(rng.uniform(0.25, 0.4))), lighten(highlight, 0.2),
                  float(rng.uniform(0.35, 0.6)))
    if vivid:
        _pop_shapes(rng, n, image, [accent, highlight, mid])
    image += bokeh(rng, n, int(rng.integers(10, 22)), [highlight, lighten(accent, 0.4)],
                   radius=(0.012, 0.045), strength=(0.05, 0.18), softness=0.15)
    return image


def _pop_shapes(rng, n, image, colours) -> None:
    """A few crisp flat circles and a ring: bold and graphic without competing with the subject."""
    for i in range(int(rng.integers(2, 4))):
        colour = colours[i % len(colours)]
        r = float(rng.uniform(0.12, 0.3))
        cx, cy = float(rng.uniform(-0.05, 1.05)), float(rng.uniform(-0.05, 1.05))
        paint(image, disc(n, cx, cy, r), colour, float(rng.uniform(0.55, 0.85)))
    r = float(rng.uniform(0.18, 0.32))
    cx, cy = float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.15, 0.5))
    ring = disc(n, cx, cy, r) - disc(n, cx, cy, r - 0.012)
    paint(image, ring, lighten(colours[1], 0.5), 0.9)


def soft_field(rng: np.random.Generator, n: int, pal: list[np.ndarray], opts: dict) -> np.ndarray:
    """Domain-warped low-frequency noise mapped through the palette: slow, flowing colour, like mist."""
    base, mid, accent, highlight, _ink = pal
    field = fractal_noise(rng, n, cells=2, octaves=3, persistence=0.45)
    warp_x = (fractal_noise(rng, n, cells=2, octaves=2) - 0.5) * n * 0.35
    warp_y = (fractal_noise(rng, n, cells=2, octaves=2) - 0.5) * n * 0.35
    y, x = np.indices((n, n), dtype=np.float32)
    field = cv2.remap(field, x + warp_x, y + warp_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    stops = [(0.0, darken(base, 0.2)), (0.4, base), (0.7, mid), (0.9, accent),
             (1.0, mix(accent, highlight, 0.5))]
    image = ramp(smoothstep(0.05, 0.95, field), stops)
    gy, gx = grid(n)
    # Faint aurora-like bands: a brightened sine of the warped height.
    bands = np.sin(gy * 9.0 + warp_y / n * 12.0 + float(rng.uniform(0, 6.3)))
    add_light(image, (np.clip(bands, 0, 1) ** 6 * 0.35).astype(np.float32), lighten(accent, 0.3))
    add_light(image, gaussian_spot(n, float(rng.uniform(0.25, 0.75)), float(rng.uniform(0.2, 0.5)), 0.35),
              highlight, 0.15)
    return blur(image, n * 0.004)


def paper(rng: np.random.Generator, n: int, pal: list[np.ndarray], opts: dict) -> np.ndarray:
    """Warm paper with fine fibre, a soft tonal wash and one thin gold geometric line."""
    base, mid, accent, _highlight, _ink = pal
    wash = fractal_noise(rng, n, cells=2, octaves=3)
    image = ramp(wash, [(0.0, mix(base, mid, 0.45)), (1.0, lighten(base, 0.25))])
    fibre = fractal_noise(rng, n, cells=64, octaves=3, persistence=0.6) - 0.5
    image += (fibre * 0.035)[..., None]
    y, x = grid(n)
    shape = int(rng.integers(3))
    cx, cy = float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.25, 0.45))
    if shape == 0:  # a large thin circle
        r = float(rng.uniform(0.2, 0.32))
        line = np.abs(np.sqrt((x - cx) ** 2 + (y - cy) ** 2) - r) * n
    elif shape == 1:  # an arch: a half circle on two verticals
        r = float(rng.uniform(0.16, 0.26))
        d = np.where(y < cy, np.abs(np.sqrt((x - cx) ** 2 + (y - cy) ** 2) - r),
                     np.minimum(np.abs(x - cx + r), np.abs(x - cx - r)) + np.maximum(y - (cy + 0.35), 0) * 9)
        line = d * n
    else:  # a horizon line with a low disc
        line = np.minimum(np.abs(y - cy - 0.15) * n + np.maximum(np.abs(x - 0.5) - 0.36, 0) * n * 9,
                          np.abs(np.sqrt((x - cx) ** 2 + (y - cy - 0.15) ** 2) - 0.12) * n
                          + (y > cy + 0.15) * n)
    stroke = np.clip(1.6 - line / max(1.0, n / 900), 0, 1).astype(np.float32)
    paint(image, stroke, accent, 0.85)
    return image
