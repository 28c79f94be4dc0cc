"""Scene families that look made: atmospheres, light, print and generative forms, drawn from (palette, seed).

Every family is a function of (rng, n, palette) returning float RGB 0..1 of n x n, drawn small and upscaled
by the caller (the grain is added at full size). None draws a vector silhouette: the pictures are fields of
noise, light and ink, so two seeds give two pictures, not one picture moved.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from .raster import blur, colour_luminance, fbm, gradient_map, mix, radial, screen, vertical


def _ramp(palette, lift: float = 0.0):
    base, mid, accent, highlight = palette[0], palette[1], palette[2], palette[3]
    return [(0.0, base), (0.45 + lift, mid), (0.8, accent * 0.85 + mid * 0.15), (1.0, highlight)]


def fog(rng: np.random.Generator, n: int, palette) -> np.ndarray:
    """Layers of fractal fog lit from one side, darkest where the eye does not go."""
    cloud = fbm(rng, (n, n), octaves=7, base=int(rng.integers(2, 5)))
    wisps = fbm(rng, (n, n), octaves=5, base=int(rng.integers(5, 9)))
    lx, ly = float(rng.uniform(0.15, 0.85)), float(rng.uniform(0.05, 0.45))
    light = radial((n, n), (lx, ly), float(rng.uniform(0.6, 1.1)))
    value = np.clip(cloud * 0.55 + wisps * 0.2 + light * 0.45 - 0.12, 0.0, 1.0)
    value = value ** float(rng.uniform(1.1, 1.6))
    return gradient_map(value, _ramp(palette))


def leaks(rng: np.random.Generator, n: int, palette) -> np.ndarray:
    """A dark ground burnt by film light leaks: big warm blooms entering from the edges, with a scorched core."""
    ground = gradient_map(fbm(rng, (n, n), octaves=5) * 0.35, _ramp(palette))
    glow = np.zeros((n, n), np.float32)
    for _ in range(int(rng.integers(2, 4))):
        edge = int(rng.integers(4))
        t = float(rng.uniform(0.1, 0.9))
        cx, cy = [(t, -0.05), (1.05, t), (t, 1.05), (-0.05, t)][edge]
        glow += radial((n, n), (cx, cy), float(rng.uniform(0.35, 0.75))) * float(rng.uniform(0.5, 1.0))
    streak = blur(fbm(rng, (n, n), octaves=4, base=2), n * 0.02)
    glow = np.clip(glow * (0.7 + 0.6 * streak), 0.0, 1.4)
    warm = palette[2] * 0.7 + np.array([1.0, 0.55, 0.2], np.float32) * 0.3
    hot = np.clip(warm * 1.25 + 0.15, 0.0, 1.0)
    layer = gradient_map(np.clip(glow / 1.4, 0.0, 1.0), [(0.0, np.zeros(3, np.float32)), (0.55, warm),
                                                          (1.0, hot)])
    return np.clip(screen(ground, layer), 0.0, 1.0)


def bokeh(rng: np.random.Generator, n: int, palette) -> np.ndarray:
    """Out-of-focus lights as a lens draws them: aperture-shaped discs, brighter rims, sizes by depth."""
    ground = gradient_map(fbm(rng, (n, n), octaves=5) * 0.5, _ramp(palette))
    ground *= vertical((n, n), 0.75, 1.0)[..., None]
    lights = np.zeros((n, n, 3), np.float32)
    blades = 48  # wide open: round (a stopped-down iris's polygons read as a stock texture)
    colours = [palette[2], palette[3], palette[1] * 0.5 + palette[3] * 0.5]
    for _ in range(int(rng.integers(18, 40))):
        depth = float(rng.random())
        r = n * (0.015 + 0.07 * depth ** 2)
        cx, cy = rng.uniform(-0.05, 1.05) * n, (rng.beta(2.0, 2.2) * 1.1 - 0.05) * n
        # A lens draws an out-of-focus light as a disc with a defined edge and a brighter rim, not a smudge.
        softness = max(0.7, r * (0.02 + 0.06 * (1 - depth)))
        pad = int(r + 3 * softness + 2)
        x0, y0 = int(cx) - pad, int(cy) - pad
        size = 2 * pad + 1
        angle = rng.uniform(0, np.pi)
        turns = angle + np.arange(blades) * 2 * np.pi / blades
        points = np.stack([cx - x0 + r * np.cos(turns), cy - y0 + r * np.sin(turns)], axis=1)
        disc = np.zeros((size, size), np.float32)
        cv2.fillPoly(disc, [np.array(points, np.int32)], 1.0, lineType=cv2.LINE_AA)
        rim = disc - cv2.erode(disc, np.ones((3, 3), np.uint8), iterations=max(1, int(r * 0.12)))
        shape = cv2.GaussianBlur(disc * 0.45 + rim * 0.4, (0, 0), softness)
        colour = colours[int(rng.integers(len(colours)))] * float(rng.uniform(0.35, 0.9))
        ax0, ay0, ax1, ay1 = max(0, x0), max(0, y0), min(n, x0 + size), min(n, y0 + size)
        if ax1 <= ax0 or ay1 <= ay0:
            continue
        patch = shape[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0]
        lights[ay0:ay1, ax0:ax1] += patch[..., None] * colour
    return np.clip(screen(ground, np.clip(lights, 0.0, 1.0)), 0.0, 1.0)


def paper(rng: np.random.Generator, n: int, palette) -> np.ndarray:
    """Worn stock: fibre, a stain of colour, dust and scratches (dark or light by the palette's base)."""
    dark = colour_luminance(palette[0]) < 0.35
    fibre = fbm(rng, (n, n), octaves=7, base=int(rng.integers(8, 16)), persistence=0.7)
    stain = fbm(rng, (n, n), octaves=4, base=2)
    if dark:
        image = gradient_map(stain * 0.6 + fibre * 0.4, [(0.0, palette[0]), (0.55, palette[1] * 0.6 + palette[0] * 0.4),
                                                          (1.0, palette[1] * 1.3 + 0.05)])
    else:
        light = np.clip(palette[0] * 0.6 + 0.4, 0.0, 1.0)
        image = gradient_map(stain * 0.6 + fibre * 0.4, [(0.0, light * 0.86), (0.6, light * 0.96), (1.0, light)])
    stain = 0.18 if dark else 0.32  # light stock needs a stronger wash of colour, or it reads as blank
    image = mix(image, np.broadcast_to(palette[2], image.shape), radial((n, n), (rng.uniform(0.2, 0.8),
                                                                              rng.uniform(0.2, 0.8)), 0.7) * stain)
    scratches = np.zeros((n, n), np.float32)
    # Dark stock shows every mark as a light line: a few, or the paper reads as a starfield.
    for _ in range(int(rng.integers(2, 6) if dark else rng.integers(3, 9))):
        x0, y0 = rng.uniform(0, n, 2)
        length, angle = rng.uniform(0.05, 0.4) * n, rng.uniform(-0.5, 0.5) + np.pi / 2 * int(rng.integers(2))
        x1, y1 = x0 + length * np.cos(angle), y0 + length * np.sin(angle)
        cv2.line(scratches, (int(x0), int(y0)), (int(x1), int(y1)), float(rng.uniform(0.3, 0.8)), 1, cv2.LINE_AA)
    dust = (rng.random((n, n)) > (0.99985 if dark else 0.9992)).astype(np.float32)
    dust = cv2.dilate(dust, np.ones((2, 2), np.uint8))
    marks = np.clip(scratches + dust, 0.0, 1.0)[..., None]
    return np.clip(image + marks * (0.18 if dark else -0.3), 0.0, 1.0)


def flow(rng: np.random.Generator, n: int, palette) -> np.ndarray:
    """A generative flow field: thousands of short trails following a noise field, glowing on a dark ground."""
    ground = gradient_map(fbm(rng, (n, n), octaves=4) * 0.4, _ramp(palette))
    field = fbm(rng, (n // 4 + 1, n // 4 + 1), octaves=4, base=int(rng.integers(2, 4))) * np.pi * 4
    trails = np.zeros((n, n), np.float32)
    count = 1600
    px = rng.uniform(0, n, count).astype(np.float32)
    py = rng.uniform(0, n, count).astype(np.float32)
    step = n / 260.0
    for _ in range(60):
        ix = np.clip((px / 4).astype(np.int32), 0, field.shape[1] - 1)
        iy = np.clip((py / 4).astype(np.int32), 0, field.shape[0] - 1)
        angle = field[iy, ix]
        nx, ny = px + np.cos(angle) * step, py + np.sin(angle) * step
        inside = (nx >= 0) & (nx < n) & (ny >= 0) & (ny < n)
        np.add.at(trails, (ny[inside].astype(np.int32), nx[inside].astype(np.int32)), 1.0)
        px, py = np.where(inside, nx, rng.uniform(0, n, count)), np.where(inside, ny, rng.uniform(0, n, count))
    trails = np.clip(trails / max(float(np.percentile(trails[trails > 0], 95)) if trails.any() else 1.0, 1.0), 0, 1)
    trails = cv2.GaussianBlur(trails, (0, 0), 0.6)
    glow = blur(trails, n * 0.008)
    hue = fbm(rng, (n, n), octaves=3, base=2)
    colour = mix(np.broadcast_to(palette[2], (n, n, 3)), np.broadcast_to(palette[3], (n, n, 3)), hue)
    light = (trails * 0.7 + glow * 0.8)[..., None] * colour
    return np.clip(screen(ground, np.clip(light, 0.0, 1.0)), 0.0, 1.0)


def interference(rng: np.random.Generator, n: int, palette) -> np.ndarray:
    """Op-art moire: two families of rings or waves beating against each other, shaded in the palette."""
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    waves = []
    for _ in range(2):
        cx, cy = rng.uniform(-0.2, 1.2, 2)
        freq = float(rng.uniform(28, 60))
        warp = fbm(rng, (n, n), octaves=3, base=2) * float(rng.uniform(0.0, 0.6))
        waves.append(np.sin((np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) + warp * 0.1) * freq * np.pi))
    beat = np.clip((waves[0] * waves[1]) * 1.6 + 0.5, 0.0, 1.0)  # printed stripes: edges, not a soft shimmer
    # The pattern lives in one pool of light and dies into the ground: a full-frame moire swallows the cover.
    envelope = radial((n, n), (rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)), float(rng.uniform(0.35, 0.55)))
    value = np.clip(beat * envelope ** 1.5 * 0.85, 0.0, 1.0)
    return gradient_map(value, [(0.0, palette[0]), (0.5, palette[1]), (0.85, palette[2]), (1.0, palette[3])])


def gradient(rng: np.random.Generator, n: int, palette) -> np.ndarray:
    """A mesh of soft colour fields melting into each other, with a whisper of fractal texture."""
    image = np.broadcast_to(palette[0], (n, n, 3)).copy()
    for index in rng.permutation([1, 2, 3, 1, 2])[: int(rng.integers(3, 6))]:
        weight = radial((n, n), tuple(rng.uniform(-0.1, 1.1, 2)), float(rng.uniform(0.45, 0.9)))
        image = mix(image, np.broadcast_to(palette[int(index)], image.shape), weight * float(rng.uniform(0.5, 0.9)))
    texture = fbm(rng, (n, n), octaves=6, base=4) - 0.5
    return np.clip(image + texture[..., None] * 0.06, 0.0, 1.0)


def glow(rng: np.random.Generator, n: int, palette) -> np.ndarray:
    """One soft field of one colour of the palette on its ground: the stage of a double exposure, where a mesh
    of three colours read as a cheap rainbow behind the person."""
    index = 1 if rng.random() < 0.5 else 2
    weight = radial((n, n), tuple(rng.uniform(0.2, 0.8, 2)), float(rng.uniform(0.6, 0.95)))
    image = mix(np.broadcast_to(palette[0], (n, n, 3)).copy(), np.broadcast_to(palette[index], (n, n, 3)),
                weight * float(rng.uniform(0.55, 0.8)))
    texture = fbm(rng, (n, n), octaves=6, base=4) - 0.5
    return np.clip(image + texture[..., None] * 0.06, 0.0, 1.0)


@lru_cache(maxsize=4)
def _dot_distance(h: int, w: int, cell: float, angle: float) -> np.ndarray:
    """Each pixel's distance to the nearest dot centre of the screen, in cells (0 at a centre, ~0.7 at a corner):
    the same for every cover of one working size, so it is made once (read-only)."""
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    a = np.deg2rad(angle)
    u = (xx * np.float32(np.cos(a)) + yy * np.float32(np.sin(a))) / np.float32(cell)
    v = (-xx * np.float32(np.sin(a)) + yy * np.float32(np.cos(a))) / np.float32(cell)
    u -= np.round(u)
    v -= np.round(v)
    d = np.sqrt(u * u + v * v)
    d.flags.writeable = False
    return d


def dot_screen(tone: np.ndarray, cell: float, angle: float) -> np.ndarray:
    """A halftone screen: ink coverage 0..1 of round dots on a grid `cell` px apart at `angle` degrees, each
    dot's area following `tone` (0..1), with antialiased edges."""
    h, w = tone.shape
    d = _dot_distance(h, w, float(cell), float(angle))
    k = np.float32(cell * 0.9)
    out = np.sqrt(np.clip(tone, 0.0, 1.0, dtype=np.float32)) * np.float32(0.62)
    out -= d
    out *= k
    out += np.float32(0.5)
    return np.minimum(np.maximum(out, 0.0, out=out), 1.0, out=out)


FORM_BOTTOM = 0.54  # the forms keep above this share of the height: below it is the type's


FORMS = ("sun", "quarter", "ring", "crescent", "split", "dots")


class _Sheet:
    """An n x n sheet in unit coordinates whose printed edges wobble: ink spreads a little unevenly, so a
    form's edge is displaced by a fine noise (`spread` px), not a vector line."""

    def __init__(self, rng: np.random.Generator, n: int, spread: float):
        self.yy = (np.arange(n, dtype=np.float32)[:, None] + 0.5) / n
        self.xx = (np.arange(n, dtype=np.float32)[None, :] + 0.5) / n
        self.wobble = (fbm(rng, (n, n), octaves=3, base=max(12, n // 40)) - 0.5) * (spread / n)
        self.aa = 1.2 / n

    def disc(self, cx: float, cy: float, r: float) -> np.ndarray:
        d = np.sqrt((self.xx - cx) ** 2 + (self.yy - cy) ** 2)
        return np.clip((r - d + self.wobble) / self.aa + 0.5, 0.0, 1.0)

    def under(self, a: float, b: float, offset: float = 0.0) -> np.ndarray:
        """1 above the line y = a + b x (shifted down by `offset`), 0 below it."""
        return np.clip((a + b * self.xx + offset - self.yy + self.wobble) / self.aa + 0.5, 0.0, 1.0)


def shape(rng: np.random.Generator, n: int, palette, forms: tuple[str, ...] = FORMS) -> np.ndarray:
    """A screen-printed poster: one bold form at poster scale, in two inks with a halftone fade,
    misregistration, uneven ink and paper tooth. The form keeps above FORM_BOTTOM: the type goes low.

    The forms: a sun too big for the sheet (shaded by a halftone fade), a quarter disc swung from a top corner,
    a thick ring bleeding off one side, a crescent moon, the sheet's top cut off on a slant with a band of the
    second ink along the cut, and a Swiss field of big dots swelling from one corner."""
    ground = np.asarray(palette[0], np.float32)
    inks = sorted((np.asarray(palette[i], np.float32) for i in (2, 3, 1)),
                  key=lambda c: -abs(colour_luminance(c) - colour_luminance(ground)))
    ink, second = inks[0], inks[1]
    sheet = _Sheet(rng, n, 3.0)
    xx, yy, disc, under = sheet.xx, sheet.yy, sheet.disc, sheet.under

    # (A rainbow arch, a row of bars and two overlapping discs read as a sticker, a chart and a diagram.)
    form = forms[int(rng.integers(len(forms)))]
    side_x = float(rng.choice([0.5, 0.3, 0.7]))
    fade = None  # where the main ink turns to a halftone fade (a sphere's shading, a sky's glow)
    echo = np.zeros((n, n), np.float32)
    if form == "sun":
        r = float(rng.uniform(0.36, 0.44))
        cy = FORM_BOTTOM - r
        main = disc(side_x, cy, r)
        fade = np.broadcast_to(np.clip((yy - (cy - r * 0.2)) / (r * 1.3), 0.0, 1.0), (n, n))
    elif form == "quarter":  # and a small disc in the second ink
        corner = float(rng.choice([0.0, 1.0]))
        r = float(rng.uniform(FORM_BOTTOM - 0.06, FORM_BOTTOM))
        main = disc(corner, 0.0, r)
        echo = disc(abs(corner - r * 0.95), r * 0.62, r * 0.16)
        fade = np.clip(np.sqrt((xx - corner) ** 2 + yy ** 2) / r, 0.0, 1.0)
    elif form == "ring":
        r = float(rng.uniform(0.34, 0.4))
        cx = float(rng.choice([0.12, 0.88]))
        cy = FORM_BOTTOM - r
        main = disc(cx, cy, r) * (1.0 - disc(cx, cy, r * 0.58))
        echo = disc(cx, cy, r * 0.2)
    elif form == "crescent":  # a moon: a disc eaten by a second one, a small star of the second ink beside it
        r = float(rng.uniform(0.2, 0.25))
        cx, cy = float(rng.choice([0.5, 0.4, 0.6])), FORM_BOTTOM - r - 0.06
        turn = float(rng.choice([-1.0, 1.0]))
        main = disc(cx, cy, r) * (1.0 - disc(cx + turn * r * 0.42, cy - r * 0.22, r * 0.86))
        echo = disc(cx + turn * r * 1.45, cy - r * 0.75, r * 0.07)
    elif form == "split":  # the top of the sheet cut off on a slant, a band of the second ink along the cut
        slope = float(rng.uniform(0.25, 0.4)) * float(rng.choice([-1.0, 1.0]))
        low = FORM_BOTTOM - 0.04
        a = low - max(slope, 0.0)  # the cut's lower end sits at `low`
        main = under(a, slope)
        echo = under(a, slope, 0.045) * (1.0 - under(a, slope, 0.015))
    else:  # "dots": a field of big dots swelling from a top corner to nothing, a Swiss poster's screen
        corner = float(rng.choice([0.0, 1.0]))
        reach = FORM_BOTTOM - 0.02
        tone = np.clip(1.0 - np.sqrt((xx - corner) ** 2 + yy ** 2) / (reach * 1.25), 0.0, 1.0)
        tone = np.where(yy < reach, tone, 0.0).astype(np.float32)
        main = dot_screen(tone ** 0.8, n / 11.0, 0.0) * (tone > 0.03)  # (no pinpricks where there is no tone)
        echo = disc(abs(corner - 0.08), 0.08, 0.05)
    tooth = fbm(rng, (n, n), octaves=4, base=max(8, n // 6)) - 0.5  # paper grain, finer than the eye resolves
    # Uneven ink: a screen print lays more in some places than others.
    load = 0.9 + (fbm(rng, (n, n), octaves=4, base=3) - 0.5) * 0.16 + tooth * 0.06
    cover = np.clip(main, 0.0, 1.0)
    if fade is not None:
        cover = cover * dot_screen(1.0 - fade * 0.95, max(4.0, n / 45), 45.0)  # dots a thumbnail keeps
    image = np.broadcast_to(ground, (n, n, 3)).copy()
    shift = max(1, n // 300)
    echo = np.roll(np.clip(echo, 0.0, 1.0), (shift, -shift), axis=(0, 1))  # misregistration of the second ink
    image = mix(image, np.broadcast_to(second, image.shape), np.clip(echo * load, 0.0, 1.0))
    image = mix(image, np.broadcast_to(ink, image.shape), np.clip(cover * load, 0.0, 1.0))
    return np.clip(image + tooth[..., None] * 0.035, 0.0, 1.0)


def _form(name: str):
    return lambda rng, n, palette: shape(rng, n, palette, (name,))


def worn(rng: np.random.Generator, n: int, palette) -> np.ndarray:
    """A worn screen print on black stock: one field of ink above the type (an eclipse, or a block from the top
    edge) eroded by crisp wear: the squeegee's drag, clogged mesh, pitting. The field keeps
    above FORM_BOTTOM, like the bold forms."""
    ground = np.asarray(min(palette[:5], key=colour_luminance), np.float32)
    ground = np.clip(ground * (0.03 / max(colour_luminance(ground), 0.03)), 0.0, 1.0)
    # The most saturated ink, a light one breaking the tie: a blood moon, a rust block, a bone bar.
    ink = max((np.asarray(palette[i], np.float32) for i in (2, 3, 1)),
              key=lambda c: float(c.max() - c.min()) + colour_luminance(c) * 0.5)
    sheet = _Sheet(rng, n, 4.0)
    if rng.random() < 0.6:  # an eclipse above the type
        r = float(rng.uniform(0.24, 0.3))
        field = sheet.disc(float(rng.choice([0.5, 0.38, 0.62])), FORM_BOTTOM - r - 0.03, r)
    else:  # a block from the top edge down to the type (a thin bar across black read as a glitch)
        field = sheet.under(float(rng.uniform(0.42, FORM_BOTTOM)), 0.0)
    # Wear: a coarse mottle cut crisp, streaks along the squeegee's pull, fine pits where the mesh clogged.
    mottle = fbm(rng, (n, n), octaves=6, base=int(rng.integers(6, 12)), persistence=0.65)
    streak = cv2.resize(rng.random((1, max(8, n // 6)), dtype=np.float32), (n, n), interpolation=cv2.INTER_LINEAR)
    wear = np.clip((mottle * 0.75 + streak * 0.35 - 0.66) / 0.04 + 0.5, 0.0, 1.0)
    wear = np.maximum(wear, (rng.random((n, n), dtype=np.float32) > 0.985).astype(np.float32))
    cover = np.broadcast_to(field, (n, n)) * (1.0 - wear * 0.92)
    tooth = fbm(rng, (n, n), octaves=4, base=max(8, n // 6)) - 0.5
    image = mix(np.broadcast_to(ground, (n, n, 3)), ink, np.clip(cover * (0.93 + tooth * 0.1), 0.0, 1.0))
    return np.clip(image + tooth[..., None] * 0.03, 0.0, 1.0)


def _low(family):
    """The family's form turned upside down: under type set at the top, the form rises from the bottom edge."""
    return lambda rng, n, palette: np.ascontiguousarray(family(rng, n, palette)[::-1])


FAMILIES = {"fog": fog, "leaks": leaks, "bokeh": bokeh, "paper": paper, "flow": flow,
            "interference": interference, "gradient": gradient, "glow": glow, "worn": worn,
            **{name: _form(name) for name in FORMS}}
FAMILIES.update({f"{name}-low": _low(FAMILIES[name]) for name in ("worn", *FORMS)})
# Drawn at the working size: a printed edge must stay sharp.
CRISP = tuple(name for name in FAMILIES if name.startswith(("worn", *FORMS)))


def draw(family: str, rng: np.random.Generator, n: int, palette) -> np.ndarray:
    return np.ascontiguousarray(FAMILIES[family](rng, n, palette), dtype=np.float32)
