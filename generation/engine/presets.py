"""Genres as data: one preset per genre (palette, scene, grade, typography, aliases).

Adding a genre is adding a preset here, not code. Palettes have five roles, in order:
base (darkest or ground), mid, accent, highlight, ink (preferred text colour).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class FontRef:
    """A font file shipped by a PyPI font package, found at run time inside that package."""

    package: str
    filename: str
    fallback: str = "sans"  # the script fallbacks' family: "sans", "serif", "sans-regular" or "serif-regular"
    # A Debian font (path under /usr/share/fonts) used instead of the package's file when installed: the genre
    # faces with the most character (Bebas Neue, Blankenburg, Courier Prime...) ship in Debian, not on PyPI.
    system: str = ""
    caps_ok: bool = True  # False for blackletter: a line of its capitals is unreadable, so all-caps text goes
    # to the secondary face


@dataclass(frozen=True)
class Typography:
    primary: FontRef
    secondary: FontRef
    caps: bool = False  # display the texts upper-cased (the metadata itself is never altered)
    secondary_caps: bool | None = None  # the secondary face's own rule (None: as `caps`)
    tracking: float = 0.0  # extra letter spacing as a fraction of the font size
    align: str = "center"  # "left" or "center"


@dataclass(frozen=True)
class Grade:
    """Parameters of the genre's colour curves; see grade.py for how they become LUTs."""

    black: float = 0.0  # input level mapped to black (crush), 0..1
    white: float = 1.0  # input level mapped to white
    fade: float = 0.0  # output level of black (lifted, film-like blacks), 0..1
    contrast: float = 0.0  # S-curve strength, -1..1
    saturation: float = 1.0
    warmth: float = 0.0  # + warmer (red up, blue down), - cooler
    shadow_tint: str = "#000000"
    highlight_tint: str = "#ffffff"
    split: float = 0.0  # strength of the split toning towards the two tints
    vignette: float = 0.25  # how dark the corners get, 0..1
    grain: float = 0.0  # grain amplitude in 8-bit levels (JPEG gets it at full size)


FJALLA = FontRef("font_fjallaone", "FjallaOne-Regular.ttf")
SERIF_SEMIBOLD = FontRef("font_source_serif_pro", "SourceSerifPro-Semibold.ttf", "serif")
SERIF_REGULAR = FontRef("font_source_serif_pro", "SourceSerifPro-Regular.ttf", "serif")
SERIF_ITALIC = FontRef("font_source_serif_pro", "SourceSerifPro-It.ttf", "serif")
SERIF_BOLD = FontRef("font_source_serif_pro", "SourceSerifPro-Bold.ttf", "serif")
RHD_BLACK = FontRef("font_rhd", "RedHatDisplay-Black.ttf")
RHD_BOLD = FontRef("font_rhd", "RedHatDisplay-Bold.ttf")
RHD_MEDIUM = FontRef("font_rhd", "RedHatDisplay-Medium.ttf")
MANROPE_BOLD = FontRef("font_manrope", "Manrope-Bold.ttf")
MANROPE_MEDIUM = FontRef("font_manrope", "Manrope-Medium.ttf")
MANROPE_REGULAR = FontRef("font_manrope", "Manrope-Regular.ttf")
MANROPE_SEMIBOLD = FontRef("font_manrope", "Manrope-SemiBold.ttf")
# Faces with a genre's voice, from Debian's fonts-* packages (OFL); each names the PyPI face used where the
# Debian package is not installed (README: Fonts).
BEBAS = FontRef("font_fjallaone", "FjallaOne-Regular.ttf", system="opentype/bebas-neue/BebasNeue-Bold.otf")
BLACKLETTER = FontRef("font_fjallaone", "FjallaOne-Regular.ttf", "serif",
                      system="truetype/blankenburg/Blankenburg_UNZ1A.ttf", caps_ok=False)
TYPEWRITER = FontRef("font_manrope", "Manrope-Bold.ttf", "serif",
                     system="opentype/courier-prime/Courier Prime Bold.otf")
TYPEWRITER_REGULAR = FontRef("font_manrope", "Manrope-Medium.ttf", "serif-regular",
                             system="opentype/courier-prime/Courier Prime.otf")
SPARTAN_BLACK = FontRef("font_rhd", "RedHatDisplay-Black.ttf",
                        system="opentype/league-spartan/LeagueSpartan-Black.otf")
SPARTAN_MEDIUM = FontRef("font_rhd", "RedHatDisplay-Medium.ttf", "sans-regular",
                         system="opentype/league-spartan/LeagueSpartan-Medium.otf")
GARAMOND = FontRef("font_source_serif_pro", "SourceSerifPro-Regular.ttf", "serif-regular",
                   system="opentype/ebgaramond/EBGaramond12-Regular.otf")
GARAMOND_BOLD = FontRef("font_source_serif_pro", "SourceSerifPro-Semibold.ttf", "serif",
                        system="opentype/ebgaramond/EBGaramond12-Bold.otf")
GARAMOND_ITALIC = FontRef("font_source_serif_pro", "SourceSerifPro-It.ttf", "serif-regular",
                          system="opentype/ebgaramond/EBGaramond08-Italic.otf")  # the small optical size: sturdier
HAND = FontRef("font_amatic_sc", "AmaticSC-Bold.ttf")


@dataclass(frozen=True)
class GenrePreset:
    key: str
    label: str
    palette: tuple[str, ...]
    fonts: Typography
    grade: Grade
    aliases: tuple[str, ...] = ()


GENRES: dict[str, GenrePreset] = {
    p.key: p
    for p in (
        GenrePreset(
            "hiphop", "Hip-Hop",
            ("#06070d", "#1a2340", "#ff8a2a", "#ffd27a", "#f6f1e7"),
            Typography(BEBAS, FJALLA, caps=True, tracking=0.02, align="left"),
            Grade(black=0.07, contrast=0.35, saturation=1.05, warmth=0.02, shadow_tint="#0b1a3a",
                  highlight_tint="#ffd9a0", split=0.12, vignette=0.35, grain=3.0),
            ("hip hop", "rap", "trap", "drill", "grime", "boom bap", "gangsta rap", "urban", "hiphop rap"),
        ),
        GenrePreset(
            "edm", "Electronic",
            ("#05020d", "#2a0b5e", "#ff2e88", "#1ee3ff", "#ffffff"),
            Typography(SPARTAN_BLACK, SPARTAN_MEDIUM, caps=True, tracking=0.06, align="center"),
            Grade(black=0.04, contrast=0.25, saturation=1.3, shadow_tint="#1a0033", highlight_tint="#ffe0f5",
                  split=0.08, vignette=0.3),
            ("electronic", "electro", "house", "techno", "trance", "synthwave", "dance", "dubstep",
             "drum and bass", "dnb", "edm", "electronica", "hardstyle", "retrowave", "garage", "idm"),
        ),
        GenrePreset(
            "rnb", "R&B / Soul",
            ("#2a0f14", "#8a3b44", "#f2a65a", "#ffd9a8", "#fff5e8"),
            Typography(GARAMOND_BOLD, GARAMOND_ITALIC, caps=False, tracking=-0.005, align="center"),
            Grade(fade=0.05, contrast=0.15, saturation=1.05, warmth=0.06, shadow_tint="#3a1020",
                  highlight_tint="#ffe2b0", split=0.15, vignette=0.3, grain=2.0),
            ("r&b", "rnb", "r and b", "rhythm and blues", "soul", "neo soul", "neosoul", "funk", "gospel",
             "motown", "quiet storm"),
        ),
        GenrePreset(
            "indie", "Indie / Folk",
            ("#2b2420", "#6f8c8f", "#e8a25b", "#f3dcb4", "#fff8ec"),
            Typography(HAND, SERIF_ITALIC, caps=True, secondary_caps=False, tracking=0.02, align="center"),
            Grade(fade=0.09, contrast=0.1, saturation=0.9, warmth=0.05, shadow_tint="#2a3a40",
                  highlight_tint="#ffe6c0", split=0.12, vignette=0.2, grain=3.5),
            ("indie rock", "indie folk", "alternative", "alt", "folk", "country", "acoustic",
             "singer songwriter",
             "americana", "bluegrass", "shoegaze", "dream pop", "emo"),
        ),
        GenrePreset(
            "rock", "Rock",
            ("#0a0909", "#3a1410", "#e0482b", "#ffcf9a", "#f4efe6"),
            Typography(FJALLA, FJALLA, caps=True, tracking=0.03, align="left"),
            Grade(black=0.06, contrast=0.3, saturation=0.95, warmth=0.03, shadow_tint="#1a0a08",
                  highlight_tint="#ffe0b8", split=0.1, vignette=0.4, grain=4.0),
            ("rock and roll", "rock n roll", "hard rock", "punk", "punk rock", "grunge", "garage rock",
             "classic rock", "blues rock", "post punk", "alt rock", "pop punk", "stoner"),
        ),
        GenrePreset(
            "metal", "Metal",
            ("#040404", "#1c1c22", "#9c1010", "#c9c9cf", "#ececf0"),
            Typography(BLACKLETTER, FJALLA, caps=False, secondary_caps=True, tracking=0.0, align="center"),
            Grade(black=0.09, contrast=0.4, saturation=0.75, shadow_tint="#0a0a10", highlight_tint="#e8e8f0",
                  split=0.05, vignette=0.5, grain=4.0),
            ("heavy metal", "death metal", "black metal", "thrash", "doom", "metalcore", "hardcore", "sludge",
             "nu metal", "djent", "industrial"),
        ),
        GenrePreset(
            "pop", "Pop",
            ("#2b1055", "#ff5fa2", "#ffd23f", "#5ce1e6", "#ffffff"),
            Typography(RHD_BLACK, RHD_BOLD, caps=False, tracking=-0.01, align="center"),
            Grade(contrast=0.15, saturation=1.15, split=0.0, vignette=0.12),
            ("k pop", "kpop", "j pop", "jpop", "dance pop", "electropop", "synthpop", "teen pop", "pop rock",
             "latin pop", "bubblegum"),
        ),
        GenrePreset(
            "jazz", "Jazz",
            ("#050914", "#0f2a4a", "#d9a441", "#f3e3c0", "#f6efe0"),
            Typography(SERIF_BOLD, SERIF_ITALIC, caps=False, tracking=0.0, align="left"),
            Grade(fade=0.04, contrast=0.25, saturation=0.9, warmth=0.02, shadow_tint="#0a1830",
                  highlight_tint="#ffe4b0", split=0.18, vignette=0.45, grain=3.5),
            ("blues", "bebop", "swing", "big band", "bossa nova", "smooth jazz", "fusion", "cool jazz",
             "free jazz"),
        ),
        GenrePreset(
            "ambient", "Ambient",
            ("#0b1620", "#2f5d6e", "#8fd3c7", "#e6f1ee", "#f4fbf9"),
            Typography(MANROPE_SEMIBOLD, MANROPE_MEDIUM, caps=True, tracking=0.14, align="center"),
            Grade(fade=0.04, contrast=0.05, saturation=0.9, shadow_tint="#0b2030", highlight_tint="#e8fff8",
                  split=0.1, vignette=0.2, grain=2.0),
            ("new age", "drone", "downtempo", "chillout", "meditation", "soundscape", "dark ambient",
             "post rock", "minimal"),
        ),
        GenrePreset(
            "lofi", "Lo-fi",
            ("#1c1730", "#5b4b8a", "#f29e9e", "#ffd6a5", "#fff6ea"),
            Typography(TYPEWRITER, TYPEWRITER_REGULAR, caps=False, tracking=0.0, align="left"),
            Grade(fade=0.12, contrast=0.0, saturation=0.85, warmth=0.03, shadow_tint="#2a2050",
                  highlight_tint="#ffe0c8", split=0.15, vignette=0.25, grain=5.0),
            ("lo fi", "lofi hip hop", "chillhop", "chill", "bedroom pop", "study beats", "jazzhop",
             "vaporwave"),
        ),
        GenrePreset(
            "classical", "Classical",
            ("#f3ede2", "#d8cbb3", "#8c6d3f", "#2b2622", "#1d1a17"),
            Typography(GARAMOND_BOLD, GARAMOND_ITALIC, caps=True, secondary_caps=False, tracking=0.1,
                       align="center"),
            Grade(fade=0.02, contrast=0.05, saturation=0.85, warmth=0.02, split=0.0, vignette=0.12,
                  grain=2.0),
            ("orchestral", "orchestra", "opera", "baroque", "chamber", "chamber music", "symphony", "piano",
             "soundtrack", "score", "film score", "contemporary classical", "choral", "neoclassical"),
        ),
    )
}


def _normalise(text: str) -> str:
    """Lower-case, accents stripped, '&' spelled out, every non-alphanumeric run removed."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text.lower().replace("&", "and"))


def _tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return [t for t in re.split(r"[^a-z0-9&]+", text) if t]


# Each release of a genre is printed in the genre's palette or in one of these turns of its hues (degrees, the
# luminance of every colour kept), picked by the release's artist and title: one palette for every release of a
# genre read as a template; a caller's palette or style reference is used as it is.
# (Only the turns that stay true to the genre. A bright orange or gold turned toward red keeps its luminance
# only as a pastel coral: hip-hop turns the other way, to blue. Metal has none; nor have indie, jazz and
# electronic: in a blind review their turns (a sky-blue indie, a lavender jazz poster, an emerald electronic
# halo) scored below the genre's own palette.)
RELEASE_HUES: dict[str, tuple[int, ...]] = {
    "hiphop": (180,), "rnb": (-30,), "rock": (-30,), "pop": (-30,), "ambient": (30, 120), "lofi": (180,),
    "classical": (180,),
}

_ALIASES: dict[str, str] = {}
for _preset in GENRES.values():
    for _name in (_preset.key, _preset.label, *_preset.aliases):
        _ALIASES.setdefault(_normalise(_name), _preset.key)
# Spellings whose punctuation carries the meaning ("r&b" normalises to "randb").
_ALIASES.update({"rb": "rnb", "randb": "rnb", "dnb": "edm", "dandb": "edm"})


def resolve_genre(name: str) -> str | None:
    """Map a free-form genre name to a preset key; case, spaces and punctuation don't matter.

    Tries the whole name first, then its words and pairs of adjacent words, left to right
    ("Death Metal" -> metal, "Hip-Hop/Rap" -> hiphop). None when nothing maps.
    """
    if not isinstance(name, str) or not name.strip():
        return None
    whole = _normalise(name)
    if whole in _ALIASES:
        return _ALIASES[whole]
    tokens = _tokens(name)
    for i, token in enumerate(tokens):
        if i + 1 < len(tokens):
            pair = _normalise(token + tokens[i + 1])
            if pair in _ALIASES:
                return _ALIASES[pair]
        single = _normalise(token)
        if single in _ALIASES:
            return _ALIASES[single]
    return None
