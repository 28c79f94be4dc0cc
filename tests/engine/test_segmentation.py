import hashlib
import os
import shutil
import struct

import cv2
import numpy as np
import pytest
from skimage import data

from generation.engine.segmentation import (
    MODEL_FILES,
    ModelNotFoundError,
    fetch,
    find_faces,
    get_segmenter,
    refine_mask,
)
from generation.engine.segmentation.models import MEDIAPIPE, RAPIDOCR, SELFIE, download_wheel
from generation.engine.segmentation.rembg_backend import DEFAULT_MODEL

# -- model files ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """The real mediapipe and rapidocr wheels from PyPI, downloaded once per test session."""
    dest = tmp_path_factory.mktemp("wheel")
    return [download_wheel(dest, requirement=MEDIAPIPE), download_wheel(dest, requirement=RAPIDOCR)]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, wheel):
    target = tmp_path_factory.mktemp("models")
    assert fetch(target, wheel=wheel) == {"selfie": "extracted", "face": "extracted", "text": "extracted"}
    return target


def test_fetch_extracts_only_the_verified_model_files(model_dir):
    assert sorted(p.name for p in model_dir.iterdir()) == sorted(m.filename for m in MODEL_FILES)
    for model in MODEL_FILES:
        assert hashlib.sha256((model_dir / model.filename).read_bytes()).hexdigest() == model.sha256


def test_fetch_is_idempotent_and_does_not_download_again(model_dir):
    before = {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()}
    # A python that does not exist would make any pip call fail: nothing is downloaded.
    assert fetch(model_dir, python="/nonexistent/python") == {"selfie": "present", "face": "present",
                                                                "text": "present"}
    assert {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()} == before


def test_fetch_replaces_a_corrupt_file(tmp_path, model_dir, wheel):
    shutil.copytree(model_dir, tmp_path, dirs_exist_ok=True)
    (tmp_path / SELFIE.filename).write_bytes(b"not a model")
    # Only the wheel that holds the corrupt file is opened: the other one is not even given.
    assert fetch(tmp_path, wheel=wheel[0]) == {"selfie": "extracted", "face": "present", "text": "present"}
    assert hashlib.sha256((tmp_path / SELFIE.filename).read_bytes()).hexdigest() == SELFIE.sha256


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"selfie model not found in .*run `python manage.py fetch_models`"):
        get_segmenter("selfie", tmp_path)
    with pytest.raises(ModelNotFoundError, match="fetch_models"):
        find_faces(data.astronaut(), tmp_path)


def test_altered_model_is_a_clear_error(tmp_path):
    (tmp_path / SELFIE.filename).write_bytes(b"\0" * SELFIE.size)
    with pytest.raises(ModelNotFoundError, match="sha256 differs"):
        get_segmenter("selfie", tmp_path)


# -- the selfie backend ---------------------------------------------------------------------------


def opaque(mask, x0, y0, x1, y1):
    return float((mask[y0:y1, x0:x1] > 128).mean())


def test_selfie_mask_covers_the_astronaut(model_dir):
    mask = get_segmenter("selfie", model_dir).mask(data.astronaut())
    assert mask.shape == (512, 512) and mask.dtype == np.uint8
    assert opaque(mask, 185, 85, 265, 170) > 0.9  # face
    assert opaque(mask, 100, 300, 300, 480) > 0.9  # orange suit
    assert opaque(mask, 180, 25, 280, 80) > 0.9  # hair
    assert opaque(mask, 440, 0, 512, 64) == 0.0  # top-right background
    assert opaque(mask, 300, 0, 512, 30) == 0.0  # background above the shuttle model


def test_selfie_finds_little_foreground_without_a_person(model_dir):
    segmenter = get_segmenter("selfie", model_dir)
    # The model assumes a selfie and takes the cup for the subject, but leaves most of the frame out.
    coffee = segmenter.mask(data.coffee())
    assert opaque(coffee, 0, 0, 600, 400) < 0.25
    assert opaque(segmenter.mask(data.astronaut()), 0, 0, 512, 512) > 2 * opaque(coffee, 0, 0, 600, 400)


def test_mask_matches_any_photo_size_and_refuses_other_arrays(model_dir):
    segmenter = get_segmenter("selfie", model_dir)
    photo = cv2.resize(data.astronaut(), (333, 517), interpolation=cv2.INTER_AREA)
    mask = segmenter.mask(photo)
    assert mask.shape == (517, 333) and mask.dtype == np.uint8
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        segmenter.mask(photo.astype(np.float32))
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        segmenter.mask(photo[..., 0])


def test_none_backend_is_fully_opaque():
    segmenter = get_segmenter("none", None)
    assert segmenter.name == "none"
    mask = segmenter.mask(np.zeros((40, 60, 3), np.uint8))
    assert mask.shape == (40, 60) and (mask == 255).all()


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="selfie, rembg, none"):
        get_segmenter("magic", None)


# -- refinement -----------------------------------------------------------------------------------


def disc_photo(side=1200, radius=400, rng_seed=1):
    """A textured bright disc on a textured dark ground, its edge exactly at `radius` from the centre."""
    rng = np.random.default_rng(rng_seed)
    yy, xx = np.mgrid[:side, :side]
    inside = (xx - side / 2 + 0.5) ** 2 + (yy - side / 2 + 0.5) ** 2 < radius**2
    base = np.where(inside[..., None], np.array([210, 150, 120]), np.array([40, 60, 70])).astype(np.float32)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8), inside


def edge_radius(mask, side):
    """Where the mask crosses 50% along the centre row, to the right of the centre, in pixels from it."""
    row = mask[side // 2, side // 2:].astype(np.float32)
    i = int(np.argmax(row < 128))
    return i - 1 + (row[i - 1] - 128) / (row[i - 1] - row[i])


def test_refine_snaps_a_loose_low_res_mask_to_the_photo_edge():
    side, radius = 1200, 400
    photo, _ = disc_photo(side, radius)
    # A model-like mask: 64 px, 8% too wide and blurred, as a low-res network would see the disc.
    yy, xx = np.mgrid[:64, :64]
    loose = ((xx - 31.5) ** 2 + (yy - 31.5) ** 2 < (64 * radius / side * 1.08) ** 2).astype(np.float32)
    loose = cv2.GaussianBlur(loose, (0, 0), 1.5)
    naive = cv2.resize((loose * 255).astype(np.uint8), (side, side), interpolation=cv2.INTER_CUBIC)
    refined = refine_mask(photo, loose, model_side=64)
    assert abs(edge_radius(naive, side) - radius) > 20
    assert abs(edge_radius(refined, side) - radius) < 3
    # Feathered, not hard: the 5-95% ramp is a few pixels wide, not one and not a blur.
    row = refined[side // 2, side // 2 + radius - 20: side // 2 + radius + 20]
    ramp = int(((row > 12) & (row < 243)).sum())
    assert 2 <= ramp <= 10


def test_refine_leaves_no_halo_on_the_background():
    photo, inside = disc_photo()
    soft = cv2.GaussianBlur(cv2.resize(inside.astype(np.float32), (256, 256), interpolation=cv2.INTER_AREA),
                            (0, 0), 2.0)
    refined = refine_mask(photo, soft, model_side=256)
    ring = cv2.dilate(inside.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    assert refined[ring].max() < 20
    core = cv2.erode(inside.astype(np.uint8), np.ones((9, 9), np.uint8)) == 1
    assert refined[core].min() > 235


def test_refine_keeps_a_mattes_partial_alpha_but_decides_a_low_res_mask():
    photo = np.full((300, 300, 3), 128, np.uint8)
    soft = np.zeros((300, 300), np.float32)
    soft[100:200, 100:200] = 0.5  # a veil over a flat area: real translucency, or the model's doubt
    assert abs(int(refine_mask(photo, soft, matte=True)[150, 150]) - 128) < 8
    assert refine_mask(photo, cv2.resize(soft, (64, 64)), model_side=64)[150, 150] < 128


# -- the rembg backend ----------------------------------------------------------------------------


def _varint(n):
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _field(number, value):
    """One protobuf field: ints as varints, str/bytes (and nested messages) length-delimited."""
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    raw = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(raw)) + raw


def _tensor_info(name, dims):
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, d)) for d in dims)
    tensor_type = _field(1, 1) + _field(2, shape)  # elem_type FLOAT
    return _field(1, name) + _field(2, _field(1, tensor_type))


def tiny_mask_model(gain=8.0):
    """ONNX bytes for 1x3xHxW -> 1x1xHxW: sigmoid(gain * channel mean), i.e. "bright is foreground".

    Written with a few lines of protobuf encoding so the test needs no `onnx` package.
    """
    axes = _field(1, "axes") + _field(8, 1) + _field(20, 7)  # INTS [1]
    keepdims = _field(1, "keepdims") + _field(3, 1) + _field(20, 2)  # INT 1
    mean = _field(1, "input") + _field(2, "mean") + _field(3, "mean") + _field(4, "ReduceMean")
    mean += _field(5, axes) + _field(5, keepdims)
    scale = _field(1, "mean") + _field(1, "gain") + _field(2, "scaled") + _field(3, "scale") + _field(4, "Mul")
    sigmoid = _field(1, "scaled") + _field(2, "mask") + _field(3, "sigmoid") + _field(4, "Sigmoid")
    gain_tensor = _field(2, 1) + _field(8, "gain") + _field(9, struct.pack("<f", gain))  # FLOAT scalar, raw_data
    graph = _field(1, mean) + _field(1, scale) + _field(1, sigmoid) + _field(2, "tiny") + _field(5, gain_tensor)
    graph += _field(11, _tensor_info("input", [1, 3, "h", "w"])) + _field(12, _tensor_info("mask", [1, 1, "h", "w"]))
    opset = _field(1, "") + _field(2, 13)
    return _field(1, 7) + _field(2, "albumart-test") + _field(7, graph) + _field(8, opset)


@pytest.mark.parametrize("model_name", [DEFAULT_MODEL, "u2net_human_seg"])
def test_rembg_backend_runs_the_real_session_code_on_a_local_model(tmp_path, model_name):
    (tmp_path / "rembg").mkdir()
    (tmp_path / "rembg" / f"{model_name}.onnx").write_bytes(tiny_mask_model())
    photo, inside = disc_photo(600, 200)
    home_before = os.environ.get("U2NET_HOME")
    segmenter = get_segmenter("rembg", tmp_path, rembg_model=model_name)
    mask = segmenter.mask(photo)
    assert segmenter.name == "rembg"
    assert mask.shape == (600, 600) and mask.dtype == np.uint8
    assert (mask[cv2.erode(inside.astype(np.uint8), np.ones((15, 15), np.uint8)) == 1] > 200).mean() > 0.99
    assert (mask[cv2.dilate(inside.astype(np.uint8), np.ones((15, 15), np.uint8)) == 0] < 30).mean() > 0.99
    assert abs(edge_radius(mask, 600) - 200) < 4
    assert os.environ.get("U2NET_HOME") == home_before


def test_rembg_missing_model_is_a_clear_error_and_never_a_download(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"rembg model birefnet-portrait not found at .*rembg/birefnet"):
        get_segmenter("rembg", tmp_path)
    assert not (tmp_path / "rembg").exists()
    with pytest.raises(ValueError, match="unknown rembg model"):
        get_segmenter("rembg", tmp_path, rembg_model="atlascloud")


# -- faces ----------------------------------------------------------------------------------------


def test_finds_the_astronauts_face(model_dir):
    faces = find_faces(data.astronaut(), model_dir)
    assert len(faces) == 1
    x0, y0, x1, y1 = faces[0]
    assert 170 < x0 < 195 and 255 < x1 < 285 and 65 < y0 < 95 and 160 < y1 < 190


def test_face_boxes_survive_the_letterbox(model_dir):
    photo = np.full((512, 768, 3), 90, np.uint8)
    photo[:, 128:640] = data.astronaut()
    (x0, y0, x1, y1), = find_faces(photo, model_dir)
    assert 160 < x0 - 128 < 195 and 255 < x1 - 128 < 290 and 50 < y0 < 95 and 160 < y1 < 190


def test_no_face_in_a_coffee_cup(model_dir):
    assert find_faces(data.coffee(), model_dir) == []
