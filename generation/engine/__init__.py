"""AlbumArt image engine: plain Python (no Django), a CoverSpec in, encoded bytes and measurements out."""

from .art.prepare import PreparedPhoto, prepare_photo, scrubbed_pixels
from .palette import extract_palette
from .photo import PhotoError, load_photo
from .pipeline import render
from .presets import GENRES, GenrePreset, resolve_genre
from .spec import VARIANTS, CoverSpec, RenderResult
from .watermark import watermark_result

__all__ = [
    "CoverSpec",
    "GENRES",
    "GenrePreset",
    "PhotoError",
    "PreparedPhoto",
    "RenderResult",
    "VARIANTS",
    "extract_palette",
    "load_photo",
    "prepare_photo",
    "scrubbed_pixels",
    "render",
    "resolve_genre",
    "watermark_result",
]
