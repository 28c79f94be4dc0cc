"""The photo as a print: a screen-printed stencil of the person for background-forward covers, and the
halftone texture a typographic poster sets its title on.

A stencil is a gig poster's portrait: the face cut into two or three flat levels of one ink, a halo of a
second ink behind the head, on a flat printed ground. Where the mask is unsure, the print breaks into
halftone dots and dies into the paper, so a mask that is a little wrong reads as the print's own edge.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import treatments
from .crop import Crop, face_crop, protected
from .raster import as_float, blur, colour_luminance, fbm, luminance, resize
from .textures import dot_screen


def inks(palette, dark: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ground, halo, ink): the darkest of the palette prints the person; the ground and the halo are the two
    colours furthest from it in value, so the face stands out of them at 56 px; `dark`: the inks of a print
    light on black stock instead."""
    if dark:
        return _reversed_inks(palette)
    colours = [np.asarray(palette[i], np.float32) for i in range(min(5, len(palette)))]
    ink = min(colours, key=colour_luminance)
    ink = np.clip(ink * (0.09 / max(colour_luminance(ink), 0.09)), 0.0, 1.0)  # printed deep: near black
    light = sorted(colours, key=lambda c: -colour_luminance(c))
    ground = light[1] if colour_luminance(light[1]) > 0.3 else np.clip(light[1] * 0.5 + light[0] * 0.5, 0, 1)
    halo = light[0]
    if abs(colour_luminance(halo) - colour_luminance(ground)) < 0.08:  # one flat field would swallow the halo
        halo = np.clip(halo * 0.55 + 0.45, 0.0, 1.0) if colour_luminance(ground) < 0.7 else ground * 0.75
    return ground, halo, ink


def _reversed_inks(palette) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ground, halo, ink) of a stencil printed light on black stock: the lights of the face in the palette's
    lightest colour, a halo of its most saturated one."""
    colours = [np.asarray(palette[i], np.float32) for i in range(min(5, len(palette)))]
    ground = min(colours, key=colour_luminance)
    ground = np.clip(ground * (0.03 / max(colour_luminance(ground), 0.03)), 0.0, 1.0)
    ink = max(colours, key=colour_luminance)
    ink = np.clip(ink * 0.4 + 0.6, 0.0, 1.0) if colour_luminance(ink) < 0.75 else ink
    halo = max(colours, key=lambda c: float(c.max() - c.min()) + 0.2 * colour_luminance(c))
    halo = np.clip(halo * (0.3 / max(colour_luminance(halo), 0.3)), 0.0, 1.0)  # deep, or the ink cannot show
    return ground, halo, ink


def print_crop(photo, face_share: float, eye_y: float, face_x: float = 0.5) -> Crop:
    """A square around the faces that may reach past the photo's edges: a print needs no pixels there (the
    paper shows), so a tight portrait keeps its headroom and the halo around the head."""
    cluster = photo.cluster(min(photo.size))
    w, h = photo.size
    if cluster is None:
        return face_crop(photo.size, 1.0, None, face_share=face_share)
    keep = protected(cluster)
    fh = cluster[3] - cluster[1]
    ch = max(fh / face_share, keep[3] - keep[1], keep[2] - keep[0])
    ch = min(ch, max(w, h) * 1.8)  # the photo keeps most of the sheet: a print, not a stamp on an empty one
    x0 = (cluster[0] + cluster[2]) / 2 - face_x * ch
    y0 = cluster[1] + 0.4 * fh - eye_y * ch
    return Crop((x0, y0, x0 + ch, y0 + ch), True)


def _region(photo, box, work: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The box (photo pixels, possibly past the edges) at work x work: pixels (edges repeated), mask (0 past the
    edges) and how far inside the photo each pixel lies (0 at its edge, 1 a little way in): a photo cut at the
    chest or the crown fades out there, never a straight edge across the print."""
    x0, y0, x1, y1 = box
    step = (x1 - x0) / work
    matrix = np.float32([[step, 0, x0], [0, step, y0]])
    flags = cv2.INTER_LINEAR  # (the stencil is blurred and levelled after: no detail to alias)
    pixels = cv2.warpAffine(photo.pixels, matrix, (work, work), flags=flags | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REPLICATE)
    mask = None
    if photo.mask is not None:
        mask = cv2.warpAffine(photo.mask, matrix, (work, work), flags=flags | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    w, h = photo.size
    ramp = max(work * 0.1, 1.0)  # the print dies out toward an edge of the photo that lies inside the sheet
    xs = x0 + step * (np.arange(work, dtype=np.float32) + 0.5)
    ys = y0 + step * (np.arange(work, dtype=np.float32) + 0.5)
    inside_x = np.clip(np.minimum(xs, w - xs) / step / ramp, 0.0, 1.0)
    inside_y = np.clip(np.minimum(ys, h - ys) / step / ramp, 0.0, 1.0)
    return as_float(pixels), mask, np.minimum.outer(inside_y, inside_x)


def stencil(photo, box: tuple[float, float, float, float], work: int, palette, rng, face=None,
            reverse: bool = False, halo: str = "disc") -> np.ndarray:
    """The crop `box` of the prepared photo (it may reach past the photo: paper shows there) printed as a
    stencil on a flat ground, at work x work; `reverse` prints the face's lights in a light ink on black stock
    instead of its shadows in a deep one; `halo` is the shape of the second ink behind the head (HALOS)."""
    shape = halo
    region, mask, inside = _region(photo, box, work)
    weight = treatments.subject_weight(mask, (work, work), face, feather=0.004)
    weight *= inside
    del mask, inside
    ground, halo, ink = inks(palette, reverse)
    # Local contrast first (a flat-lit face would print as one blob), then three levels: ink, dots, paper.
    grey = (np.clip(luminance(region), 0.0, 1.0) * 255).astype(np.uint8)
    del region
    grey = cv2.createCLAHE(clipLimit=2.5, tileGridSize=(6, 6)).apply(grey).astype(np.float32) / 255.0
    grey = blur(grey, work * 0.0015)  # a stencil has no pores: small detail would print as noise
    sample, inner = grey[::4, ::4], weight[::4, ::4] > 0.5
    lo, hi = (float(v) for v in np.percentile(sample[inner] if inner.any() else sample, (12, 88)))
    if face is not None:  # the levels are the face's: white clothes or a dark coat must not print it as a blob
        fx0, fy0, fx1, fy1 = (int(round(v)) for v in face)
        pad_x, pad_y = (fx1 - fx0) // 8, (fy1 - fy0) // 8
        region = grey[max(0, fy0 + pad_y):max(0, fy1 - pad_y), max(0, fx0 + pad_x):max(0, fx1 - pad_x)]
        if region.size >= 64:
            f_lo, f_hi = (float(v) for v in np.percentile(region, (6, 94)))
            lo, hi = 0.5 * (lo + f_lo), 0.5 * (hi + f_hi)
    tone = grey
    tone -= np.float32(lo)
    tone *= np.float32(1.0 / max(hi - lo, 0.05))
    np.clip(tone, 0.0, 1.0, out=tone)
    if reverse:
        np.subtract(np.float32(1.0), tone, out=tone)
    shadow = _step(tone, 0.36)  # solid ink
    mid = _step(tone, 0.66)  # the middle level: a coarse dot screen
    mid -= shadow
    del tone, grey
    cell = max(5.0, work / 120)
    mid *= dot_screen(np.full((work, work), 0.42, np.float32), cell, 45.0)
    shadow += mid
    del mid
    # The print's edge: full strength inside the person, breaking into dots where the mask is unsure.
    weight *= np.float32(1.6)
    weight -= np.float32(0.3)
    shadow *= dot_screen(np.clip(weight, 0.0, 1.0, out=weight), cell, 45.0)
    del weight
    tooth = fbm(rng, (work, work), octaves=4, base=max(8, work // 6))
    tooth -= np.float32(0.5)
    # Ink laid unevenly: the coverage of the ink, then of the halo (a disc of the second ink behind the head,
    # as screen printers frame a portrait).
    cover = shadow
    cover *= tooth * np.float32(0.1) + np.float32(0.92)
    np.clip(cover, 0.0, 1.0, out=cover)
    if face is not None:
        cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
        r = min(max(face[3] - face[1], face[2] - face[0]) * float(rng.uniform(1.45, 1.8)), work * 0.42)
    else:
        cx, cy, r = work * 0.5, work * 0.4, work * 0.3
    shift = max(1, work // 300)  # the two screens never quite register
    yy = np.arange(work, dtype=np.float32)[:, None] - np.float32(cy + shift)
    xx = np.arange(work, dtype=np.float32)[None, :] - np.float32(cx + shift)
    disc = halo_inside(shape, xx, yy, np.float32(r))
    disc *= np.float32(0.96 / 1.5)
    disc += np.float32(0.96 * 0.5)
    np.clip(disc, 0.0, 0.96, out=disc)
    tooth *= np.float32(0.035)
    canvas = np.empty((work, work, 3), np.float32)
    plane = np.empty((work, work), np.float32)
    for channel in range(3):  # one channel at a time: ground, halo over it, ink over both, the paper's tooth
        g, h, i = (np.float32(c[channel]) for c in (ground, halo, ink))
        np.multiply(disc, h - g, out=plane)
        plane += g
        # plane + (ink - plane) * cover  ==  plane * (1 - cover) + ink * cover
        np.multiply(plane, np.float32(1.0) - cover, out=plane)
        plane += cover * i
        plane += tooth
        canvas[..., channel] = np.clip(plane, 0.0, 1.0, out=plane)
    return canvas


HALOS = ("disc", "arch", "band", "ring")


def halo_inside(shape: str, xx: np.ndarray, yy: np.ndarray, r: np.float32) -> np.ndarray:
    """How far inside the halo each pixel lies, in pixels (negative outside), for a head centred at the origin
    with halo radius `r`: a disc; an arch (a church window rising from the foot of the sheet, its round top
    over the head); a band of the second ink across the sheet at the head's height; a thick ring around it."""
    if shape == "band":
        return np.broadcast_to(r * np.float32(0.55) - np.abs(yy), (yy.shape[0], xx.shape[1])).copy()
    dist = np.sqrt(xx * xx + yy * yy)
    if shape == "arch":
        width = r * np.float32(0.92)
        side = width - np.abs(xx)
        return np.where(yy > 0, np.broadcast_to(side, dist.shape), width - dist).astype(np.float32)
    if shape == "ring":
        dist -= r * np.float32(1.02)
        np.abs(dist, out=dist)
        np.subtract(r * np.float32(0.2), dist, out=dist)
        return dist
    np.subtract(r, dist, out=dist)
    return dist


def _step(tone: np.ndarray, at: float) -> np.ndarray:
    """1 where `tone` is under `at`, 0 above it, with a narrow soft edge (a level of the stencil)."""
    out = np.float32(at / 0.03 + 0.5) - tone * np.float32(1 / 0.03)
    return np.clip(out, 0.0, 1.0, out=out)


def poster_texture(photo, box: tuple[int, int, int, int], size: tuple[int, int], base, strength: float,
                   ink=None) -> np.ndarray:
    """The ink coverage of the crop at `size` (w, h) printed as fine halftone dots on `base` (the shadows in an ink
    darker than the ground, the lights in one lighter; without `ink`: the lights on a dark ground, the shadows on a
    light one), knocked back to `strength` under a poster's title."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    work = size[0]
    region = as_float(resize(np.ascontiguousarray(photo.pixels[y0:y1, x0:x1]), size))
    tone = np.clip((luminance(region) - 0.1) / 0.8, 0.0, 1.0)
    darker = colour_luminance(base) >= 0.5 if ink is None else colour_luminance(ink) < colour_luminance(base)
    if darker:
        tone = 1.0 - tone  # dark dots on a light ground for the shadows; light dots on a dark one for the lights
    cover = dot_screen(tone, max(5, work // 95), 30.0)
    cover *= np.float32(0.97 * strength)
    return cover


def printed_stock(palette, rng, n: int, dark: bool = False) -> np.ndarray:
    """The stencil's flat ground with paper tooth, float RGB n x n: the stage a gated cut-out stands on."""
    ground = inks(palette, dark)[0]
    tooth = fbm(rng, (n, n), octaves=4, base=max(8, n // 6)) - 0.5
    return np.clip(np.broadcast_to(ground, (n, n, 3)) + tooth[..., None] * 0.035, 0.0, 1.0).astype(np.float32)


def draw_halo(rgb: np.ndarray, cx: float, cy: float, r: float, palette, dark: bool = False) -> None:
    """The stencil's halo (a disc of its second ink) behind a head at (cx, cy), on a uint8 canvas, in place."""
    halo = np.clip(np.asarray(inks(palette, dark)[1], np.float32) * 255.0 + 0.5, 0, 255)
    r = min(r, rgb.shape[0] * 0.42)
    cv2.circle(rgb, (round(cx * 16), round(cy * 16)), round(r * 16), tuple(int(v) for v in halo), -1, cv2.LINE_AA,
               shift=4)


def figure_duotone(palette) -> np.ndarray:
    """The (256, 1, 3) table that prints a cut-out in the light stock's inks, grey to colour: the shadows in
    the deep ink, the lights a paper white. In full colour on a flat light ground a photo reads as a sticker;
    in the print's inks it belongs to the print. (On black stock a duotone sinks into its own halo: the
    figure keeps its colour there.)"""
    ink = inks(palette, False)[2]
    shadow, high = ink, np.array([0.97, 0.95, 0.91], np.float32)
    t = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    t = np.clip((t - 0.06) / 0.88, 0.0, 1.0)
    t = t * t * (3.0 - 2.0 * t)  # a print's contrast: the middle steeper, the ends flat
    table = shadow[None, :] + (high - shadow)[None, :] * t[:, None]
    return np.clip(table * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)
