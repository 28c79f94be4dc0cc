"""The genre catalogue the API exposes (GET /api/v1/genres) and the named palettes a request may use."""

from generation import engine
from generation.engine.art.compositions import direction as art_direction

# Named palettes beyond each genre's own (which are available under the genre's key).
EXTRA_PALETTES: dict[str, tuple[str, ...]] = {
    "dark_gold": ("#0b0b0f", "#1c1a17", "#d4a017", "#f2d27a", "#f7f1e1"),
    "neon_night": ("#05030f", "#1b0d3d", "#ff2e88", "#27e1ff", "#ffffff"),
    "warm_sunset": ("#2a1410", "#8c3a2b", "#f08a4b", "#ffd08a", "#fff4e6"),
    "pastel_dream": ("#f4e9f1", "#cfd8f6", "#f6b7c8", "#fff1c9", "#2b2233"),
    "mono": ("#0a0a0a", "#3a3a3a", "#9a9a9a", "#e6e6e6", "#ffffff"),
    "ocean_blue": ("#03101f", "#0b3a5c", "#2fa3c7", "#9fe3f0", "#f2fbff"),
}

PALETTES: dict[str, tuple[str, ...]] = {**{k: p.palette for k, p in engine.GENRES.items()}, **EXTRA_PALETTES}


def _font_name(ref) -> str:
    """The face the covers are set in on this machine (the Debian face when installed, else the PyPI one)."""
    from generation.engine.fonts import package_font

    return package_font(ref).path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def catalogue() -> dict:
    return {
        "genres": [
            {
                "genre": preset.key,
                "label": preset.label,
                "aliases": list(preset.aliases),
                "scene": art_direction(preset.key).scenes[0],
                "scenes": list(art_direction(preset.key).scenes),
                "palette": list(preset.palette),
                "fonts": sorted({_font_name(preset.fonts.primary), _font_name(preset.fonts.secondary)}),
            }
            for preset in engine.GENRES.values()
        ],
        "palettes": {name: list(colours) for name, colours in PALETTES.items()},
        "variants": list(engine.VARIANTS),
    }
