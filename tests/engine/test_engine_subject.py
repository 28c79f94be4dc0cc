"""The cut-out subject: used when the photo has a person, sized per variant, face clear of text and frame."""

import numpy as np
import pytest

from generation.engine import CoverSpec, render
from generation.engine.segmentation import DEFAULT_MODEL_DIR, MODEL_FILES
from generation.engine.sentinel.composition import face_clear

SIDE = 1400
pytestmark = pytest.mark.skipif(not all((DEFAULT_MODEL_DIR / m.filename).is_file() for m in MODEL_FILES),
                                reason="segmentation models not fetched (python manage.py fetch_models)")


def spec(**kwargs):
    base = {"genre": "hiphop", "artist": "NOVA", "album": "STILL STANDING", "size": SIDE, "seed": 3}
    return CoverSpec(**{**base, **kwargs})


def subject_height(result):
    box = result.measurements["subject"]["box"]
    return (box[3] - box[1]) / SIDE


@pytest.mark.parametrize("genre", ["hiphop", "rnb", "indie", "edm"])
def test_person_is_cut_out_and_sized_per_variant(genre, astronaut):
    artist = render(spec(genre=genre, photo=astronaut))
    seg = artist.measurements["segmentation"]
    assert seg["person"] and seg["face_source"] == "blazeface" and 0.3 < seg["coverage"] < 0.8
    assert artist.measurements["subject"]["shape"] == "cutout"
    assert 0.55 <= subject_height(artist) <= 0.8, subject_height(artist)
    background = render(spec(genre=genre, variant="background", photo=astronaut))
    if genre == "edm":
        assert background.measurements["subject"] is None  # the scene alone
    else:
        assert background.measurements["subject"]["shape"] == "cutout"
        assert subject_height(background) < 0.35
    text = render(spec(genre=genre, variant="text", photo=astronaut))
    assert subject_height(text) < 0.35
    title = next(line for line in text.measurements["lines"] if line["role"] == "album")
    assert all(title["cap_px"] >= line["cap_px"] for line in text.measurements["lines"])
    for result in (artist, background, text):
        face = (result.measurements["subject"] or {}).get("face_box")
        if face:
            verdict, values = face_clear(face, result.measurements["text_boxes"], SIDE)
            assert verdict == "pass", values
            assert face[1] >= 0 and face[3] <= SIDE and face[0] >= 0 and face[2] <= SIDE


def test_artist_face_sits_high(astronaut):
    for crop in ("auto", "face", "bust", "full"):
        result = render(spec(photo=astronaut, subject_crop=crop))
        face = result.measurements["subject"]["face_box"]
        centre = (face[1] + face[3]) / 2 / SIDE
        assert 0.2 < centre < 0.6, (crop, centre)  # the face in the upper half-ish, never low
    face_crop = render(spec(photo=astronaut, subject_crop="face")).measurements["subject"]["face_box"]
    full_crop = render(spec(photo=astronaut, subject_crop="full")).measurements["subject"]["face_box"]
    assert face_crop[3] - face_crop[1] > full_crop[3] - full_crop[1]


@pytest.mark.parametrize("position", ["top", "center", "bottom"])
def test_text_position_is_honoured_and_keeps_off_the_face(position, astronaut):
    result = render(spec(photo=astronaut, text_position=position, genre="rnb", subject_crop="bust"))
    face = result.measurements["subject"]["face_box"]
    assert face_clear(face, result.measurements["text_boxes"], SIDE)[0] == "pass"
    if position == "top":
        assert max(b[3] for b in result.measurements["text_boxes"]) <= face[1]
    if position == "bottom":
        assert min(b[1] for b in result.measurements["text_boxes"]) >= face[3]


def test_no_person_photo_keeps_photo_placements(coffee):
    result = render(spec(photo=coffee, variant="background"))
    assert result.measurements["segmentation"]["person"] is False
    assert result.measurements["subject"]["shape"] == "card"


def test_none_backend_keeps_the_photo_placements(astronaut):
    none = render(spec(photo=astronaut, segmentation="none"))
    assert none.measurements["segmentation"]["backend"] == "none"
    assert none.measurements["subject"]["shape"] == "fade"  # no mask: the photo placements


def test_rembg_backend_through_the_whole_pipeline(tmp_path, astronaut):
    """An operator's model directory with a rembg model (a tiny ONNX "bright is foreground" net built here)
    beside the face model: the cover is cut out by rembg's own session code, end to end."""
    from tests.engine.test_segmentation import tiny_mask_model

    for model in MODEL_FILES:
        (tmp_path / model.filename).write_bytes((DEFAULT_MODEL_DIR / model.filename).read_bytes())
    (tmp_path / "rembg").mkdir()
    (tmp_path / "rembg" / "birefnet-portrait.onnx").write_bytes(tiny_mask_model(gain=12.0))
    result = render(spec(photo=astronaut, segmentation="rembg", model_dir=str(tmp_path), output_format="png"))
    seg = result.measurements["segmentation"]
    assert seg["backend"] == "rembg" and seg["person"] and seg["face_source"] == "blazeface"
    assert result.measurements["subject"]["shape"] == "cutout"
    selfie = render(spec(photo=astronaut, output_format="png"))
    assert seg["coverage"] != selfie.measurements["segmentation"]["coverage"]  # a different mask made it
    assert result.data != selfie.data
    assert result.measurements["subject"]["face_box"] is not None


def test_segmentation_is_cached_per_photo_and_render_is_deterministic(astronaut):
    first = render(spec(photo=astronaut, seed=11))
    again = render(spec(photo=astronaut, seed=11))
    assert first.data == again.data
    assert again.measurements["timings_ms"]["segment"] < 20  # the mask came from the cache
    other = render(spec(photo=astronaut, seed=12))
    assert first.data != other.data


def test_pixels_are_the_file_pixels(astronaut):
    import io

    from PIL import Image

    result = render(spec(photo=astronaut))
    assert result.pixels is not None and result.pixels.shape == (SIDE, SIDE, 3)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB")), result.pixels)
    assert "pixels" not in repr(result)


def test_free_variant_sets_the_cut_out_against_a_disc_of_light(astronaut):
    import io

    from PIL import Image

    free = render(spec(photo=astronaut, variant="free", output_format="png"))
    assert free.measurements["subject"]["shape"] == "cutout"
    pixels = np.asarray(Image.open(io.BytesIO(free.data)).convert("L")).astype(np.float32)
    fx0, fy0, fx1, fy1 = free.measurements["subject"]["face_box"]
    width = fx1 - fx0
    beside = pixels[fy0:fy1, max(0, fx0 - width // 2):fx0 - width // 8]  # just left of the face: the disc
    corner = pixels[:SIDE // 10, :SIDE // 10]  # the night sky
    assert beside.mean() > corner.mean() + 60
    assert face_clear(free.measurements["subject"]["face_box"], free.measurements["text_boxes"], SIDE)[0] == "pass"
