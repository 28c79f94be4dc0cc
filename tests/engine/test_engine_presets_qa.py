"""Genre aliases resolve to presets; basic_qa checks the decoded file, not the spec."""

import io

import numpy as np
import pytest
from PIL import Image

from generation.engine import GENRES, CoverSpec, RenderResult, basic_qa, render, resolve_genre

REQUIRED = {"hiphop", "indie", "edm", "rnb", "rock", "pop", "jazz", "ambient", "metal", "lofi", "classical"}


def test_required_genres_have_complete_presets():
    assert REQUIRED <= set(GENRES)
    for preset in GENRES.values():
        assert preset.label and preset.aliases and len(preset.palette) == 5
        assert preset.fonts.primary and preset.fonts.secondary


@pytest.mark.parametrize("name,key", [
    ("Hip-Hop", "hiphop"), ("hip hop", "hiphop"), ("HIPHOP", "hiphop"), ("trap", "hiphop"), ("Rap", "hiphop"),
    ("UK Drill", "hiphop"), ("Hip-Hop/Rap", "hiphop"),
    ("country", "indie"), ("Folk", "indie"), ("acoustic", "indie"), ("Indie Pop", "indie"),
    ("house", "edm"), ("Techno", "edm"), ("synthwave", "edm"), ("Electronic", "edm"), ("drum & bass", "edm"),
    ("soul", "rnb"), ("Neo-Soul", "rnb"), ("R&B", "rnb"), ("r & b", "rnb"), ("RnB", "rnb"),
    ("Death Metal", "metal"), ("alt-rock", "rock"), ("Punk", "rock"), ("K-Pop", "pop"), ("lo-fi", "lofi"),
    ("Bebop", "jazz"), ("Opera", "classical"), ("new age", "ambient"), ("  pop  ", "pop"),
])
def test_resolve_genre_aliases(name, key):
    assert resolve_genre(name) == key


@pytest.mark.parametrize("name", ["", "   ", "polka", "zzz", "!!!"])
def test_resolve_genre_unknown(name):
    assert resolve_genre(name) is None


def result_from(image: Image.Image, fmt: str = "PNG", **options) -> RenderResult:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return RenderResult(buffer.getvalue(), fmt.lower(), image.width, image.height, "x.png", {})


def test_basic_qa_passes_a_real_cover():
    result = render(CoverSpec(genre="pop", artist="A", album="B", size=1400))
    report = basic_qa(result, requested_size=1400)
    assert report["passed"] and report["score"] == 1.0
    assert report["values"]["width"] == 1400 and report["values"]["mode"] == "RGB"


def test_basic_qa_fails_what_stores_reject():
    square = Image.new("RGB", (1400, 1400), (30, 40, 50))
    assert basic_qa(result_from(square), requested_size=1400)["passed"]

    report = basic_qa(result_from(Image.new("RGB", (1400, 1200))), requested_size=1200)
    assert report["checks"]["square"] == "fail" and not report["passed"]

    report = basic_qa(result_from(Image.new("RGBA", (1400, 1400))), requested_size=1400)
    assert report["checks"]["alpha"] == "fail" and not report["passed"]

    report = basic_qa(result_from(square), requested_size=3000)  # the spec asked for more than was made
    assert report["checks"]["size"] == "fail"

    noise = np.random.default_rng(0).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)
    report = basic_qa(result_from(Image.fromarray(noise), compress_level=0), requested_size=2000)
    assert report["checks"]["bytes"] == "fail" and report["values"]["bytes"] > 10 * 1024 * 1024

    report = basic_qa(result_from(square.convert("RGB"), "GIF"), requested_size=1400)
    assert report["checks"]["format"] == "fail"

    garbage = RenderResult(b"not an image", "png", 1400, 1400, "x.png", {})
    report = basic_qa(garbage, requested_size=1400)
    assert not report["passed"] and report["score"] < 0.5 and "error" in report["values"]
