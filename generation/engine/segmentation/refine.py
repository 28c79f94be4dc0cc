"""Mask refinement at full photo resolution: smooth upscale, edges snapped to the photo, light feather.

The snapping is He et al.'s guided filter with the colour photo as guide, in its fast form (He & Sun
2015): the linear coefficients are solved on a reduced copy and only `q = a.I + b` runs at full size,
about 0.1 s for a 2000 px photo on one CPU core.
"""

from __future__ import annotations

import cv2
import numpy as np

# The reduced copy the coefficients are solved on; the edges still land on full-resolution pixels.
WORK_SIDE = 512
# Window radius in units of a pixel of the model's mask. The window must hold more correctly labelled
# pixels than wrong ones where the model's edge is off by a pixel or two; a narrower window leaves a
# veil of background beside the subject (measured on a disc with a mask 8% too wide).
RADIUS_MODEL_PX = 5.0
EPS = 1e-3
# The model's soft edge is hardened to this band around 0.5 before filtering, so the regression
# sees near-binary labels and returns a crisp edge rather than the model's own blur.
HARDEN = (0.25, 0.75)
# After snapping, alpha in [LOW, HIGH] is stretched to [0, 1]: what remains below LOW is background
# the model leaked onto, and that veil is what reads as a halo on a new scene.
LOW, HIGH = 0.45, 0.9
# A matting model's own alpha only loses the filter's faint overshoot at both ends.
MATTE_STRETCH = (0.05, 0.95)


def box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, p: np.ndarray, r: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s colour guided filter: per-pixel (a, b) with q = a.guide + b, both box-averaged.

    `guide` is HxWx3 float32 in [0, 1], `p` HxW float32; returns a (HxWx3) and b (HxW).
    """
    mean_i = box(guide, r)
    mean_p = box(p, r)
    cov_ip = box(guide * p[..., None], r) - mean_i * mean_p[..., None]
    # The 3x3 covariance of the guide per pixel, its six distinct entries, regularised by eps.
    var = {}
    for i, j in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)):
        var[i, j] = box(guide[..., i] * guide[..., j], r) - mean_i[..., i] * mean_i[..., j]
    rr, rg, rb, gg, gb, bb = (var[0, 0] + eps, var[0, 1], var[0, 2], var[1, 1] + eps, var[1, 2], var[2, 2] + eps)
    # Inverse by cofactors: closed form and vectorised, far cheaper than a batched linalg.solve.
    inv_rr = gg * bb - gb * gb
    inv_rg = gb * rb - rg * bb
    inv_rb = rg * gb - gg * rb
    inv_gg = rr * bb - rb * rb
    inv_gb = rb * rg - rr * gb
    inv_bb = rr * gg - rg * rg
    det = rr * inv_rr + rg * inv_rg + rb * inv_rb
    c0, c1, c2 = cov_ip[..., 0], cov_ip[..., 1], cov_ip[..., 2]
    a = np.stack([inv_rr * c0 + inv_rg * c1 + inv_rb * c2,
                  inv_rg * c0 + inv_gg * c1 + inv_gb * c2,
                  inv_rb * c0 + inv_gb * c1 + inv_bb * c2], axis=-1) / det[..., None]
    b = mean_p - np.einsum("hwc,hwc->hw", a, mean_i)
    return box(a, r), box(b, r)


def refine_mask(photo: np.ndarray, soft: np.ndarray, *, model_side: int | None = None,
                matte: bool = False) -> np.ndarray:
    """`soft` (any resolution, float in [0, 1] or uint8) refined to an HxW uint8 alpha matching `photo`.

    `model_side` is the long side of the model's own output (default: `soft`'s), which sets how far
    an edge may move. `matte` marks a high-resolution matting model whose partial alpha (hair wisps)
    is real: it is snapped and feathered but neither hardened nor cut.
    """
    height, width = photo.shape[:2]
    soft = _as_unit_float(soft)
    model_side = model_side or max(soft.shape[:2])
    # Never solve below the model's own resolution, or a 1024 px matte would lose detail.
    scale = min(1.0, max(WORK_SIDE, model_side) / max(height, width))
    ws, hs = max(1, round(width * scale)), max(1, round(height * scale))
    guide_small = cv2.resize(photo, (ws, hs), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    # Smooth upscale (cubic) so the model's pixel grid leaves no staircase.
    down = cv2.INTER_AREA if soft.shape[1] > ws else cv2.INTER_CUBIC
    p = np.clip(cv2.resize(soft, (ws, hs), interpolation=down), 0.0, 1.0)
    if matte:
        radius, (low, high) = 2, MATTE_STRETCH
    else:
        p = smoothstep(p, *HARDEN)
        radius, (low, high) = max(2, round(RADIUS_MODEL_PX * max(ws, hs) / model_side)), (LOW, HIGH)
    a, b = guided_filter(guide_small, p, radius, EPS)
    alpha = _apply_full(photo, a, b)
    alpha -= low
    alpha *= 255.0 / (high - low)
    np.clip(alpha, 0.0, 255.0, out=alpha)
    alpha8 = (alpha + 0.5).astype(np.uint8)
    # Feathered in 8 bits: the same 1-3 px softness at a quarter of the float cost.
    return cv2.GaussianBlur(alpha8, (0, 0), feather_sigma(width, height), borderType=cv2.BORDER_REPLICATE)


def smoothstep(x: np.ndarray, low: float, high: float) -> np.ndarray:
    t = np.clip((x - low) * (1.0 / (high - low)), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def check_photo(photo: np.ndarray) -> None:
    """Refuse anything but the HxWx3 uint8 RGB array every backend expects."""
    if not isinstance(photo, np.ndarray) or photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
        got = f"{photo.dtype} {photo.shape}" if isinstance(photo, np.ndarray) else type(photo).__name__
        raise ValueError(f"expected an HxWx3 uint8 RGB photo, got {got}")


def feather_sigma(width: int, height: int) -> float:
    """1 px on a 1000 px photo, 3 px at 3000 px and above: the edge softness of a good cut-out."""
    return float(np.clip(max(width, height) / 1000.0, 0.7, 3.0))


def _apply_full(photo: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    height, width = photo.shape[:2]
    if a.shape[:2] == (height, width):
        guide = photo.astype(np.float32) / 255.0
        return np.einsum("hwc,hwc->hw", a, guide) + b
    # Strip by strip: the coefficients upscaled to full size would be 12 bytes a pixel (150 MB on a phone
    # photo). Each strip samples them the way a bilinear resize would (pixel centres, edges clamped).
    hs, ws = a.shape[:2]
    out = np.empty((height, width), np.float32)
    xs = np.clip((np.arange(width, dtype=np.float32) + 0.5) * np.float32(ws / width) - 0.5, 0, ws - 1)
    for r0 in range(0, height, APPLY_STRIP):
        r1 = min(height, r0 + APPLY_STRIP)
        ys = np.clip((np.arange(r0, r1, dtype=np.float32) + 0.5) * np.float32(hs / height) - 0.5, 0, hs - 1)
        map_x = np.ascontiguousarray(np.broadcast_to(xs, (r1 - r0, width)))
        map_y = np.ascontiguousarray(np.broadcast_to(ys[:, None], (r1 - r0, width)))
        a_strip = cv2.remap(a, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        b_strip = cv2.remap(b, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # Folding the 1/255 into a saves converting the photo to float first.
        a_strip *= np.float32(1.0 / 255.0)
        out[r0:r1] = _dot_rgb(photo[r0:r1], a_strip) + b_strip
    return out


APPLY_STRIP = 256


def _dot_rgb(photo: np.ndarray, a: np.ndarray) -> np.ndarray:
    out = photo[..., 0] * a[..., 0]
    out += photo[..., 1] * a[..., 1]
    out += photo[..., 2] * a[..., 2]
    return out


def _as_unit_float(mask: np.ndarray) -> np.ndarray:
    if mask.dtype == np.uint8:
        return mask.astype(np.float32) / 255.0
    return np.asarray(mask, dtype=np.float32)
