"""The diffusion backend against a tiny randomly initialised Stable Diffusion pipeline saved to a temp dir.

Nothing here touches a model hub: the tokenizer's vocabulary is written by hand and every model is built from
a config, so the test runs offline on a CPU in a few seconds.
"""

import os
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from generation.engine import diffusion
from generation.engine.diffusion import (
    GENERATION_MODE,
    IMG2IMG,
    TXT2IMG,
    DiffusionBackground,
    DiffusionError,
    DiffusionModelError,
    check_model_dir,
    generation_mode,
    upscale,
)
from generation.engine.presets import GENRES
from generation.engine.prompts import TEXT_NEGATIVE

os.environ["HF_HUB_OFFLINE"] = "1"  # before diffusers / huggingface_hub are first imported
torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

STEPS = 2
SIZE = 256


@pytest.fixture(scope="session")
def backend(model_dir):
    return DiffusionBackground(model_dir, device="cpu")


@pytest.fixture(scope="session")
def photo():
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:240, 0:320]
    pixels = np.stack([x / 320 * 255, y / 240 * 255, np.full_like(x, 90)], axis=-1)
    pixels = pixels + rng.normal(0, 12, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def pixels(image):
    return np.asarray(image, dtype=np.int16)


def render(backend, genre="edm", seed=1, **kwargs):
    kwargs.setdefault("steps", STEPS)
    return backend.render(genre, kwargs.pop("size", SIZE), seed, palette=None, mood="dark", style_tags="",
                          lyrics="neon rain", **kwargs)


def test_txt2img_renders_rgb_at_the_requested_size(backend):
    image = render(backend)
    assert image.mode == "RGB"
    assert image.size == (SIZE, SIZE)
    assert pixels(image).std() > 0


def test_same_seed_same_pixels_other_seed_other_pixels(backend):
    first = pixels(render(backend, seed=7))
    assert np.array_equal(first, pixels(render(backend, seed=7)))
    assert not np.array_equal(first, pixels(render(backend, seed=8)))


def test_img2img_from_the_photo_for_photo_genres(backend, photo):
    assert backend.mode_for("indie", photo) == IMG2IMG
    image = render(backend, "indie", seed=5, photo=photo, strength=0.6)
    assert image.mode == "RGB" and image.size == (SIZE, SIZE)
    loaded = backend.load()
    assert loaded.img2img is not None
    assert loaded.img2img.unet is loaded.txt2img.unet  # from_pipe shares the weights
    assert np.array_equal(pixels(image), pixels(render(backend, "indie", seed=5, photo=photo, strength=0.6)))
    # The photo matters: another photo, same seed, other pixels.
    assert not np.array_equal(pixels(image), pixels(render(backend, "indie", seed=5, photo=photo.rotate(180),
                                                           strength=0.6)))


def test_txt2img_genres_ignore_the_photo(backend, photo):
    assert backend.mode_for("edm", photo) == TXT2IMG
    with_photo = render(backend, "edm", seed=11, photo=photo)
    assert np.array_equal(pixels(with_photo), pixels(render(backend, "edm", seed=11)))


def test_full_cover_size(backend):
    image = render(backend, "ambient", seed=2, size=1400)
    assert image.mode == "RGB" and image.size == (1400, 1400)


def test_resolution_comes_from_the_model_config_or_the_caller(backend):
    assert backend.native_resolution() == 16 * 2  # unet sample_size x vae scale factor
    assert render(backend, seed=3, resolution=40).size == (SIZE, SIZE)  # rounded to a multiple the UNet accepts


def test_generation_mode_rule_is_data():
    assert set(GENRES) <= set(GENERATION_MODE)
    assert generation_mode("indie", has_photo=True) == IMG2IMG
    assert generation_mode("Folk", has_photo=True) == IMG2IMG  # aliases resolve
    assert generation_mode("indie", has_photo=False) == TXT2IMG
    assert generation_mode("edm", has_photo=True) == TXT2IMG
    assert generation_mode("ambient", has_photo=True) == TXT2IMG
    assert generation_mode("polka", has_photo=True) == TXT2IMG


def test_pipelines_are_cached_per_path(model_dir, backend):
    assert DiffusionBackground(str(model_dir), device="cpu").load() is backend.load()


def test_prompt_fits_the_model_tokenizer_and_never_asks_for_text(backend):
    prompt, negative = backend.prompt("hiphop", with_subject=False, lyrics="Nova Kane in the rain, rain",
                                      style_tags="Nova Kane lettering", exclude=("Nova Kane",))
    tokenizer = backend.load().txt2img.tokenizer
    assert len(tokenizer(prompt).input_ids) <= 77
    assert prompt.startswith("an empty rain")
    assert "nova" not in prompt.lower()
    assert negative.startswith(TEXT_NEGATIVE)


def test_missing_model_directory_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(DiffusionModelError) as caught:
        DiffusionBackground(missing, device="cpu").render("edm", SIZE, 1)
    message = str(caught.value)
    assert str(missing) in message and "does not exist" in message
    assert "model_index.json" in message and "ALBUMART_DIFFUSION_MODEL" in message


def test_incomplete_model_directory_is_a_clear_error(model_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    shutil.rmtree(broken / "vae")
    with pytest.raises(DiffusionModelError, match=r"missing unet/ weights, vae/"):
        check_model_dir(broken)
    (broken / "model_index.json").unlink()
    with pytest.raises(DiffusionModelError, match="model_index.json is missing"):
        DiffusionBackground(broken).load()
    afile = tmp_path / "model.safetensors"
    afile.write_bytes(b"")
    with pytest.raises(DiffusionModelError, match="not a directory"):
        check_model_dir(afile)


def test_bad_arguments(backend):
    with pytest.raises(ValueError, match="strength"):
        render(backend, strength=0)
    with pytest.raises(ValueError, match="size"):
        render(backend, size=0)


def test_upscale_is_lanczos_plus_sharpening():
    small = Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8), "RGB")
    big = upscale(small, 1400)
    assert big.mode == "RGB" and big.size == (1400, 1400)
    plain = small.resize((1400, 1400), Image.Resampling.LANCZOS)
    assert not np.array_equal(pixels(big), pixels(plain))
    assert upscale(small.convert("L"), 64).mode == "RGB"


class FakePipe:
    """Stands in for a loaded pipeline whose output is broken in a given way."""

    vae_scale_factor = 8
    tokenizer = None
    unet = SimpleNamespace(config=SimpleNamespace(sample_size=8))

    def __init__(self, image, flagged):
        self.image, self.flagged = image, flagged

    def __call__(self, **kwargs):
        return SimpleNamespace(images=[self.image], nsfw_content_detected=self.flagged)


@pytest.mark.parametrize(("colour", "flagged", "message"), [
    ((0, 0, 0), None, "black"),
    ((0, 0, 0), [True], "safety checker"),
])
def test_unusable_output_is_an_error_not_a_background(tmp_path, monkeypatch, colour, flagged, message):
    fake = diffusion._Loaded(txt2img=FakePipe(Image.new("RGB", (64, 64), colour), flagged), device="cpu")
    monkeypatch.setitem(diffusion._CACHE, (str(tmp_path.resolve()), "cpu"), fake)
    with pytest.raises(DiffusionError, match=message):
        DiffusionBackground(tmp_path, device="cpu").render("rock", SIZE, 1)
