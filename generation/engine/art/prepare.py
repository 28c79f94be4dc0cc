"""A photo prepared once per task: pixels, sharpness, faces, the person mask and the verdict of its gate.

The caller owns the PreparedPhoto and passes it to the render of every variant (as rembg lets its caller own
the session), so the variants share the expensive work without any module-level cache.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from .. import composite, cutout
from ..cutout import Gate, judge_mask

PERSON_COVERAGE = 0.3  # no face found, but the person model calls this much of the photo a person
MIN_FACE_SHARE = 0.45  # faces smaller than this share of the main face's height are bystanders, not the act

@dataclass(frozen=True)
class PreparedPhoto:
    pixels: np.ndarray  # uint8 RGB, read-only
    sharpness: float
    source_size: tuple[int, int]
    faces: tuple[tuple[float, float, float, float], ...]  # photo pixels, the main face first
    face_source: str
    text: tuple[tuple[float, float, float, float], ...]  # third-party lettering found, blurred out of `pixels`
    mask: np.ndarray | None  # uint8 person alpha at photo resolution, when there is a person
    coverage: float
    subject: cutout.Subject | None
    gate: Gate
    ms: float
    signature: int = 0  # crc32 of the photo's 16 x 16 grey thumbnail: the same photo, the same number

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.pixels.shape[:2]
        return w, h

    @property
    def face(self) -> tuple[float, float, float, float] | None:
        return self.faces[0] if self.faces else None

    def cluster(self, max_width: float | None = None) -> tuple[float, float, float, float] | None:
        """The box around the faces that matter: the main one and any nearly as large (a couple, a band),
        largest first, as many as fit `max_width` photo pixels with their ears (a wide group is cropped
        around the faces nearest the main one's size, not cut through the middle)."""
        if not self.faces:
            return None
        main = self.faces[0]
        main_h = main[3] - main[1]
        box = main
        for f in self.faces[1:]:
            if f[3] - f[1] < MIN_FACE_SHARE * main_h:
                continue
            grown = (min(box[0], f[0]), min(box[1], f[1]), max(box[2], f[2]), max(box[3], f[3]))
            if max_width is not None and (grown[2] - grown[0]) + 0.6 * main_h > max_width:
                continue
            box = grown
        return box


def _sharpness(pixels: np.ndarray) -> float:
    h, w = pixels.shape[:2]
    grey = cv2.cvtColor(composite.reduce_to(pixels, (512, max(1, round(512 * h / w)))), cv2.COLOR_RGB2GRAY)
    return round(float(cv2.Laplacian(grey, cv2.CV_32F).var()), 1)


def _optional(find, backend: str):
    """`find()`, or None when its model is missing and the caller chose no segmentation backend (a
    background-only render); with a backend, a missing model is the operator's error and says how to fix it."""
    from ..segmentation import ModelNotFoundError

    try:
        return find()
    except ModelNotFoundError:
        if backend != "none":
            raise
        return None


def _faces(pixels: np.ndarray, model_dir: str | None, backend: str) -> tuple[list, str]:
    from ..segmentation import find_faces

    faces = _optional(lambda: find_faces(pixels, model_dir), backend)
    if faces is None:
        return [], "unavailable"
    faces.sort(key=lambda f: (f[2] - f[0]) * (f[3] - f[1]), reverse=True)
    return faces, "blazeface"


def _text(pixels: np.ndarray, faces: list, model_dir: str | None, backend: str, person=None) -> list:
    from ..segmentation.text import find_text

    return _optional(lambda: find_text(pixels, model_dir, faces, person), backend) or []


def scrubbed_pixels(image, text) -> np.ndarray:
    """The pixels every variant uses: the photo's, with the lettering `text` (PreparedPhoto.text) blurred out.
    A stored preparation keeps only the boxes and makes its pixels again from the same photo with this."""
    return _scrubbed(np.asarray(image.convert("RGB")), text)


def _scrubbed(pixels: np.ndarray, text) -> np.ndarray:
    from ..segmentation.text import scrub

    pixels = scrub(pixels, list(text))
    pixels.flags.writeable = False
    return pixels


def prepare_photo(image, *, segmentation: str = "selfie", model_dir: str | None = None) -> PreparedPhoto:
    """Decode-side work for one photo (a PIL image from load_photo), done once per task.

    Third-party lettering (a banner, a sign, a scoreboard) is blurred out of the pixels every variant uses,
    before anything is cropped, so no cover carries someone else's words or brand."""
    from ..segmentation import get_segmenter

    t0 = time.perf_counter()
    pixels = np.asarray(image.convert("RGB"))
    h, w = pixels.shape[:2]
    faces, source = _faces(pixels, model_dir, segmentation)
    main = faces[0] if faces else None
    alpha, coverage, rough = None, 0.0, None
    if segmentation != "none":
        segmenter = get_segmenter(segmentation, model_dir)
        if main is None and hasattr(segmenter, "low_res"):
            rough = segmenter.low_res(pixels)
            coverage = float((rough > 0.5).mean())  # a cheap look before the full mask
            if coverage >= PERSON_COVERAGE:
                alpha = segmenter.mask(pixels)
        else:
            alpha = segmenter.mask(pixels)
        if alpha is not None:
            coverage = float((alpha > 127).mean())
            if coverage < (0.02 if main is not None else PERSON_COVERAGE):
                alpha = None
    # The person's mask first (or the cheap look's, when no face led to a full one): the finer look for
    # lettering searches only the background.
    person = alpha
    if person is None and rough is not None:
        person = cv2.resize(((rough > 0.5) * 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    text = _text(pixels, faces, model_dir, segmentation, person)
    pixels = _scrubbed(pixels, text)
    subject = cutout.subject_from_mask(alpha, main, pixels) if alpha is not None else None
    if alpha is not None:
        alpha.flags.writeable = False
        gate = judge_mask(alpha, faces, main)
    else:
        gate = Gate(False, ("no person mask",))
    thumb = cv2.cvtColor(composite.reduce_to(pixels, (16, 16)), cv2.COLOR_RGB2GRAY)
    lettering = tuple(tuple(round(v, 1) for v in b) for b in text)
    return PreparedPhoto(pixels, _sharpness(pixels), tuple(image.info.get("source_size", (w, h))), tuple(faces),
                         source, lettering, alpha, round(coverage, 4), subject, gate,
                         round((time.perf_counter() - t0) * 1000, 1), zlib.crc32(thumb.tobytes()))
