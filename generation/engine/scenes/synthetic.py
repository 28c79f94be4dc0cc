"""Abstract synthetic (EDM): a perspective neon grid under a striped horizon sun, neon ridges, glow."""

from __future__ import annotations

import numpy as np

from .common import (
    add_light,
    blur,
    darken,
    disc,
    gaussian_spot,
    grid,
    lighten,
    mix,
    noise_1d,
    paint,
    stars,
    vertical_gradient,
)


def neon_grid(rng: np.random.Generator, n: int, pal: list[np.ndarray], opts: dict) -> np.ndarray:
    base, mid, accent, highlight, _ink = pal
    horizon = float(rng.uniform(0.52, 0.64))
    image = vertical_gradient(n, [
        (0.0, darken(base, 0.2)),
        (horizon * 0.5, mix(base, mid, 0.5)),
        (horizon, mix(mid, accent, 0.45)),
        (horizon + 0.001, darken(base, 0.1)),
        (1.0, mix(base, mid, 0.25)),
    ])
    y, x = grid(n)
    add_light(image, stars(rng, n, int(n * 0.1), (0, 0, 1, horizon * 0.7)), lighten(highlight, 0.5), 0.6)

    # The sun: a disc with a warm-to-hot vertical gradient, cut by stripes that thicken downwards.
    radius = float(rng.uniform(0.13, 0.21))
    sun_x = float(rng.choice([rng.uniform(0.28, 0.4), 0.5, rng.uniform(0.6, 0.72)]))
    sun_y = horizon - radius * float(rng.uniform(0.15, 0.55))
    sun = disc(n, sun_x, sun_y, radius) * (y < horizon)
    t = np.clip((y - (sun_y - radius)) / (2 * radius), 0, 1)
    stripe_zone = np.clip((y - sun_y + radius * 0.1) / radius, 0, 1)
    period = radius * 0.2
    phase = ((y - sun_y) / period) % 1.0
    cut = (phase < 0.12 + stripe_zone * 0.45) & (stripe_zone > 0)
    sun = (sun * ~cut).astype(np.float32)
    t = t[..., None]
    sun_colour = lighten(accent, 0.55)[None, None, :] * (1 - t) + accent[None, None, :] * t
    add_light(image, gaussian_spot(n, sun_x, sun_y, radius * 2.2), accent, 0.35)
    paint(image, sun, sun_colour)

    # Neon ridges along the horizon: a fractal profile filled dark with a bright rim.
    if rng.random() < 0.75:
        profile = noise_1d(rng, n, cells=int(rng.integers(4, 9)), octaves=4)
        tops = (horizon - 0.02 - profile * float(rng.uniform(0.05, 0.12))).astype(np.float32)
        below = np.clip((y - tops[None, :]) * n + 0.5, 0, 1) * (y < horizon + 0.002)
        paint(image, below.astype(np.float32), mix(base, mid, 0.3))
        rim = np.exp(-(((y - tops[None, :]) * n / 1.2) ** 2)).astype(np.float32)
        add_light(image, rim, highlight, 0.9)

    floor = _perspective_grid(rng, n, y, x, horizon)
    lines = floor[..., None] * highlight
    image += lines + blur(lines, n * 0.004) * 1.6 + blur(lines, n * 0.015) * 0.8
    horizon_line = np.exp(-(((y - horizon) * n / 1.5) ** 2)).astype(np.float32) * np.ones_like(x)
    add_light(image, horizon_line, lighten(accent, 0.3), 0.9)
    add_light(image, gaussian_spot(n, 0.5, horizon, 0.5, aspect=2.5) * (y > horizon), mid, 0.35)
    return image


def _perspective_grid(rng, n, y, x, horizon) -> np.ndarray:
    """Anti-aliased lines of a floor grid seen in perspective, 0..1 (fades where lines crowd)."""
    depth_y = np.maximum(y - horizon, 1e-4)
    z = 0.06 / depth_y  # distance into the scene for each row
    columns = float(rng.uniform(22, 34))
    world_x = (x - 0.5) * z * columns
    px_per_unit_x = 1.0 / np.maximum(z * columns / n, 1e-6)
    dist_x = np.abs(((world_x + 0.5) % 1.0) - 0.5) * px_per_unit_x
    vertical = np.clip(1.2 - dist_x, 0, 1) * np.clip((px_per_unit_x - 2.5) / 6.0, 0, 1)

    rows = float(rng.uniform(1.5, 2.5))
    offset = float(rng.random())
    world_z = z * rows + offset
    px_per_unit_z = 1.0 / np.maximum(0.06 * rows / (depth_y ** 2) / n, 1e-6)
    dist_z = np.abs(((world_z + 0.5) % 1.0) - 0.5) * px_per_unit_z
    horizontal = np.clip(1.2 - dist_z, 0, 1) * np.clip((px_per_unit_z - 2.5) / 6.0, 0, 1)

    fade = np.clip((y - horizon) / 0.35, 0, 1) ** 0.7
    lines = np.maximum(vertical, horizontal) * (y > horizon) * (0.35 + 0.65 * fade)
    return lines.astype(np.float32)
