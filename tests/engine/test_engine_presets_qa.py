"""Genre aliases resolve to presets; the Sentinel's store rules check the decoded file, not the spec."""

import io

import numpy as np
import pytest
from PIL import Image

from generation.engine import GENRES, CoverSpec, RenderResult, render, resolve_genre, sentinel

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


def store_rules(result: RenderResult, requested_size: int) -> dict:
    return sentinel.check(result, {}, requested_size=requested_size, ocr=False)


def test_store_rules_pass_a_real_cover():
    result = render(CoverSpec(genre="pop", artist="A", album="B", size=1400))
    report = sentinel.check(result, result.measurements, requested_size=1400, ocr=False)
    assert report["passed"] and report["verdict"] == "pass"
    assert report["values"]["width"] == 1400 and report["values"]["mode"] == "RGB"


def test_store_rules_fail_what_stores_reject():
    square = Image.new("RGB", (1400, 1400), (30, 40, 50))
    assert all(store_rules(result_from(square), 1400)["checks"][c] == "pass"
               for c in ("square", "size", "bytes", "format", "rgb", "alpha"))

    report = store_rules(result_from(Image.new("RGB", (1400, 1200))), 1200)
    assert report["checks"]["square"] == "fail" and not report["passed"]

    report = store_rules(result_from(Image.new("RGBA", (1400, 1400))), 1400)
    assert report["checks"]["alpha"] == "fail" and not report["passed"]

    report = store_rules(result_from(square), 3000)  # the spec asked for more than was made
    assert report["checks"]["size"] == "fail"

    noise = np.random.default_rng(0).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)
    report = store_rules(result_from(Image.fromarray(noise), compress_level=0), 2000)
    assert report["checks"]["bytes"] == "fail" and report["values"]["bytes"] > 10 * 1024 * 1024

    report = store_rules(result_from(square.convert("RGB"), "GIF"), 1400)
    assert report["checks"]["format"] == "fail"

    garbage = RenderResult(b"not an image", "png", 1400, 1400, "x.png", {})
    report = store_rules(garbage, 1400)
    assert not report["passed"] and report["score"] < 0.5 and "error" in report["values"]
