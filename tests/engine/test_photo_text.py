"""Third-party text in the source photo (a shop sign, a banner) is found by the text detector and blurred out of
the pixels every variant uses, and a face is never touched."""

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data

from generation.engine import prepare_photo
from generation.engine.fonts import package_font
from generation.engine.presets import FJALLA
from generation.engine.segmentation import DEFAULT_MODEL_DIR, MODEL_FILES, find_faces
from generation.engine.segmentation.text import find_text, scrub

pytestmark = pytest.mark.skipif(not all((DEFAULT_MODEL_DIR / m.filename).is_file() for m in MODEL_FILES),
                                reason="models not fetched (python manage.py fetch_models)")

SIGN = (560, 120, 1000, 260)  # x0, y0, x1, y1 of a printed sign beside the person


def photo_with_sign(words="GRAND OPENING") -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The astronaut at 2x on the left, a white sign with black lettering on a textured wall on the right;
    the photo and the lettering's ink box."""
    rng = np.random.default_rng(3)
    wall = (rng.normal(120, 18, (1024, 1040, 3))).clip(0, 255).astype(np.uint8)
    wall = cv2.GaussianBlur(wall, (0, 0), 2)
    wall[:, :520] = cv2.resize(data.astronaut(), (1024, 1024))[:, 250:770]
    image = Image.fromarray(wall)
    draw = ImageDraw.Draw(image)
    draw.rectangle(SIGN, fill=(245, 240, 230))
    font = ImageFont.truetype(package_font(FJALLA).path, 64)
    draw.text((SIGN[0] + 18, SIGN[1] + 38), words, font=font, fill=(20, 20, 20))
    return np.asarray(image), draw.textbbox((SIGN[0] + 18, SIGN[1] + 38), words, font=font)


def detail(pixels: np.ndarray, box) -> float:
    x0, y0, x1, y1 = box
    grey = cv2.cvtColor(np.ascontiguousarray(pixels[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def covered(boxes, box) -> float:
    """The share of `box` that the union of `boxes` covers."""
    x0, y0, x1, y1 = box
    mask = np.zeros((y1 - y0, x1 - x0), bool)
    for b in boxes:
        bx0, by0 = max(int(b[0]) - x0, 0), max(int(b[1]) - y0, 0)
        mask[by0:max(0, int(b[3]) - y0), bx0:max(0, int(b[2]) - x0)] = True
    return float(mask.mean())


def test_a_sign_is_found_and_blurred_past_reading():
    pixels, lettering = photo_with_sign()
    faces = find_faces(pixels, None)
    boxes = find_text(pixels, None, faces)
    assert covered(boxes, lettering) > 0.9
    scrubbed = scrub(pixels, boxes)
    assert detail(scrubbed, lettering) < 0.1 * detail(pixels, lettering)
    # Outside the boxes (and their feathered rim) nothing changed.
    assert np.array_equal(scrubbed[700:, :], pixels[700:, :])


def test_a_face_is_never_scrubbed_and_a_photo_without_lettering_is_left_alone():
    pixels = np.ascontiguousarray(data.astronaut())
    faces = find_faces(pixels, None)
    assert faces
    boxes = find_text(pixels, None, faces)
    for b in boxes:
        for f in faces:
            assert b[2] <= f[0] or f[2] <= b[0] or b[3] <= f[1] or f[3] <= b[1]
    assert scrub(pixels, []) is pixels


def test_prepare_photo_blurs_the_sign_for_every_variant():
    pixels, lettering = photo_with_sign("SALE 50% OFF")
    prepared = prepare_photo(Image.fromarray(pixels))
    assert prepared.text
    assert detail(prepared.pixels, lettering) < 0.1 * detail(pixels, lettering)
    assert prepared.faces  # the person is still there, and found


def test_an_out_of_focus_banner_behind_the_subject_is_found_by_the_finer_look(prepared_set):
    """The ESPN banner behind the pitcher (busy_background.jpg, letters at about x 235-420, y 470-525) is soft
    and half hidden: the first look misses it, the finer look at the background finds it."""
    banner = (235, 470, 420, 525)
    assert covered(prepared_set["busy_background"].text, banner) > 0.6
    # The finer look never adds lettering on a person: the party guest's hands (lowres_480p) and the cup
    # (no_person_object) keep what the first look found.
    assert not prepared_set["lowres_480p"].text
    assert len(prepared_set["no_person_object"].text) <= 1

