"""Procedural backgrounds: each scene is a pure function of (preset, palette, seed, working size)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .city import urban_night
from .nature import film_sky
from .soft import paper, soft_field, warm_glow
from .stage import stage
from .synthetic import neon_grid

SceneFunction = Callable[[np.random.Generator, int, list, dict], np.ndarray]

SCENES: dict[str, SceneFunction] = {
    "urban_night": urban_night,
    "neon_grid": neon_grid,
    "warm_glow": warm_glow,
    "film_sky": film_sky,
    "stage": stage,
    "soft_field": soft_field,
    "paper": paper,
}


# How coarse each scene may be drawn: cover pixels per scene pixel. Every scene is upscaled to the
# cover (its fine texture comes from the grain, laid at full size); the skyline's windows and the neon
# grid's lines need a third of the side, the paper's thin gold rules a quarter (a 2.7 px stroke drawn
# anti-aliased upscales to the same line as a 3.6 px one at a third), the soft gradients, haze and glows far less.
SCENE_SCALE = {
    "urban_night": 3, "neon_grid": 3, "paper": 4,
    "film_sky": 4, "stage": 4,
    "warm_glow": 6, "soft_field": 6,
}


# Scenes drawn with thin line ornaments (the paper scene's gold circle, arch or horizon): a line running
# through the letters reads as a mistake, so the typesetter breaks it around the text (see layout.clear_lines).
LINE_ART: dict[str, float] = {"paper": 3.2 / 900}  # the stroke's full width, as a share of the side


MIN_SCENE = 500  # below this even a soft scene loses its shape (and a cover its crisp-looking light)


def scene_size(name: str, side: int) -> int:
    """The side a scene is drawn at for a cover of `side` pixels."""
    return min(side, max(MIN_SCENE, -(-side // SCENE_SCALE.get(name, 3))))


def draw_scene(name: str, rng: np.random.Generator, n: int, palette: list[np.ndarray],
               options: dict) -> np.ndarray:
    """The named scene as an n x n float32 RGB array clipped to 0..1."""
    try:
        scene = SCENES[name]
    except KeyError:
        raise ValueError(f"unknown scene {name!r}; known scenes: {', '.join(SCENES)}") from None
    image = scene(rng, n, palette, options)
    return np.clip(image, 0.0, 1.0, out=image)
