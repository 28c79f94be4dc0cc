"""The Parental Advisory label, drawn by the engine (black and white, our own type), lower-left corner."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .fonts import freetype, package_font
from .presets import FontRef

LABEL_FONT = FontRef("font_rhd", "RedHatDisplay-Black.ttf")
WIDTH = 0.125  # of the cover side
ASPECT = 0.62  # height / width
INSET = 0.07  # from the left and bottom edges: on the text margin, clear of the 4% platforms may cover


def label_box(side: int) -> tuple[int, int, int, int]:
    width = round(side * WIDTH)
    height = round(width * ASPECT)
    x0 = round(side * INSET)
    y1 = side - round(side * INSET)
    return x0, y1 - height, x0 + width, y1


def _fit(draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int, int], fill: int, cap: float) -> None:
    """Largest size whose ink fits the box width and `cap` of its height, centred in the box."""
    font_file = package_font(LABEL_FONT)
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    size = max(6, int(height * cap / 0.7))
    while size > 6:
        left, top, right, _ = freetype(font_file, size).getbbox(text, anchor="ls")
        if right - left <= width and -top <= height * cap:
            break
        size -= 1
    font = freetype(font_file, size)
    left, _, right, _ = font.getbbox(text, anchor="ls")
    cap_top = font.getbbox("H", anchor="ls")[1]
    x = x0 + (width - (right - left)) / 2 - left
    baseline = y0 + (height - (-cap_top)) / 2 - cap_top
    draw.text((x, baseline), text, font=font, fill=fill, anchor="ls")


def label_image(width: int, height: int) -> np.ndarray:
    """The label as an RGB array: PARENTAL / ADVISORY / EXPLICIT CONTENT in black and white bands."""
    scale = 3  # drawn large and reduced, so the thin rules stay crisp at small cover sizes
    w, h = width * scale, height * scale
    image = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(image)
    border = max(scale, round(h * 0.045))
    top_band = round(h * 0.27)
    bottom_band = round(h * 0.28)
    draw.rectangle((border, top_band, w - 1 - border, h - 1 - bottom_band), fill=255)
    _fit(draw, "PARENTAL", (border * 2, border, w - border * 2, top_band), 255, 0.62)
    _fit(draw, "ADVISORY", (border * 2, top_band, w - border * 2, h - bottom_band), 0, 0.62)
    _fit(draw, "EXPLICIT CONTENT", (border * 2, h - bottom_band, w - border * 2, h - border), 255, 0.5)
    image = image.resize((width, height), Image.Resampling.LANCZOS)
    return np.repeat(np.asarray(image)[..., None], 3, axis=2)


def draw_advisory(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """Paste the label into the lower-left corner (in place) and return its box."""
    box = label_box(rgb.shape[0])
    x0, y0, x1, y1 = box
    rgb[y0:y1, x0:x1] = label_image(x1 - x0, y1 - y0)
    return box
