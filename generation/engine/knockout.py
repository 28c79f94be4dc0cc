"""The knocked-out title: the lead lines' letters cut out of a flat ground, the photo seen only through them.

The art layer draws the ground and hands over `photo(size)`, the photo's tone framed to a block of that size (its
faces filling it); once the title is set, `knockout_fill` frames it to the lead lines' block and `draw_knockout`
fills each letter with it, between the ground and the text colour the typesetter chose for that ground.
"""

from __future__ import annotations

import cv2
import numpy as np

from .typeset import TextResult

KNOCKOUT_FLOOR = 0.3  # the photo's darkest tone inside a letter: this far from the ground to the ink
KNOCKOUT_MEDIAN = 0.6  # a line whose letters hold mostly shadow is lifted (a gamma) until its median is this


def lead_block(text: TextResult, side: int) -> tuple[list[int], tuple[int, int, int, int]] | None:
    """The dominant lines (indexes among the visible ones) and the box their glyph masks cover, in cover pixels
    (None without lines): where the photo shows."""
    visible = [line for line in text.lines if line.display.strip()]
    if not visible:
        return None
    biggest = max(line.cap_px for line in visible)
    lead = [i for i, line in enumerate(visible) if line.cap_px >= biggest * 0.999]
    boxes = [(x0, y0, x0 + m.shape[1], y0 + m.shape[0]) for m, x0, y0 in (text.masks[i] for i in lead)]
    box = (max(0, min(b[0] for b in boxes)), max(0, min(b[1] for b in boxes)),
           min(side, max(b[2] for b in boxes)), min(side, max(b[3] for b in boxes)))
    return lead, box


def knockout_fill(text: TextResult, side: int, work: int, photo) -> tuple | None:
    """What `layout.draw_text` needs to knock the lead lines out: their indexes, the photo's tone plane framed to
    their block (`photo(size)` at the working scale, enlarged to the cover's) and its top left; None without
    `photo`."""
    block = lead_block(text, side) if photo is not None else None
    if block is None:
        return None
    lead, (x0, y0, x1, y1) = block
    f = side / work
    tone = photo((max(8, round((x1 - x0) / f)), max(8, round((y1 - y0) / f))))
    return lead, cv2.resize(tone, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR), (x0, y0)


def draw_knockout(rgb: np.ndarray, mask: np.ndarray, x0: int, y0: int, colour, tone: np.ndarray,
                  origin: tuple[int, int]) -> tuple[int, ...]:
    """One line's letters cut out of the ground with the photo seen through them, in place. `tone` is the
    photo's tone plane at full size with its top left at `origin`, covering the mask. The photo's lights go
    toward the lighter of the ground and `colour`, so it reads as a positive whichever is lighter; its darkest
    tone stays KNOCKOUT_FLOOR of the way from the ground to the ink, and its median inside the letters at least
    KNOCKOUT_MEDIAN of the rest. Returns the ground (the median outside the letters) they were cut from."""
    n_h, n_w = rgb.shape[:2]
    h, w = mask.shape
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(n_w, x0 + w), min(n_h, y0 + h)
    if sx1 <= sx0 or sy1 <= sy0:
        return tuple(colour)
    cov = mask[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0]
    region = rgb[sy0:sy1, sx0:sx1]
    outside = region[cov == 0]
    ink = np.asarray(colour, np.float32)
    ground = np.median(outside, axis=0) if len(outside) else ink
    near = ground + (ink - ground) * KNOCKOUT_FLOOR
    ox, oy = origin
    t = tone[sy0 - oy:sy1 - oy, sx0 - ox:sx1 - ox].astype(np.float32)[..., None] / 255.0
    inkness = t if ink.mean() > ground.mean() else 1.0 - t  # 1: the ink itself, 0: the floor
    inside = inkness[cov >= 128]
    middle = float(np.median(inside)) if inside.size else 1.0
    if 0.02 < middle < KNOCKOUT_MEDIAN:  # the letters read as letters first: a photo that is mostly shadow
        inkness = inkness ** np.float32(np.log(KNOCKOUT_MEDIAN) / np.log(middle))
    fill = near + (ink - near) * inkness
    a = cov.astype(np.float32)[..., None] / 255.0
    region[...] = np.clip(region * (1.0 - a) + fill * a + 0.5, 0, 255).astype(np.uint8)
    return tuple(int(v + 0.5) for v in ground)
