"""Photographic treatments of the artist's own photo, and film emulation laid over the finished picture.

A treatment takes the crop (float RGB 0..1) and the palette and returns the treated picture. The photo's
background is transformed with the person mask as soft guidance (blurred like a wide aperture, darkened,
washed), never cut: a mask that is a little wrong stays invisible.
"""

from __future__ import annotations

import cv2
import numpy as np

from .raster import blur, colour_luminance, fbm, gradient_map, luminance, mix, radial, screen, smooth_field

_WHITE = np.ones(3, np.float32)


def _levels(value: np.ndarray, lo_pct: float = 1.0, hi_pct: float = 99.0) -> np.ndarray:
    lo, hi = np.percentile(value[::4, ::4], (lo_pct, hi_pct))
    return np.clip((value - lo) / max(hi - lo, 0.05), 0.0, 1.0)


def _s_curve(value: np.ndarray, strength: float) -> np.ndarray:
    """value + (smoothstep(value) - value) * strength, through a 1024-entry table (one lookup per pixel)."""
    x = np.linspace(0.0, 1.0, 1024, dtype=np.float32)
    table = x + (x * x * (3.0 - 2.0 * x) - x) * np.float32(strength)
    index = np.clip(np.asarray(value, np.float32) * 1023.0 + 0.5, 0, 1023).astype(np.int16)
    return table[index]


def _dark_light(palette) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ordered = sorted((palette[0], palette[1], palette[2], palette[3]), key=colour_luminance)
    return ordered[0] * 0.6, palette[2], np.clip(ordered[-1] * 0.5 + 0.5, 0.0, 1.0)


def mono(rgb: np.ndarray, palette, rng) -> np.ndarray:
    """High-contrast black and white with crushed blacks and a breath of the palette in the highlights."""
    value = _s_curve(_levels(luminance(rgb), 2.0, 99.5), 0.9) ** 1.15
    tint = np.clip(_WHITE * 0.9 + palette[3] * 0.1, 0.0, 1.0)
    return gradient_map(value, [(0.0, np.full(3, 0.02, np.float32)), (0.6, tint * 0.62), (1.0, tint)])


def duotone(rgb: np.ndarray, palette, rng) -> np.ndarray:
    """Two inks: the palette's darkest colour in the shadows, its accent in the lights."""
    dark, accent, light = _dark_light(palette)
    value = _s_curve(_levels(luminance(rgb)), 0.5)
    return gradient_map(value, [(0.0, dark), (1.0, np.clip(_skin_ink(palette, light) * 1.05, 0.0, 1.0))])


def _skin_ink(palette, fallback) -> np.ndarray:
    """The palette's light ink that flatters skin: the reddest (red over green: pink, peach, orange) of the
    colours bright enough to carry the lights; a yellow or green light ink makes faces look ill."""
    inks = [np.asarray(c, np.float32) for c in (palette[2], palette[1], palette[3]) if colour_luminance(c) > 0.25]
    if not inks:
        return np.asarray(fallback, np.float32)
    return max(inks, key=lambda c: float(c[0] - c[1]) + 0.1 * colour_luminance(c))


def tritone(rgb: np.ndarray, palette, rng) -> np.ndarray:
    """Three inks: shadow, accent in the midtones, a pale highlight."""
    dark, accent, light = _dark_light(palette)
    value = _s_curve(_levels(luminance(rgb)), 0.4)
    return gradient_map(value, [(0.0, dark), (0.5, accent), (1.0, light)])


def split(rgb: np.ndarray, palette, rng) -> np.ndarray:
    """Colour kept but quieter, shadows pushed to the palette's base hue, highlights to its highlight."""
    value = luminance(rgb)
    grey = np.repeat(value[..., None], 3, axis=2)
    out = mix(grey, rgb, 0.6)
    out = _s_curve(np.clip((out - 0.03) / 0.95, 0.0, 1.0), 0.45)
    shadow = np.clip(palette[0] * 1.6 + 0.02, 0.0, 1.0)
    shadows = np.clip(1.0 - value * 2.0, 0.0, 1.0) * 0.35
    highs = np.clip(value * 2.0 - 1.0, 0.0, 1.0) * 0.3
    out = mix(out, out * 0.4 + shadow * 0.6, shadows)
    out = mix(out, screen(out, palette[3] * 0.5), highs)
    return np.clip(out, 0.0, 1.0)


_CROSS = [np.interp(np.linspace(0, 1, 256), xs, ys).astype(np.float32) for xs, ys in (
    ((0, 0.25, 0.75, 1), (0.0, 0.16, 0.86, 1.0)),  # red: contrast up
    ((0, 0.3, 0.7, 1), (0.04, 0.3, 0.78, 1.0)),  # green: lifted
    ((0, 0.5, 1), (0.2, 0.42, 0.72)),  # blue: flat, raised blacks, dull highlights (yellow-green lights)
)]


def cross(rgb: np.ndarray, palette, rng) -> np.ndarray:
    """Cross-processed slide film: hard reds, cyan-green shadows, yellow highlights, saturated."""
    index = cv2.convertScaleAbs(np.clip(rgb, 0.0, 1.0), alpha=255.0)
    out = np.stack([_CROSS[ch][index[..., ch]] for ch in range(3)], axis=2)
    value = luminance(out)[..., None]
    return np.clip(value + (out - value) * 1.25, 0.0, 1.0)


def film(rgb: np.ndarray, palette, rng) -> np.ndarray:
    """Warm negative film: faded blacks, soft contrast, a colour cast from the palette, a little desaturated."""
    out = np.clip(rgb * 0.86 + 0.08, 0.0, 1.0)
    value = luminance(out)[..., None]
    out = value + (out - value) * 0.72  # print film's muted colour: a graded photo, never a raw press shot
    warm = np.clip(palette[3] * 0.5 + np.array([1.0, 0.85, 0.68], np.float32) * 0.5, 0.0, 1.0)
    out = out * (0.75 + 0.25 * warm)
    out = mix(out, out * 0.75 + palette[0] * 0.7, np.clip(1.0 - value[..., 0] * 2.2, 0.0, 1.0) * 0.6)
    return np.clip(_s_curve(out, 0.3), 0.0, 1.0)


def natural(rgb: np.ndarray, palette, rng) -> np.ndarray:
    """The photo's own colour, levelled and given gentle contrast."""
    value = luminance(rgb)
    lo, hi = np.percentile(value[::4, ::4], (0.5, 99.5))
    out = np.clip((rgb - lo) / max(hi - lo, 0.1), 0.0, 1.0)
    return _s_curve(out, 0.3)


TREATMENTS = {"mono": mono, "duotone": duotone, "tritone": tritone, "split": split, "cross": cross, "film": film,
              "natural": natural}


# -- the photo's own background, transformed ------------------------------------------------------

def subject_weight(mask: np.ndarray | None, size: tuple[int, int], face: tuple | None = None, *,
                   feather: float = 0.006) -> np.ndarray:
    """How much each pixel is the subject, 0..1, soft: the mask dilated and feathered wide, or without a
    mask a soft ellipse around the face (a portrait's depth of field)."""
    w, h = size
    if mask is not None:
        small = cv2.resize(mask, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
        # Grown a little and feathered: a mask a few pixels off stays invisible, and the untouched band around
        # the subject is too narrow to read as a glow.
        small = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(3, w // 200),) * 2))
        weight = blur(small.astype(np.float32) / 255.0, max(w, h) * feather)
        return cv2.resize(weight, (w, h), interpolation=cv2.INTER_LINEAR)
    if face is None:
        return radial((h, w), (0.5, 0.45), 0.75) * 0.6
    cx, cy = (face[0] + face[2]) / 2 / w, (face[1] + face[3]) / 2 / h
    return radial((h, w), (cx, cy + 0.1), max(face[3] - face[1], face[2] - face[0]) * 2.6 / w)


def transform_background(rgb: np.ndarray, weight: np.ndarray, palette, how: str, amount: float, *,
                         focus: bool = True) -> np.ndarray:
    """The background (1 - weight) blurred like f/1.4, darkened, desaturated or washed in the palette;
    without a subject in `focus` (nobody in the photo) only its tone changes, never its sharpness."""
    if how == "none" or amount <= 0:
        return rgb
    h, w = rgb.shape[:2]
    back = blur(rgb, max(w, h) * 0.014) if focus else rgb
    if how in ("depth", "dark"):
        back = back * (0.72 if how == "depth" else 0.45)
    elif how == "wash":
        value = luminance(back)[..., None]
        back = mix(back, palette[0] * 0.5 + palette[1] * 0.5 + value * 0.3, 0.65)
    elif how == "desat":
        value = luminance(back)[..., None]
        back = (value + (back - value) * 0.2) * 0.8
    return mix(rgb, back, (1.0 - weight) * amount)


KNOCKOUT_BACK = 0.66  # where the photo's own background settles in a knockout's tone (1: the letters' full ink)


def knockout_tone(photo: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """The photo's tone (0..1) as seen through a title's knocked-out letters: high-contrast black and white, the
    person in full range and the photo's own background (1 - weight) flattened toward the letters' ink, so the
    letters read whole where they cross it. Returns a new uint8 plane."""
    value = _s_curve(_levels(luminance(photo), 2.0, 99.0), 0.8)
    if weight is not None:
        back = KNOCKOUT_BACK + (value - 0.5) * 0.6
        value = mix(back, value, np.clip(weight, 0.0, 1.0))
    return np.clip(value * 255.0 + 0.5, 0, 255).astype(np.uint8)


GHOST_FLOOR = 0.12  # how much of the photo's own background survives in a double exposure (the person: all)
GHOST_CLEAR = 0.75  # how far the scene gives way under the person (a leak across a face reads as a stain)


def ghost(scene: np.ndarray, photo: np.ndarray, weight: np.ndarray, palette) -> np.ndarray:
    """A double exposure: the photo in black and white exposed over the scene. On a dark ground its lights are
    added in the palette's light (screen), on a light ground its shadows printed in the palette's dark
    (multiply); `weight` (0..1, the person) keeps the person whole, clears the scene under it and lets the
    photo's own background dissolve into the scene. Returns a new picture."""
    value = _s_curve(_levels(luminance(photo), 2.0, 99.0), 0.7)
    weight = np.clip(weight, 0.0, 1.0)[..., None]
    hold = GHOST_FLOOR + (1.0 - GHOST_FLOOR) * weight
    dark, _accent, light = _dark_light(palette)
    if colour_luminance(palette[0]) < 0.5:
        under = scene * (1.0 - GHOST_CLEAR * weight)
        return screen(under, value[..., None] ** 1.2 * hold * light)
    under = scene + (1.0 - scene) * (GHOST_CLEAR * 0.8 * weight)
    return under * (1.0 - (1.0 - value[..., None]) ** 1.1 * hold * (1.0 - dark))


# -- film emulation, on the finished picture -------------------------------------------------------

def halation(rgb: np.ndarray, strength: float) -> np.ndarray:
    """Highlights bleeding red-orange into their surroundings, as light scatters in the film base."""
    if strength <= 0:
        return rgb
    h, w = rgb.shape[:2]
    small = cv2.resize(luminance(rgb), (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    glow = cv2.GaussianBlur(np.clip((small - 0.72) / 0.28, 0.0, 1.0), (0, 0), w * 0.0025)
    glow = cv2.resize(glow, (w, h), interpolation=cv2.INTER_LINEAR)
    tint = cv2.merge([glow * (strength * c) for c in (1.0, 0.38, 0.12)])
    return np.clip(cv2.add(np.ascontiguousarray(rgb, np.float32), tint), 0.0, 1.0)


def light_leak(rgb: np.ndarray, rng, palette, strength: float) -> np.ndarray:
    """A warm leak entering from one edge, screened over the picture."""
    if strength <= 0:
        return rgb
    h, w = rgb.shape[:2]
    edge = int(rng.integers(4))
    t = float(rng.uniform(0.15, 0.85))
    centre = [(t, -0.1), (1.1, t), (t, 1.1), (-0.1, t)][edge]
    radius = float(rng.uniform(0.45, 0.7))
    texture = fbm(rng, (64, 64), octaves=3)
    shape = smooth_field(lambda size: radial(size, centre, radius) * (0.7 + 0.3 * cv2.resize(texture, size[::-1])),
                         (h, w))
    colour = np.clip(palette[2] * 0.6 + np.array([1.0, 0.5, 0.2], np.float32) * 0.4, 0.0, 1.0)
    return screen(rgb, cv2.merge([shape * float(c * strength) for c in colour]))


def dust(rgb: np.ndarray, rng, strength: float) -> np.ndarray:
    """Specks and a few hairs of dust on the negative: light on dark pictures, dark on light ones."""
    if strength <= 0:
        return rgb
    h, w = rgb.shape[:2]
    marks = np.zeros((h, w), np.float32)
    for _ in range(int(30 * strength) + 5):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        cv2.circle(marks, (x, y), max(1, int(rng.uniform(0.4, 1.6) * w / 1000)), float(rng.uniform(0.3, 0.9)), -1,
                   cv2.LINE_AA)
    for _ in range(int(4 * strength) + 1):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        points = np.cumsum(rng.normal(0, w * 0.004, (12, 2)), axis=0) + (x, y)
        cv2.polylines(marks, [points.astype(np.int32)], False, float(rng.uniform(0.3, 0.7)), 1, cv2.LINE_AA)
    dark = float(cv2.mean(rgb)[0]) < 0.45
    marks *= np.float32(0.6 if dark else -0.45)
    out = np.array(rgb, np.float32)  # a copy: the caller's picture may be shared
    for channel in range(out.shape[2]):
        out[..., channel] += marks
    return np.clip(out, 0.0, 1.0, out=out)


def vignette(rgb: np.ndarray, strength: float) -> np.ndarray:
    if strength <= 0:
        return rgb
    h, w = rgb.shape[:2]
    fall = smooth_field(lambda size: radial(size, (0.5, 0.5), 0.95), (h, w))
    factor = 1.0 - strength + strength * (0.35 + 0.65 * fall)
    return cv2.multiply(np.ascontiguousarray(rgb, np.float32), cv2.merge([factor] * 3))
