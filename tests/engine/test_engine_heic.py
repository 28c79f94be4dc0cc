import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from generation.engine import PhotoError, load_photo

pillow_heif = pytest.importorskip("pillow_heif")


def heic(image: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "HEIF", quality=90, **kwargs)
    return buf.getvalue()


def test_heic_photo_is_decoded_to_srgb_rgb():
    source = Image.fromarray(data.astronaut())
    photo = load_photo(heic(source))
    assert photo.size == (512, 512) and photo.mode == "RGB"
    # Close to the original pixels (lossy, but the same picture).
    diff = np.abs(np.asarray(photo, np.int16) - np.asarray(source, np.int16)).mean()
    assert diff < 6


def test_small_heic_is_refused_with_the_size():
    with pytest.raises(PhotoError, match="400"):
        load_photo(heic(Image.new("RGB", (300, 200), (10, 20, 30))))
