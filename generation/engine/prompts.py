"""Prompts for the diffusion background: subject / environment / lighting / camera, never any text.

Per-genre starting points are data (`GENRE_PROMPTS`); `build_prompt` adds the caller's mood, style tags,
a colour description of the palette and a few lyrics keywords, then trims by priority to fit CLIP's window.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .presets import GENRES, resolve_genre
from .spec import parse_hex

# Always first in the negative prompt: the typeset stage owns every letter on the cover.
TEXT_NEGATIVE = "text, letters, words, typography, watermark, logo, signature"
NO_PERSON_NEGATIVE = "person, people, face, figure, crowd"
QUALITY_NEGATIVE = "blurry, lowres, jpeg artifacts, deformed, frame, border, nsfw"
MAX_TOKENS = 75  # CLIP's 77 minus the start and end tokens


@dataclass(frozen=True)
class GenrePrompt:
    """A genre's starting point; each field is comma-separated phrases, most important first."""

    subject: str  # the scene's focal element with no person: the artist photo is composited later
    person: str  # the subject when the image already shows the artist (img2img from the photo)
    environment: str
    lighting: str
    camera: str
    negative: str = ""  # genre-specific things to keep out


GENRE_PROMPTS: dict[str, GenrePrompt] = {
    "hiphop": GenrePrompt(
        "an empty rain-slicked street at night", "a rapper standing tall, low-angle portrait, strong presence",
        "downtown skyline, sodium street lamps, distant neon glow, wet asphalt reflections",
        "hard directional light, sharp shadows, warm orange rim light",
        "low angle, 24mm wide lens, Kodak Portra 800, film grain", "daylight, pastel"),
    "indie": GenrePrompt(
        "a quiet open field under a wide sky", "a musician standing in a natural landscape, candid",
        "tall grass, distant hills, soft clouds", "golden hour backlight, low sun glow, warm haze",
        "35mm film photograph, Kodak Portra 400, soft halation, natural grain", "neon, studio backdrop"),
    "edm": GenrePrompt(
        "an abstract architectural space of glowing geometric shapes", "a DJ silhouetted against light",
        "endless perspective grid, horizon sun cut by stripes, dark void",
        "neon magenta and cyan glow, cool blue haze, high contrast",
        "symmetrical composition, wide angle, crisp digital render", "daylight, nature"),
    "rnb": GenrePrompt(
        "silk drapes and soft bokeh lights", "a singer in close portrait, minimal background",
        "warm intimate room, candlelight, light leaks", "single soft box from 45 degrees, warm peach and gold glow",
        "85mm f/1.4, shallow depth of field, Kodak Portra 400", "harsh light, cold colors"),
    "rock": GenrePrompt(
        "an empty concert stage with a lone microphone stand", "a rock band mid-performance on stage",
        "smoky venue, amplifiers, lighting rig", "red stage beams through smoke, hard backlight",
        "wide angle, 35mm film, pushed grain, high contrast", "pastel, cute"),
    "metal": GenrePrompt(
        "a dark smoke-filled void with drifting embers", "a metal band in dark smoke",
        "charred ruins, jagged rocks, storm clouds", "deep red underglow, cold steel highlights, chiaroscuro",
        "wide angle, gritty texture, heavy film grain", "pastel, bright, cheerful"),
    "pop": GenrePrompt(
        "glossy candy-colored shapes floating in a bright studio", "a pop singer in a confident pose",
        "seamless pastel backdrop, glossy reflections", "bright even studio light, soft shadows, vivid color",
        "50mm lens, clean fashion photography, sharp focus", "gloomy, grungy"),
    "jazz": GenrePrompt(
        "a saxophone resting on a stool in an empty jazz club", "a jazz musician playing in a dim club",
        "small smoky club interior, brick wall, round tables", "warm tungsten spotlight, narrow beam, deep shadows",
        "50mm lens, vintage 1960s photograph, Kodak Tri-X grain", "neon, modern"),
    "ambient": GenrePrompt(
        "a calm misty lake at dawn", "a distant lone figure by still water",
        "soft fog, distant hills, still water reflections", "diffuse pale light, gentle gradients, low contrast",
        "minimal composition, wide negative space, long exposure, medium format", "busy, cluttered, harsh light"),
    "lofi": GenrePrompt(
        "a cozy desk by a window at dusk", "a musician relaxing in a cozy room by a window",
        "city rooftops outside, headphones on the desk, houseplants", "purple dusk sky, warm lamp glow, soft pink haze",
        "nostalgic faded film photograph, soft focus, grain", "harsh light, sharp"),
    "classical": GenrePrompt(
        "an ornate empty concert hall", "a classical musician with their instrument in a concert hall",
        "gilded balconies, rows of velvet seats, marble columns", "soft natural window light, gentle warm highlights",
        "medium format, fine detail, elegant calm composition", "neon, grunge, graffiti"),
}
DEFAULT_PROMPT = GenrePrompt(
    "an atmospheric empty landscape with one striking focal shape", "a musician in an atmospheric setting",
    "open space, distant horizon, subtle texture", "soft directional light, gentle shadows",
    "35mm film photograph, shallow depth of field, film grain")

# Nearest-colour names for the palette description (matched in CIE Lab).
COLOUR_NAMES: dict[str, str] = {
    "jet black": "#0a0a0a", "charcoal grey": "#36393f", "slate grey": "#708090", "silver grey": "#c0c0c4",
    "off-white": "#f5f2ea", "white": "#ffffff", "cream": "#f3e3c0", "beige": "#d8cbb3", "sand": "#c2b280",
    "tan": "#a67b5b", "chocolate brown": "#4e2a1e", "dark brown": "#2b2420", "burgundy": "#6d1a2a",
    "deep wine red": "#2a0f14", "crimson": "#9c1010", "scarlet": "#e0482b", "dusty rose": "#b5737a",
    "salmon pink": "#f29e9e", "pink": "#ff9ebb", "hot pink": "#ff2e88", "magenta": "#e010e0",
    "peach": "#ffd0a8", "apricot": "#f2a65a", "amber": "#ff8a2a", "burnt orange": "#cc5500",
    "gold": "#d9a441", "pale gold": "#ffd27a", "sunflower yellow": "#ffd23f", "olive green": "#6b7a2a",
    "forest green": "#228b22", "sage green": "#9caf88", "seafoam green": "#8fd3c7", "deep teal": "#2f5d6e",
    "dusty blue-grey": "#6f8c8f", "turquoise": "#5ce1e6", "electric cyan": "#1ee3ff", "sky blue": "#87ceeb",
    "cobalt blue": "#0047ab", "navy blue": "#1a2340", "midnight blue": "#0f1a30", "deep indigo": "#2a0b5e",
    "dusky violet": "#5b4b8a", "purple": "#7b2d8e", "lavender": "#b8a9d9", "deep plum": "#2b1055",
    "dark aubergine": "#1c1730",
}
# Palette roles (see presets.py) and how each reads in a scene; the fifth role, ink, is the text's.
_ROLE_WORDS = ("tones", "tones", "accents", "highlights")

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours out over own same she should so some such than that the their them then there these
they this those through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself let lets get got gonna wanna gotta cause cuz yeah yea yes oh ooh ohh ah uh hey
la na da baby babe like know just one still ever never every always thing things way make made say said tell
told go goes going gone come came take took see seen want need feel felt give gave keep back away again around
really right cant dont wont aint im ive youre thats theres whats ill youll id its
""".split())
# Words from user text that would invite rendered letters or unsafe content; dropped before prompting.
_BLOCKED = frozenset("""
text texts letter letters lettering word words typography typographic font fonts logo logos title titles
caption captions signature watermark sign signs poster label labels calligraphy graffiti handwriting
nude naked nudity nsfw sex sexy porn blood gore
""".split())

_CLIP_PIECES = re.compile(r"[^\W\d_]+|\d|[^\w\s]+|_+")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def estimate_tokens(text: str) -> int:
    """CLIP's token count without its tokenizer: the pieces its pre-tokenizer makes (words, single digits,
    punctuation runs) times 1.15 for the rarer words BPE splits (1.0-1.17 tokens per piece on these prompts)."""
    return math.ceil(len(_CLIP_PIECES.findall(text.lower())) * 1.15)


def _srgb_to_lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    linear = [(c / 255 / 12.92) if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    r, g, b = linear
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


_NAMED_LAB = {name: _srgb_to_lab(parse_hex(hex_)) for name, hex_ in COLOUR_NAMES.items()}


def colour_name(colour: str) -> str:
    """'#ff8a2a' -> 'amber': the nearest entry of COLOUR_NAMES in CIE Lab (ValueError on a bad hex)."""
    lab = _srgb_to_lab(parse_hex(colour))
    return min(_NAMED_LAB, key=lambda name: sum((a - b) ** 2 for a, b in zip(lab, _NAMED_LAB[name], strict=True)))


def _palette_phrases(palette: tuple[str, ...]) -> list[str]:
    """Base and mid as tones, then accents and highlights, each name used once."""
    used: set[str] = set()
    groups: dict[str, list[str]] = {}
    for colour, role in zip(palette, _ROLE_WORDS, strict=False):
        name = colour_name(colour)
        if name not in used:
            used.add(name)
            groups.setdefault(role, []).append(name)
    return [f"{' and '.join(names)} {role}" for role, names in groups.items()]


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    return [w.removesuffix("'s") for w in _WORD.findall(text)]


def _excluded_words(exclude: Iterable[str]) -> set[str]:
    return {w for phrase in exclude if phrase for w in _words(phrase) if w.replace("'", "") not in STOPWORDS}


def lyrics_keywords(lyrics: str, limit: int = 3, exclude: Iterable[str] = ()) -> list[str]:
    """The most frequent words of the lyrics that are not stopwords, ties broken by first appearance."""
    banned = _excluded_words(exclude) | _BLOCKED
    words = [w for w in _words(lyrics or "")
             if len(w) >= 3 and w.replace("'", "") not in STOPWORDS and w not in banned and "'" not in w]
    counts = Counter(words)
    first = {w: i for i, w in reversed(list(enumerate(words)))}
    return sorted(counts, key=lambda w: (-counts[w], first[w]))[:limit]


def _clean_phrases(text: str, banned: set[str], limit: int) -> list[str]:
    """User text as comma-separated phrases: no quotes or symbols, no excluded words, no blocked phrases."""
    phrases: list[str] = []
    for raw in re.split(r"[,;\n|/]+", text or ""):
        words = _words(raw)
        if any(w in _BLOCKED for w in words):  # a phrase about lettering or unsafe content goes whole
            continue
        phrase = " ".join(w for w in words if w not in banned)
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    return phrases[:limit]


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _without(parts: list[list[str]], banned: set[str]) -> list[list[str]]:
    """Drop every phrase naming an excluded word; the subject's head loses just that word, so a subject remains."""
    if not banned:
        return parts
    cleaned = []
    for index, part in enumerate(parts):
        kept = [p for p in part if not banned & set(_words(p))]
        if index == 0 and part and part[0] not in kept:
            head = [w for w in part[0].split() if not banned & set(_words(w))]
            while head and head[-1].lower() in STOPWORDS:  # "a street at night" minus "night" -> "a street"
                head.pop()
            kept.insert(0, " ".join(head) or DEFAULT_PROMPT.subject)
        cleaned.append(kept)
    return cleaned


def _genre_prompt(genre: str) -> tuple[str | None, GenrePrompt]:
    key = genre if genre in GENRE_PROMPTS else resolve_genre(genre or "")
    return key, GENRE_PROMPTS.get(key, DEFAULT_PROMPT)


def _fit(parts: list[list[str]], priority: list[int], budget: int, count: Callable[[str], int]) -> str:
    """Join the parts; while too long, drop phrases: later phrases of every part before earlier ones, and among
    phrases at the same position the lowest-priority part's first. The subject's first phrase goes last, by words."""
    parts = [list(p) for p in parts]

    def joined() -> str:
        return ", ".join(phrase for part in parts for phrase in part)

    while count(joined()) > budget:
        candidates = [(len(part) - 1, priority[i], i) for i, part in enumerate(parts) if part and (i or len(part) > 1)]
        if candidates:
            parts[max(candidates)[2]].pop()
            continue
        words = parts[0][0].split() if parts[0] else []
        if len(words) <= 1:
            break
        parts[0][0] = " ".join(words[:-1])
    return joined()


def build_prompt(
    genre: str,
    *,
    palette: tuple[str, ...] | None,
    mood: str = "",
    style_tags: str = "",
    lyrics: str = "",
    with_subject: bool,
    exclude: Iterable[str] = (),
    max_tokens: int = MAX_TOKENS,
    count_tokens: Callable[[str], int] | None = None,
) -> tuple[str, str]:
    """(prompt, negative_prompt) for a genre's background.

    `with_subject` describes a person (img2img from the artist photo) instead of an empty scene. `palette`
    overrides the genre preset's colours role by role, as the pipeline does. Words of `exclude` (pass the artist,
    title and feature) never reach the prompt: a phrase holding one is dropped, even from the genre's own data.
    `count_tokens` is the model tokenizer's count when known (default: `estimate_tokens`).
    """
    key, base = _genre_prompt(genre)
    banned = _excluded_words(exclude)
    colours = list(GENRES[key].palette) if key in GENRES else []
    for index, colour in enumerate(palette or ()):
        if index < len(colours):
            colours[index] = colour
        else:
            colours.append(colour)

    mood_phrases = _clean_phrases(mood, banned, limit=3)
    if len(mood_phrases) == 1 and len(mood_phrases[0].split()) <= 3:
        mood_phrases = [f"{mood_phrases[0]} mood"]
    keywords = lyrics_keywords(lyrics, exclude=exclude)
    if keywords:
        keywords[0] = f"motifs of {keywords[0]}"
    # Text order follows the four-part formula, then the extras; priority decides what goes first when trimming.
    parts = [
        _split(base.person if with_subject else base.subject),
        _split(base.environment),
        _split(base.lighting),
        _split(base.camera),
        mood_phrases,
        _clean_phrases(style_tags, banned, limit=6),
        _palette_phrases(tuple(colours[:4])),
        keywords,
    ]
    parts = _without(parts, banned)
    priority = [0, 1, 2, 4, 3, 5, 6, 7]  # rank of each part above, lower kept longer: mood outranks camera
    prompt = _fit(parts, priority, max_tokens, count_tokens or estimate_tokens)

    negative = [TEXT_NEGATIVE]
    if not with_subject:
        negative.append(NO_PERSON_NEGATIVE)
    negative.append(QUALITY_NEGATIVE)
    if base.negative:
        negative.append(base.negative)
    return prompt, ", ".join(negative)
