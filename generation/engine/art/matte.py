"""Alpha matting of a gated cut-out: the person mask refined by closed-form matting from a trimap (pymatting).

The segmentation model's mask is right about the body and vague at the edge (hair, fingers, fur). The trimap
keeps what the mask is sure of and leaves a band around the outline unknown; closed-form matting solves that
band from the photo's own colours. It runs on the subject's box at MATTE_SIDE (a fifth of a second) and the
solved band is laid into the full-size mask, which keeps its own values where it was sure.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..cutout import enclosed

MATTE_SIDE = 384  # px of the subject box's long side the matte is solved at
BAND = 0.015  # the unknown band's half width as a share of the subject's height


def trimap(alpha: np.ndarray, band: int) -> np.ndarray:
    """1 where the mask is sure of the person, 0 where sure of the background, 0.5 in the band between."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    sure_fg = cv2.erode((alpha > 200).astype(np.uint8), kernel) > 0
    sure_bg = cv2.erode((alpha < 55).astype(np.uint8), kernel) > 0
    out = np.full(alpha.shape, 0.5, np.float64)
    out[sure_fg] = 1.0
    out[sure_bg] = 0.0
    return out


def refine(pixels: np.ndarray, alpha: np.ndarray, bbox: tuple[int, int, int, int]) -> np.ndarray:
    """The mask (uint8, photo size) with its outline solved by matting; holes inside the body filled."""
    from pymatting import estimate_alpha_cf

    h, w = alpha.shape
    x0, y0, x1, y1 = bbox
    pad = max(8, round((y1 - y0) * 0.05))
    x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
    box_alpha = alpha[y0:y1, x0:x1]
    scale = min(1.0, MATTE_SIDE / max(x1 - x0, y1 - y0))
    size = (max(8, round((x1 - x0) * scale)), max(8, round((y1 - y0) * scale)))
    small_rgb = cv2.resize(pixels[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA).astype(np.float64) / 255.0
    small_alpha = cv2.resize(box_alpha, size, interpolation=cv2.INTER_AREA)
    band = max(2, round(size[1] * BAND))
    tri = trimap(small_alpha, band)
    if not (tri == 0.5).any() or not (tri == 1.0).any() or not (tri == 0.0).any():
        return alpha
    solved = np.clip(estimate_alpha_cf(np.clip(small_rgb, 0.0, 1.0), tri), 0.0, 1.0).astype(np.float32)
    unknown = (tri == 0.5).astype(np.float32)
    full_solved = cv2.resize(solved, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    full_unknown = cv2.GaussianBlur(cv2.resize(unknown, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR),
                                    (0, 0), max(1.0, 1.0 / scale))
    mixed = box_alpha.astype(np.float32) * (1.0 - full_unknown) + full_solved * 255.0 * full_unknown
    out = alpha.copy()
    out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return fill_holes(out)


def fill_holes(alpha: np.ndarray) -> np.ndarray:
    """Background pockets wholly inside the body (touching no edge of the frame) become body."""
    out = alpha.copy()
    out[enclosed(alpha > 127)] = 255
    return out
