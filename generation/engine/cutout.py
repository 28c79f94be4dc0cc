"""The cut-out person and its gate: whether a person mask is clean enough to cut out (judge_mask), and, when it
is, the cut-out's geometry, its decontaminated edge, and pasting it on a scene with rim light, contact shadow and
the scene's tone."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .composite import (
    BLEND_TILE,
    SOLID,
    Placement,
    blend,
    blend_tiled,
    block_means,
    quarter_tiles,
    reduce_to,
    runs,
    shrink,
    tile_means,
)
from .grade import apply_saturation


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
    duotone: np.ndarray | None = None  # (256, 1, 3) LUT from grey, after the tone: the subject in two inks


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
    for row, line in enumerate(tile_means(edge, DECON_TILE)):
        y0, y1 = row * DECON_TILE, min(h, (row + 1) * DECON_TILE)
        for c0, c1 in runs(line > 0.0):
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


def _block_reduced(image: np.ndarray, k: int, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """`image` (or its part `box`: y0, y1, x0, x1) averaged over whole k x k blocks from the box's corner (rows
    and columns past the last whole block dropped)."""
    return block_means(image if box is None else image[box[0]:box[1], box[2]:box[3]], k)


def _padded_box(subject: Subject, pad: int) -> tuple[int, int, int, int]:
    """The subject's box grown by `pad` within the photo, as (y0, y1, x0, x1)."""
    ph, pw = subject.alpha.shape[:2]
    bx0, by0, bx1, by1 = subject.bbox
    return max(0, by0 - pad), min(ph, by1 + pad), max(0, bx0 - pad), min(pw, bx1 + pad)


def _decontaminated(photo: np.ndarray, subject: Subject, pad: int) -> np.ndarray:
    """decontaminate() of the subject's padded box (_padded_box) of `photo`."""
    y0, y1, x0, x1 = _padded_box(subject, pad)
    alpha = subject.alpha[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255)
    return decontaminate(photo[y0:y1, x0:x1], alpha)


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
        if style.duotone is not None:
            crop = cv2.LUT(cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB), style.duotone)
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
    alpha_means = tile_means(alpha, BLEND_TILE)
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
        shadow_means = tile_means(shadow, BLEND_TILE)
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
        for row, line in enumerate(quarter_tiles(lit, rh, rw)):
            ty0, ty1 = row * BLEND_TILE, min(rh, (row + 1) * BLEND_TILE)
            for c0, c1 in runs(line):
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


# -- the gate ----------------------------------------------------------------------------------------

# The mask gate (COVER-CRAFT: cut-outs only when they are clean).
GATE_EDGE_SHARE = 0.02  # of a frame edge's length: the person runs into the left, right or top edge there
GATE_BLOB_SHARE = 0.03  # a second blob this big against the main one: another person or a piece of the background
GATE_HOLE_SHARE = 0.01  # holes inside the body, as a share of its area (the scene would show through)
GATE_EDGE_WIDTH = 0.02  # mean width of the uncertain edge (alpha 10%..90%) as a share of the subject's height


@dataclass(frozen=True)
class Gate:
    passed: bool
    reasons: tuple[str, ...]
    values: dict = field(default_factory=dict, compare=False)


def enclosed(body: np.ndarray) -> np.ndarray:
    """The pieces of background wholly enclosed by the body (touching no edge of the frame): its holes."""
    h, w = body.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats((body == 0).astype(np.uint8), connectivity=4)
    inner = [i for i in range(1, count) if stats[i, 0] > 0 and stats[i, 1] > 0
             and stats[i, 0] + stats[i, 2] < w and stats[i, 1] + stats[i, 3] < h]
    return np.isin(labels, inner) if inner else np.zeros(body.shape, bool)


def judge_mask(alpha: np.ndarray, faces, main_face=None) -> Gate:
    """Whether a person mask is clean enough to cut out: one blob, no other face in it, not cut by the frame at
    the sides or the top, no holes in the body, a narrow uncertain edge. Bottom cuts are a bust: allowed."""
    h, w = alpha.shape
    k = max(1, max(h, w) // 512)
    small = block_means(alpha, k) if k > 1 else alpha
    sh, sw = small.shape
    solid = (small > 127).astype(np.uint8)
    reasons, values = [], {}
    edges = {"left": solid[:, 0].mean(), "right": solid[:, -1].mean(), "top": solid[0, :].mean()}
    values["edge_contact"] = {name: round(float(v), 3) for name, v in edges.items()}
    cut = [name for name, v in edges.items() if v > GATE_EDGE_SHARE]
    if cut:
        reasons.append("cut by the frame: " + ", ".join(cut))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    areas = sorted((int(a) for a in stats[1:, cv2.CC_STAT_AREA]), reverse=True)
    if not areas:
        return Gate(False, ("no person",), values)
    values["blobs"] = len([a for a in areas if a >= GATE_BLOB_SHARE * areas[0]])
    if values["blobs"] > 1:
        reasons.append(f"{values['blobs']} separate blobs")
    main = int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) + 1
    body = (labels == main).astype(np.uint8)
    holes = float(enclosed(body).sum()) / max(float(body.sum()), 1.0)
    values["holes"] = round(holes, 4)
    if holes > GATE_HOLE_SHARE:
        reasons.append(f"holes inside the body ({holes:.1%})")
    others = [f for f in faces if main_face is None or f != main_face]
    inside = 0
    for f in others:
        cx, cy = int((f[0] + f[2]) / 2 / k), int((f[1] + f[3]) / 2 / k)
        if 0 <= cy < sh and 0 <= cx < sw and body[cy, cx]:
            inside += 1
    values["other_faces"] = inside
    if inside:
        reasons.append(f"{inside} other face(s) inside the mask")
    uncertain = float(((small > 25) & (small < 230)).sum())
    perimeter = max(float(cv2.arcLength(max(cv2.findContours(body, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0],
                                                 key=len), True)), 1.0)
    rows = np.flatnonzero(body.any(axis=1))
    height = float(rows[-1] - rows[0] + 1) if rows.size else 1.0
    width = uncertain / perimeter / height
    values["edge_width"] = round(width, 4)
    if width > GATE_EDGE_WIDTH:
        reasons.append(f"wide uncertain edge ({width:.1%} of the height)")
    return Gate(not reasons, tuple(reasons), values)
