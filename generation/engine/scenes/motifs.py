"""Motifs: small layers the caller's words add over any procedural scene (rain, snow, stars, embers).

A lyric about rain gets rain on its cover whatever the genre's scene is; the motif takes its colours
from the (already steered) palette, so it belongs to the scene rather than sitting on it.
Every motif works on the n x n float32 scene in place and is deterministic by its generator.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..art.raster import blur


def mix(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The colour a share `t` of the way from `a` to `b`."""
    return (a * (1.0 - t) + b * t).astype(np.float32)


def add_light(image: np.ndarray, mask: np.ndarray, colour: np.ndarray, strength: float = 1.0) -> None:
    """Additive light through a 0..1 mask (in place), over the rows and columns where the light is."""
    rows = np.flatnonzero(mask.max(axis=1) > 1 / 2048)
    if rows.size == 0:
        return
    cols = np.flatnonzero(mask[rows[0]:rows[-1] + 1].max(axis=0) > 1 / 2048)
    box = slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
    light = cv2.cvtColor(np.ascontiguousarray(mask[box], np.float32), cv2.COLOR_GRAY2RGB)
    scale = tuple(float(v) * strength for v in np.asarray(colour).reshape(3)) + (0.0,)
    cv2.multiply(light, scale, dst=light)
    region = image[box]  # a strided view of the scene: OpenCV writes through it
    cv2.add(region, light, dst=region)


def star_points(rng: np.random.Generator, n: int, count: int,
                region: tuple[float, float, float, float]) -> np.ndarray:
    """Faint point lights (single channel) inside `region` (x0, y0, x1, y1 as fractions of the side)."""
    layer = np.zeros((n, n), np.float32)
    xs = rng.uniform(region[0], region[2], count) * n
    ys = rng.uniform(region[1], region[3], count) * n
    layer[np.clip(ys.astype(int), 0, n - 1), np.clip(xs.astype(int), 0, n - 1)] = rng.uniform(0.2, 0.9, count)
    return cv2.GaussianBlur(layer, (0, 0), 0.6) * 3.0

# words -> motif; the first words found decide (at most MAX_MOTIFS motifs, in this order of precedence).
MOTIF_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("rain", frozenset({"rain", "rainy", "raining", "storm", "stormy", "downpour", "drizzle", "tears"})),
    ("snow", frozenset({"snow", "snowing", "snowfall", "winter", "frozen", "blizzard", "frost"})),
    ("embers", frozenset({"fire", "fires", "flame", "flames", "burn", "burning", "ember", "embers", "ashes",
                          "ash", "blaze"})),
    ("stars", frozenset({"star", "stars", "starlight", "galaxy", "cosmos", "cosmic", "moon", "moonlight",
                         "space", "constellation", "constellations"})),
)
MAX_MOTIFS = 2


def motifs_for(words: set[str]) -> tuple[str, ...]:
    found = [name for name, vocabulary in MOTIF_WORDS if words & vocabulary]
    return tuple(found[:MAX_MOTIFS])


def apply_motifs(image: np.ndarray, names: tuple[str, ...], rng: np.random.Generator,
                 palette: list[np.ndarray]) -> None:
    for name in names:
        MOTIFS[name](image, rng, palette)


def rain(image: np.ndarray, rng: np.random.Generator, palette: list[np.ndarray]) -> None:
    """Slanted streaks, longer and brighter in front, over a faint cool veil."""
    n = image.shape[0]
    layer = np.zeros((n, n), np.float32)
    slant = float(rng.uniform(-0.18, 0.18))
    for depth, count in ((0.35, int(n * 0.5)), (0.7, int(n * 0.18)), (1.0, int(n * 0.05))):
        length = n * (0.02 + 0.05 * depth)
        xs, ys = rng.uniform(-0.1, 1.1, count) * n, rng.uniform(-0.05, 1.0, count) * n
        strength = rng.uniform(0.25, 0.6, count) * depth
        for x, y, s in zip(xs, ys, strength, strict=True):
            end = (int((x + slant * length) * 16), int((y + length) * 16))
            cv2.line(layer, (int(x * 16), int(y * 16)), end, float(s), max(1, round(n * 0.0012 * depth)),
                     lineType=cv2.LINE_AA, shift=4)
    colour = mix(palette[3], np.ones(3, np.float32), 0.4)
    add_light(image, blur(layer, max(0.6, n * 0.0008)), colour, 0.8)
    veil = mix(palette[1], palette[3], 0.3)
    image *= np.float32(0.92)
    image += (veil * 0.06).astype(np.float32)


def snow(image: np.ndarray, rng: np.random.Generator, palette: list[np.ndarray]) -> None:
    """Flakes: many small sharp ones far away, a few large soft ones close to the lens."""
    n = image.shape[0]
    colour = mix(palette[3], np.ones(3, np.float32), 0.7)
    for count, radius, softness, strength in ((int(n * 0.35), (0.0012, 0.0028), 0.0, (0.35, 0.8)),
                                              (int(n * 0.03), (0.006, 0.014), 0.4, (0.25, 0.5))):
        layer = np.zeros((n, n), np.float32)
        xs, ys = rng.uniform(0, 1, count) * n, rng.uniform(0, 1, count) * n
        radii = rng.uniform(*radius, count) * n
        amounts = rng.uniform(*strength, count)
        for x, y, r, a in zip(xs, ys, radii, amounts, strict=True):
            cv2.circle(layer, (int(x * 16), int(y * 16)), max(8, int(r * 16)), float(a), -1,
                       lineType=cv2.LINE_AA, shift=4)
        if softness:
            layer = blur(layer, max(1.0, radius[0] * n * softness * 4))
        add_light(image, layer, colour, 1.0)


def star_field(image: np.ndarray, rng: np.random.Generator, palette: list[np.ndarray]) -> None:
    """A star field over the upper sky, with a few bright stars that glow."""
    n = image.shape[0]
    field = star_points(rng, n, int(n * 0.6), (0, 0, 1, 0.75))
    bright = np.zeros((n, n), np.float32)
    for _ in range(int(rng.integers(6, 12))):
        x, y = int(rng.uniform(0.03, 0.97) * n), int(rng.uniform(0.02, 0.5) * n)
        bright[y, x] = float(rng.uniform(2.0, 4.0))
    glow = blur(bright, max(1.0, n * 0.003)) * np.float32(n * 0.02)
    fade = np.clip(1.4 - np.linspace(0, 1.6, n, dtype=np.float32), 0, 1)[:, None]
    colour = mix(palette[3], np.ones(3, np.float32), 0.6)
    add_light(image, np.ascontiguousarray((field + glow + cv2.GaussianBlur(bright, (0, 0), 0.7)) * fade), colour,
              0.8)


def embers(image: np.ndarray, rng: np.random.Generator, palette: list[np.ndarray]) -> None:
    """Glowing sparks drifting up from the bottom, thinning out with height."""
    n = image.shape[0]
    layer = np.zeros((n, n), np.float32)
    count = int(n * 0.12)
    ys = n * 1.02 - rng.power(2.2, count) * n * 0.95  # most near the bottom
    xs = rng.uniform(0, 1, count) * n
    for x, y in zip(xs, ys, strict=True):
        length = rng.uniform(0.002, 0.012) * n
        drift = rng.uniform(-0.4, 0.4) * length
        cv2.line(layer, (int(x * 16), int(y * 16)), (int((x + drift) * 16), int((y - length) * 16)),
                 float(rng.uniform(0.4, 1.0)), max(1, round(n * 0.0015)), lineType=cv2.LINE_AA, shift=4)
    glow = blur(layer, max(1.0, n * 0.004))
    colour = mix(palette[2], np.array([1.0, 0.55, 0.15], np.float32), 0.5)
    add_light(image, np.ascontiguousarray(layer * 0.9 + glow * 2.5), colour, 1.0)


MOTIFS = {"rain": rain, "snow": snow, "embers": embers, "stars": star_field}
