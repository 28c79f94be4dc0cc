"""Cropping like a photographer: faces whole, headroom above the crown, the eye line near the upper third."""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[float, float, float, float]

# Around a face box (BlazeFace's box runs from the brows to the chin): the hair above, the ears at the sides,
# the chin and neck below. None of it may be cut by the frame.
HAIR, EARS, CHIN = 0.65, 0.3, 0.45
TIGHT_EARS = 0.1  # a tall narrow frame (the side layout) may crop the hair at the sides, as an editor would


@dataclass(frozen=True)
class Crop:
    box: Box  # photo pixels (x0, y0, x1, y1)
    whole: bool  # the faces' protected box fits inside it

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


def protected(cluster: Box, ears: float = EARS) -> Box:
    """The cluster with the hair, the ears (`ears` of a face's height each side) and the chin around it."""
    fw, fh = cluster[2] - cluster[0], cluster[3] - cluster[1]
    unit = min(fw, fh * 1.2) if fw > fh * 1.6 else fh  # a wide cluster (a group) is measured by one face's height
    return (cluster[0] - ears * unit, cluster[1] - HAIR * unit, cluster[2] + ears * unit, cluster[3] + CHIN * unit)


def _place(lo: float, length: float, want: float, keep: tuple[float, float], limit: float) -> float:
    """Start of a span of `length` inside 0..limit, as near `want` as keeps `keep` inside it."""
    start = min(max(want, keep[1] - length), keep[0])
    return min(max(start, 0.0), max(limit - length, 0.0)) if length <= limit else (limit - length) / 2


def face_crop(size: tuple[int, int], aspect: float, cluster: Box | None, *, face_share: float, eye_y: float = 0.36,
              face_x: float = 0.5, zoom_limit: float = 0.0, ears: float = EARS) -> Crop:
    """The crop of width/height `aspect` around the face cluster.

    The cluster's height is about `face_share` of the crop's (smaller when the photo cannot give that much),
    the eye line lands at `eye_y` of the crop and the cluster's centre at `face_x` of its width, moved as far as
    needed to keep the hair, ears and chin inside. `zoom_limit` is the smallest crop height in photo pixels the
    caller accepts (the enlargement cap of a low-resolution photo). Without faces: centred, top-weighted.
    """
    w, h = size
    full_h = min(h, w / aspect)
    if cluster is None:
        ch = full_h
        cw = ch * aspect
        return Crop(((w - cw) / 2, (h - ch) * 0.3, (w + cw) / 2, (h - ch) * 0.3 + ch), True)
    keep = protected(cluster, ears)
    fh = cluster[3] - cluster[1]
    ch = fh / max(face_share, 1e-3)
    ch = max(ch, keep[3] - keep[1], (keep[2] - keep[0]) / aspect, zoom_limit)
    ch = min(ch, full_h)
    cw = ch * aspect
    eye = cluster[1] + 0.4 * fh
    y0 = _place(0, ch, eye - eye_y * ch, (max(keep[1], 0.0), min(keep[3], h)), h)
    centre = (cluster[0] + cluster[2]) / 2
    x0 = _place(0, cw, centre - face_x * cw, (max(keep[0], 0.0), min(keep[2], w)), w)
    box = (x0, y0, x0 + cw, y0 + ch)
    whole = box[0] <= max(keep[0], 0.0) + 0.5 and box[2] >= min(keep[2], w) - 0.5 and \
        box[1] <= max(keep[1], 0.0) + 0.5 and box[3] >= min(keep[3], h) - 0.5
    return Crop(box, whole)


def on_canvas(box: Box, crop: Crop, target: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """A box in photo pixels mapped into `target` (x0, y0, x1, y1 on the cover) where the crop is drawn."""
    sx = (target[2] - target[0]) / crop.width
    sy = (target[3] - target[1]) / crop.height
    return (round(target[0] + (box[0] - crop.box[0]) * sx), round(target[1] + (box[1] - crop.box[1]) * sy),
            round(target[0] + (box[2] - crop.box[0]) * sx), round(target[1] + (box[3] - crop.box[1]) * sy))
