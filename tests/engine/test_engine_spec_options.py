"""The newer CoverSpec options: validation, no-photo variants, palette from a reference, steering, diffusion."""

import numpy as np
import pytest
from PIL import Image

from generation.engine import CoverSpec, extract_palette, render
from generation.engine.pipeline import spec_palette
from generation.engine.presets import GENRES


def spec(**kwargs):
    return CoverSpec(**{"genre": "hiphop", "artist": "NOVA", "album": "STILL STANDING", "size": 1400, **kwargs})


def test_new_fields_are_validated():
    for bad in ({"segmentation": "sam"}, {"background_backend": "gan"}, {"text_position": "left"},
                {"subject_crop": "knees"}, {"background_intensity": 1.5}, {"background_intensity": "x"},
                {"reference_palette": ("nope",)}, {"reference_palette": ()}, {"mood": 3},
                {"background_backend": "diffusion"}, {"model_dir": ""}):
        with pytest.raises(ValueError):
            spec(**bad)
    ok = spec(segmentation="rembg", background_intensity=0, text_position="top", subject_crop="face",
              reference_palette=("#000000", "#ffffff"), mood="night", style_tags="gold", lyrics="rain")
    assert ok.segmentation == "rembg"


def test_no_photo_variants_differ():
    pixels = {v: render(spec(variant=v, seed=4)).pixels.astype(np.float32) for v in ("artist", "background", "text")}
    assert np.abs(pixels["artist"] - pixels["background"]).mean() > 8
    assert np.abs(pixels["artist"] - pixels["text"]).mean() > 8
    assert np.abs(pixels["background"] - pixels["text"]).mean() > 8


def test_extract_palette_orders_darkest_to_lightest():
    image = np.zeros((90, 90, 3), np.uint8)
    for i, colour in enumerate([(250, 240, 230), (10, 10, 30), (200, 60, 40), (40, 120, 200), (120, 120, 120)]):
        image[:, i * 18:(i + 1) * 18] = colour
    palette = extract_palette(Image.fromarray(image))
    assert len(palette) == 5 and all(c.startswith("#") and len(c) == 7 for c in palette)
    luma = [np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)]) @ [0.2126, 0.7152, 0.0722] for c in palette]
    assert luma == sorted(luma)
    assert palette[0] == "#0a0a1e" and palette[-1] == "#faf0e6"
    flat = extract_palette(np.full((20, 20, 3), 128, np.uint8))
    assert len(set(flat)) == 5
    # It feeds the spec's roles: the reference colours replace the preset's.
    resolved, _ = spec_palette(spec(reference_palette=palette), GENRES["hiphop"])
    assert np.allclose(resolved[0] * 255, [10, 10, 30], atol=1)


def test_mood_words_steer_the_palette_and_explicit_palette_wins():
    plain, matched = spec_palette(spec(), GENRES["indie"])
    assert matched == []
    ocean, matched = spec_palette(spec(genre="indie", mood="ocean at night"), GENRES["indie"])
    assert matched == ["night", "ocean"] and not np.allclose(ocean[1], plain[1])
    fixed, _ = spec_palette(spec(genre="indie", mood="ocean", palette=("#000000", "#ff0000")), GENRES["indie"])
    assert np.allclose(fixed[1], [1, 0, 0])


def test_background_intensity_changes_the_scene():
    quiet = render(spec(background_intensity=0.0)).pixels.astype(np.float32)
    strong = render(spec(background_intensity=1.0)).pixels.astype(np.float32)
    assert quiet.std() < strong.std()


def test_diffusion_backend_through_the_pipeline(model_dir):
    result = render(spec(genre="edm", background_backend="diffusion", diffusion_model=str(model_dir),
                         variant="background", mood="dark", lyrics="neon rain"))
    assert result.measurements["scene"]["name"] == "diffusion"
    assert result.pixels.shape == (1400, 1400, 3)
