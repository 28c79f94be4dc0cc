"""Stages 2-3b, segment and composite: where the subject sits for each variant, and blending it in.

There is no segmentation model yet: the subject is the whole photo, cropped around the face and
blended through soft-edged shapes (a fade, a card, a circle, a duotone wash) per variant.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .cache import TaskCache
from .grade import apply_saturation

Box = tuple[float, float, float, float]


@dataclass
class Placement:
    """Where the subject landed on the canvas, in pixels; what typeset needs to keep clear of."""

    box: tuple[int, int, int, int]
    face: tuple[int, int, int, int] | None
    shape: str  # "fade", "card", "circle", "wash"


def crop_window(photo_w: int, photo_h: int, aspect: float, face: Box | None, *, face_y: float = 0.32,
                face_share: float = 0.24, min_zoom: float = 0.55) -> tuple[int, int, int, int]:
    """The crop of the photo with the given aspect (w/h) that frames the face.

    The face centre lands at `face_y` of the crop's height and the face fills about `face_share`
    of it, without zooming past `min_zoom` of the largest crop. Without a face: centred, top-weighted.
    """
    if photo_w / photo_h > aspect:
        full_h, full_w = photo_h, photo_h * aspect
    else:
        full_w, full_h = photo_w, photo_w / aspect
    if face is None:
        w, h = full_w, full_h
        x0 = (photo_w - w) / 2
        y0 = (photo_h - h) * 0.25
    else:
        fx0, fy0, fx1, fy1 = face[0] * photo_w, face[1] * photo_h, face[2] * photo_w, face[3] * photo_h
        h = float(np.clip((fy1 - fy0) / face_share, full_h * min_zoom, full_h))
        w = h * aspect
        x0 = (fx0 + fx1) / 2 - w / 2
        y0 = (fy0 + fy1) / 2 - face_y * h
    x0 = float(np.clip(x0, 0, photo_w - w))
    y0 = float(np.clip(y0, 0, photo_h - h))
    return round(x0), round(y0), round(x0 + w), round(y0 + h)


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


def fit_photo(photo: np.ndarray, window: tuple[int, int, int, int], size: tuple[int, int],
              tone: np.ndarray | None = None, sharpen: bool | None = None) -> np.ndarray:
    """Crop, tone toward the scene's light, resize to `size` (w, h).

    A photo that must be enlarged is first given a light unsharp mask at its own resolution,
    which reads like sharpening after the upscale at a fraction of the cost. `sharpen` overrides
    the test when the enlargement happens later (a working canvas upscaled to the cover's size).
    """
    x0, y0, x1, y1 = window
    crop = photo[y0:y1, x0:x1]
    if tone is not None:
        crop = cv2.LUT(crop, tone)
    scale = size[0] / max(1, crop.shape[1])
    if sharpen if sharpen is not None else scale > 1.3:
        soft = cv2.GaussianBlur(crop, (0, 0), 1.0)
        crop = cv2.addWeighted(crop, 1.45, soft, -0.45, 0)
    if scale < 1:
        return shrink(crop, size)
    return cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)


def scene_tone(photo: np.ndarray, scene_mean: np.ndarray, amount: float = 0.15) -> np.ndarray:
    """(256, 1, 3) LUT nudging the photo's white balance a little toward the scene's light."""
    small = reduce_to(photo, (64, 64)).reshape(-1, 3).mean(axis=0) + 1.0
    target = scene_mean * 255.0 + 1.0
    gains = (target / target.mean()) / (small / small.mean())
    gains = 1.0 + amount * (gains - 1.0)
    x = np.arange(256, dtype=np.float32)[:, None] * gains[None, :]
    return np.clip(x + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)


def _face_on_canvas(face: Box | None, photo_shape, window, box) -> tuple[int, int, int, int] | None:
    if face is None:
        return None
    ph, pw = photo_shape[:2]
    wx0, wy0, wx1, wy1 = window
    bx0, by0, bx1, by1 = box
    sx, sy = (bx1 - bx0) / (wx1 - wx0), (by1 - by0) / (wy1 - wy0)
    return (round(bx0 + (face[0] * pw - wx0) * sx), round(by0 + (face[1] * ph - wy0) * sy),
            round(bx0 + (face[2] * pw - wx0) * sx), round(by0 + (face[3] * ph - wy0) * sy))


def blend(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """base * (1 - alpha) + top * alpha for uint8 RGB images and a float32 alpha, multi-threaded in OpenCV."""
    alpha = np.ascontiguousarray(alpha, dtype=np.float32)
    return cv2.blendLinear(base, np.ascontiguousarray(top), 1.0 - alpha, alpha)


BLEND_TILE = 64
SOLID = 1.0 - 1e-6  # a block mean this close to 1 has every pixel within a fraction of a level of 1


def _tile_means(mask: np.ndarray, tile: int) -> np.ndarray:
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


def _quarter_tiles(mask_q: np.ndarray, h: int, w: int, tile: int = BLEND_TILE) -> np.ndarray:
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


def _runs(flags: np.ndarray):
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
        means = _tile_means(alpha, tile)
    flat = top.ndim == 1
    for row, line in enumerate(means):
        y0, y1 = row * tile, min(base.shape[0], (row + 1) * tile)
        solid = line >= SOLID
        for kind, flags in ((1, solid), (2, (line > 0.0) & ~solid)):
            for c0, c1 in _runs(flags):
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
    for r0, r1 in _runs(partial):
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


def place_fade(canvas: np.ndarray, photo: np.ndarray, face: Box | None, tone, *,
               sharpen: bool | None = None) -> Placement:
    """Artist-forward: the photo full-bleed over the top, dissolving into the scene near the bottom."""
    size = canvas.shape[0]
    window = crop_window(photo.shape[1], photo.shape[0], 1.0, face, face_y=0.34, face_share=0.22)
    top = fit_photo(photo, window, (size, size), tone, sharpen)
    rows = (np.arange(size, dtype=np.float32) + 0.5) / size
    t = np.clip((0.9 - rows) / 0.32, 0.0, 1.0)
    blend_rows(canvas, top, t * t * (3.0 - 2.0 * t))
    box = (0, 0, size, size)
    return Placement(box, _face_on_canvas(face, photo.shape, window, box), "fade")


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


def _rounded_rect_mask(w: int, h: int, radius: float, feather: float = 1.0) -> np.ndarray:
    """Anti-aliased rounded rectangle, float 0..1, computed from the distance to the corner arcs."""
    y = np.arange(h, dtype=np.float32)[:, None] + 0.5
    x = np.arange(w, dtype=np.float32)[None, :] + 0.5
    dx = np.maximum(np.maximum(radius - x, x - (w - radius)), 0.0)
    dy = np.maximum(np.maximum(radius - y, y - (h - radius)), 0.0)
    inside = radius - np.sqrt(dx * dx + dy * dy)
    return np.clip(inside / feather + 0.5, 0.0, 1.0)


def place_card(canvas: np.ndarray, photo: np.ndarray, face: Box | None, tone, rng, *,
               compact: bool = False, sharpen: bool | None = None) -> Placement:
    """Background-forward: a small rounded photo card with a soft shadow; the scene stays dominant.

    `compact` (used when the advisory label takes room at the bottom) makes the card smaller.
    """
    size = canvas.shape[0]
    h = round(size * (0.34 if compact else 0.4))
    w = round(h * 0.8)
    x0 = round(size * float(rng.choice([0.5, 0.36, 0.64])) - w / 2)
    y0 = round(size * 0.09)
    window = crop_window(photo.shape[1], photo.shape[0], w / h, face, face_y=0.36, face_share=0.3)
    card = fit_photo(photo, window, (w, h), tone, sharpen)
    radius = size * 0.018
    shadow_pad = round(size * 0.06)
    sx0, sy0 = x0 - shadow_pad, y0 - shadow_pad + round(size * 0.012)
    shadow = np.zeros((h + 2 * shadow_pad, w + 2 * shadow_pad), np.float32)
    shadow[shadow_pad:shadow_pad + h, shadow_pad:shadow_pad + w] = _rounded_rect_mask(w, h, radius)
    shadow = soft_blur(shadow, size * 0.015) * 0.6
    blend_mask(canvas, np.zeros((*shadow.shape, 3), np.uint8), shadow, sx0, sy0)
    blend_mask(canvas, card, _rounded_rect_mask(w, h, radius), x0, y0)
    box = (x0, y0, x0 + w, y0 + h)
    return Placement(box, _face_on_canvas(face, photo.shape, window, box), "card")


def place_circle(canvas: np.ndarray, photo: np.ndarray, face: Box | None, tone, ring: np.ndarray, *,
                 compact: bool = False, sharpen: bool | None = None) -> Placement:
    """Free layout: the subject framed in a large circle with a thin glowing ring in the accent colour."""
    size = canvas.shape[0]
    d = round(size * (0.5 if compact else 0.58))
    x0, y0 = (size - d) // 2, round(size * 0.07)
    window = crop_window(photo.shape[1], photo.shape[0], 1.0, face, face_y=0.4, face_share=0.3)
    disc = fit_photo(photo, window, (d, d), tone, sharpen)
    pad = round(size * 0.03)
    span = d + 2 * pad
    coords = np.arange(span, dtype=np.float32) + 0.5 - pad - d / 2
    r = np.sqrt(coords[:, None] ** 2 + coords[None, :] ** 2)
    line = size * 0.004
    ring_mask = np.clip(line / 2 - np.abs(r - d / 2 - line * 1.5) + 0.5, 0, 1)
    glow = soft_blur(ring_mask, size * 0.008) * 0.8
    colour = np.empty((span, span, 3), np.uint8)
    colour[:] = (ring * 255).astype(np.uint8)
    blend_mask(canvas, colour, np.clip(ring_mask + glow, 0, 1), x0 - pad, y0 - pad)
    inside = np.clip(d / 2 - r[pad:pad + d, pad:pad + d] + 0.5, 0, 1)
    blend_mask(canvas, disc, inside, x0, y0)
    box = (x0, y0, x0 + d, y0 + d)
    return Placement(box, _face_on_canvas(face, photo.shape, window, box), "circle")


def place_wash(canvas: np.ndarray, photo: np.ndarray, face: Box | None, shadow: np.ndarray,
               light: np.ndarray, opacity: float = 0.5) -> Placement:
    """Text-forward: the photo behind everything as a soft duotone wash (shadow -> light colour).

    Works on whatever resolution `canvas` has: the caller runs it at half size, since a wash
    this soft loses nothing by being upscaled.
    """
    size = canvas.shape[0]
    window = crop_window(photo.shape[1], photo.shape[0], 1.0, face, face_y=0.38, face_share=0.2)
    grey = cv2.cvtColor(fit_photo(photo, window, (size, size)), cv2.COLOR_RGB2GRAY)
    t = np.linspace(0.0, 1.0, 256, dtype=np.float32)[:, None]
    table = np.clip((shadow[None, :] * (1 - t) + light[None, :] * t) * 255 + 0.5, 0, 255).astype(np.uint8)
    duo = cv2.LUT(cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB), table.reshape(256, 1, 3))
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
    d2 = coords[:, None] ** 2 + (coords[None, :] * 0.9) ** 2
    mask = (np.exp(-d2 / 0.16) * opacity).astype(np.float32)
    blend_mask(canvas, duo, mask, 0, 0)
    box = (0, 0, size, size)
    return Placement(box, _face_on_canvas(face, photo.shape, window, box), "wash")


# --- Cut-out subject (a segmentation mask is available) -------------------------------------------------------


@dataclass(frozen=True)  # shared, through the segmentation cache, by every variant of the photo
class Subject:
    """The segmented person: alpha at photo resolution and its boxes in photo pixels."""

    alpha: np.ndarray  # HxW uint8, 255 = subject
    bbox: tuple[int, int, int, int]  # tight box of alpha > 127
    face: tuple[float, float, float, float] | None  # photo pixels
    cut_bottom: bool  # the photo's frame cuts the subject at the bottom (a bust or half-body shot)
    mean: np.ndarray | None = None  # the subject's mean colour (alpha-weighted, 0..255), for match_tone


def subject_from_mask(alpha: np.ndarray, face_px: tuple[float, float, float, float] | None,
                      photo: np.ndarray) -> Subject | None:
    solid = alpha > 127
    rows, cols = np.flatnonzero(solid.any(axis=1)), np.flatnonzero(solid.any(axis=0))
    if rows.size < 4 or cols.size < 4:
        return None
    h = alpha.shape[0]
    bbox = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    cut_bottom = bool(solid[-max(1, h // 100):].mean() > 0.04)
    small = reduce_to(photo, (64, 64)).reshape(-1, 3).astype(np.float32)
    weights = reduce_to(alpha, (64, 64)).reshape(-1).astype(np.float32)
    weights = weights / max(float(weights.sum()), 1e-6)
    mean = (small * weights[:, None]).sum(axis=0)
    mean.flags.writeable = False
    return Subject(alpha, bbox, face_px, cut_bottom, mean)


@dataclass
class CutoutStyle:
    """How the cut-out meets the scene: light colour for the rim, tone pull, shadow and ground fade."""

    rim_colour: np.ndarray  # float RGB 0..1
    ground_colour: np.ndarray  # float RGB 0..1, what the bottom fades into
    rim: float = 0.55  # rim light strength
    shadow: float = 0.45  # drop shadow opacity behind the subject
    ground: float = 0.5  # ground fade strength at the bottom of the frame
    tone: np.ndarray | None = None  # (256, 1, 3) LUT applied to the subject
    saturation: float = 1.0  # applied with the tone, at the photo's resolution
    opacity: float = 1.0


def cutout_geometry(subject: Subject, side: int, *, height: float, face_h: float | None, eye_y: float,
                    centre_x: float, max_height: float = 0.78) -> tuple[float, float, float]:
    """(scale, ox, oy) mapping photo pixels to canvas pixels: canvas = photo * scale + offset.

    `height` is the visible share of the side the subject should span (head top to its bottom or the
    frame's); `face_h`, when given, asks for that on-canvas face height instead (a close crop), with the
    eye line at `eye_y`. A subject the photo cuts at the bottom is always anchored to the frame's bottom.
    """
    bx0, by0, bx1, by1 = subject.bbox
    face = subject.face
    top_pad = (by1 - by0) * 0.015
    head_top = by0 - top_pad
    if face is not None and face_h is not None:
        fh = face[3] - face[1]
        scale = face_h * side / max(fh, 1.0)
        eye_row = face[1] + 0.42 * fh
        oy = eye_y * side - eye_row * scale
        bottom = oy + by1 * scale
        if subject.cut_bottom and bottom < side:  # keep the cut edge below the frame: grow to reach it
            scale = (side - eye_y * side) / max(by1 - eye_row, 1.0)
            oy = eye_y * side - eye_row * scale
        top = oy + head_top * scale
        lowest = side * (1 - max_height)
        if top < lowest:  # too close: push down so the subject stays within max_height (and the head inside)
            oy += lowest - top
    else:
        scale = height * side / max(by1 - head_top, 1.0)
        oy = side * (0.985 if not subject.cut_bottom else 1.0) - by1 * scale
        if subject.cut_bottom:
            oy = side - by1 * scale
    cx = ((face[0] + face[2]) / 2) if face is not None else (bx0 + bx1) / 2
    ox = centre_x * side - cx * scale
    if face is not None:  # the face is never cut by the frame: keep it 6% inside either side
        fx0, fx1 = face[0] * scale + ox, face[2] * scale + ox
        ox += max(0.0, side * 0.06 - fx0) - max(0.0, fx1 - side * 0.94)
    return scale, ox, oy


def _normalised_fill(image: np.ndarray, alpha: np.ndarray, sigma: float) -> np.ndarray:
    """Subject colours spread outward past its edge (blur(I.a) / blur(a)): what edge pixels should be."""
    a = alpha[..., None]
    num = cv2.GaussianBlur(image.astype(np.float32) * a, (0, 0), sigma)
    den = cv2.GaussianBlur(alpha, (0, 0), sigma)[..., None]
    return num / np.maximum(den, 1e-3)


DECON_TILE = 96  # a multiple of every reduction 1..DECON_REDUCE
DECON_REDUCE = 4


def decontaminate(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Replace the old background showing through the soft edge with the subject's own nearby colours.

    The halo of a cut-out is the original backdrop mixed into edge pixels; where alpha is partial the
    colour is pulled toward a normalised blur of the solid subject, so the rim blends into any scene.
    Only blocks holding some of that edge are touched, and the blur (wide and smooth) is computed at a
    quarter of the size on large cut-outs: a 3000 px cut-out costs its outline, not its area.
    """
    h, w = alpha.shape
    sigma = max(1.5, max(h, w) / 400)
    solid = np.clip((alpha - 0.6) / 0.4, 0.0, 1.0).astype(np.float32)
    # Reduce as far as the blur allows (its sigma stays 1.5 px or more), up to DECON_REDUCE.
    reduce = int(min(DECON_REDUCE, max(1, sigma // 1.5)))
    if reduce > 1:
        small = (max(1, w // reduce), max(1, h // reduce))
        exact = (slice(0, small[1] * reduce), slice(0, small[0] * reduce))  # whole blocks: the fast path
        fill = _normalised_fill(cv2.resize(image[exact], small, interpolation=cv2.INTER_AREA),
                                cv2.resize(solid[exact], small, interpolation=cv2.INTER_AREA), sigma / reduce)
    else:
        fill = _normalised_fill(image, solid, sigma)
    out = image.copy()
    # Pixels whose colour changes: alpha below the "keep" ramp's top, above zero (invisible otherwise).
    edge = ((alpha > 1 / 255) & (alpha < 0.95)).astype(np.float32)
    for row, line in enumerate(_tile_means(edge, DECON_TILE)):
        y0, y1 = row * DECON_TILE, min(h, (row + 1) * DECON_TILE)
        for c0, c1 in _runs(line > 0.0):
            x0, x1 = c0 * DECON_TILE, min(w, c1 * DECON_TILE)
            if reduce > 1:
                part = fill[y0 // reduce:-(-y1 // reduce), x0 // reduce:-(-x1 // reduce)]
                part = cv2.resize(part, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
            else:
                part = fill[y0:y1, x0:x1]
            keep = np.clip((alpha[y0:y1, x0:x1] - 0.55) / 0.4, 0.0, 1.0)[..., None]
            mixed = image[y0:y1, x0:x1].astype(np.float32) * keep + part * (1.0 - keep)
            out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out


_DECON_CACHE = TaskCache(2)
_REDUCED_CACHE = TaskCache(6)


def _block_reduced(image: np.ndarray, k: int, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """`image` (or its part `box`: y0, y1, x0, x1) averaged over whole k x k blocks from the box's corner (rows
    and columns past the last whole block dropped), kept (read-only) for the next variant of the same photo."""
    key = (id(image), image.shape, k, box)
    reduced = _REDUCED_CACHE.get(key, image)
    if reduced is None:
        reduced = block_means(image if box is None else image[box[0]:box[1], box[2]:box[3]], k)
        reduced.flags.writeable = False
        _REDUCED_CACHE.put(key, reduced, image)
    return reduced


def _padded_box(subject: Subject, pad: int) -> tuple[int, int, int, int]:
    """The subject's box grown by `pad` within the photo, as (y0, y1, x0, x1)."""
    ph, pw = subject.alpha.shape[:2]
    bx0, by0, bx1, by1 = subject.bbox
    return max(0, by0 - pad), min(ph, by1 + pad), max(0, bx0 - pad), min(pw, bx1 + pad)


def _decontaminated(photo: np.ndarray, subject: Subject, pad: int) -> np.ndarray:
    """decontaminate() of the subject's padded box (_padded_box) of `photo`, kept (read-only) for the next
    variant of the same photo."""
    y0, y1, x0, x1 = _padded_box(subject, pad)
    key = (id(photo), photo.shape, id(subject.alpha), (y0, y1, x0, x1))
    clean = _DECON_CACHE.get(key, photo)
    if clean is None:
        alpha = subject.alpha[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255)
        clean = decontaminate(photo[y0:y1, x0:x1], alpha)
        clean.flags.writeable = False
        _DECON_CACHE.put(key, clean, photo)
    return clean


def match_tone(subject_mean: np.ndarray, scene_mean: np.ndarray, light: np.ndarray, *,
               temperature: float = 0.3, exposure: float = 0.35, tint: float = 0.1) -> np.ndarray:
    """(256, 1, 3) LUT pulling the subject's white balance and exposure toward the scene and its light;
    `subject_mean` is its mean colour 0..255 (Subject.mean)."""
    mean = subject_mean + 1.0
    target = scene_mean * 255.0 + 1.0
    balance = 1.0 + temperature * ((target / target.mean()) / (mean / mean.mean()) - 1.0)
    light_balance = 1.0 + tint * (light / max(float(light.mean()), 1e-3) - 1.0)
    subject_l, scene_l = float(mean @ [0.2126, 0.7152, 0.0722]), float(target @ [0.2126, 0.7152, 0.0722])
    gain = float(np.clip((scene_l / subject_l) ** exposure, 0.6, 1.12))
    gains = balance * light_balance * gain
    x = np.arange(256, dtype=np.float32)[:, None]
    # Highlights roll off instead of clipping when a gain lifts them.
    y = x * gains[None, :]
    y = np.where(y > 230, 230 + (y - 230) / (1 + (y - 230) / 40), y)
    return np.clip(y + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)


def paste_cutout(canvas: np.ndarray, photo: np.ndarray, subject: Subject, scale: float, ox: float, oy: float,
                 style: CutoutStyle, sharpen: bool | None = None, parts: tuple[str, ...] = ("shadow", "subject", "rim"),
                 finish=None) -> Placement:
    """Composite the cut-out subject onto the canvas (in place): shadow, subject, rim light.

    `sharpen` (default: enlarged past 1.3x here) says whether the photo ends up enlarged on the cover.
    `parts` picks the layers to lay (the soft shadow may go on a smaller working canvas and the subject
    later on the full-size cover); `finish(pixels, x0, y0, step_x, step_y)`, when given, adjusts the subject's
    pixels (the grade the canvas already had) before they are blended in; pixel (i, j) lies at canvas position
    (x0 + j * step_x, y0 + i * step_y), counted in pixel centres. Its adjustments must be smooth across the
    canvas: a subject enlarged here is finished at the photo's resolution, before the enlargement (a fraction
    of the pixels), with steps over 1.
    """
    side = canvas.shape[0]
    ph, pw = photo.shape[:2]
    bx0, by0, bx1, by1 = subject.bbox
    pad = max(2, round(0.02 * max(bx1 - bx0, by1 - by0)))
    # The part of the photo that lands on the canvas, around the subject.
    px0 = max(0, bx0 - pad, int(np.floor(-ox / scale)))
    py0 = max(0, by0 - pad, int(np.floor(-oy / scale)))
    px1 = min(pw, bx1 + pad, int(np.ceil((side - ox) / scale)))
    py1 = min(ph, by1 + pad, int(np.ceil((side - oy) / scale)))
    if px1 - px0 < 2 or py1 - py0 < 2:
        return Placement((0, 0, 0, 0), None, "cutout")
    cx0, cy0 = round(ox + px0 * scale), round(oy + py0 * scale)
    cw, ch = max(1, round((px1 - px0) * scale)), max(1, round((py1 - py0) * scale))
    alpha = subject.alpha[py0:py1, px0:px1]
    box = _padded_box(subject, pad)
    draw_subject = "subject" in parts
    crop = None
    if draw_subject:  # the shadow and the rim need the alpha only
        # Decontaminated once per photo at its own resolution, over the whole padded subject: every variant
        # of the task slices (and, when smaller on the cover, shrinks) the same clean pixels.
        clean = _decontaminated(photo, subject, pad)
        crop = clean[py0 - box[0]:py1 - box[0], px0 - box[2]:px1 - box[2]]
    if scale < 1:  # work at the smaller of the two resolutions
        k = int(1.0 / scale) if scale < 0.5 else 1
        # Whole blocks first, from reduced copies the task's variants share (a phone photo: 20 ms each), the
        # mask's blocks aligned with the clean pixels' (both from the padded subject box's corner); a sliver
        # narrower than a block (a subject almost off the canvas) is shrunk as it is.
        block_rows = slice((py0 - box[0]) // k, (py1 - box[0]) // k)
        block_cols = slice((px0 - box[2]) // k, (px1 - box[2]) // k)
        if k >= 2 and block_rows.stop > block_rows.start and block_cols.stop > block_cols.start:
            alpha = _block_reduced(subject.alpha, k, box)[block_rows, block_cols]
            if draw_subject:
                crop = _block_reduced(clean, k)[block_rows, block_cols]
        if draw_subject:
            crop = shrink(crop, (cw, ch))
        alpha = shrink(alpha, (cw, ch))
    alpha = alpha.astype(np.float32) * np.float32(1 / 255)
    if draw_subject:
        if style.tone is not None:
            crop = cv2.LUT(crop, style.tone)
        crop = apply_saturation(crop, style.saturation)
        if sharpen if sharpen is not None else scale > 1.3:  # at the source resolution: reads like sharpening
            soft = cv2.GaussianBlur(crop, (0, 0), 1.0)
            crop = cv2.addWeighted(crop, 1.4, soft, -0.4, 0)
    early = finish is not None and draw_subject and scale > 1
    if early:  # the canvas pixel under each photo pixel's centre (clipped: what lies off the canvas is cut below)
        if not crop.flags.writeable:  # still the shared clean pixels: finish works in place
            crop = crop.copy()
        step_y, step_x = ch / crop.shape[0], cw / crop.shape[1]
        crop = finish(np.ascontiguousarray(crop), cx0 + 0.5 * step_x - 0.5, cy0 + 0.5 * step_y - 0.5, step_x, step_y)
    if scale >= 1:
        if draw_subject:
            crop = cv2.resize(crop, (cw, ch), interpolation=cv2.INTER_CUBIC)
        # Linear interpolation keeps 0..1 (up to a rounding ulp, harmless: blend() normalises its weights).
        alpha = cv2.resize(alpha, (cw, ch), interpolation=cv2.INTER_LINEAR)
    # Clip to the canvas.
    x0, y0 = max(0, cx0), max(0, cy0)
    x1, y1 = min(side, cx0 + cw), min(side, cy0 + ch)
    if draw_subject:
        crop = crop[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
    alpha = alpha[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]  # a view: the blocks are made contiguous as blended
    if style.opacity < 1:
        alpha = alpha * np.float32(style.opacity)
    if finish is not None and draw_subject and not early:
        crop = finish(np.ascontiguousarray(crop), float(x0), float(y0), 1.0, 1.0)
    region = canvas[y0:y1, x0:x1]
    rh, rw = alpha.shape
    alpha_means = _tile_means(alpha, BLEND_TILE)
    # Shadow and rim are soft: work on a quarter-size alpha and upscale the results.
    qw, qh = max(1, rw // 4), max(1, rh // 4)
    quarter = cv2.resize(alpha[:qh * 4, :qw * 4], (qw, qh), interpolation=cv2.INTER_AREA)  # exact 4:1 (fast)
    if style.shadow > 0 and "shadow" in parts:  # the silhouette, blurred and dropped, darkening the scene behind
        shift = max(1, round(side * 0.01 / 4))
        shadow = np.zeros_like(quarter)
        shadow[shift:] = cv2.GaussianBlur(quarter, (0, 0), side * 0.012 / 4)[:-shift]
        shadow *= np.float32(style.shadow)
        shadow[shadow < 1 / 512] = 0.0  # too faint to move a level: lets whole blocks be skipped
        shadow = cv2.resize(shadow, (rw, rh), interpolation=cv2.INTER_LINEAR)  # stays within 0..style.shadow
        dark = (style.ground_colour * 0.35 * 255).astype(np.uint8)
        # Under the solid subject the shadow is covered anyway: only blocks the subject doesn't fill.
        shadow_means = _tile_means(shadow, BLEND_TILE)
        shadow_means[alpha_means >= SOLID] = 0.0
        blend_tiled(region, dark, shadow, shadow_means)
        if not subject.cut_bottom:  # a standing figure: the soft pool of shade its feet leave on the ground
            contact_shadow(canvas, quarter, x0, y0, dark, min(0.75, style.shadow * 1.4))
    if draw_subject:
        blend_tiled(region, crop, alpha, alpha_means)
    if style.rim > 0 and "rim" in parts:  # rim light: the mask's inner edge, brightened and blurred, lit from above
        inner = np.clip(quarter - cv2.GaussianBlur(quarter, (0, 0), max(1.0, side * 0.004 / 4)), 0.0, 1.0)
        glow = cv2.GaussianBlur(inner, (0, 0), max(1.0, side * 0.006 / 4))
        rim = np.clip(inner * 1.6 + glow * 0.9, 0.0, 1.0) * np.float32(style.rim)
        rim *= np.linspace(1.0, 0.25, qh, dtype=np.float32)[:, None]
        light = np.clip(style.rim_colour * 255.0, 0, 255).astype(np.float32)
        add_q = (rim[..., None] * light).astype(np.uint8)
        add = cv2.resize(add_q, (rw, rh), interpolation=cv2.INTER_LINEAR)
        # Only where the subject is: the rim sits inside the silhouette, the glow spills a little outside.
        # Add block by block where the rim is lit (found at quarter size, grown by the upscale's reach).
        lit = cv2.dilate((rim * float(light.max()) >= 1.0).astype(np.uint8), np.ones((5, 5), np.uint8))
        for row, line in enumerate(_quarter_tiles(lit, rh, rw)):
            ty0, ty1 = row * BLEND_TILE, min(rh, (row + 1) * BLEND_TILE)
            for c0, c1 in _runs(line):
                tx0, tx1 = c0 * BLEND_TILE, min(rw, c1 * BLEND_TILE)
                region[ty0:ty1, tx0:tx1] = cv2.add(region[ty0:ty1, tx0:tx1], add[ty0:ty1, tx0:tx1])
    return cutout_placement(subject, scale, ox, oy, side)


def contact_shadow(canvas: np.ndarray, quarter: np.ndarray, x0: int, y0: int, colour: np.ndarray,
                   opacity: float) -> None:
    """An elliptical shadow under the lowest part of a standing subject (in place).

    `quarter` is the subject's alpha at a quarter of its size on the canvas, placed at (x0, y0)."""
    rows = np.flatnonzero(quarter.max(axis=1) > 0.5)
    if rows.size < 8:
        return
    low = quarter[max(rows[0], rows[-1] - max(2, rows.size // 30)):rows[-1] + 1]
    cols = np.flatnonzero(low.max(axis=0) > 0.5)
    if cols.size == 0:
        return
    side = canvas.shape[0]
    feet_y = y0 + (rows[-1] + 1) * 4
    if feet_y >= side - 2:
        return  # the frame cuts the figure at its feet: no ground to cast on
    cx = x0 + (cols[0] + cols[-1] + 1) * 2.0
    half_w = (cols[-1] + 1 - cols[0]) * 2.0 * 1.5 + side * 0.02
    half_h = max(2.0, half_w * 0.14)
    bx0, bx1 = max(0, int(cx - half_w * 1.6)), min(side, int(cx + half_w * 1.6) + 1)
    by0, by1 = max(0, int(feet_y - half_h * 1.6)), min(side, int(feet_y + half_h * 1.6) + 1)
    if bx1 <= bx0 or by1 <= by0:
        return
    yy = (np.arange(by0, by1, dtype=np.float32) + 0.5 - feet_y)[:, None] / np.float32(half_h)
    xx = (np.arange(bx0, bx1, dtype=np.float32) + 0.5 - cx)[None, :] / np.float32(half_w)
    mask = (np.exp(-2.0 * (xx * xx + yy * yy)) * np.float32(opacity)).astype(np.float32)
    patch = np.empty((by1 - by0, bx1 - bx0, 3), np.uint8)
    patch[:] = colour
    canvas[by0:by1, bx0:bx1] = blend(canvas[by0:by1, bx0:bx1], patch, mask)


def cutout_placement(subject: Subject, scale: float, ox: float, oy: float, side: int) -> Placement:
    """Where the cut-out lands (its box and face) on a canvas of `side`, without drawing it."""
    bx0, by0, bx1, by1 = subject.bbox
    face = None
    if subject.face is not None:
        f = subject.face
        face = (round(f[0] * scale + ox), round(f[1] * scale + oy), round(f[2] * scale + ox), round(f[3] * scale + oy))
    box = (max(0, round(bx0 * scale + ox)), max(0, round(by0 * scale + oy)),
           min(side, round(bx1 * scale + ox)), min(side, round(by1 * scale + oy)))
    return Placement(box, face, "cutout")


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
