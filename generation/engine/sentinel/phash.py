"""Reused artwork: a 64-bit DCT perceptual hash and the Hamming distance to known covers."""

from __future__ import annotations

import cv2
import numpy as np

from . import thresholds as T


def phash(grey: np.ndarray) -> int:
    """The classic pHash: 32x32 grey, 2-D DCT, the 8x8 lowest frequencies against their median (DC left out)."""
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].ravel()
    median = np.median(low[1:])
    bits = 0
    for bit in low > median:
        bits = (bits << 1) | int(bit)
    return bits


def to_hex(value: int) -> str:
    return f"{value:016x}"


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def colour_signature(work_rgb: np.ndarray) -> str:
    """The cover's 4x4 mean CIELAB colours as 48 bytes of hex: pHash is blind to colour, a regrade is not a reuse."""
    small = cv2.resize(work_rgb, (4, 4), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2LAB).tobytes().hex()


def colour_distance(a: str, b: str) -> float:
    """Mean CIE76 delta E between two colour signatures (OpenCV's 8-bit Lab: L scaled by 255/100)."""
    la = np.frombuffer(bytes.fromhex(a), np.uint8).reshape(-1, 3).astype(np.float32)
    lb = np.frombuffer(bytes.fromhex(b), np.uint8).reshape(-1, 3).astype(np.float32)
    scale = np.array([100 / 255, 1, 1], np.float32)
    return float(np.linalg.norm((la - lb) * scale, axis=1).mean())


def _known(item) -> tuple[int, str | None] | None:
    if isinstance(item, tuple | list):
        value, signature = item[0], (item[1] if len(item) > 1 else None)
    else:
        value, signature = item, None
    if value in (None, ""):
        return None
    return (int(value, 16) if isinstance(value, str) else int(value)), signature or None


def reuse(value: int, signature: str, known_hashes) -> tuple[str, dict]:
    """Compare with the organisation's delivered covers: pHash hex strings, or (pHash, colour signature) pairs."""
    worst, nearest, nearest_colour = "pass", 64, None
    for item in filter(None, map(_known, known_hashes)):
        bits = distance(value, item[0])
        colour = colour_distance(signature, item[1]) if item[1] else None
        if bits <= T.REUSE_FAIL_BITS and (colour is None or colour <= T.REUSE_COLOUR_FAIL):
            verdict = "fail"
        elif bits <= T.REUSE_REVIEW_BITS and (colour is None or colour <= T.REUSE_COLOUR_REVIEW):
            verdict = "review"
        else:
            verdict = "pass"
        if (_RANK[verdict], -bits) > (_RANK[worst], -nearest):
            worst, nearest, nearest_colour = verdict, bits, colour
        elif bits < nearest and worst == "pass":
            nearest, nearest_colour = bits, colour
    values = {"reuse_distance": nearest}
    if nearest_colour is not None:
        values["reuse_colour_distance"] = round(nearest_colour, 1)
    return worst, values


_RANK = {"pass": 0, "review": 1, "fail": 2}
