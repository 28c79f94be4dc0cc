"""A typographic poster's device: the one graphic mark a designer sets with the title, in the genre's manner.

A rule over the block, heavy (hip-hop, rock, metal, lo-fi, pop, electronic) or a hairline (classical, r&b,
indie, ambient, jazz). It is laid under the letters before their colour is chosen (the typesetter's backdrop
hook), in the palette colour that stands furthest from the ground, never nearer the letters than the leading,
and never across the sheet along an edge: that would read as a border, which stores refuse (the Sentinel's
border check).
"""

from __future__ import annotations

import numpy as np

from .raster import colour_luminance

DEVICES = {"hiphop": "rule", "rock": "rule", "metal": "rule", "lofi": "rule", "pop": "rule", "edm": "rule",
           "classical": "hairline", "rnb": "hairline", "indie": "hairline", "ambient": "hairline", "jazz": "hairline"}


def _ink(rgb: np.ndarray, palette) -> tuple[int, int, int]:
    """The palette colour furthest in value from the canvas's mean."""
    ground = float(colour_luminance(np.asarray(rgb.reshape(-1, 3)[:: 97].mean(axis=0), np.float32) / 255.0))
    best = max((np.asarray(palette[i], np.float32) for i in (2, 3, 4) if i < len(palette)),
               key=lambda c: abs(colour_luminance(c) - ground))
    return tuple(int(v) for v in np.clip(best * 255.0 + 0.5, 0, 255))


def poster_device(genre: str, palette, seed: int) -> callable:
    """The backdrop(rgb, lines, scale) that draws the genre's device around a poster's block, in place."""
    kind = DEVICES.get(genre, "rule")

    def draw(rgb: np.ndarray, lines, scale: float) -> None:
        if not lines:
            return
        n = rgb.shape[0]
        side = n / scale
        colour = _ink(rgb, palette)
        x0 = min(line.box[0] for line in lines)
        x1 = max(line.box[2] for line in lines)
        y0 = min(line.box[1] for line in lines)
        y1 = max(line.box[3] for line in lines)
        cap = max(line.cap_px for line in lines)
        # The width of the block (a short bar for a heavy rule, by the seed), over it, or under it when the
        # block is high; never more than 42% of the sheet: a rule across it near an edge reads as a border.
        weight = max(3.0, cap * (0.09 if kind == "rule" else 0.03))
        gap = cap * 0.55
        top = y0 - gap - weight if y0 - gap - weight > side * 0.04 else y1 + gap
        if top + weight >= side * 0.96:  # a block that fills the sheet has no room for it: none
            return
        length = min((x1 - x0) * (0.35 if kind == "rule" and seed % 2 else 1.0), side * 0.42)
        if (x0 + x1) / 2 > side * 0.42 and x0 > side * 0.2:  # a centred block: the rule centred on it
            x0 = (x0 + x1 - length) / 2
        _fill(rgb, (x0, top, x0 + length, top + weight), scale, colour)

    return draw


def _fill(rgb: np.ndarray, box, scale: float, colour) -> None:
    n = rgb.shape[0]
    bx0, by0 = max(0, int(round(box[0] * scale))), max(0, int(round(box[1] * scale)))
    bx1, by1 = min(n, int(round(box[2] * scale))), min(n, int(round(box[3] * scale)))
    if bx1 > bx0 and by1 > by0:
        rgb[by0:by1, bx0:bx1] = colour
