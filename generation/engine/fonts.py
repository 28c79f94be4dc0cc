"""Finding font files, reading which characters they cover, and picking a font for each line."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

from .presets import FontRef

SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# Tried first, in this order, when the genre's font lacks a glyph; same look as most covers.
_PREFERRED_FALLBACKS = {
    "sans": ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "NotoSans-Bold.ttf", "NotoSans-Regular.ttf"),
    "serif": ("DejaVuSerif-Bold.ttf", "DejaVuSerif.ttf", "NotoSerif-Bold.ttf", "NotoSerif-Regular.ttf"),
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
    """Path of a font shipped inside a PyPI font package, located through importlib."""
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
    names = _PREFERRED_FALLBACKS.get(style, ()) + _PREFERRED_FALLBACKS["sans"]
    by_name = {Path(f.path).name: f for f in system_fonts()}
    chain = [by_name[n] for n in names if n in by_name]
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
