"""render: every genre and variant gives a store-ready file; the same spec gives the same bytes."""

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from generation.engine import GENRES, VARIANTS, CoverSpec, render
from generation.engine.export import encode, srgb_icc
from generation.engine.sentinel.technical import technical_checks
from generation.engine.spec import MAX_BYTES
from generation.engine.typeset import MARGIN


def decode(result):
    image = Image.open(io.BytesIO(result.data))
    image.load()
    return image


def assert_store_ready(result, size):
    image = decode(result)
    assert image.format == ("PNG" if result.format == "png" else "JPEG")
    assert image.mode == "RGB"
    assert image.size == (size, size) == (result.width, result.height)
    profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    assert image.info["icc_profile"] == srgb_icc()  # pinned creation date: stable bytes across days
    assert tuple(round(v) for v in image.info["dpi"]) == (72, 72)
    assert len(result.data) < MAX_BYTES
    checks, _ = technical_checks(image, len(result.data), size)
    assert set(checks.values()) == {"pass"}, checks


def assert_text_inside_margins(result, size):
    margin = round(size * MARGIN)
    assert result.measurements["text_boxes"]
    for x0, y0, x1, y1 in result.measurements["text_boxes"]:
        assert x0 >= margin - 2 and y0 >= margin - 2, (x0, y0)
        assert x1 <= size - margin + 2 and y1 <= size - margin + 2, (x1, y1)


@pytest.mark.parametrize("genre", sorted(GENRES))
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_genre_and_variant_renders_store_ready(genre, variant, astronaut):
    output_format = "jpeg" if (len(genre) + len(variant)) % 3 == 0 else "png"
    spec = CoverSpec(genre=genre, artist="Sigur Rós", album="Ágætis byrjun", feature="feat. Beyoncé",
                     variant=variant, size=1400, seed=3, output_format=output_format, photo=astronaut)
    result = render(spec)
    assert_store_ready(result, 1400)
    assert_text_inside_margins(result, 1400)
    extension = "jpg" if output_format == "jpeg" else "png"
    assert result.filename == f"Sigur_Ros_Agaetis_byrjun_1400x1400.{extension}"
    assert set(result.measurements["timings_ms"]) >= {"load", "segment", "compose", "layout", "typeset",
                                                      "export", "total"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_background_only_and_no_person_photo(variant, coffee):
    for photo in (None, coffee):
        result = render(CoverSpec(genre="edm", artist="Daft Punk", album="Discovery", variant=variant,
                                  size=1400,
                                  photo=photo))
        assert_store_ready(result, 1400)
        assert_text_inside_margins(result, 1400)


def test_same_spec_same_bytes_and_seeds_differ_visibly(astronaut):
    for genre in ("hiphop", "edm", "rnb", "indie"):
        spec = CoverSpec(genre=genre, artist="Artist", album="Album", size=1400, seed=5)
        first, again = render(spec), render(spec)
        assert first.data == again.data
        other = render(CoverSpec(genre=genre, artist="Artist", album="Album", size=1400, seed=6))
        a = np.asarray(decode(first), np.float32)
        b = np.asarray(decode(other), np.float32)
        assert np.abs(a - b).mean() > 4, genre  # a different composition, not a few changed pixels
    with_photo = CoverSpec(genre="rock", artist="A", album="B", variant="background", size=1400, seed=1,
                           photo=astronaut)
    assert render(with_photo).data == render(with_photo).data


def test_full_size_png_and_jpeg(astronaut):
    for output_format in ("png", "jpeg"):
        spec = CoverSpec(genre="hiphop", artist="Kendrick Lamar", album="Midnight Marauders", size=3000,
                         output_format=output_format, explicit=True, photo=astronaut)
        result = render(spec)
        assert_store_ready(result, 3000)
        assert_text_inside_margins(result, 3000)
        assert result.measurements["timings_ms"]["total"] < 6000  # generous: CI machines vary


def test_explicit_label_lower_left_and_clear_of_text(astronaut):
    for variant in VARIANTS:
        result = render(CoverSpec(genre="metal", artist="Sleep Token", album="Even In Arcadia",
                                  variant=variant,
                                  size=1400, explicit=True, photo=astronaut))
        x0, y0, x1, y1 = result.measurements["advisory_box"]
        assert x0 < 1400 * 0.1 and y1 > 1400 * 0.9
        assert 1400 / 10 < x1 - x0 < 1400 / 6
        for tx0, ty0, tx1, ty1 in result.measurements["text_boxes"]:
            assert tx1 <= x0 or tx0 >= x1 or ty1 <= y0 or ty0 >= y1, "text overlaps the advisory label"
        label = np.asarray(decode(result).convert("L"))[y0:y1, x0:x1]
        assert (label < 40).mean() > 0.3 and (label > 215).mean() > 0.15  # black and white, drawn


def test_palette_override_changes_the_colours():
    plain = render(CoverSpec(genre="rnb", artist="A", album="B", size=1400))
    green = render(CoverSpec(genre="rnb", artist="A", album="B", size=1400, palette=("#0a2a12", "#1f7a3a")))
    a = np.asarray(decode(plain), np.float32).reshape(-1, 3).mean(axis=0)
    b = np.asarray(decode(green), np.float32).reshape(-1, 3).mean(axis=0)
    assert b[1] - b[0] > a[1] - a[0] + 10  # clearly greener


def test_invalid_specs_are_refused():
    for bad in ({"genre": "polka"}, {"variant": "poster"}, {"size": 1000}, {"size": 5000},
                {"output_format": "webp"}, {"artist": "  "}, {"palette": ("not-a-colour",)}):
        with pytest.raises(ValueError):
            CoverSpec(**{"genre": "pop", "artist": "A", "album": "B", **bad})


def test_png_over_the_limit_is_smoothed_under_it():
    noise = np.random.default_rng(0).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)
    data, details = encode(noise, "png", protect=[(0, 0, 100, 100)])
    assert len(data) < MAX_BYTES
    assert len(details["attempts"]) > 1 and details["attempts"][0]["bytes"] >= MAX_BYTES
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert (decoded[:100, :100] == noise[:100, :100]).all()  # protected areas (text) stay crisp
