"""Cheap steering of the procedural path by the caller's words (mood, style, style tags, lyrics).

Data, not code: each entry maps words to palette-role pulls (role index, colour, weight). Mood speaks
loudest, lyrics least; the pull on any role is capped so the genre's identity survives.
"""

from __future__ import annotations

import re

import numpy as np

from .spec import parse_hex

ROLES = ("base", "mid", "accent", "highlight", "ink")
# words -> [(role, colour, weight)]
WORD_PULLS: tuple[tuple[frozenset[str], tuple[tuple[int, str, float], ...]], ...] = (
    (frozenset({"night", "midnight", "dark", "darkness", "nocturnal", "shadow", "shadows"}),
     ((0, "#04050b", 0.5), (1, "#121a36", 0.35))),
    (frozenset({"rain", "rainy", "storm", "grey", "gray", "fog", "mist", "melancholy", "sad"}),
     ((1, "#2c3a4a", 0.4), (3, "#b8c6d4", 0.25))),
    (frozenset({"sun", "sunny", "summer", "gold", "golden", "sunset", "sunrise", "warm", "happy"}),
     ((2, "#ffac3f", 0.45), (3, "#ffe0a0", 0.35))),
    (frozenset({"ocean", "sea", "wave", "waves", "water", "blue", "beach", "tide"}),
     ((1, "#1d5c7a", 0.45), (3, "#a8e0f0", 0.25))),
    (frozenset({"fire", "flame", "flames", "burn", "burning", "red", "blood", "rage", "angry"}),
     ((2, "#ff4a1c", 0.5), (1, "#4a120c", 0.3))),
    (frozenset({"love", "rose", "roses", "heart", "romance", "romantic", "pink", "sensual"}),
     ((2, "#e8527a", 0.4), (3, "#ffc6d2", 0.25))),
    (frozenset({"ice", "cold", "winter", "snow", "frozen", "chill"}),
     ((1, "#34567a", 0.35), (3, "#dcefff", 0.35))),
    (frozenset({"forest", "green", "earth", "nature", "garden", "spring"}),
     ((1, "#2f5a3a", 0.45), (2, "#b8c85a", 0.2))),
    (frozenset({"neon", "electric", "cyber", "club", "rave"}),
     ((2, "#ff2e9a", 0.4), (3, "#28e6ff", 0.35))),
    (frozenset({"dream", "dreamy", "calm", "peace", "soft", "gentle"}),
     ((1, "#7a86b8", 0.3), (3, "#f0e6ff", 0.2))),
)
SOURCE_WEIGHT = {"mood": 1.0, "style": 0.8, "style_tags": 0.7, "lyrics": 0.45}
MAX_PULL = 0.6


def words_of(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", (text or "").lower()))


def steer_palette(palette: list[np.ndarray], texts: dict[str, str]) -> tuple[list[np.ndarray], list[str]]:
    """The palette with every role pulled toward the colours its words ask for; and the words that matched."""
    pulls = [np.zeros(3, np.float32) for _ in palette]
    weights = [0.0 for _ in palette]
    matched: list[str] = []
    for source, text in texts.items():
        found = words_of(text)
        if not found:
            continue
        for vocabulary, targets in WORD_PULLS:
            hit = sorted(found & vocabulary)
            if not hit:
                continue
            matched.extend(hit)
            for role, colour, weight in targets:
                w = weight * SOURCE_WEIGHT.get(source, 0.5)
                pulls[role] += np.array(parse_hex(colour), np.float32) / 255.0 * w
                weights[role] += w
    out = []
    for role, colour in enumerate(palette):
        if weights[role] <= 0:
            out.append(colour)
            continue
        target = pulls[role] / weights[role]
        amount = min(MAX_PULL, weights[role])
        out.append((colour * (1 - amount) + target * amount).astype(np.float32))
    return out, sorted(set(matched))
