"""Reused artwork: a 64-bit DCT perceptual hash and the Hamming distance to known covers."""

from __future__ import annotations

from itertools import combinations

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
    """Compare with the organisation's delivered covers: pHash hex strings, or (pHash, colour signature) pairs.

    `known_hashes` is a list of them, or an index with a `near(value)` method (IndexedHashes, below) that returns
    only the few covers that decide the verdict and the values for `value`."""
    near = getattr(known_hashes, "near", None)
    candidates = near(value) if callable(near) else known_hashes
    worst, nearest, nearest_colour = "pass", 64, None
    for item in filter(None, map(_known, candidates)):
        bits = distance(value, item[0])
        if bits > REACH:  # a pass whatever its colours: it can only be the nearest so far (its colour then)
            if worst == "pass" and bits < nearest:
                nearest, nearest_colour = bits, colour_distance(signature, item[1]) if item[1] else None
            continue
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

# -- the indexed lookup (multi-index hashing) ------------------------------------------------------------------
# Only a cover within REACH bits can be a "review" or a "fail"; farther ones pass whatever their colours. The 64
# bits are cut into BANDS bands of 16 (4 hex digits each; CoverImage.reuse_key0..3, indexed, hold them plus the
# organisation x 65536). If two hashes differ in at least r_n + 1 bits in every band n, they differ in at least
# sum(r_n + 1) bits in all: so with radii whose sum(r_n + 1) exceeds REACH (pigeonhole), every cover within REACH
# bits has, in some band n, a value within r_n bits of the new hash's there. The candidates are the covers holding
# one of those values in their band: with REACH 10 the radii are 2, 2, 2, 1 (137 + 137 + 137 + 17 values to look
# up, and a random cover a candidate with odds of 428 in 65536: ~650 candidates among 100k covers). Finer bands
# cost more: 11 bands of ~6 bits (radius 0) make 1 cover in 64 a candidate per band; 3 of ~21 bits (radius 3)
# need ~5000 values looked up.
REACH = max(T.REUSE_FAIL_BITS, T.REUSE_REVIEW_BITS)
BANDS = 4
BAND_BITS = 64 // BANDS
_SPARE = max(0, REACH + 1 - BANDS)  # the radii's sum: sum(r_n + 1) = REACH + 1 (at least BANDS)
BAND_RADII = tuple(_SPARE // BANDS + (n < _SPARE % BANDS) for n in range(BANDS))
FOUND_WITHIN = sum(r + 1 for r in BAND_RADII) - 1  # every cover this close is among the candidates (>= REACH)


def _flips(bits: int, radius: int) -> tuple[int, ...]:
    """Every mask of `bits` bits with at most `radius` of them set (the Hamming ball's offsets), fewest first."""
    return tuple(sum(1 << b for b in chosen) for k in range(radius + 1) for chosen in combinations(range(bits), k))


_BAND_FLIPS = [_flips(BAND_BITS, r) for r in BAND_RADII]


def bands(value: int) -> list[int]:
    """The hash's bands, most significant first: band n is hex digits 4n..4n+3 of to_hex(value)."""
    mask = (1 << BAND_BITS) - 1
    return [(value >> (BAND_BITS * (BANDS - 1 - n))) & mask for n in range(BANDS)]


def band_keys(value: int) -> list[list[int]]:
    """For each band n, the values within BAND_RADII[n] bits of the hash's: a cover within REACH bits of `value`
    holds one of them in its own band n for at least one n."""
    return [[part ^ flip for flip in flips] for part, flips in zip(bands(value), _BAND_FLIPS, strict=True)]


class IndexedHashes:
    """Known covers behind the band index: reuse() asks `near(value)` for what it needs to judge one new hash.

    Three callables over the same covers, each listing them in one order (the one everything() uses):
    candidates(band_keys) gives (key, pHash) of the covers that hold one of the band values, and may include some
    that do not count (candidates only has to be fast); counted(keys) gives {key: colour signature} of those of
    `keys` that count; everything() gives (pHash, colour signature) of every cover that counts, for the callers
    that iterate (or compare) the known hashes as a list.

    near() returns the counted candidates within REACH bits or, when there is none, the first of the nearest: reuse()
    over them gives what it gives over every counted candidate (every other one passes and is never the nearest).
    So only those few are checked and need their colour signature, in one more small query.
    """

    FAR_BATCH = 16  # candidates farther than REACH checked at once for the nearest that counts (doubling)

    def __init__(self, candidates, counted, everything):
        self._candidates, self._counted, self._everything = candidates, counted, everything

    def near(self, value: int) -> list[tuple[int, str | None]]:
        close, far = [], []
        for key, known in self._candidates(band_keys(value)):
            item = _known(known)
            if item is not None:
                bits = distance(value, item[0])
                (close if bits <= REACH else far).append((bits, key, item[0]))
        far.sort(key=lambda row: row[0])  # stable: at equal distances the first listed stays first
        batch = self.FAR_BATCH
        if not close and not far:
            return []
        counted = self._counted([key for _, key, _ in close + far[:batch]])
        kept = [(item, counted[key]) for _, key, item in close if key in counted]
        if kept:
            return kept
        start = 0
        while start < len(far):
            if start:
                counted = self._counted([key for _, key, _ in far[start:start + batch]])
            for _, key, item in far[start:start + batch]:
                if key in counted:
                    return [(item, counted[key])]
            start, batch = start + batch, batch * 2
        return []

    def __iter__(self):
        return iter(self._everything())

    def __eq__(self, other):
        if isinstance(other, list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"<IndexedHashes {list(self)!r}>"
