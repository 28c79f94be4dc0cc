"""Stage 1, load: decode an uploaded photo into a clean 8-bit sRGB image, or refuse it clearly."""

from __future__ import annotations

import io
import warnings
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

ACCEPTED = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
ACCEPTED_TEXT = "JPEG, PNG or WebP"
try:  # HEIC (iPhone photos) through the pillow-heif wheel, which bundles libheif
    from pillow_heif import register_heif_opener

    register_heif_opener()
    ACCEPTED["HEIF"] = "HEIC"
    ACCEPTED_TEXT = "JPEG, PNG, WebP or HEIC"
except ImportError:
    pass
# Larger photos are reduced on load: no cover is bigger than 4000 px, and a smaller
# working copy keeps memory and time down for 50 MP camera files.
MAX_WORKING_SIDE = 4096


class PhotoError(ValueError):
    """The uploaded photo can't be used; the message says what is wrong and what is accepted."""


def load_photo(data: bytes, *, max_pixels: int = 50_000_000, min_side: int = 400) -> Image.Image:
    """Decode JPEG/PNG/WebP/HEIC bytes into an upright 8-bit RGB sRGB image; PhotoError if unusable.

    The header is checked (format, pixel count, short side) before any pixel is decoded.
    Transparency is composited on white. `info["source_size"]` keeps the upright size as uploaded.
    """
    if not data:
        raise PhotoError(f"the file is empty; send a {ACCEPTED_TEXT} photo")
    image = _open_checked(data, max_pixels=max_pixels, min_side=min_side)
    width, height = image.size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            icc = image.info.get("icc_profile")
            turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # EXIF orientations that swap w and h
            _reduce_while_decoding(image)
            image.load()
            upright = ImageOps.exif_transpose(image) or image
    except PhotoError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise PhotoError(f"the image data is truncated or corrupt ({exc}); upload the complete file") from exc
    source_size = (height, width) if turned else (width, height)
    rgb = _to_srgb(upright, icc)
    if max(rgb.size) > MAX_WORKING_SIDE:
        scale = MAX_WORKING_SIDE / max(rgb.size)
        new_size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    rgb.info = {"source_size": source_size}
    return rgb


def _open_checked(data: bytes, *, max_pixels: int, min_side: int) -> ImageFile.ImageFile:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise PhotoError(f"the image is far too large to decode safely ({exc}); "
                         f"the limit is {max_pixels / 1e6:g} megapixels") from exc
    except UnidentifiedImageError as exc:
        raise PhotoError(f"the file is not a readable image; send a {ACCEPTED_TEXT} photo") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(f"the image header is corrupt ({exc}); send a {ACCEPTED_TEXT} photo") from exc
    if image.format not in ACCEPTED:
        raise PhotoError(f"the file is a {image.format or 'unknown'} image; send a {ACCEPTED_TEXT} photo")
    width, height = image.size
    if width * height > max_pixels:
        raise PhotoError(f"image is {width}x{height} px ({width * height / 1e6:.1f} megapixels); "
                         f"the limit is {max_pixels / 1e6:g} megapixels")
    if min(width, height) < min_side:
        raise PhotoError(f"image is {width}x{height} px; the short side must be at least {min_side} px")
    return image


def _reduce_while_decoding(image: ImageFile.ImageFile) -> None:
    """Let the JPEG decoder scale down by 1/2, 1/4 or 1/8 when the photo is far larger than needed."""
    if image.format not in ("JPEG", "MPO") or max(image.size) <= 2 * MAX_WORKING_SIDE:
        return
    scale = MAX_WORKING_SIDE / max(image.size)
    image.draft(None, (int(image.width * scale) + 1, int(image.height * scale) + 1))


@lru_cache(maxsize=1)
def srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Any mode, with or without an embedded profile -> 8-bit RGB in sRGB, alpha composited on white."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grey: scale to 8 bits instead of letting convert() clip everything above 255.
        values = np.asarray(image).astype(np.float32)
        image = Image.fromarray(np.clip(values / 257.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif mode == "F":
        values = np.asarray(image)
        image = Image.fromarray(np.clip(values * (255.0 if values.max() <= 1.0 else 1.0), 0, 255)
                                .astype(np.uint8), "L")
    elif mode in ("P", "PA"):
        image = image.convert("RGBA")
    elif mode in ("1", "LA", "La"):
        image = image.convert("RGBA" if mode != "1" else "L")
    elif mode in ("RGBa",):
        image = image.convert("RGBA")
    elif mode not in ("RGB", "RGBA", "L", "CMYK", "YCbCr", "LAB"):
        image = image.convert("RGB")

    alpha = image.getchannel("A") if image.mode == "RGBA" else None
    if alpha is not None:
        image = image.convert("RGB")
    if icc and image.mode in ("RGB", "L", "CMYK", "LAB"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, srgb_profile(), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            image = image.convert("RGB")  # an unreadable profile: assume the pixels are sRGB already
    if image.mode != "RGB":
        image = image.convert("RGB")
    if alpha is not None and alpha.getextrema() != (255, 255):
        white = Image.new("RGB", image.size, (255, 255, 255))
        image = Image.composite(image, white, alpha)
    return image
