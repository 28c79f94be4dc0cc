"""How the render spends its pixels: the picture composed at a working size, text always at full size, the
cut-out laid late, and motifs from the caller's words. None of it may change what a cover is."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from generation.engine import CoverSpec, pipeline, render
from generation.engine.art.direct import WORK_MAX
from generation.engine.segmentation import DEFAULT_MODEL_DIR, MODEL_FILES

SIDE = 1500
needs_models = pytest.mark.skipif(not all((DEFAULT_MODEL_DIR / m.filename).is_file() for m in MODEL_FILES),
                                  reason="segmentation models not fetched (python manage.py fetch_models)")


def spec(**kwargs):
    base = {"genre": "hiphop", "artist": "NOVA", "album": "STILL STANDING", "size": SIDE, "seed": 5,
            "output_format": "png"}
    return CoverSpec(**{**base, **kwargs})


def _jpeg(array):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def edge_sharpness(data, box):
    """Variance of the Laplacian inside a box of the decoded cover."""
    grey = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    x0, y0, x1, y1 = box
    return float(cv2.Laplacian(grey[y0:y1, x0:x1], cv2.CV_32F).var())


def test_the_picture_is_composed_small_and_the_letters_drawn_at_full_size():
    result = render(spec(size=3000))
    assert result.measurements["work_size"] == WORK_MAX < 3000
    # The letters are drawn after the upscale: their edges are as sharp as a cover drawn at full size.
    pixels = np.asarray(Image.open(io.BytesIO(result.data)).convert("L"))
    x0, y0, x1, y1 = max(result.measurements["text_boxes"], key=lambda b: b[3] - b[1])
    band = pixels[y0:y1, x0:x1].astype(np.int16)
    steps = np.abs(np.diff(band, axis=1))
    assert steps.max() > 120  # a one-pixel step across a letter edge, not a three-pixel ramp
    assert edge_sharpness(result.data, (x0, y0, x1, y1)) > 500


@needs_models
def test_the_face_box_is_where_the_face_is_on_the_cover(astronaut):
    """The face box the Sentinel and the typesetter use is found again on the rendered cover."""
    from generation.engine.segmentation import find_faces

    for seed in range(4):
        result = render(spec(photo=astronaut, seed=seed, genre="pop"))
        box = result.measurements["subject"]["face_box"]
        found = find_faces(np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB")), None)
        assert found, result.measurements["composition"]
        best = max(found, key=lambda f: _iou(f, box))
        assert _iou(best, box) > 0.5, (result.measurements["composition"], best, box)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.parametrize("words, motif", [
    ({"lyrics": "rain on the window all night"}, "rain"),
    ({"mood": "winter"}, "snow"),
    ({"style_tags": "flames, fire"}, "embers"),
    ({"lyrics": "under the stars"}, "stars"),
])
def test_words_add_motifs_to_the_scene(words, motif):
    plain = render(spec(genre="jazz", variant="text", seed=9))
    steered = render(spec(genre="jazz", variant="text", seed=9, **words))
    assert steered.measurements["motifs"][0] == motif
    assert "motifs" not in plain.measurements
    again = render(spec(genre="jazz", variant="text", seed=9, **words))
    assert again.data == steered.data
    a = np.asarray(Image.open(io.BytesIO(plain.data)).convert("L"), np.float32)
    b = np.asarray(Image.open(io.BytesIO(steered.data)).convert("L"), np.float32)
    assert (np.abs(a - b) > 12).mean() > 0.002  # visible marks, not a faint shift


def test_rain_draws_streaks():
    plain = render(spec(genre="rnb", variant="background", seed=4))
    rainy = render(spec(genre="rnb", variant="background", seed=4, lyrics="rain"))
    a = np.asarray(Image.open(io.BytesIO(plain.data)).convert("L"), np.float32)
    b = np.asarray(Image.open(io.BytesIO(rainy.data)).convert("L"), np.float32)
    # Streaks are long and near vertical: the difference is far more coherent down a column than across a row.
    diff = cv2.GaussianBlur(np.abs(b - a), (0, 0), 1.0)
    down = np.abs(np.diff(diff, axis=0)).mean()
    across = np.abs(np.diff(diff, axis=1)).mean()
    assert across > down * 1.5


def test_at_most_two_motifs_and_only_known_words():
    from generation.engine.scenes.motifs import motifs_for

    assert motifs_for({"rain", "snow", "fire", "stars"}) == ("rain", "snow")
    assert motifs_for({"raincoat", "starling"}) == ()


def test_fade_rows_blends_toward_the_ground_colour():
    from generation.engine.composite import fade_rows

    canvas = np.full((100, 100, 3), 200, np.uint8)
    fade_rows(canvas, np.array([0.0, 0.0, 0.0], np.float32), 0.8, start=40, full=60)
    assert (canvas[:40] == 200).all()
    assert canvas[50, 0, 0] < 200 and canvas[50, 0, 0] > 40
    assert abs(int(canvas[80, 0, 0]) - 40) <= 1  # 200 * (1 - 0.8)


@needs_models
@pytest.mark.parametrize("genre", ["hiphop", "indie"])
def test_small_cut_out_laid_on_the_cover_matches_compositing_it_on_a_larger_canvas(genre, photo_set, prepared_set,
                                                                                   seed_for, monkeypatch):
    photo = photo_set["halfbody_portrait"]  # its mask passes the gate: the background cover is a cut-out
    figure = seed_for("figure", prepared_set["halfbody_portrait"], genre, "background", SIDE)
    late = render(spec(genre=genre, variant="background", photo=photo, seed=figure))
    assert late.measurements["subject"]["shape"] == "cutout"
    assert late.measurements["work_size"] == late.measurements["scene"]["work_size"]
    monkeypatch.setattr(pipeline, "LATE_SUBJECTS", False)
    early = render(spec(genre=genre, variant="background", photo=photo, seed=figure))
    assert early.measurements["work_size"] > late.measurements["work_size"]
    assert late.measurements["subject"] == early.measurements["subject"]
    a = np.asarray(Image.open(io.BytesIO(late.data)).convert("RGB")).astype(np.float32)
    b = np.asarray(Image.open(io.BytesIO(early.data)).convert("RGB")).astype(np.float32)
    x0, y0, x1, y1 = late.measurements["subject"]["box"]
    # The same grade on the subject (curves, saturation, ground fade, vignette): within a few levels.
    assert np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).mean() < 4.0
    assert np.abs(a - b).mean() < 2.0
