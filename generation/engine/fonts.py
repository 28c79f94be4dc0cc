"""Finding font files, reading which characters they cover, and picking a font for each line."""

from __future__ import annotations

import ctypes
import importlib.util
import io
import struct
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont
from PIL import ImageFont

from .fontpacks import font_dir
from .presets import FontRef

SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), font_dir())
# Tried first, in this order, when the genre's font lacks a glyph; same look as most covers.
_PREFERRED_FALLBACKS = {
    # Noto of the primary face's weight and style first: it covers Latin, Greek and Cyrillic in one face, and
    # its CJK, Arabic, Hebrew and Devanagari families share its design, so a line in any of those scripts is
    # set in one matching face (choose_font never mixes faces on a line). DejaVu only as the last resort.
    "sans": ("NotoSans-Bold.ttf", "NotoSansCJK-Bold.ttc", "NotoSansArabic-Bold.ttf", "NotoSansHebrew-Bold.ttf",
             "NotoSansDevanagari-Bold.ttf", "DejaVuSans-Bold.ttf"),
    "sans-regular": ("NotoSans-Regular.ttf", "NotoSansCJK-Regular.ttc", "NotoSansArabic-Regular.ttf",
                     "NotoSansHebrew-Regular.ttf", "NotoSansDevanagari-Regular.ttf", "DejaVuSans.ttf"),
    "serif": ("NotoSerif-Bold.ttf", "NotoSerifCJK-Bold.ttc", "NotoNaskhArabic-Bold.ttf", "NotoSerifHebrew-Bold.ttf",
              "NotoSerifDevanagari-Bold.ttf", "DejaVuSerif-Bold.ttf"),
    "serif-regular": ("NotoSerif-Regular.ttf", "NotoSerifCJK-Regular.ttc", "NotoNaskhArabic-Regular.ttf",
                      "NotoSerifHebrew-Regular.ttf", "NotoSerifDevanagari-Regular.ttf", "DejaVuSerif.ttf"),
}
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


class FontMissing(RuntimeError):
    """A genre font package is not installed; the message says which one to install."""


@dataclass(frozen=True)
class FontFile:
    path: str
    index: int = 0  # face index inside a .ttc collection


@lru_cache(maxsize=64)
def package_font(ref: FontRef) -> FontFile:
    """The font file of a reference: its Debian font when installed (SYSTEM_FONT_DIRS), else the file shipped
    inside its PyPI font package, located through importlib."""
    if ref.system:
        for folder in SYSTEM_FONT_DIRS:
            if (folder / ref.system).is_file():
                return FontFile(str(folder / ref.system))
    spec = importlib.util.find_spec(ref.package)
    if spec is None or not spec.submodule_search_locations:
        install = ref.package.replace("_", "-")
        raise FontMissing(f"font package {ref.package!r} is not installed; pip install {install}")
    path = Path(next(iter(spec.submodule_search_locations))) / "files" / ref.filename
    if not path.is_file():
        raise FontMissing(f"{ref.filename} not found in package {ref.package!r} (looked in {path.parent})")
    return FontFile(str(path))


@lru_cache(maxsize=64)
def coverage(font: FontFile) -> frozenset[int]:
    """Code points the font maps to a glyph (its best cmap)."""
    with TTFont(font.path, fontNumber=font.index, lazy=True) as tt:
        cmap = tt.getBestCmap() or {}
    return frozenset(cmap)


@lru_cache(maxsize=64)
def cap_height_ratio(font: FontFile) -> float:
    """Cap height as a fraction of the font size, from the OS/2 table or the outline of 'H'."""
    with TTFont(font.path, fontNumber=font.index, lazy=True) as tt:
        upem = tt["head"].unitsPerEm
        os2 = tt["OS/2"] if "OS/2" in tt else None
        cap = getattr(os2, "sCapHeight", 0) if os2 is not None else 0
    if cap:
        return cap / upem
    box = freetype(font, 1000).getbbox("H", anchor="ls")
    return -box[1] / 1000


@lru_cache(maxsize=256)
def freetype(font: FontFile, size: int) -> ImageFont.FreeTypeFont:
    """The face at a size, kept: fitting measures the same faces at the same sizes many times."""
    return ImageFont.truetype(font.path, size=max(1, int(size)), index=font.index)


# Fonts exported from variable masters mark every glyph "may overlap", and FreeType then rasterises each one
# 4x4 oversampled: a 650 px letter of such a font takes 8 ms instead of under one. A letter whose contours
# don't overlap renders the same either way (within anti-aliasing on its curves), so large letters whose
# outlines show no overlap are rasterised from a copy of the font with the flag cleared; the others keep the
# slow, exact path (drawn without the flag, overlapping contours leave seams: notches where a stem meets a bowl).
FAST_RASTER_SIZE = 160  # px: below this the oversampled raster costs too little to be worth the test
OVERLAP_GRID = 256  # px per em the outlines are filled at to find overlaps
OVERLAP_TOLERANCE = 32  # levels: the two rasters of a letter without overlaps differ by up to ~25 on curves


@lru_cache(maxsize=16)
def _unflagged_bytes(font: FontFile) -> bytes | None:
    """The font file with every glyph's overlap flag cleared (TrueType outlines), or None when none has one."""
    try:
        with open(font.path, "rb") as handle:
            data = bytearray(handle.read())
        with TTFont(font.path, fontNumber=font.index, lazy=True) as tt:
            if "glyf" not in tt:
                return None
            base, offsets = tt.reader.tables["glyf"].offset, list(tt["loca"])
        cleared = 0
        for start, end in zip(offsets, offsets[1:], strict=False):
            if end - start < 12:
                continue
            at = base + start
            contours = struct.unpack_from(">h", data, at)[0]
            if contours > 0:  # simple glyph: the flag lives on its first point
                flags = at + 10 + 2 * contours
                flags += 2 + struct.unpack_from(">H", data, flags)[0]
                if data[flags] & 0x40:
                    data[flags] &= 0xBF
                    cleared += 1
            elif contours < 0:  # composite glyph: on each component
                at += 10
                while True:
                    component = struct.unpack_from(">H", data, at)[0]
                    if component & 0x0400:
                        struct.pack_into(">H", data, at, component & ~0x0400)
                        cleared += 1
                    at += 4 + (4 if component & 0x0001 else 2)
                    at += 2 if component & 0x0008 else 4 if component & 0x0040 else 8 if component & 0x0080 else 0
                    if not component & 0x0020:
                        break
    except (OSError, struct.error, KeyError, IndexError):  # an unreadable table: keep the font's own raster
        return None
    return bytes(data) if cleared else None


@lru_cache(maxsize=4096)
def _overlap_free(font: FontFile, ch: str) -> bool:
    """Whether the letter's outline (components included) never covers a point twice: a region wound twice,
    thicker than a line where two contours merely touch, is an overlap. Geometry, so the answer holds at
    every size."""
    tt = _outlines(font)
    name = tt.getBestCmap().get(ord(ch)) if len(ch) == 1 else None
    if name is None:
        return False
    pen = _ContourPen(tt.getGlyphSet())
    try:
        tt.getGlyphSet()[name].draw(pen)
    except (KeyError, TypeError, ValueError):
        return False
    scale = OVERLAP_GRID / tt["head"].unitsPerEm
    side = 2 * OVERLAP_GRID  # the em square and a half of it around: room for descenders and overhangs
    # Non-zero winding by scanlines: each edge adds its direction where it crosses a row's pixel centre, and
    # the running sum along the row is the winding number (self-intersections counted, unlike a polygon fill).
    edges = [np.asarray(points, np.float64) * scale + OVERLAP_GRID / 2 for points in pen.contours if len(points) > 1]
    if not edges:
        return True
    start = np.concatenate(edges)
    end = np.concatenate([np.roll(points, -1, axis=0) for points in edges])
    (x0, y0), (x1, y1) = start.T, end.T
    first = np.clip(np.ceil(np.minimum(y0, y1) - 0.5), 0, side).astype(np.int64)
    stop = np.clip(np.ceil(np.maximum(y0, y1) - 0.5), 0, side).astype(np.int64)
    count = np.where(y0 != y1, stop - first, 0)
    edge = np.repeat(np.arange(count.size), count)
    rows = first[edge] + np.arange(edge.size) - np.repeat(np.cumsum(count) - count, count)
    xs = x0[edge] + (rows + 0.5 - y0[edge]) * (x1 - x0)[edge] / (y1 - y0)[edge]
    cols = np.clip(np.ceil(xs - 0.5), 0, side).astype(np.int64)
    if rows.size == 0:
        return True
    rows, cols = rows - rows.min(), cols - cols.min()  # only the letter's own box
    h, w = int(rows.max()) + 1, int(cols.max()) + 1
    crossings = np.bincount(rows * w + cols, weights=np.where(y1 > y0, 1, -1)[edge], minlength=h * w)
    twice = (np.abs(np.cumsum(crossings.reshape(h, w), axis=1)) >= 2).astype(np.uint8)
    return not cv2.erode(twice, np.ones((3, 3), np.uint8)).any()


@lru_cache(maxsize=16)
def _outlines(font: FontFile) -> TTFont:
    return TTFont(font.path, fontNumber=font.index, lazy=True)


class _ContourPen(BasePen):
    """Each contour of a glyph as a polygon, its curves flattened."""

    STEPS = 8

    def __init__(self, glyph_set):
        super().__init__(glyph_set)
        self.contours: list[list[tuple[float, float]]] = []
        self._points: list[tuple[float, float]] = []

    def _moveTo(self, pt):
        self._points = [pt]

    def _lineTo(self, pt):
        self._points.append(pt)

    def _qCurveToOne(self, pt1, pt2):
        (x0, y0), (x1, y1), (x2, y2) = self._points[-1], pt1, pt2
        for t in np.linspace(0, 1, self.STEPS + 1)[1:]:
            u = 1 - t
            self._points.append((u * u * x0 + 2 * u * t * x1 + t * t * x2, u * u * y0 + 2 * u * t * y1 + t * t * y2))

    def _curveToOne(self, pt1, pt2, pt3):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self._points[-1], pt1, pt2, pt3
        for t in np.linspace(0, 1, self.STEPS + 1)[1:]:
            u = 1 - t
            self._points.append((u ** 3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t ** 3 * x3,
                                 u ** 3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t ** 3 * y3))

    def _closePath(self):
        if self._points:
            self.contours.append(self._points)
        self._points = []

    _endPath = _closePath


def uses_cleared_copy(font: FontFile, size: int, ch: str) -> bool:
    """Whether one letter is rasterised from the font's flag-cleared copy: it is large, its font flags
    overlaps, and it draws the same without the flag (see FAST_RASTER_SIZE)."""
    return size >= FAST_RASTER_SIZE and _unflagged_bytes(font) is not None and _overlap_free(font, ch)


def glyph_bitmap(font: FontFile, size: int, ch: str, *, exact: bool = False) -> tuple[np.ndarray, int, int]:
    """One letter's coverage (uint8, read-only) and its offset (left, top) from the pen on the baseline.

    Rasterised by FreeType directly, with Pillow's load flags (hinted, outlines only): a large letter takes a
    tenth of the time Pillow's text path does (it lays the letter out, loads it twice and draws it through an
    image). The flag-cleared copy of the font is used when `uses_cleared_copy` says so and `exact` is not set.
    """
    return _rasterise(font, size, ch, unflagged=not exact and uses_cleared_copy(font, size, ch))


_FT_LOCK = threading.Lock()  # a face's glyph slot is shared state, and FreeType calls release the GIL


def _rasterise(font: FontFile, size: int, ch: str, *, unflagged: bool) -> tuple[np.ndarray, int, int]:
    import freetype as ft

    with _FT_LOCK:
        face = _ft_face(font, max(1, int(size)), unflagged)
        face.load_char(ch, ft.FT_LOAD_RENDER | ft.FT_LOAD_NO_BITMAP)
        slot = face.glyph
        bitmap = slot.bitmap._FT_Bitmap
        left, top = int(slot.bitmap_left), -int(slot.bitmap_top)
        if not (bitmap.rows and bitmap.width):
            coverage = np.zeros((1, 1), np.uint8)
            coverage.flags.writeable = False
            return coverage, left, top
        height, width, pitch = bitmap.rows, bitmap.width, bitmap.pitch
        data = np.frombuffer(ctypes.string_at(bitmap.buffer, height * abs(pitch)), np.uint8)  # a read-only copy
    coverage = data.reshape(height, abs(pitch))[:, :width]
    return (coverage[::-1] if pitch < 0 else coverage), left, top  # a negative pitch stores the rows bottom-up


@lru_cache(maxsize=32)
def _ft_face(font: FontFile, size: int, unflagged: bool):
    import freetype as ft

    face = ft.Face(io.BytesIO(_unflagged_bytes(font)) if unflagged else font.path, index=font.index)
    face.set_pixel_sizes(0, size)
    return face


@lru_cache(maxsize=1)
def system_fonts() -> tuple[FontFile, ...]:
    """Every TrueType/OpenType face under the system font folders, preferred fallbacks first."""
    files: list[Path] = []
    for folder in SYSTEM_FONT_DIRS:
        if folder.is_dir():
            files.extend(p for p in folder.rglob("*") if p.suffix.lower() in (".ttf", ".otf", ".ttc"))
    preferred = [n for names in _PREFERRED_FALLBACKS.values() for n in names]
    files.sort(key=lambda p: (preferred.index(p.name) if p.name in preferred else len(preferred), str(p)))
    faces: list[FontFile] = []
    for path in files:
        if path.suffix.lower() == ".ttc":
            try:
                with TTFont(str(path), fontNumber=0, lazy=True) as tt:
                    count = getattr(tt.reader, "numFonts", 1) or 1
            except Exception:  # a broken file on the system must not break rendering
                continue
            faces.extend(FontFile(str(path), i) for i in range(min(count, 4)))
        else:
            faces.append(FontFile(str(path)))
    return tuple(faces)


def _fallback_chain(style: str) -> list[FontFile]:
    base = style.split("-")[0]
    names = _PREFERRED_FALLBACKS.get(style, ()) + _PREFERRED_FALLBACKS.get(base, ()) + _PREFERRED_FALLBACKS["sans"]
    by_name: dict[str, FontFile] = {}
    for face in system_fonts():
        by_name.setdefault(Path(face.path).name, face)  # a collection's first face
    chain = list(dict.fromkeys(by_name[n] for n in names if n in by_name))
    chain.extend(f for f in system_fonts() if f not in chain)
    return chain


def needed_codepoints(text: str) -> set[int]:
    return {ord(ch) for ch in text if not ch.isspace() and ch not in _INVISIBLE}


@dataclass(frozen=True)
class FontChoice:
    font: FontFile
    drawn: str  # the text actually drawn: the display text minus characters no font has
    missing: tuple[str, ...]  # characters no available font could draw
    fallback: bool  # True when the genre font was replaced for this line


@lru_cache(maxsize=1024)
def choose_font(text: str, preferred: FontRef) -> FontChoice:
    """The genre font if it covers every character, else the first font that does, else the best one.

    Characters that no font on the machine covers are dropped from the drawn text and reported,
    so a cover never shows tofu boxes and QA can see what is missing.
    """
    primary = package_font(preferred)
    needed = needed_codepoints(text)
    if needed <= coverage(primary):
        return FontChoice(primary, text, (), False)
    best, best_covered = primary, len(needed & coverage(primary))
    for candidate in _fallback_chain(preferred.fallback):
        try:
            covered = coverage(candidate)
        except Exception:  # unreadable system font: skip it
            continue
        if needed <= covered:
            return FontChoice(candidate, text, (), True)
        if len(needed & covered) > best_covered:
            best, best_covered = candidate, len(needed & covered)
    covered = coverage(best)
    missing = tuple(dict.fromkeys(ch for ch in text if ord(ch) in needed and ord(ch) not in covered))
    drawn = "".join(ch for ch in text if ch.isspace() or ord(ch) in covered)
    drawn = " ".join(drawn.split())
    return FontChoice(best, drawn, missing, best != primary)
