"""Stage scenes (rock, metal, jazz): dark smoke lit by beams, a spotlight pool, or rising embers."""

from __future__ import annotations

import cv2
import numpy as np

from .common import (
    add_light,
    blur,
    darken,
    fractal_noise,
    gaussian_spot,
    grid,
    lighten,
    mix,
    vertical_gradient,
)


def stage(rng: np.random.Generator, n: int, pal: list[np.ndarray], opts: dict) -> np.ndarray:
    base, mid, accent, highlight, _ink = pal
    image = vertical_gradient(n, [(0.0, mix(base, mid, 0.5)), (0.55, mix(base, mid, 0.25)), (1.0, base)])
    y, x = grid(n)
    smoke = fractal_noise(rng, n, cells=3, octaves=6, persistence=0.55)
    if opts.get("embers"):  # ridged noise: thin bright veins read as harsher, colder smoke
        smoke = (1.0 - np.abs(smoke * 2.0 - 1.0)) ** 2.5
    amount = float(opts.get("smoke", 0.5))
    add_light(image, (smoke * amount * 0.45).astype(np.float32), lighten(mid, 0.15))

    beams = int(opts.get("beams", 0))
    colours = [accent, highlight, mix(accent, highlight, 0.5)]
    # The cones are smooth (angular widths of several degrees): shaped at half size, upscaled once each.
    half = max(8, n // 2)
    yh, xh = grid(half)
    haze = (0.35 + 0.9 * smoke).astype(np.float32) if beams else None  # beams show where the smoke is
    for i in range(beams):
        source_x = float(rng.uniform(-0.1, 1.1)) if beams > 1 else float(rng.uniform(0.3, 0.7))
        source_y = float(rng.uniform(-0.15, -0.02))
        aim_x = float(rng.uniform(0.2, 0.8))
        angle = np.arctan2(aim_x - source_x, 1.0 - source_y)
        width = float(rng.uniform(0.05, 0.11)) if beams > 1 else 0.09
        pixel_angle = np.arctan2(xh - source_x, yh - source_y)
        distance = np.sqrt((xh - source_x) ** 2 + (yh - source_y) ** 2)
        cone = (np.exp(-(((pixel_angle - angle) / width) ** 2)) * np.exp(-distance * 1.1)).astype(np.float32)
        cone = cv2.resize(cone, (n, n), interpolation=cv2.INTER_LINEAR)
        lit = cone * haze
        add_light(image, lit, colours[i % len(colours)], float(rng.uniform(0.7, 1.2)))
        source = gaussian_spot(n, source_x, max(source_y, 0.0), 0.05)
        add_light(image, source, lighten(colours[i % len(colours)], 0.6), 0.8)
        if beams == 1:  # a spotlight: the pool of light it makes on the floor
            pool_x = source_x + (aim_x - source_x) * 0.95
            add_light(image, gaussian_spot(n, pool_x, 0.93, 0.18, aspect=2.6), colours[0], 0.45)

    if opts.get("embers"):
        image += _embers(rng, n, accent, highlight)
        add_light(image, gaussian_spot(n, float(rng.uniform(0.3, 0.7)), 1.15, 0.55, aspect=1.8), accent, 0.7)
    else:
        add_light(image, gaussian_spot(n, 0.5, 1.1, 0.45, aspect=2.5), darken(accent, 0.3), 0.35)
    return image


def _embers(rng, n, accent, highlight) -> np.ndarray:
    """Sparks: small bright points, denser low in the frame, each with a warm glow."""
    count = int(n * 0.12)
    layer = np.zeros((n, n), np.float32)
    xs = rng.uniform(0, 1, count)
    ys = 1.0 - rng.power(1.8, count) * 0.9  # more embers near the bottom
    ix = np.clip((xs * n).astype(int), 0, n - 1)
    iy = np.clip((ys * n).astype(int), 0, n - 1)
    layer[iy, ix] = rng.uniform(0.4, 1.6, count)
    sparks = blur(layer, 0.8) * 4.0
    glow = blur(layer, n * 0.008) * 40.0
    hot = lighten(mix(accent, highlight, 0.2), 0.4)
    return (sparks[..., None] * hot + glow[..., None] * accent).astype(np.float32)
