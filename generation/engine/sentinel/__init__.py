"""The Sentinel: measurable QA checks a store or an editor would apply, each with its number and threshold.

`check` takes the encoded cover (or a decoded image) and the typesetter's measurements, and returns
the verdict of every check, the measured values and the time each family took. Plain Python: no
Django. The numbers live in `thresholds.py`, with their reasons.
"""

from __future__ import annotations

import io
import time
import warnings
from contextlib import contextmanager

import cv2
import numpy as np
from PIL import Image

from . import thresholds
from .composition import cutout_mask, face_clear, focal_point
from .legibility import legibility
from .ocr import ocr_text
from .phash import colour_distance, colour_signature, distance, phash, reuse, to_hex
from .pixels import blank, border, pixelation, sharpness
from .technical import technical_checks

__all__ = ["CHECK_NAMES", "check", "colour_distance", "distance", "phash", "reuse", "thresholds"]

CHECK_NAMES = ("square", "size", "bytes", "format", "rgb", "srgb", "dpi", "alpha", "border", "sharpness",
               "pixelation", "blank", "legibility_56px", "legibility_128px", "legibility_256px", "legibility_gray",
               "legibility_blur", "ocr_text", "face_clear", "cutout_mask", "focal_point", "reuse")
_RANK = {"pass": 0, "skip": 0, "review": 1, "fail": 2}


def _open(source) -> tuple[Image.Image | None, int | None, np.ndarray]:
    """(the file as PIL opened it or None, its size in bytes or None, the decoded 8-bit RGB array)."""
    data = getattr(source, "data", source)  # a RenderResult carries its bytes in .data
    pixels = getattr(source, "pixels", None)  # ... and its final pixels: no need to decode them again
    if isinstance(data, bytes | bytearray) and pixels is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # lazy: reads the header and metadata only
        return image, len(data), np.ascontiguousarray(pixels)
    if isinstance(data, bytes | bytearray):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        pixels = getattr(source, "pixels", None)
        if pixels is not None and pixels.shape[:2] == image.size[::-1]:
            # The renderer's own pixels: the header is still read from the file, the costly decode is skipped.
            return image, len(data), pixels
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if decoded is None or image.mode not in ("RGB", "RGBA", "L", "P", "CMYK"):
            decoded = np.asarray(image.convert("RGB"))
        else:
            decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
        return image, len(data), decoded
    if isinstance(data, Image.Image):
        return data, None, np.asarray(data.convert("RGB"))
    array = np.asarray(data)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=2)
    return None, None, np.ascontiguousarray(array[..., :3].astype(np.uint8))


def _lines(measurements: dict) -> list[dict]:
    """The typesetter's lines; without them (an outside image) each text box is a line of its own height."""
    lines = [ln for ln in measurements.get("lines") or [] if (ln.get("display") or ln.get("text", "")).strip()]
    if lines:
        return lines
    return [{"role": "album", "box": list(b), "cap_px": (b[3] - b[1]) * 0.7, "text": "", "display": ""}
            for b in measurements.get("text_boxes") or []]


def _face(measurements: dict):
    subject = measurements.get("subject") or {}
    box = subject.get("face_box") or measurements.get("face_box")
    return list(box) if box else None


def verdict_of(checks: dict) -> str:
    worst = max((_RANK[v] for v in checks.values()), default=0)
    return ("pass", "review", "fail")[worst]


def check(source, measurements: dict | None = None, *, requested_size: int | None = None, texts: dict | None = None,
          known_hashes=(), ocr: bool = True) -> dict:
    """Run every check; the verdict is the worst of them ("skip" counts as a pass and is left out of the score)."""
    m = measurements or {}
    timings: dict[str, float] = {}
    checks: dict[str, str] = {}
    values: dict = {}

    @contextmanager
    def timed(name):
        t0 = time.perf_counter()
        yield
        timings[name] = round((time.perf_counter() - t0) * 1000, 1)

    with timed("decode"):
        try:
            image, nbytes, full = _open(source)
        except (OSError, ValueError) as exc:  # not an image at all (PIL's UnidentifiedImageError is an OSError)
            return {"passed": False, "verdict": "fail", "score": 0.0, "checks": {"format": "fail"},
                    "values": {"error": str(exc)[:200]}, "timings_ms": timings}
        side = full.shape[1]
        work_side = min(thresholds.WORK_SIDE, side)
        work = cv2.resize(full, (work_side, work_side), interpolation=cv2.INTER_AREA) \
            if full.shape[:2] != (work_side, work_side) else full
        grey = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY)
    with timed("technical"):
        if image is not None:
            c, v = technical_checks(image, nbytes, requested_size or 0)
        else:  # pixels only: the file rules cannot be judged, the size can
            c = {"square": "pass" if full.shape[0] == full.shape[1] else "fail",
                 "size": "pass" if min(full.shape[:2]) >= (requested_size or thresholds.MIN_SIDE) else "fail"}
            v = {"width": full.shape[1], "height": full.shape[0]}
        checks.update(c)
        values.update(v)
    lines = _lines(m)
    scale = work_side / side
    text_mask = None
    if lines:
        text_mask = np.zeros(grey.shape, bool)
        for ln in lines:
            x0, y0, x1, y1 = (int(round(b * scale)) for b in ln["box"])
            text_mask[max(0, y0):y1 + 1, max(0, x0):x1 + 1] = True
    for name, fn, args in (("border", border, (grey,)), ("sharpness", sharpness, (grey,)),
                           ("pixelation", pixelation, (grey, text_mask)), ("blank", blank, (grey,))):
        with timed(name):
            checks[name], v = fn(*args)
            values.update(v)
    with timed("legibility"):
        c, v = legibility(work, lines, scale, m.get("text_colour"))
        checks.update(c)
        values.update(v)
    with timed("ocr"):
        if ocr:
            checks["ocr_text"], v = ocr_text(full, lines, texts if texts is not None else m.get("texts") or {},
                                             m.get("text_colour"))
            values.update(v)
        else:
            checks["ocr_text"] = "skip"
    with timed("composition"):
        face = _face(m)
        boxes = [ln["box"] for ln in lines]
        if (m.get("subject") or {}).get("shape") == "knockout":  # text-forward: the photo is in the letters
            checks["face_clear"] = "skip"
        else:
            checks["face_clear"], v = face_clear(face, boxes, side)
            values.update(v)
        checks["cutout_mask"], v = cutout_mask(m.get("subject"), m.get("mask_gate"))
        values.update(v)
        biggest = max((ln.get("cap_px") or 0 for ln in lines), default=0)
        regions = [ln["box"] for ln in lines if (ln.get("cap_px") or 0) >= thresholds.LEGIBILITY_56_DOMINANT * biggest]
        if face:
            regions.append(face)
        small = cv2.resize(grey, (256, 256), interpolation=cv2.INTER_AREA)
        checks["focal_point"], v = focal_point(small, regions, side)
        values.update(v)
    with timed("reuse"):
        value, signature = phash(grey), colour_signature(work)
        values["phash"] = to_hex(value)
        values["colour_signature"] = signature
        checks["reuse"], v = reuse(value, signature, known_hashes)
        values.update(v)
    timings["total"] = round(sum(timings.values()), 1)
    timings["total_without_ocr"] = round(timings["total"] - timings.get("ocr", 0.0), 1)
    counted = [v for v in checks.values() if v != "skip"]
    score = sum(1.0 if v == "pass" else 0.5 if v == "review" else 0.0 for v in counted) / max(1, len(counted))
    verdict = verdict_of(checks)
    return {"passed": verdict == "pass", "verdict": verdict, "score": round(score, 3), "checks": checks,
            "values": values, "timings_ms": timings}
