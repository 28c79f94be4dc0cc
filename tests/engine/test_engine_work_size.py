"""How the render spends its pixels: composited at the detail the content has, text always at full size,
one scene per task, and motifs from the caller's words. None of it may change what a cover is."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from generation.engine import CoverSpec, load_photo, pipeline, render
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


def test_no_photo_is_composited_at_the_scene_size_and_text_stays_crisp():
    result = render(spec())
    assert result.measurements["work_size"] == result.measurements["scene"]["work_size"] == SIDE // 3
    # The letters are drawn after the upscale: their edges are as sharp as a cover drawn at full size.
    pixels = np.asarray(Image.open(io.BytesIO(result.data)).convert("L"))
    x0, y0, x1, y1 = result.measurements["text_boxes"][0]
    band = pixels[y0:y1, x0:x1].astype(np.int16)
    steps = np.abs(np.diff(band, axis=1))
    assert steps.max() > 120  # a one-pixel step across a letter edge, not a three-pixel ramp
    assert edge_sharpness(result.data, (x0, y0, x1, y1)) > 500


@needs_models
def test_a_small_photo_is_composited_small_and_a_large_one_at_full_size(astronaut):
    small = render(spec(photo=astronaut))  # 512 px portrait, blown up about 4x on the cover
    assert small.measurements["work_size"] < SIDE
    big_array = cv2.resize(np.asarray(astronaut), (2048, 2048), interpolation=cv2.INTER_CUBIC)
    big = render(spec(photo=load_photo(_jpeg(big_array))))
    assert big.measurements["work_size"] == SIDE
    # The same layout either way: the placement is computed in cover pixels.
    a, b = small.measurements["subject"]["face_box"], big.measurements["subject"]["face_box"]
    assert max(abs(p - q) for p, q in zip(a, b, strict=True)) <= SIDE * 0.01


@needs_models
def test_subject_placement_is_in_cover_pixels(astronaut):
    result = render(spec(photo=astronaut))
    x0, y0, x1, y1 = result.measurements["subject"]["face_box"]
    assert 0 <= x0 < x1 <= SIDE and 0 <= y0 < y1 <= SIDE
    # The face is where the pixels say: skin tones inside the box, not the night sky.
    pixels = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB")).astype(np.float32)
    face = pixels[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)
    sky = pixels[:SIDE // 10].reshape(-1, 3).mean(axis=0)
    assert face[0] > face[2] + 15 and face.mean() > sky.mean() + 30


def test_variants_of_a_task_share_the_scene_without_changing_a_pixel():
    pipeline._SCENE_CACHE.clear()
    first = render(spec(variant="artist", seed=41))
    second = render(spec(variant="text", seed=41))
    assert "scene_reused" not in first.measurements
    assert second.measurements["scene_reused"] is True
    pipeline._SCENE_CACHE.clear()
    cold = render(spec(variant="text", seed=41))
    assert "scene_reused" not in cold.measurements
    assert cold.data == second.data
    other = render(spec(variant="text", seed=42))  # another task: its own scene
    assert "scene_reused" not in other.measurements


def test_cached_scene_is_read_only():
    pipeline._SCENE_CACHE.clear()
    render(spec(seed=43))
    (scene,) = pipeline._SCENE_CACHE.values()
    assert not scene.flags.writeable


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
    plain = render(spec(genre="lofi", variant="background", seed=4))
    rainy = render(spec(genre="lofi", variant="background", seed=4, lyrics="rain"))
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


@needs_models
def test_bottom_text_over_a_cut_out_sits_on_the_ground(astronaut):
    from generation.engine.composite import fade_rows

    canvas = np.full((100, 100, 3), 200, np.uint8)
    fade_rows(canvas, np.array([0.0, 0.0, 0.0], np.float32), 0.8, start=40, full=60)
    assert (canvas[:40] == 200).all()
    assert canvas[50, 0, 0] < 200 and canvas[50, 0, 0] > 40
    assert abs(int(canvas[80, 0, 0]) - 40) <= 1  # 200 * (1 - 0.8)
    result = render(spec(photo=astronaut))
    assert result.measurements["zone"]["anchor"] == "bottom"
    pixels = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB")).astype(np.float32)
    x0, y0, x1, y1 = result.measurements["text_boxes"][-1]
    under = pixels[y1:min(SIDE, y1 + 20), x0:x1].reshape(-1, 3).mean(axis=0)
    assert under.mean() < 60  # the orange suit has dissolved into the night ground under the letters


@needs_models
@pytest.mark.parametrize("genre, variant", [("hiphop", "background"), ("classical", "text"), ("indie", "background")])
def test_small_cut_out_laid_on_the_cover_matches_compositing_it_on_a_larger_canvas(genre, variant, astronaut,
                                                                                 monkeypatch):
    late = render(spec(genre=genre, variant=variant, photo=astronaut))
    assert late.measurements["work_size"] == late.measurements["scene"]["work_size"]
    monkeypatch.setattr(pipeline, "LATE_SUBJECTS", False)
    early = render(spec(genre=genre, variant=variant, photo=astronaut))
    assert early.measurements["work_size"] > late.measurements["work_size"]
    assert late.measurements["subject"] == early.measurements["subject"]
    a = np.asarray(Image.open(io.BytesIO(late.data)).convert("RGB")).astype(np.float32)
    b = np.asarray(Image.open(io.BytesIO(early.data)).convert("RGB")).astype(np.float32)
    x0, y0, x1, y1 = late.measurements["subject"]["box"]
    # The same grade on the subject (curves, saturation, ground fade, vignette): within a few levels.
    assert np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).mean() < 4.0
    assert np.abs(a - b).mean() < 2.0
