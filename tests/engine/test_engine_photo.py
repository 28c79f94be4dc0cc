"""load_photo on good and hostile uploads: it returns upright 8-bit sRGB RGB, or a clear PhotoError."""

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms
from skimage import data

from generation.engine import PhotoError, load_photo


def save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but which carries almost no pixel data."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


def test_plain_jpeg_png_webp_load_as_rgb():
    for fmt in ("JPEG", "PNG", "WEBP"):
        photo = load_photo(save(astronaut(), fmt))
        assert photo.mode == "RGB"
        assert photo.size == (512, 512)


def test_cmyk_jpeg_becomes_rgb_with_similar_colours():
    original = astronaut()
    photo = load_photo(save(original.convert("CMYK"), "JPEG", quality=95))
    assert photo.mode == "RGB"
    difference = np.abs(np.asarray(photo, np.float32) - np.asarray(original, np.float32)).mean()
    assert difference < 12


def test_16_bit_grey_png_is_scaled_not_clipped():
    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY).astype(np.uint16) * 257
    ok, encoded = cv2.imencode(".png", grey)
    assert ok
    photo = load_photo(encoded.tobytes())
    pixels = np.asarray(photo)
    assert photo.mode == "RGB"
    assert pixels.std() > 30  # clipping every value above 255 would make it nearly flat white
    assert np.abs(pixels[..., 0].astype(int) - grey // 257).max() <= 1


def test_16_bit_rgb_png_loads():
    rgb16 = data.astronaut().astype(np.uint16) * 257
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
    assert ok
    photo = load_photo(encoded.tobytes())
    assert photo.mode == "RGB"
    assert np.abs(np.asarray(photo, np.int16) - data.astronaut()).max() <= 1


def test_rgba_png_is_composited_on_white():
    image = astronaut().convert("RGBA")
    alpha = Image.new("L", image.size, 255)
    alpha.paste(0, (0, 0, 512, 100))  # the top band fully transparent
    image.putalpha(alpha)
    photo = load_photo(save(image, "PNG"))
    pixels = np.asarray(photo)
    assert photo.mode == "RGB"
    assert (pixels[:100] == 255).all()
    assert (pixels[200:] == data.astronaut()[200:]).all()


def test_palette_and_la_pngs_load():
    for image in (astronaut().quantize(64), astronaut().convert("LA"), astronaut().convert("L"),
                  astronaut().convert("1")):
        photo = load_photo(save(image, "PNG"))
        assert photo.mode == "RGB" and photo.size == (512, 512)


def test_exif_rotated_jpeg_ends_up_upright():
    upright = np.zeros((600, 400, 3), np.uint8)  # portrait, red top, blue bottom
    upright[:300] = (255, 0, 0)
    upright[300:] = (0, 0, 255)
    # Orientation 6 tells viewers to turn the stored pixels 90 degrees clockwise for display,
    # so store them turned 90 degrees counter-clockwise.
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = load_photo(save(stored, "JPEG", exif=exif, quality=95))
    assert photo.size == (400, 600)
    pixels = np.asarray(photo).astype(int)
    assert pixels[50, 200, 0] > 200 and pixels[50, 200, 2] < 60
    assert pixels[550, 200, 2] > 200 and pixels[550, 200, 0] < 60
    assert tuple(photo.info["source_size"]) == (400, 600)


def test_embedded_icc_profile_is_converted():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = load_photo(save(astronaut(), "PNG", icc_profile=srgb))
    assert np.abs(np.asarray(photo, np.int16) - data.astronaut()).max() <= 2


def test_too_small_is_refused_with_the_numbers():
    with pytest.raises(PhotoError, match=r"300x200 px; the short side must be at least 400 px"):
        load_photo(save(Image.new("RGB", (300, 200)), "PNG"))
    with pytest.raises(PhotoError, match="1x1 px"):
        load_photo(save(Image.new("RGB", (1, 1)), "PNG"))


def test_truncated_jpeg_is_refused():
    whole = save(astronaut(), "JPEG", quality=90)
    with pytest.raises(PhotoError, match="truncated or corrupt"):
        load_photo(whole[: len(whole) // 2])


def test_random_bytes_and_empty_are_refused():
    junk = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    with pytest.raises(PhotoError, match="JPEG, PNG, WebP"):
        load_photo(junk)
    with pytest.raises(PhotoError, match="empty"):
        load_photo(b"")


def test_other_formats_are_refused_by_name():
    with pytest.raises(PhotoError, match="GIF image"):
        load_photo(save(astronaut(), "GIF"))


def test_decompression_bomb_refused_before_decoding():
    # Over our 50 MP limit but under Pillow's own bomb threshold: our header check catches it.
    with pytest.raises(PhotoError, match=r"8000x8000 px \(64.0 megapixels\); the limit is 50 megapixels"):
        load_photo(png_header_only(8000, 8000))
    # Far over Pillow's threshold: Pillow refuses at open, and we still answer with a PhotoError.
    with pytest.raises(PhotoError, match="megapixels"):
        load_photo(png_header_only(40000, 40000))


def test_caller_limits_are_honoured():
    with pytest.raises(PhotoError, match="short side must be at least 600 px"):
        load_photo(save(astronaut(), "PNG"), min_side=600)
    with pytest.raises(PhotoError, match="limit is 0.2 megapixels"):
        load_photo(save(astronaut(), "PNG"), max_pixels=200_000)
