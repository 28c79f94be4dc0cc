"""Without the fetched models the engine says how to fix it, except on the `none` backend, which needs none."""

import pytest

from generation.engine import CoverSpec, render
from generation.engine.segmentation import ModelNotFoundError


def test_selfie_backend_without_models_names_the_fix(astronaut, tmp_path):
    spec = CoverSpec(genre="rnb", artist="A", album="B", size=1400, photo=astronaut, model_dir=str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="fetch_models"):
        render(spec)


def test_none_backend_renders_without_any_model(astronaut, tmp_path):
    spec = CoverSpec(genre="rnb", artist="A", album="B", size=1400, photo=astronaut, model_dir=str(tmp_path),
                     segmentation="none")
    result = render(spec)
    assert result.width == 1400 and result.measurements["segmentation"]["face_source"] == "unavailable"
