"""A photo prepared once per task: pixels, sharpness, faces, the person mask and the verdict of its gate.

The caller owns the PreparedPhoto and passes it to the render of every variant (as rembg lets its caller own
the session), so the variants share the expensive work without any module-level cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from .. import composite, cutout

PERSON_COVERAGE = 0.3  # no face found, but the person model calls this much of the photo a person
MIN_FACE_SHARE = 0.45  # faces smaller than this share of the main face's height are bystanders, not the act

# The mask gate (COVER-CRAFT: cut-outs only when they are clean).
GATE_EDGE_SHARE = 0.02  # of a frame edge's length: the person runs into the left, right or top edge there
GATE_BLOB_SHARE = 0.03  # a second blob this big against the main one: another person or a piece of the background
GATE_HOLE_SHARE = 0.01  # holes inside the body, as a share of its area (the scene would show through)
GATE_EDGE_WIDTH = 0.02  # mean width of the uncertain edge (alpha 10%..90%) as a share of the subject's height


@dataclass(frozen=True)
class Gate:
    passed: bool
    reasons: tuple[str, ...]
    values: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class PreparedPhoto:
    pixels: np.ndarray  # uint8 RGB, read-only
    sharpness: float
    source_size: tuple[int, int]
    faces: tuple[tuple[float, float, float, float], ...]  # photo pixels, the main face first
    face_source: str
    mask: np.ndarray | None  # uint8 person alpha at photo resolution, when there is a person
    coverage: float
    subject: cutout.Subject | None
    gate: Gate
    ms: float

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


def _faces(pixels: np.ndarray, model_dir: str | None, backend: str) -> tuple[list, str]:
    from ..segmentation import ModelNotFoundError, find_faces

    try:
        faces = find_faces(pixels, model_dir)
    except ModelNotFoundError:
        if backend != "none":
            raise
        return [], "unavailable"
    faces.sort(key=lambda f: (f[2] - f[0]) * (f[3] - f[1]), reverse=True)
    return faces, "blazeface"


def judge_mask(alpha: np.ndarray, faces, main_face=None) -> Gate:
    """Whether a person mask is clean enough to cut out: one blob, no other face in it, not cut by the frame at
    the sides or the top, no holes in the body, a narrow uncertain edge. Bottom cuts are a bust: allowed."""
    h, w = alpha.shape
    k = max(1, max(h, w) // 512)
    small = composite.block_means(alpha, k) if k > 1 else alpha
    sh, sw = small.shape
    solid = (small > 127).astype(np.uint8)
    reasons, values = [], {}
    edges = {"left": solid[:, 0].mean(), "right": solid[:, -1].mean(), "top": solid[0, :].mean()}
    values["edge_contact"] = {name: round(float(v), 3) for name, v in edges.items()}
    cut = [name for name, v in edges.items() if v > GATE_EDGE_SHARE]
    if cut:
        reasons.append("cut by the frame: " + ", ".join(cut))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    areas = sorted((int(a) for a in stats[1:, cv2.CC_STAT_AREA]), reverse=True)
    if not areas:
        return Gate(False, ("no person",), values)
    values["blobs"] = len([a for a in areas if a >= GATE_BLOB_SHARE * areas[0]])
    if values["blobs"] > 1:
        reasons.append(f"{values['blobs']} separate blobs")
    main = int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) + 1
    body = (labels == main).astype(np.uint8)
    # Holes: pieces of background wholly enclosed by the body (touching no edge of the frame).
    n_bg, bg_labels, bg_stats, _ = cv2.connectedComponentsWithStats(1 - body, connectivity=4)
    holes = 0.0
    for index in range(1, n_bg):
        x, y, bw, bh, area = bg_stats[index]
        if x > 0 and y > 0 and x + bw < sw and y + bh < sh:
            holes += float(area)
    holes /= max(float(body.sum()), 1.0)
    values["holes"] = round(holes, 4)
    if holes > GATE_HOLE_SHARE:
        reasons.append(f"holes inside the body ({holes:.1%})")
    others = [f for f in faces if main_face is None or f != main_face]
    inside = 0
    for f in others:
        cx, cy = int((f[0] + f[2]) / 2 / k), int((f[1] + f[3]) / 2 / k)
        if 0 <= cy < sh and 0 <= cx < sw and body[cy, cx]:
            inside += 1
    values["other_faces"] = inside
    if inside:
        reasons.append(f"{inside} other face(s) inside the mask")
    uncertain = float(((small > 25) & (small < 230)).sum())
    perimeter = max(float(cv2.arcLength(max(cv2.findContours(body, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0],
                                                 key=len), True)), 1.0)
    rows = np.flatnonzero(body.any(axis=1))
    height = float(rows[-1] - rows[0] + 1) if rows.size else 1.0
    width = uncertain / perimeter / height
    values["edge_width"] = round(width, 4)
    if width > GATE_EDGE_WIDTH:
        reasons.append(f"wide uncertain edge ({width:.1%} of the height)")
    return Gate(not reasons, tuple(reasons), values)


def prepare_photo(image, *, segmentation: str = "selfie", model_dir: str | None = None) -> PreparedPhoto:
    """Decode-side work for one photo (a PIL image from load_photo), done once per task."""
    from ..segmentation import get_segmenter

    t0 = time.perf_counter()
    pixels = np.asarray(image.convert("RGB"))
    pixels.flags.writeable = False
    h, w = pixels.shape[:2]
    faces, source = _faces(pixels, model_dir, segmentation)
    main = faces[0] if faces else None
    alpha, coverage = None, 0.0
    if segmentation != "none":
        segmenter = get_segmenter(segmentation, model_dir)
        if main is None and hasattr(segmenter, "low_res"):
            coverage = float((segmenter.low_res(pixels) > 0.5).mean())  # a cheap look before the full mask
            if coverage >= PERSON_COVERAGE:
                alpha = segmenter.mask(pixels)
        else:
            alpha = segmenter.mask(pixels)
        if alpha is not None:
            coverage = float((alpha > 127).mean())
            if coverage < (0.02 if main is not None else PERSON_COVERAGE):
                alpha = None
    subject = cutout.subject_from_mask(alpha, main, pixels) if alpha is not None else None
    if alpha is not None:
        alpha.flags.writeable = False
        gate = judge_mask(alpha, faces, main)
    else:
        gate = Gate(False, ("no person mask",))
    return PreparedPhoto(pixels, _sharpness(pixels), tuple(image.info.get("source_size", (w, h))), tuple(faces),
                         source, alpha, round(coverage, 4), subject, gate,
                         round((time.perf_counter() - t0) * 1000, 1))
