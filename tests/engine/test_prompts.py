import re

import pytest

from generation.engine.presets import GENRES
from generation.engine.prompts import (
    DEFAULT_PROMPT,
    GENRE_PROMPTS,
    MAX_TOKENS,
    TEXT_NEGATIVE,
    build_prompt,
    colour_name,
    estimate_tokens,
    lyrics_keywords,
)

LYRICS = """Rain on the window, rain in my heart
Neon lights are calling, oh yeah, I don't know
Rain again, heart again, Velvet Hours, Velvet Hours"""
ARTIST, TITLE = "Nova Kane", "Velvet Hours"


def prompt_for(genre: str, **kwargs) -> tuple[str, str]:
    kwargs.setdefault("palette", None)
    kwargs.setdefault("with_subject", False)
    return build_prompt(genre, **kwargs)


def test_every_preset_genre_has_starting_points():
    assert set(GENRES) <= set(GENRE_PROMPTS)
    assert set(GENRES) == {"hiphop", "indie", "edm", "rnb", "rock", "pop", "jazz", "ambient", "metal", "lofi",
                           "classical"}


@pytest.mark.parametrize("genre", sorted(GENRES))
@pytest.mark.parametrize("with_subject", [False, True])
def test_each_genre_builds_a_short_text_free_prompt(genre, with_subject):
    prompt, negative = build_prompt(genre, palette=None, mood="melancholic", style_tags="cinematic, moody",
                                    lyrics=LYRICS, with_subject=with_subject, exclude=(ARTIST, TITLE))
    base = GENRE_PROMPTS[genre]
    subject = (base.person if with_subject else base.subject).split(",")[0]
    assert prompt.startswith(subject)
    assert estimate_tokens(prompt) <= MAX_TOKENS
    assert estimate_tokens(negative) <= MAX_TOKENS
    assert negative.startswith(TEXT_NEGATIVE)
    for forbidden in (ARTIST, TITLE, "Nova", "Kane", "Velvet", "Hours"):
        assert forbidden.lower() not in prompt.lower()
    words = set(re.findall(r"[a-z]+", prompt.lower()))
    assert not words & {"text", "letters", "words", "typography", "logo", "title", "sign", "album", "cover"}
    assert ("person" in negative) is not with_subject


def test_four_parts_in_formula_order():
    base = GENRE_PROMPTS["hiphop"]
    prompt, _ = prompt_for("hiphop")
    firsts = [part.split(",")[0] for part in (base.subject, base.environment, base.lighting, base.camera)]
    positions = [prompt.index(first) for first in firsts]
    assert positions == sorted(positions)


def test_palette_becomes_colour_names():
    prompt, _ = prompt_for("hiphop")
    assert "jet black and navy blue tones" in prompt
    assert "amber accents" in prompt
    assert "#" not in prompt
    # A caller's colour replaces the preset's role, as the pipeline's grade does.
    prompt, _ = prompt_for("hiphop", palette=("#ffffff",))
    assert "white and navy blue tones" in prompt


def test_colour_names():
    assert colour_name("#000000") == "jet black"
    assert colour_name("#ff8a2a") == "amber"
    assert colour_name("1ee3ff") == "electric cyan"
    assert colour_name("#fff") == "white"
    with pytest.raises(ValueError):
        colour_name("orange")


def test_lyrics_keywords_are_frequent_non_stopwords_in_order():
    assert lyrics_keywords(LYRICS) == ["rain", "heart", "velvet"]
    assert lyrics_keywords(LYRICS, exclude=(TITLE,)) == ["rain", "heart", "window"]
    assert lyrics_keywords("oh yeah baby, I don't know, na na na") == []
    assert lyrics_keywords("") == []
    assert lyrics_keywords("ocean ocean fire FIRE fire", limit=1) == ["fire"]


def test_lyrics_keywords_show_up():
    prompt, _ = prompt_for("metal", lyrics=LYRICS, exclude=(TITLE,))
    assert "motifs of rain" in prompt
    assert "heart" in prompt


def test_mood_and_tags_are_cleaned():
    prompt, negative = prompt_for("edm", mood='"euphoric"', style_tags="bold typography, glitch art; Nova Kane vibes",
                                  exclude=(ARTIST,))
    assert "euphoric mood" in prompt
    assert "glitch art" in prompt
    assert "vibes" in prompt and "nova" not in prompt.lower()
    assert "typography" not in prompt and "typography" in negative
    assert '"' not in prompt


def test_unknown_genre_falls_back_and_aliases_resolve():
    prompt, negative = prompt_for("polka")
    assert prompt.startswith(DEFAULT_PROMPT.subject.split(",")[0])
    assert negative.startswith(TEXT_NEGATIVE)
    assert prompt_for("Death Metal")[0].startswith(GENRE_PROMPTS["metal"].subject.split(",")[0])
    assert prompt_for("")[0].startswith(DEFAULT_PROMPT.subject.split(",")[0])


def test_long_inputs_are_trimmed_by_priority():
    tags = ", ".join(f"style{i} detail{i}" for i in range(40))
    prompt, _ = prompt_for("ambient", mood="calm, hazy, distant, dreamy", style_tags=tags, lyrics=LYRICS)
    assert estimate_tokens(prompt) <= MAX_TOKENS
    base = GENRE_PROMPTS["ambient"]
    for part in (base.subject, base.environment, base.lighting, base.camera):
        assert part.split(",")[0] in prompt  # the head of every formula part survives
    assert "calm mood" not in prompt and "calm" in prompt


def test_custom_counter_and_hard_cut():
    def words(text: str) -> int:
        return len(text.split())

    prompt, _ = prompt_for("jazz", lyrics=LYRICS, count_tokens=words, max_tokens=12)
    assert words(prompt) <= 12
    assert prompt.startswith(GENRE_PROMPTS["jazz"].subject)
    prompt, _ = prompt_for("jazz", count_tokens=words, max_tokens=3)
    assert prompt == "a saxophone resting"


def test_deterministic():
    kwargs = {"palette": ("#123456", "#abcdef"), "mood": "warm", "style_tags": "film", "lyrics": LYRICS}
    assert prompt_for("rnb", **kwargs) == prompt_for("rnb", **kwargs)


def test_excluded_words_leave_the_genre_data_too():
    prompt, _ = prompt_for("hiphop", exclude=("Night", "Neon"))
    words = set(re.findall(r"[a-z]+", prompt.lower()))
    assert not words & {"night", "neon"}
    assert prompt.startswith("an empty rain-slicked street, downtown skyline")
