"""The request and result types of the engine: what goes into `render` and what comes out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

VARIANTS: tuple[str, ...] = ("artist", "background", "text", "free")
SEGMENTATIONS: tuple[str, ...] = ("selfie", "rembg", "none")
BACKGROUND_BACKENDS: tuple[str, ...] = ("procedural", "diffusion")
TEXT_POSITIONS: tuple[str, ...] = ("auto", "top", "center", "bottom")
SUBJECT_CROPS: tuple[str, ...] = ("auto", "face", "bust", "full")
MAX_PROMPT_TEXT = 2000
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
    segmentation: str = "selfie"  # "selfie" | "rembg" | "none"
    model_dir: str | None = None  # None: segmentation.DEFAULT_MODEL_DIR
    background_backend: str = "procedural"  # "procedural" | "diffusion"
    diffusion_model: str | None = None  # the diffusers model directory (required for "diffusion")
    style: str = ""
    mood: str = ""
    style_tags: str = ""
    lyrics: str = ""
    text_position: str = "auto"  # "auto" | "top" | "center" | "bottom"
    background_intensity: float = 0.5  # 0 quiet scene .. 1 strong scene; 0.5 is the preset as designed
    subject_crop: str = "auto"  # "auto" | "face" | "bust" | "full"
    # Colours extracted from a style reference (extract_palette): base, mid, accent, highlight, ink.
    reference_palette: tuple[str, ...] | None = None
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
        self._check_colours("palette")
        self._check_choice("segmentation", SEGMENTATIONS)
        self._check_choice("background_backend", BACKGROUND_BACKENDS)
        self._check_choice("text_position", TEXT_POSITIONS)
        self._check_choice("subject_crop", SUBJECT_CROPS)
        for name in ("model_dir", "diffusion_model"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"{name} must be a non-empty path string or None")
        if self.background_backend == "diffusion" and self.diffusion_model is None:
            raise ValueError("background_backend 'diffusion' needs diffusion_model (a local model directory)")
        for name in ("style", "mood", "style_tags", "lyrics"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            if len(value) > MAX_PROMPT_TEXT:
                raise ValueError(f"{name} is limited to {MAX_PROMPT_TEXT} characters")
        intensity = self.background_intensity
        if isinstance(intensity, bool) or not isinstance(intensity, int | float) or not 0.0 <= intensity <= 1.0:
            raise ValueError(f"background_intensity must be a number from 0 to 1, not {intensity!r}")
        self._check_colours("reference_palette")
        if self.photo is not None and self.photo.mode != "RGB":
            raise ValueError(f"photo must be an RGB image from load_photo, not mode {self.photo.mode!r}")


    def _check_colours(self, name: str) -> None:
        colours = getattr(self, name)
        if colours is None:
            return
        if isinstance(colours, str) or not colours:
            raise ValueError(f"{name} must be a non-empty tuple of hex colours")
        for colour in colours:
            parse_hex(colour)

    def _check_choice(self, name: str, allowed: tuple[str, ...]) -> None:
        if getattr(self, name) not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")


@dataclass
class RenderResult:
    """Encoded cover plus what QA and the caller need to know about it."""

    data: bytes
    format: str
    width: int
    height: int
    filename: str
    measurements: dict = field(default_factory=dict)
    # The final pixels (uint8 RGB, what the PNG holds; before JPEG compression), so QA can skip decoding.
    pixels: np.ndarray | None = field(default=None, repr=False, compare=False)
