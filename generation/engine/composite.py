"""8-bit raster primitives of the cut-out and the typesetter: block reductions, tiled blends, soft masks, fades."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[float, float, float, float]


@dataclass
class Placement:
    """Where the subject landed on the canvas, in pixels; what typeset needs to keep clear of."""

    box: tuple[int, int, int, int]
    face: tuple[int, int, int, int] | None
    shape: str  # "photo", "panel", "print" (a stencil), "wash" (a texture), "cutout"


def block_means(image: np.ndarray, k: int) -> np.ndarray:
    """The means of whole k x k blocks from the top left corner (OpenCV's fast integer area path; rows and
    columns past the last whole block are dropped). The image must hold at least one block."""
    h, w = image.shape[:2]
    return cv2.resize(image[:h // k * k, :w // k * k], (w // k, h // k), interpolation=cv2.INTER_AREA)


def reduce_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A small area-averaged copy (w, h) of a large image: whole blocks first, then the fractional rest on the
    much smaller image."""
    h, w = image.shape[:2]
    k = min(w // max(size[0], 1), h // max(size[1], 1))
    if k >= 2:
        image = block_means(image, k)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Reduce to `size` (w, h). Down to half size: a light Gaussian prefilter and a bilinear resample (five
    times faster than OpenCV's area average at a fractional ratio, and as free of aliasing); further: area."""
    h, w = image.shape[:2]
    rx, ry = size[0] / max(w, 1), size[1] / max(h, 1)
    ratio = max(rx, ry)
    if ratio >= 1.0 or min(rx, ry) < 0.5 * ratio:  # or too uneven for one prefilter: OpenCV's area average
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if ratio < 0.5:  # whole blocks first (OpenCV's fast integer area path), then the fractional rest
        k = int(1.0 / ratio)
        if min(w // k, h // k) < 1:
            return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return shrink(block_means(image, k), size)
    sigma = 0.5 * float(np.sqrt(1.0 / (ratio * ratio) - 1.0))
    if sigma > 0.2:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def blend(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """base * (1 - alpha) + top * alpha for uint8 RGB images and a float32 alpha, multi-threaded in OpenCV."""
    alpha = np.ascontiguousarray(alpha, dtype=np.float32)
    return cv2.blendLinear(base, np.ascontiguousarray(top), 1.0 - alpha, alpha)


BLEND_TILE = 64
SOLID = 1.0 - 1e-6  # a block mean this close to 1 has every pixel within a fraction of a level of 1


def tile_means(mask: np.ndarray, tile: int) -> np.ndarray:
    """Mean of `mask` over tile x tile blocks (ceil-sized grid); blocks cut by the edge read as partial (0.5).

    A block's mean is exactly 0 only when every value in it is 0 (the masks are non-negative) and 1
    only when every value is 1 (up to float rounding, which can only make a block look partial).
    """
    h, w = mask.shape
    th, tw = h // tile, w // tile
    means = np.full((-(-h // tile), -(-w // tile)), 0.5, np.float32)
    if th and tw:
        means[:th, :tw] = block_means(mask, tile)
    return means


def quarter_tiles(mask_q: np.ndarray, h: int, w: int, tile: int = BLEND_TILE) -> np.ndarray:
    """Which full-size blocks (h x w image) touch a non-zero of `mask_q`, its quarter-size copy (w // 4 wide).

    The blocks are tile // 4 quarter pixels; the mask should be dilated a couple of pixels by the
    caller to cover the upscale's reach and the rounding of the quarter size. Blocks past its end count as hit.
    """
    q = tile // 4
    rows, cols = -(-h // tile), -(-w // tile)
    hit = np.ones((rows, cols), bool)
    qh, qw = mask_q.shape[0] // q, mask_q.shape[1] // q
    if qh and qw:
        means = block_means(mask_q.astype(np.float32), q)
        hit[:min(rows, qh), :min(cols, qw)] = means[:rows, :cols] > 0
    return hit


def runs(flags: np.ndarray):
    """(start, stop) of the runs of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], flags, [False])).astype(np.int8)))
    return zip(edges[::2], edges[1::2], strict=True)


def blend_tiled(base: np.ndarray, top: np.ndarray, alpha: np.ndarray, means: np.ndarray | None = None,
                tile: int = BLEND_TILE) -> None:
    """blend() in place, block by block: blocks where alpha is all 0 are skipped, all 1 are copied.

    The same pixels as one blend over the whole area, at the cost of the soft edge only. `top` may be a
    single colour (shape (3,), uint8) instead of an image.
    """
    if means is None:
        means = tile_means(alpha, tile)
    flat = top.ndim == 1
    for row, line in enumerate(means):
        y0, y1 = row * tile, min(base.shape[0], (row + 1) * tile)
        solid = line >= SOLID
        for kind, flags in ((1, solid), (2, (line > 0.0) & ~solid)):
            for c0, c1 in runs(flags):
                x0, x1 = c0 * tile, min(base.shape[1], c1 * tile)
                if flat:
                    patch = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
                    patch[:] = top
                else:
                    patch = top[y0:y1, x0:x1]
                if kind == 1:
                    base[y0:y1, x0:x1] = patch
                else:
                    base[y0:y1, x0:x1] = blend(base[y0:y1, x0:x1], patch, alpha[y0:y1, x0:x1])


def blend_rows(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> None:
    """base = base * (1 - a) + top * a (in place), alpha given per row, 0..1; skips rows with a == 0 or 1.

    `top` is an image of base's height or a single row used for every row. The partial rows are blended in
    runs, with the per-row weights spread to 8-bit planes (within a level of the float blend): no Python
    loop over rows, no full-size float arrays.
    """
    full = np.flatnonzero(alpha >= 1.0)
    if full.size:
        base[full[0]:full[-1] + 1] = top[full[0]:full[-1] + 1] if top.shape[0] > 1 else top
    partial = (alpha > 0.0) & (alpha < 1.0)
    width = base.shape[1] * base.shape[2]
    for r0, r1 in runs(partial):
        weight = np.clip(alpha[r0:r1] * 255.0 + 0.5, 0, 255).astype(np.uint8)
        ink_w = np.ascontiguousarray(np.broadcast_to(weight[:, None], (r1 - r0, width))).reshape(base[r0:r1].shape)
        keep_w = cv2.bitwise_not(ink_w)
        over = top[r0:r1] if top.shape[0] > 1 else np.ascontiguousarray(np.broadcast_to(top, ink_w.shape))
        ink = cv2.multiply(over, ink_w, scale=1.0 / 255.0)
        base[r0:r1] = cv2.add(cv2.multiply(base[r0:r1], keep_w, scale=1.0 / 255.0), ink)


def blend_mask(base: np.ndarray, top: np.ndarray, mask: np.ndarray, x0: int, y0: int) -> None:
    """Blend `top` into base at (x0, y0) through a float mask of the same height/width (in place)."""
    h, w = mask.shape
    base[y0:y0 + h, x0:x0 + w] = blend(base[y0:y0 + h, x0:x0 + w], top, mask)


def soft_blur(mask: np.ndarray, sigma: float, scale: float = 1.0) -> np.ndarray:
    """A wide Gaussian blur computed at reduced size (the result is smooth anyway): shadows, glows.

    `scale` sizes the result (a mask drawn at the cover's size blurred onto a smaller working canvas); `sigma`
    is in the result's pixels. The reduction is by whole blocks (OpenCV's area resize is several times faster
    at an integer ratio): the edge rows and columns are repeated out to a multiple of the block, and cut off
    again after the blur.
    """
    h, w = mask.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    factor = max(1.0, min(4.0, sigma // 3))  # result pixels per reduced pixel: the blur keeps 3+ of them
    block = max(1, int(factor / scale))
    if block == 1 and scale == 1.0:
        return cv2.GaussianBlur(mask, (0, 0), sigma)
    bottom, right = -h % block, -w % block
    if bottom or right:
        mask = cv2.copyMakeBorder(mask, 0, bottom, 0, right, cv2.BORDER_REPLICATE)
    blurred = cv2.GaussianBlur(block_means(mask, block), (0, 0), sigma / (block * scale))
    padded = (max(1, round((w + right) * scale)), max(1, round((h + bottom) * scale)))
    return cv2.resize(blurred, padded, interpolation=cv2.INTER_LINEAR)[:size[1], :size[0]]


def row_weights(size: int, strength: float, start: float, full: float) -> tuple[int, np.ndarray]:
    """A smooth fade down a canvas of `size` rows: none at row `start`, `strength` from row `full` down.
    Returns the first row touched and the weight of each row from there to the bottom."""
    first = max(0, int(start))
    rows = np.arange(first, size, dtype=np.float32) + 0.5
    t = np.clip((rows - start) / max(full - start, 1.0), 0.0, 1.0)
    return first, t * t * (3.0 - 2.0 * t) * np.float32(strength)


def fade_rows(canvas: np.ndarray, colour: np.ndarray, strength: float, start: float, full: float) -> None:
    """Fade the canvas toward `colour` from row `start` (none) to row `full` (`strength`) and below, in place."""
    if strength <= 0:
        return
    first, weight = row_weights(canvas.shape[0], strength, start, full)
    top = np.empty_like(canvas[first:first + 1])  # one row, used for every row
    top[:] = np.clip(colour * 255.0, 0, 255).astype(np.uint8)
    blend_rows(canvas[first:], top, weight)


def ground_fade(canvas: np.ndarray, colour: np.ndarray, strength: float, height: float = 0.2) -> None:
    """Darken (or tint) the bottom `height` of the frame toward the ground colour, over subject and scene alike."""
    side = canvas.shape[0]
    fade_rows(canvas, colour, strength, side * (1 - height), side)
