"""The photo as the picture: crops around the faces, the cut-out only behind the mask gate, the caller's options."""

import io

import numpy as np
import pytest
from PIL import Image

from generation.engine import CoverSpec, prepare_photo, render
from generation.engine.pipeline import composition_for
from generation.engine.segmentation import DEFAULT_MODEL_DIR, MODEL_FILES
from generation.engine.sentinel.composition import face_clear

SIDE = 1400
pytestmark = pytest.mark.skipif(not all((DEFAULT_MODEL_DIR / m.filename).is_file() for m in MODEL_FILES),
                                reason="segmentation models not fetched (python manage.py fetch_models)")


def spec(**kwargs):
    base = {"genre": "hiphop", "artist": "NOVA", "album": "STILL STANDING", "size": SIDE, "seed": 3}
    return CoverSpec(**{**base, **kwargs})


def layout_of(result) -> str:
    return result.measurements["composition"]["layout"]


def test_the_photo_is_the_picture_with_the_face_whole_and_clear(astronaut):
    for seed in range(6):
        result = render(spec(photo=astronaut, seed=seed))
        seg = result.measurements["segmentation"]
        assert seg["person"] and seg["face_source"] == "blazeface" and 0.3 < seg["coverage"] < 0.8
        subject = result.measurements["subject"]
        assert subject["shape"] in ("photo", "panel"), subject
        face = subject["face_box"]
        verdict, values = face_clear(face, result.measurements["text_boxes"], SIDE)
        assert verdict == "pass", (layout_of(result), values)
        assert face[0] >= 0 and face[1] >= 0 and face[2] <= SIDE and face[3] <= SIDE


def test_artist_face_sits_high_and_subject_crop_sets_the_tightness(astronaut):
    boxes = {}
    for crop in ("auto", "face", "bust", "full"):
        result = render(spec(photo=astronaut, subject_crop=crop, seed=0))
        assert layout_of(result) == "full-bottom"
        face = boxes[crop] = result.measurements["subject"]["face_box"]
        centre = (face[1] + face[3]) / 2 / SIDE
        assert 0.15 < centre < 0.6, (crop, centre)  # the face in the upper half-ish, never low
    height = {crop: box[3] - box[1] for crop, box in boxes.items()}
    assert height["face"] > height["bust"] > height["full"]


@pytest.fixture(scope="module")
def headroom():
    """The astronaut portrait with a plain wall above her: room for type over her head."""
    from skimage import data

    from generation.engine import load_photo

    portrait = data.astronaut()
    wall = np.broadcast_to(portrait[:8].mean(axis=(0, 1)).astype(np.uint8), (400, 512, 3))
    buffer = io.BytesIO()
    Image.fromarray(np.vstack([wall, portrait])).save(buffer, "PNG")
    return load_photo(buffer.getvalue())


@pytest.mark.parametrize("position", ["top", "center", "bottom"])
def test_text_position_is_honoured_and_keeps_off_the_face(position, headroom):
    result = render(spec(photo=headroom, text_position=position, genre="rnb", subject_crop="bust", seed=0))
    face = result.measurements["subject"]["face_box"]
    assert face_clear(face, result.measurements["text_boxes"], SIDE)[0] == "pass"
    if position == "top":
        assert max(b[3] for b in result.measurements["text_boxes"]) <= face[1]
    if position == "bottom":
        assert min(b[1] for b in result.measurements["text_boxes"]) >= face[3]


def test_a_position_the_photo_has_no_room_for_falls_back_clear_of_the_face(astronaut):
    result = render(spec(photo=astronaut, text_position="top", seed=0))  # no headroom above her hair
    face = result.measurements["subject"]["face_box"]
    assert face_clear(face, result.measurements["text_boxes"], SIDE)[0] == "pass"


def test_no_person_photo_is_still_the_picture(coffee):
    result = render(spec(photo=coffee, seed=0))
    assert result.measurements["segmentation"]["person"] is False
    assert result.measurements["subject"]["shape"] in ("photo", "panel")
    assert result.measurements["subject"]["face_box"] is None


def test_none_backend_crops_without_a_mask(astronaut):
    none = render(spec(photo=astronaut, segmentation="none", seed=0))
    assert none.measurements["segmentation"]["backend"] == "none"
    assert none.measurements["mask_gate"]["passed"] is False
    assert none.measurements["subject"]["shape"] == "photo"


def test_rembg_backend_through_the_whole_pipeline(tmp_path, astronaut):
    """An operator's model directory with a rembg model (a tiny ONNX "bright is foreground" net built here)
    beside the face model: the photo is segmented by rembg's own session code, end to end."""
    from tests.engine.test_segmentation import tiny_mask_model

    for model in MODEL_FILES:
        (tmp_path / model.filename).write_bytes((DEFAULT_MODEL_DIR / model.filename).read_bytes())
    (tmp_path / "rembg").mkdir()
    (tmp_path / "rembg" / "birefnet-portrait.onnx").write_bytes(tiny_mask_model(gain=12.0))
    result = render(spec(photo=astronaut, segmentation="rembg", model_dir=str(tmp_path), output_format="png"))
    seg = result.measurements["segmentation"]
    assert seg["backend"] == "rembg" and seg["person"] and seg["face_source"] == "blazeface"
    selfie = render(spec(photo=astronaut, output_format="png"))
    assert seg["coverage"] != selfie.measurements["segmentation"]["coverage"]  # a different mask made it
    assert result.data != selfie.data  # the mask guides the background's transformation
    assert result.measurements["subject"]["face_box"] is not None


def test_a_photo_prepared_once_gives_the_same_bytes_as_one_prepared_per_cover(astronaut):
    prepared = prepare_photo(astronaut)
    for variant in ("artist", "background", "text"):
        shared = render(spec(photo=astronaut, variant=variant, seed=11), prepared)
        alone = render(spec(photo=astronaut, variant=variant, seed=11))
        assert shared.data == alone.data
        assert shared.measurements["segmentation"]["compute_ms"] == prepared.ms  # found once, when prepared
    assert render(spec(photo=astronaut, seed=12), prepared).data != render(spec(photo=astronaut, seed=11),
                                                                            prepared).data


def test_pixels_are_the_file_pixels(astronaut):
    result = render(spec(photo=astronaut))
    assert result.pixels is not None and result.pixels.shape == (SIDE, SIDE, 3)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB")), result.pixels)
    assert "pixels" not in repr(result)


def test_the_free_cover_of_a_task_is_another_layout_than_the_artist_cover(astronaut):
    prepared = prepare_photo(astronaut)
    for seed in range(5):
        artist = render(spec(photo=astronaut, seed=seed), prepared)
        free = render(spec(photo=astronaut, variant="free", seed=seed), prepared)
        assert layout_of(artist) != layout_of(free)


def test_cut_out_only_when_the_mask_gate_passes(photo_set, prepared_set):
    clean = prepared_set["halfbody_portrait"]
    seeds = [s for s in range(40) if composition_for("hiphop", "background", s, clean, SIDE).layout.name == "figure"]
    seeds = seeds[:2]  # seeds that land on it when it is allowed
    assert clean.gate.passed, clean.gate.reasons
    for seed in seeds:
        result = render(spec(photo=photo_set["halfbody_portrait"], variant="background", seed=seed), clean)
        assert result.measurements["subject"]["shape"] == "cutout"
        assert result.measurements["mask_gate"]["passed"] is True
    cut = prepared_set["portrait_tight"]  # the frame cuts her shoulders and crown
    assert not cut.gate.passed
    for seed in range(10):
        result = render(spec(photo=photo_set["portrait_tight"], variant="background", seed=seed), cut)
        assert (result.measurements["subject"] or {}).get("shape") != "cutout"
