"""The Sentinel on covers built to fail each check, and on good covers of the engine."""

import copy
import io
import logging
import os
import shutil
import subprocess
import threading
from collections import OrderedDict

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data

from generation import engine
from generation.engine import sentinel
from generation.engine.photo import srgb_profile
from generation.engine.sentinel import ocr

SIZE = 1400
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def encode(rgb, fmt="PNG", **kwargs) -> bytes:
    buf = io.BytesIO()
    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    kwargs.setdefault("dpi", (72, 72))
    if image.mode in ("RGB", "RGBA"):
        kwargs.setdefault("icc_profile", srgb_profile().tobytes())
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def run(data, measurements=None, **kwargs):
    kwargs.setdefault("requested_size", SIZE)
    return sentinel.check(data, measurements or {}, **kwargs)


@pytest.fixture(scope="module")
def photo():
    return engine.load_photo(encode(data.astronaut(), "JPEG", quality=92))


@pytest.fixture(scope="module")
def good(photo):
    spec = engine.CoverSpec(genre="hiphop", artist="NOVA", album="STILL STANDING", variant="artist", size=SIZE,
                            seed=11, photo=photo)
    return engine.render(spec)


def texts(result):
    return result.measurements["texts"]


@pytest.mark.parametrize("genre,variant,with_photo", [
    ("hiphop", "artist", True), ("hiphop", "background", True), ("indie", "text", True), ("edm", "artist", False),
    ("rnb", "background", False), ("rock", "text", False), ("pop", "artist", True), ("lofi", "background", True),
])
def test_good_covers_pass(photo, genre, variant, with_photo):
    spec = engine.CoverSpec(genre=genre, artist="Layla Moore", album="Velvet Hours", variant=variant, size=SIZE,
                            seed=5, photo=photo if with_photo else None)
    result = engine.render(spec)
    qa = run(result, result.measurements, texts=texts(result))
    assert qa["verdict"] == "pass", {k: v for k, v in qa["checks"].items() if v != "pass"}
    assert qa["passed"] and qa["score"] == 1.0
    assert qa["values"]["ocr_read"] and qa["values"]["ocr_text"] >= 0.8
    assert len(qa["values"]["phash"]) == 16
    assert set(sentinel.CHECK_NAMES) <= set(qa["checks"])


def test_good_cover_at_store_size_passes_and_is_read_back(photo):
    spec = engine.CoverSpec(genre="hiphop", artist="NOVA", album="STILL STANDING", variant="text", size=3000,
                            seed=11, photo=photo)
    result = engine.render(spec)
    qa = run(result, result.measurements, requested_size=3000, texts=texts(result))
    assert qa["verdict"] == "pass", qa["checks"]
    assert " ".join(qa["values"]["ocr_read"]) == "NOVA STILL STANDING"  # every line, however the layout breaks them
    assert qa["timings_ms"]["ocr"] > 0  # measured (its speed is bench/sentinel.py's business, not a test's)
    # The same cover against a request it doesn't meet.
    assert run(result, result.measurements, requested_size=4000, texts=texts(result))["checks"]["size"] == "fail"


def test_bordered_cover_fails(good):
    rgb = decoded(good.data)
    inner = cv2.resize(rgb, (SIZE - 120, SIZE - 120), interpolation=cv2.INTER_AREA)
    grey = inner.mean(axis=2)
    sides = [grey[:8].mean(), grey[-8:].mean(), grey[:, :8].mean(), grey[:, -8:].mean()]
    frame = max(range(0, 256, 5), key=lambda v: min(abs(v - m) for m in sides))  # a mat that shows on every side
    framed = np.full_like(rgb, frame)
    framed[60:-60, 60:-60] = inner
    qa = run(encode(framed))
    assert qa["checks"]["border"] == "fail" and qa["verdict"] == "fail"
    assert qa["values"]["border"] >= 0.04 and qa["values"]["border_sides"] == 4
    letterbox = rgb.copy()
    letterbox[:90] = 235  # (a black bar on this night scene has no visible edge: nobody would see it either)
    letterbox[-90:] = 235
    assert run(encode(letterbox))["checks"]["border"] == "fail"
    assert run(good, good.measurements, texts=texts(good))["checks"]["border"] == "pass"


def test_blurred_cover_fails(good):
    blurred = cv2.GaussianBlur(decoded(good.data), (0, 0), 6)
    qa = run(encode(blurred), good.measurements, texts=texts(good), ocr=False)
    assert qa["checks"]["sharpness"] == "fail" and qa["verdict"] == "fail"
    assert qa["values"]["sharpness"] < sentinel.thresholds.SHARPNESS_REVIEW


def test_cover_upscaled_from_64px_fails():
    tiny = cv2.resize(data.astronaut(), (64, 64), interpolation=cv2.INTER_AREA)
    blocky = cv2.resize(tiny, (SIZE, SIZE), interpolation=cv2.INTER_NEAREST)
    qa = run(encode(blocky))
    assert qa["checks"]["pixelation"] == "fail" and qa["verdict"] == "fail"
    assert qa["values"]["pixelation"] >= sentinel.thresholds.PIXELATION_FAIL
    smooth = cv2.resize(tiny, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    qa = run(encode(smooth))
    assert qa["checks"]["sharpness"] == "fail" and qa["verdict"] == "fail"


def test_blank_cover_fails():
    flat = np.full((SIZE, SIZE, 3), (30, 40, 90), np.uint8)
    qa = run(encode(flat))
    assert qa["checks"]["blank"] == "fail" and qa["values"]["blank_std"] < 1


def _text_cover(ground, ink, text="NOVA", size=300):
    """A textured ground with one line of text; returns (png bytes, measurements as the typesetter records them)."""
    rng = np.random.default_rng(3)
    base = np.clip(rng.normal(0, 8, (SIZE // 8, SIZE // 8, 1)) + ground, 0, 255).astype(np.uint8)
    rgb = cv2.resize(np.repeat(base, 3, axis=2), (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, size)
    box = draw.textbbox((150, 500), text, font=font)
    draw.text((150, 500), text, font=font, fill=(ink, ink, ink))
    cap = size * 0.73
    m = {"text_colour": f"#{ink:02x}{ink:02x}{ink:02x}", "text_boxes": [list(box)],
         "lines": [{"role": "artist", "text": text, "display": text, "box": list(box), "cap_px": cap}],
         "texts": {"artist": text, "album": None, "feature": None}}
    return encode(image), m


def test_low_contrast_text_fails_and_high_contrast_passes():
    png, m = _text_cover(ground=120, ink=132)
    qa = run(png, m)
    assert qa["checks"]["legibility_56px"] == "fail" and qa["verdict"] == "fail"
    assert qa["values"]["legibility_256px"] < sentinel.thresholds.LEGIBILITY_REVIEW
    png, m = _text_cover(ground=40, ink=240)
    qa = run(png, m)
    for name in ("legibility_56px", "legibility_128px", "legibility_256px", "legibility_gray", "legibility_blur"):
        assert qa["checks"][name] == "pass", (name, qa["values"][name])
    assert qa["checks"]["ocr_text"] == "pass" and qa["values"]["ocr_read"] == ["NOVA"]


def test_a_thin_stroked_credit_is_measured_not_called_dissolved():
    """A small feature line in a script of thin strokes (here hairline Hangul-like bars) never fills half a
    thumbnail pixel at 128 px: its densest pixels are its ink, not 'no ink at all' (which measured 1.0)."""
    from generation.engine.sentinel.legibility import legibility

    side = 1024
    rgb = np.full((side, side, 3), 12, np.uint8)
    cv2.putText(rgb, "TITLE", (120, 420), cv2.FONT_HERSHEY_DUPLEX, 9, (245, 245, 245), 28, cv2.LINE_AA)
    for i in range(20):  # a credit of 3 px strokes, 32 px high: under half a pixel wide at 128
        x = 304 + i * 21
        rgb[544:576, x:x + 3] = 245
    lines = [{"role": "album", "box": [110, 250, 920, 430], "cap_px": 170},
             {"role": "artist", "box": [295, 540, 730, 580], "cap_px": 30}]
    checks, values = legibility(rgb, lines, 1.0, "#f5f5f5")
    assert values["legibility_128px"] > 2.0, values
    assert checks["legibility_128px"] == "pass"


def test_colour_only_contrast_reads_in_colour_not_in_grey():
    rgb = np.zeros((SIZE, SIZE, 3), np.uint8)
    rgb[...] = (0, 140, 0)  # green ground, red ink of nearly the same luminance
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 320)
    box = draw.textbbox((150, 500), "NOVA", font=font)
    draw.text((150, 500), "NOVA", font=font, fill=(255, 40, 40))
    m = {"text_colour": "#ff2828", "lines": [{"role": "artist", "text": "NOVA", "display": "NOVA",
                                               "box": list(box), "cap_px": 230}]}
    qa = run(encode(image), m, ocr=False)
    assert qa["checks"]["legibility_256px"] == "pass"
    assert qa["checks"]["legibility_gray"] in ("review", "fail")


IN_PROCESS = ocr._in_process()  # tesserocr imports and finds the traineddata
needs_in_process = pytest.mark.skipif(not IN_PROCESS, reason="tesserocr or the tessdata directory is missing")
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None,
                                     reason="Debian's tesseract-ocr is not installed")


@pytest.mark.skipif(not IN_PROCESS and shutil.which("tesseract") is None, reason="no Tesseract at all")
def test_wrong_text_goes_to_review(photo):
    spec = engine.CoverSpec(genre="hiphop", artist="NOVA", album="GOLDEN HOUR", variant="artist", size=SIZE,
                            seed=11, photo=photo)
    result = engine.render(spec)
    # The typesetter's boxes say "STILL STANDING" but the pixels read "GOLDEN HOUR": OCR catches it.
    m = copy.deepcopy(result.measurements)
    for line in m["lines"]:
        if line["role"] == "album":
            line["text"] = line["display"] = "STILL STANDING"
    qa = run(result, m, texts={"artist": "NOVA", "album": "STILL STANDING"})
    assert qa["checks"]["ocr_text"] == "review" and qa["verdict"] == "review"
    assert qa["values"]["ocr_text"] < sentinel.thresholds.OCR_PASS_SIMILARITY
    assert "GOLDEN HOUR" in qa["values"]["ocr_read"]
    # The metadata differs from what the typesetter drew: a review even before OCR.
    qa = run(result, result.measurements, texts={"artist": "NOVA", "album": "STILL STANDING"}, ocr=False)
    assert qa["checks"]["ocr_text"] == "skip"
    qa = run(result, result.measurements, texts={"artist": "NOVA", "album": "STILL STANDING"})
    assert qa["checks"]["ocr_text"] == "review" and qa["values"]["ocr_layout_mismatch"] == 1


def test_ocr_skips_scripts_the_english_model_cannot_read():
    from generation.engine.sentinel.ocr import (
        installed_languages,
        languages_for,
        normalise,
        readable_script,
        similarity,
    )

    assert readable_script("Sigur Rós") and readable_script("Beyoncé, Op. 9")
    assert languages_for("夜の街") == "jpn" and languages_for("Кино feat. Nova") == "rus+eng"
    assert languages_for("Sigur Rós") == "eng" and languages_for("ᚠᚢᚦ") is None  # runes: no model
    assert readable_script("夜の街") == ("jpn" in installed_languages())
    assert normalise("  Sigur   RÓS ") == "sigur ros"
    assert similarity("STILL STANDING", "STILL STANDNG") > 0.9 and similarity("NOVA", "GOLDEN") < 0.5


@pytest.fixture
def fresh_ocr():
    """The language list is cached per process: recompute it under each test's patches and after them."""
    ocr.installed_languages.cache_clear()
    yield ocr
    ocr.installed_languages.cache_clear()


class Popens:
    """subprocess.Popen, counting the `tesseract` processes that read a line (or refusing to start any)."""

    def __init__(self, refuse: bool):
        self.refuse, self.lines, self.real = refuse, 0, subprocess.Popen

    def __call__(self, args, *a, **kw):
        if self.refuse:
            raise AssertionError(f"a process was started: {args}")
        self.lines += "stdin" in args
        return self.real(args, *a, **kw)


def _album_says(result, wrong: str) -> dict:
    """The cover's measurements with the album lines claiming `wrong` (what the pixels do not show)."""
    m = copy.deepcopy(result.measurements)
    for line in m["lines"]:
        if line["role"] == "album":
            line["text"] = line["display"] = wrong
    return m


def _ocr(result, m, wanted):
    return ocr.ocr_text(result.pixels, sentinel._lines(m), wanted, m.get("text_colour"))


@needs_in_process
def test_ocr_reads_in_process_without_starting_a_process(good, fresh_ocr, monkeypatch):
    monkeypatch.setattr(subprocess, "Popen", Popens(refuse=True))  # also what subprocess.run uses
    qa = run(good, good.measurements, texts=texts(good))
    assert qa["checks"]["ocr_text"] == "pass" and qa["values"]["ocr_text"] == 1.0, qa["values"]
    assert " ".join(qa["values"]["ocr_read"]) == "NOVA STILL STANDING"
    assert fresh_ocr.installed_languages() >= {"eng", "osd"}  # listed by tesserocr from the tessdata directory
    # A mismatch is caught on the same path.
    verdict, values = _ocr(good, _album_says(good, "GOLDEN HOUR"), {"artist": "NOVA", "album": "GOLDEN HOUR"})
    assert verdict == "review" and values["ocr_text"] < sentinel.thresholds.OCR_PASS_SIMILARITY
    assert "STILL STANDING" in " ".join(values["ocr_read"])
    # One API per language combination and process, reused from cover to cover.
    key = (os.getpid(), "eng")
    api = ocr._APIS[key]
    run(good, good.measurements, texts=texts(good))
    assert ocr._APIS[key] is api and api is not None


@needs_in_process
def test_ocr_in_process_gives_the_same_reading_from_many_threads(good):
    want = _ocr(good, good.measurements, texts(good))
    got, errors = [], []

    def read():
        try:
            for _ in range(3):
                got.append(_ocr(good, good.measurements, texts(good)))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and got == [want] * 12 and want[0] == "pass"


@needs_in_process
def test_a_forked_child_reads_with_its_parents_loaded_tesseract_under_its_own_lock(good):
    before = ocr._api("eng")
    pid = os.fork()
    if pid == 0:  # the child: the parent's loaded API, a lock of its own, and it reads
        code = 1
        try:
            mine = ocr._api("eng")
            verdict, values = _ocr(good, good.measurements, texts(good))
            code = 0 if mine[0] is before[0] and mine[1] is not before[1] and verdict == "pass" else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert ocr._api("eng") is before  # the parent's is untouched


@needs_in_process
def test_a_line_out_of_time_reads_as_nothing(good, monkeypatch):
    monkeypatch.setattr(sentinel.thresholds, "OCR_TIMEOUT_S", 0.001)  # 1 ms: Recognize gives up
    only_album = copy.deepcopy(good.measurements)
    only_album["lines"] = [ln for ln in only_album["lines"] if ln["role"] == "album"]
    verdict, values = _ocr(good, only_album, {})
    assert verdict == "review" and values["ocr_read"] == [""] * len(only_album["lines"])


@needs_tesseract
def test_ocr_falls_back_to_a_process_per_line_without_tesserocr(good, fresh_ocr, monkeypatch):
    monkeypatch.setattr(ocr, "_tesserocr", lambda: None)
    popen = Popens(refuse=False)
    monkeypatch.setattr(subprocess, "Popen", popen)
    verdict, values = _ocr(good, good.measurements, texts(good))
    assert verdict == "pass" and " ".join(values["ocr_read"]) == "NOVA STILL STANDING"
    assert popen.lines == len(values["ocr_read"]) >= 2  # one process per line
    verdict, values = _ocr(good, _album_says(good, "GOLDEN HOUR"), {"artist": "NOVA", "album": "GOLDEN HOUR"})
    assert verdict == "review" and values["ocr_text"] < sentinel.thresholds.OCR_PASS_SIMILARITY


@needs_tesseract
@needs_in_process
def test_ocr_falls_back_when_tesseract_cannot_load_a_language(good, fresh_ocr, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise RuntimeError("Failed to init API, possibly an invalid tessdata path")

    monkeypatch.setattr(ocr._tesserocr(), "PyTessBaseAPI", refuse)
    monkeypatch.setattr(ocr, "_APIS", OrderedDict())  # none loaded yet in this process
    popen = Popens(refuse=False)
    monkeypatch.setattr(subprocess, "Popen", popen)
    with caplog.at_level(logging.WARNING, logger=ocr.__name__):
        for _ in range(2):
            verdict, values = _ocr(good, good.measurements, texts(good))
            assert verdict == "pass" and " ".join(values["ocr_read"]) == "NOVA STILL STANDING"
    assert popen.lines == 2 * len(values["ocr_read"])
    assert len([r for r in caplog.records if "cannot load eng" in r.getMessage()]) == 1  # said once


def test_ocr_without_any_tesseract_is_skipped(good, fresh_ocr, monkeypatch):
    monkeypatch.setattr(ocr, "_tesserocr", lambda: None)
    monkeypatch.setattr(ocr, "TESSERACT", "/nonexistent/tesseract")
    verdict, values = _ocr(good, good.measurements, texts(good))
    assert verdict == "skip" and values == {"ocr_unavailable": 1}


def test_tessdata_directory_honours_tessdata_prefix(tmp_path, monkeypatch):
    (tmp_path / "tessdata").mkdir()
    (tmp_path / "tessdata" / "eng.traineddata").write_bytes(b"")
    try:
        for prefix in (tmp_path / "tessdata", tmp_path):  # the directory itself (4+), or its parent (3.x)
            monkeypatch.setenv("TESSDATA_PREFIX", str(prefix))
            ocr.tessdata_dir.cache_clear()
            assert ocr.tessdata_dir() == str(tmp_path / "tessdata") + "/"
        monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path / "nowhere"))
        ocr.tessdata_dir.cache_clear()
        assert ocr.tessdata_dir() is None
    finally:
        monkeypatch.undo()
        ocr.tessdata_dir.cache_clear()


def test_near_duplicate_of_another_release_fails(good, photo):
    qa = run(good, good.measurements, texts=texts(good))
    known = [(qa["values"]["phash"], qa["values"]["colour_signature"])]
    # The same artwork re-encoded as JPEG, slightly cropped and resized: a store sees the same cover.
    rgb = decoded(good.data)[10:-10, 10:-10]
    copy_ = cv2.resize(rgb, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    dup = run(encode(copy_, "JPEG", quality=75), known_hashes=known)
    assert dup["checks"]["reuse"] == "fail" and dup["verdict"] == "fail"
    assert dup["values"]["reuse_distance"] <= sentinel.thresholds.REUSE_FAIL_BITS
    # Plain pHash strings (no colour signature) work too.
    assert run(encode(copy_), known_hashes=[qa["values"]["phash"]])["checks"]["reuse"] == "fail"
    # Another release's cover from another photo and genre is not a reuse.
    other = engine.render(engine.CoverSpec(genre="edm", artist="Pulse Theory", album="Neon Cathedral",
                                           variant="background", size=SIZE, seed=3))
    assert run(other, other.measurements, known_hashes=known, ocr=False)["checks"]["reuse"] == "pass"


def test_face_covered_by_text_or_cut_by_the_frame_fails(good):
    m = copy.deepcopy(good.measurements)
    box = m["lines"][0]["box"]
    m["subject"] = {"shape": "photo", "face_box": [box[0], box[1], box[0] + 200, box[1] + 200]}
    assert run(good, m, ocr=False)["checks"]["face_clear"] == "fail"
    m["subject"]["face_box"] = [-100, 100, 200, 400]
    qa = run(good, m, ocr=False)
    assert qa["checks"]["face_clear"] == "fail" and qa["values"]["face_inside"] < 1


def test_a_cut_out_whose_mask_failed_the_gate_never_passes(good):
    m = copy.deepcopy(good.measurements)
    m["subject"] = {"shape": "cutout", "face_box": None, "box": [0, 0, 10, 10]}
    m["mask_gate"] = {"passed": False, "reasons": ["cut by the frame: left"]}
    qa = run(good, m, ocr=False)
    assert qa["checks"]["cutout_mask"] == "fail" and "frame" in qa["values"]["mask_gate"]
    assert qa["verdict"] == "fail"
    m["mask_gate"] = {"passed": True, "reasons": []}
    assert run(good, m, ocr=False)["checks"]["cutout_mask"] == "pass"
    assert run(good, good.measurements, ocr=False)["checks"]["cutout_mask"] in ("skip", "pass")


def test_cluttered_cover_has_no_focal_point():
    rng = np.random.default_rng(1)
    noise = (rng.random((SIZE // 4, SIZE // 4, 3)) * 255).astype(np.uint8)
    rgb = cv2.resize(noise, (SIZE, SIZE), interpolation=cv2.INTER_NEAREST)
    m = {"lines": [{"role": "artist", "text": "", "display": "", "box": [600, 600, 800, 700], "cap_px": 70}],
         "subject": {"shape": "fade", "face_box": [600, 200, 800, 400]}}
    m["lines"][0]["display"] = "x"
    flat = cv2.GaussianBlur(rgb, (0, 0), 1)
    flat[600:700, 600:800] = 128  # the "focal" regions are flatter than the clutter around them
    flat[200:400, 600:800] = 128
    qa = run(encode(flat), m, ocr=False)
    assert qa["checks"]["focal_point"] == "review" and qa["values"]["focal_ratio"] < 0.6


@pytest.mark.parametrize("case", ["cmyk", "grey", "alpha", "no_profile", "dpi", "small", "not_square", "webp"])
def test_store_technical_rules(good, case):
    rgb = decoded(good.data)
    image = Image.fromarray(rgb)
    data_ = {
        "cmyk": lambda: encode(image.convert("CMYK"), "JPEG"),
        "grey": lambda: encode(image.convert("L")),
        "alpha": lambda: encode(image.convert("RGBA")),
        "no_profile": lambda: encode(image, icc_profile=None) if False else _no_profile(image),
        "dpi": lambda: encode(image, dpi=(300, 300)),
        "small": lambda: encode(image.resize((1200, 1200))),
        "not_square": lambda: encode(image.crop((0, 0, SIZE, SIZE - 10))),
        "webp": lambda: _webp(image),
    }[case]()
    qa = run(data_, ocr=False)
    expected = {"cmyk": "rgb", "grey": "rgb", "alpha": "alpha", "no_profile": "srgb", "dpi": "dpi", "small": "size",
                "not_square": "square", "webp": "format"}[case]
    assert qa["checks"][expected] == "fail" and qa["verdict"] == "fail", qa["checks"]


def test_file_over_10_mb_fails(good):
    qa = run(good.data + b"\0" * (10 * 1024 * 1024), ocr=False)
    assert qa["checks"]["bytes"] == "fail"


def _no_profile(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", dpi=(72, 72))
    return buf.getvalue()


def _webp(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "WEBP", quality=90, icc_profile=srgb_profile().tobytes())
    return buf.getvalue()
