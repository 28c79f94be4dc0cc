"""Typesetting uses the exact metadata text, fits it inside the margins and never hides missing glyphs."""

import numpy as np
import pytest

from generation.engine import CoverSpec, render
from generation.engine.fonts import (
    FAST_RASTER_SIZE,
    _unflagged_bytes,
    choose_font,
    coverage,
    freetype,
    needed_codepoints,
    package_font,
    raster_face,
)
from generation.engine.presets import GENRES
from generation.engine.typeset import MARGIN

LONG_TITLE = "Songs For The Long Drive Home Through Empty Northern Cities!"


def role_text(result, role):
    return [line["text"] for line in result.measurements["lines"] if line["role"] == role]


@pytest.mark.parametrize("genre", ["hiphop", "rnb", "pop", "ambient"])
@pytest.mark.parametrize("artist", ["Beyoncé", "Sigur Rós", "坂本龍一", "The Midnight Orchestra"])
def test_lines_are_the_exact_metadata(genre, artist):
    result = render(CoverSpec(genre=genre, artist=artist, album=LONG_TITLE, feature="feat. Ólafur Arnalds",
                              size=1400, variant="text"))
    caps = GENRES[genre].fonts.caps
    for role, original in (("artist", artist), ("album", LONG_TITLE), ("feature", "feat. Ólafur Arnalds")):
        lines = role_text(result, role)
        assert " ".join(lines) == original  # split only at single spaces, nothing altered
        original_words = original.split(" ")
        for line in lines:  # never broken inside a word
            assert all(word in original_words for word in line.split(" "))
        for line in result.measurements["lines"]:
            if line["role"] == role and not result.measurements["missing_glyphs"]:
                assert line["display"] == (line["text"].upper() if caps else line["text"])
    assert result.measurements["texts"]["artist"] == artist


def test_sixty_character_title_fits_inside_margins():
    assert len(LONG_TITLE) == 60
    for variant in ("artist", "text"):
        result = render(CoverSpec(genre="hiphop", artist="X", album=LONG_TITLE, size=1400, variant=variant))
        margin = 1400 * MARGIN
        album_boxes = [line["box"] for line in result.measurements["lines"] if line["role"] == "album"]
        assert len(album_boxes) >= 2
        for x0, _y0, x1, _y1 in album_boxes:
            assert x0 >= margin - 2 and x1 <= 1400 - margin + 2


def test_dominant_line_is_big_enough_to_read_at_56_px():
    spec = CoverSpec(genre="hiphop", artist="Nas", album="Illmatic", size=3000, output_format="jpeg")
    result = render(spec)
    artist = next(line for line in result.measurements["lines"] if line["role"] == "artist")
    album = next(line for line in result.measurements["lines"] if line["role"] == "album")
    assert artist["cap_px"] >= 0.095 * 3000
    assert 2.0 <= artist["cap_px"] / album["cap_px"] <= 3.0


def test_missing_glyphs_are_reported_not_drawn_as_boxes():
    result = render(CoverSpec(genre="indie", artist="坂本龍一", album="async", size=1400))
    line = next(line for line in result.measurements["lines"] if line["role"] == "artist")
    assert line["text"] == "坂本龍一"
    best = choose_font("坂本龍一", GENRES["indie"].fonts.primary).font
    covered = needed_codepoints("坂本龍一") <= coverage(best)
    if covered:  # a CJK font is installed on this machine: it must have been used
        assert result.measurements["missing_glyphs"] == []
        assert line["display"] == "坂本龍一"
    else:
        assert set(result.measurements["missing_glyphs"]) == set("坂本龍一")
        assert line["display"] == ""


def test_accented_names_fall_back_only_when_needed():
    choice = choose_font("BEYONCÉ", GENRES["hiphop"].fonts.primary)
    assert not choice.fallback and choice.drawn == "BEYONCÉ"
    greek = choose_font("Ψυχή", GENRES["hiphop"].fonts.primary)
    assert greek.missing == () or greek.drawn != "Ψυχή"


def _mask(face, ch):
    mask = face.getmask(ch)
    return np.array(mask, dtype=np.int16).reshape(mask.size[1], mask.size[0])


def test_large_letters_of_overlap_flagged_fonts_rasterise_from_the_cleared_copy():
    display = package_font(GENRES["pop"].fonts.primary)  # Red Hat Display: every glyph flagged "may overlap"
    assert _unflagged_bytes(display) is not None
    fast = raster_face(display, 650, "O")
    assert fast is not freetype(display, 650)
    exact, quick = _mask(freetype(display, 650), "O"), _mask(fast, "O")
    assert exact.shape == quick.shape and abs(exact - quick).max() <= 40  # the same letter, anti-aliasing aside
    assert raster_face(display, FAST_RASTER_SIZE - 1, "O") is freetype(display, FAST_RASTER_SIZE - 1)


def test_letters_whose_contours_cross_keep_the_exact_raster():
    manrope = package_font(GENRES["lofi"].fonts.primary)  # its 'h' is a stem and an arch that overlap
    assert raster_face(manrope, 650, "h") is freetype(manrope, 650)
    assert raster_face(manrope, 650, "o") is not freetype(manrope, 650)


def test_fonts_without_overlap_flags_are_used_as_they_are():
    fjalla = package_font(GENRES["hiphop"].fonts.primary)
    assert _unflagged_bytes(fjalla) is None
    assert raster_face(fjalla, 650, "O") is freetype(fjalla, 650)
