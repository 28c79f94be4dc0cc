"""Abstract synthetic (EDM): a perspective neon grid under a striped horizon sun, neon ridges, glow."""

from __future__ import annotations

import numpy as np

from .common import (
    add_light,
    blur,
    darken,
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
    add_light(image, gaussian_spot(n, sun_x, sun_y, radius * 2.2), accent, 0.35)
    # The disc is drawn in its own box only (the rest of the frame has none of it).
    r0, r1 = max(0, int((sun_y - radius) * n) - 2), min(n, int(min(sun_y + radius, horizon) * n) + 2)
    c0, c1 = max(0, int((sun_x - radius) * n) - 2), min(n, int((sun_x + radius) * n) + 2)
    if r1 > r0 and c1 > c0:
        sy, sx = y[r0:r1], x[:, c0:c1]
        d = np.sqrt((sx - sun_x) ** 2 + (sy - sun_y) ** 2)
        sun = np.clip((radius - d) * n + 0.5, 0.0, 1.0) * (sy < horizon)
        t = np.clip((sy - (sun_y - radius)) / (2 * radius), 0, 1)
        stripe_zone = np.clip((sy - sun_y + radius * 0.1) / radius, 0, 1)
        period = radius * 0.2
        phase = ((sy - sun_y) / period) % 1.0
        cut = (phase < 0.12 + stripe_zone * 0.45) & (stripe_zone > 0)
        sun = (sun * ~cut).astype(np.float32)
        t = np.broadcast_to(t, sun.shape)[..., None]
        sun_colour = (lighten(accent, 0.55)[None, None, :] * (1 - t) + accent[None, None, :] * t).astype(np.float32)
        paint(image[r0:r1, c0:c1], sun, sun_colour)

    # Neon ridges along the horizon: a fractal profile filled dark with a bright rim.
    if rng.random() < 0.75:
        profile = noise_1d(rng, n, cells=int(rng.integers(4, 9)), octaves=4)
        tops = (horizon - 0.02 - profile * float(rng.uniform(0.05, 0.12))).astype(np.float32)
        # Only the band of rows the ridges can touch (their rims fade within a few pixels).
        b0, b1 = max(0, int(float(tops.min()) * n) - 8), min(n, int((horizon + 0.002) * n) + 8)
        band = np.ascontiguousarray(image[b0:b1])
        by = y[b0:b1]
        below = np.clip((by - tops[None, :]) * n + 0.5, 0, 1) * (by < horizon + 0.002)
        paint(band, below.astype(np.float32), mix(base, mid, 0.3))
        rim = np.exp(-(((by - tops[None, :]) * n / 1.2) ** 2)).astype(np.float32)
        add_light(band, rim, highlight, 0.9)
        image[b0:b1] = band

    floor = _perspective_grid(rng, n, y, x, horizon)
    # The lines and their two glows in one channel (blurring is linear: tint after), added as light.
    glow = floor + blur(floor, n * 0.004) * np.float32(1.6) + blur(floor, n * 0.015) * np.float32(0.8)
    add_light(image, np.ascontiguousarray(glow, dtype=np.float32), highlight)
    horizon_line = np.exp(-(((y - horizon) * n / 1.5) ** 2)).astype(np.float32) * np.ones_like(x)  # rows only
    add_light(image, np.ascontiguousarray(horizon_line, dtype=np.float32), lighten(accent, 0.3), 0.9)
    add_light(image, gaussian_spot(n, 0.5, horizon, 0.5, aspect=2.5) * (y > horizon), mid, 0.35)
    return image


def _perspective_grid(rng, n, y, x, horizon) -> np.ndarray:
    """Anti-aliased lines of a floor grid seen in perspective, 0..1 (fades where lines crowd)."""
    out = np.zeros((n, n), np.float32)
    first = min(n, int(horizon * n))  # the floor is below the horizon: the sky rows stay zero
    y = y[first:]
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
    out[first:] = lines
    return out
