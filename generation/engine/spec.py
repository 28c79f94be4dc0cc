"""The request and result types of the engine: what goes into `render` and what comes out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

VARIANTS: tuple[str, ...] = ("artist", "background", "text", "free")
OUTPUT_FORMATS: tuple[str, ...] = ("png", "jpeg")
MIN_SIZE = 1400
MAX_SIZE = 4000
MAX_BYTES = 10 * 1024 * 1024

_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def parse_hex(colour: str) -> tuple[int, int, int]:
    """'#ff8800', 'ff8800' or '#f80' -> (255, 136, 0); ValueError on anything else."""
    match = _HEX.match(colour.strip()) if isinstance(colour, str) else None
    if not match:
        raise ValueError(f"palette colour {colour!r} is not a hex colour like '#ff8800'")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


@dataclass(frozen=True)
class CoverSpec:
    """Everything one cover depends on; the same spec always renders the same bytes."""

    genre: str
    artist: str
    album: str
    feature: str | None = None
    variant: str = "artist"
    size: int = 3000
    seed: int = 0
    output_format: str = "png"
    jpeg_quality: int = 92
    explicit: bool = False
    palette: tuple[str, ...] | None = None
    # Excluded from eq/hash: a PIL image is unhashable and compares by pixels.
    photo: Image.Image | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        from .presets import GENRES

        if self.genre not in GENRES:
            raise ValueError(f"unknown genre {self.genre!r}; resolve it first (known: {', '.join(GENRES)})")
        if not isinstance(self.artist, str) or not self.artist.strip():
            raise ValueError("artist must be a non-empty string")
        if not isinstance(self.album, str) or not self.album.strip():
            raise ValueError("album must be a non-empty string")
        if self.feature is not None and not isinstance(self.feature, str):
            raise ValueError("feature must be a string or None")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {self.variant!r}")
        if not isinstance(self.size, int) or not MIN_SIZE <= self.size <= MAX_SIZE:
            raise ValueError(f"size must be an integer from {MIN_SIZE} to {MAX_SIZE}, not {self.size!r}")
        if self.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"output_format must be 'png' or 'jpeg', not {self.output_format!r}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be 1..100, not {self.jpeg_quality!r}")
        if self.palette is not None:
            if isinstance(self.palette, str) or not self.palette:
                raise ValueError("palette must be a non-empty tuple of hex colours")
            for colour in self.palette:
                parse_hex(colour)
        if self.photo is not None and self.photo.mode != "RGB":
            raise ValueError(f"photo must be an RGB image from load_photo, not mode {self.photo.mode!r}")


@dataclass
class RenderResult:
    """Encoded cover plus what QA and the caller need to know about it."""

    data: bytes
    format: str
    width: int
    height: int
    filename: str
    measurements: dict = field(default_factory=dict)
