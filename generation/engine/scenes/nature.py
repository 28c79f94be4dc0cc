"""Natural enhanced (indie, lo-fi): a golden-hour fractal-cloud sky over layered hills."""

from __future__ import annotations

import numpy as np

from .common import (
    add_light,
    darken,
    fractal_noise,
    gaussian_spot,
    grid,
    lighten,
    mix,
    noise_1d,
    paint,
    silhouette,
    smoothstep,
    stars,
    tinted,
    vertical_gradient,
)


def film_sky(rng: np.random.Generator, n: int, pal: list[np.ndarray], opts: dict) -> np.ndarray:
    base, mid, accent, highlight, _ink = pal
    dusk = bool(opts.get("dusk"))
    horizon = float(rng.uniform(0.6, 0.76))
    top = darken(mid, 0.35) if dusk else mid
    image = vertical_gradient(n, [
        (0.0, top),
        (horizon * 0.6, mix(mid, highlight, 0.35)),
        (horizon, mix(highlight, accent, 0.35)),
        (1.0, base),
    ])
    y, x = grid(n)
    sun_x = float(rng.uniform(0.15, 0.85))
    sun_y = horizon - float(rng.uniform(0.02, 0.12))
    add_light(image, gaussian_spot(n, sun_x, sun_y, 0.4, aspect=1.6), accent, 0.45)
    add_light(image, gaussian_spot(n, sun_x, sun_y, 0.07), lighten(highlight, 0.5), 0.8)
    if dusk:
        add_light(image, stars(rng, n, int(n * 0.08), (0, 0, 1, horizon * 0.45)), highlight, 0.5)

    # Clouds: thresholded fractal noise, stretched horizontally, lit from the sun's side.
    noise = fractal_noise(rng, n, cells=3, octaves=6, persistence=0.55)
    stretch = noise[:, np.clip((np.arange(n) * 0.6 + n * 0.2).astype(int), 0, n - 1)]
    cover = float(rng.uniform(0.42, 0.6))
    density = smoothstep(cover, cover + 0.3, stretch) * smoothstep(horizon, horizon * 0.55, y)
    near_sun = gaussian_spot(n, sun_x, sun_y, 0.45)
    shade = 0.78 + 0.22 * smoothstep(0.3, 0.9, noise)
    # (far colour * (1 - near_sun) + near colour * near_sun) * shade
    cloud_colour = tinted((1 - near_sun) * shade, mix(mid, lighten(highlight, 0.3), 0.55))
    cloud_colour += tinted(near_sun * shade, mix(highlight, accent, 0.45))
    paint(image, density.astype(np.float32), cloud_colour, 0.85)

    # Hills: two or three fractal ridges, nearer ones darker and lower in the frame.
    layers = int(rng.integers(2, 4))
    field = fractal_noise(rng, n, cells=24, octaves=3)
    texture = 0.9 + 0.2 * field
    for i in range(layers):
        depth = (i + 1) / layers
        profile = noise_1d(rng, n, cells=int(rng.integers(2, 6)), octaves=4)
        tops = horizon + 0.015 + depth * 0.09 - profile * (0.03 + 0.06 * depth)
        mask = silhouette(n, tops.astype(np.float32))
        colour = mix(mix(mid, accent, 0.25), darken(base, 0.3), 0.35 + 0.6 * depth)
        paint(image, mask, tinted(texture, colour))
    # Warm haze low in the frame, the sun's light on the land.
    add_light(image, gaussian_spot(n, sun_x, horizon + 0.05, 0.35, aspect=2.0) * (y > horizon), accent, 0.18)
    return image
