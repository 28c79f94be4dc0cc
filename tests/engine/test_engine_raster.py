"""The raster primitives: the blend gives the same pixels whichever form its inputs take, and never writes into
its caller's picture."""

import numpy as np
import pytest

from generation.engine.art import treatments
from generation.engine.art.raster import mix


def _reference(base, top, alpha):
    top = np.broadcast_to(np.asarray(top, np.float64), base.shape)
    alpha = np.asarray(alpha, np.float64)
    if alpha.ndim == 2 and base.ndim == 3:
        alpha = alpha[..., None]
    return base * (1.0 - alpha) + top * alpha


@pytest.fixture
def planes():
    rng = np.random.default_rng(3)
    return (rng.random((40, 50, 3), dtype=np.float32), rng.random((40, 50, 3), dtype=np.float32),
            rng.random((40, 50), dtype=np.float32))


@pytest.mark.parametrize("form", ["image", "colour", "broadcast colour"])
@pytest.mark.parametrize("alpha_form", ["plane", "scalar", "three planes"])
def test_the_blend_gives_the_same_pixels_whatever_form_its_inputs_take(planes, form, alpha_form):
    base, image, plane = planes
    colour = np.array([0.9, 0.2, 0.4], np.float32)
    top = {"image": image, "colour": colour, "broadcast colour": np.broadcast_to(colour, base.shape)}[form]
    alpha = {"plane": plane, "scalar": 0.35, "three planes": np.dstack([plane, 1 - plane, plane * 0.5])}[alpha_form]
    before = base.copy()
    out = mix(base, top, alpha)
    assert out.dtype == np.float32 and out.shape == base.shape
    np.testing.assert_allclose(out, _reference(base, top, alpha), atol=1e-5)
    np.testing.assert_array_equal(base, before)  # the caller's picture is untouched


def test_a_one_channel_blend_stays_one_channel(planes):
    _, _, plane = planes
    out = mix(plane, plane[::-1], plane)
    np.testing.assert_allclose(out, _reference(plane, plane[::-1], plane), atol=1e-5)


def test_dust_marks_a_copy_and_keeps_the_picture_in_range():
    picture = np.full((300, 300, 3), 0.2, np.float32)
    out = treatments.dust(picture, np.random.default_rng(1), 1.0)
    assert np.all(picture == np.float32(0.2))  # the shared picture is not written into
    assert out.max() > 0.3 and out.min() >= 0.0 and out.max() <= 1.0  # light specks on a dark picture
