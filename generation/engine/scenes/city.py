"""Urban night (hip-hop): skyline layers, lit windows with glow, horizon haze and foreground bokeh."""

from __future__ import annotations

import cv2
import numpy as np

from .common import (
    add_light,
    blur,
    bokeh,
    darken,
    fractal_noise,
    gaussian_spot,
    grid,
    lighten,
    mix,
    noise_1d,
    stars,
    vertical_gradient,
)


def urban_night(rng: np.random.Generator, n: int, pal: list[np.ndarray], opts: dict) -> np.ndarray:
    base, mid, accent, highlight, _ink = pal
    horizon = float(rng.uniform(0.56, 0.7))
    haze = mix(mid, accent, 0.35)
    image = vertical_gradient(n, [
        (0.0, darken(base, 0.3)),
        (horizon * 0.5, mix(base, mid, 0.6)),
        (horizon, mix(mid, haze, 0.75)),
        (min(horizon + 0.2, 1.0), darken(base, 0.2)),
        (1.0, darken(base, 0.4)),
    ])
    y, x = grid(n)
    # City glow on the low sky: uneven along the horizon so it reads as light pollution, not a band.
    glow_profile = 0.5 + 0.5 * noise_1d(rng, n, cells=3, octaves=2)
    band = np.exp(-(((y - horizon) / 0.09) ** 2)) * glow_profile[None, :]
    add_light(image, band.astype(np.float32), haze, 0.6)
    add_light(image, stars(rng, n, int(n * 0.12), (0, 0, 1, horizon * 0.6)), mix(highlight, mid, 0.5), 0.5)
    clouds = fractal_noise(rng, n, cells=3, octaves=4)
    add_light(image, (clouds * np.clip(1.0 - y / horizon, 0, 1) * 0.5).astype(np.float32), mid, 0.25)

    windows = np.zeros((n, n), np.float32)
    window_colour = np.zeros((n, n, 3), np.float32)
    for depth in (0.0, 0.5, 1.0):
        _skyline_layer(rng, n, image, windows, window_colour, horizon, depth, mix(mid, haze, 0.4), pal)

    lights = cv2.multiply(window_colour, cv2.cvtColor(windows, cv2.COLOR_GRAY2RGB))
    image += lights
    image += cv2.addWeighted(blur(lights, n * 0.006), 2.2, blur(lights, n * 0.02), 1.2, 0.0)
    image += bokeh(rng, n, int(rng.integers(7, 14)), [accent, highlight, mix(accent, mid, 0.5)],
                   radius=(0.02, 0.07), region=(0.0, horizon + 0.08, 1.0, 1.05), strength=(0.06, 0.2))
    image += bokeh(rng, n, int(rng.integers(3, 7)), [highlight, accent], radius=(0.04, 0.09),
                   region=(-0.05, 0.0, 1.05, 1.0), strength=(0.03, 0.08), softness=0.3)
    street = gaussian_spot(n, float(rng.uniform(0.2, 0.8)), 1.02, 0.35, aspect=2.2)
    add_light(image, street, accent, 0.18)
    return image


def _skyline_layer(rng, n, image, windows, window_colour, horizon, depth, haze, pal) -> None:
    """One row of buildings: nearer rows are taller, darker and have bigger windows."""
    base, _mid, accent, highlight, _ink = pal
    edges = [float(rng.uniform(-0.05, 0.0))]
    while edges[-1] < 1.0:
        edges.append(edges[-1] + float(rng.uniform(0.03, 0.085)) * (1.0 + 0.9 * depth))
    edges = np.array(edges, np.float32)
    count = len(edges) - 1
    heights = rng.uniform(0.05, 0.16, count) * (1.0 + 1.1 * depth)
    towers = rng.random(count) < 0.18
    heights[towers] *= rng.uniform(1.4, 2.0, towers.sum())
    ground = horizon + 0.05 * depth
    tops = (ground - heights).astype(np.float32)

    # Work only on the rows this layer can touch: everything above its tallest roof is sky.
    row0 = max(0, int(tops.min() * n) - 1)
    y, x = grid(n)
    y = y[row0:]
    image, windows, window_colour = image[row0:], windows[row0:], window_colour[row0:]
    column = np.clip(np.searchsorted(edges, x[0], side="right") - 1, 0, count - 1)
    top = tops[column][None, :]
    inside = np.clip((y - top) * n + 0.5, 0.0, 1.0).astype(np.float32)
    colour = mix(lighten(haze, 0.08), darken(base, 0.3), 0.2 + 0.55 * depth)
    # A faint vertical falloff inside the buildings keeps the near row from being a flat slab.
    shade = (1.0 - 0.35 * np.clip((y - top) / 0.4, 0, 1)).astype(np.float32)
    # image = image * (1 - inside) + colour * shade * inside, on three channels through OpenCV (in place).
    keep = cv2.cvtColor(1.0 - inside, cv2.COLOR_GRAY2RGB)
    wall = cv2.cvtColor(inside * shade, cv2.COLOR_GRAY2RGB)
    cv2.multiply(wall, tuple(float(v) for v in colour) + (0.0,), dst=wall)
    cv2.multiply(image, keep, dst=image)
    cv2.add(image, wall, dst=image)
    windows *= 1.0 - inside
    cv2.multiply(window_colour, keep, dst=window_colour)

    row1 = int(ground * n) + 1 - row0  # windows stop at the layer's ground line
    y, top, inside = y[:row1], top, inside[:row1]
    cell_w = 0.0055 * (1.0 + 1.0 * depth)
    cell_h = cell_w * 1.35
    left = edges[column][None, :]
    right = edges[column + 1][None, :]
    gx = np.floor((x - left) / cell_w)
    gy_raw = (y - top) / cell_h
    gy = np.floor(gy_raw)
    fx = (x - left) / cell_w - gx
    fy = gy_raw - gy
    in_window = (fx > 0.3) & (fx < 0.75) & (fy > 0.35) & (fy < 0.78)
    in_window &= (gx >= 1.0) & (x <= right - cell_w) & (gy >= 1.0) & (inside > 0.5)
    # A cheap per-window hash: the same window is lit or dark at every pixel it covers.
    # Only window pixels matter, so the hash and the light are computed there alone.
    wy, wx = np.nonzero(in_window)
    key = (gx[0, wx] * 12.9898 + gy[wy, wx] * 78.233) + (column[wx] + depth * 1000.0) * 37.719
    chance = (np.sin(key).astype(np.float32) * 43758.547) % 1.0
    lit_rate = rng.uniform(0.08, 0.3, count).astype(np.float32)[column] * (0.5 + 0.5 * depth)
    lit = chance < lit_rate[wx]
    warmth = rng.random(count).astype(np.float32)[column][:, None] * 0.6
    tint = highlight[None, :] * (1 - warmth) + accent[None, :] * warmth
    wy, wx, chance = wy[lit], wx[lit], chance[lit]
    brightness = (0.55 + 0.45 * depth) * (0.6 + 0.4 * ((chance * 7.0) % 1.0))
    windows[wy, wx] += brightness
    window_colour[wy, wx] += tint[wx]
