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
    glyph_bitmap,
    needed_codepoints,
    package_font,
    uses_cleared_copy,
)
from generation.engine.presets import FJALLA, GENRES, MANROPE_BOLD, RHD_BLACK
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
    display = package_font(RHD_BLACK)  # Red Hat Display: every glyph flagged "may overlap"
    assert _unflagged_bytes(display) is not None
    assert uses_cleared_copy(display, 650, "O")
    assert not uses_cleared_copy(display, FAST_RASTER_SIZE - 1, "O")
    quick, qx, qy = glyph_bitmap(display, 650, "O")
    exact, ex, ey = glyph_bitmap(display, 650, "O", exact=True)
    assert (qx, qy) == (ex, ey) and exact.shape == quick.shape
    assert abs(exact.astype(np.int16) - quick).max() <= 40  # the same letter, anti-aliasing aside
    assert (exact != quick).any()  # and really drawn from the other copy


def test_letters_whose_contours_cross_keep_the_exact_raster():
    manrope = package_font(MANROPE_BOLD)  # its 'h' is a stem and an arch that overlap
    assert not uses_cleared_copy(manrope, 650, "h")
    assert uses_cleared_copy(manrope, 650, "o")


def test_every_letter_drawn_from_the_cleared_copy_matches_the_exact_raster():
    # The test render that sends a letter to the cleared copy uses the rasteriser that draws it: a letter
    # whose overlapping contours that rasteriser seams (Manrope's u: a notch where bowl meets stem) stays exact.
    manrope = package_font(MANROPE_BOLD)
    for ch in "abcdefghijklmnopqrstuvwxyz":
        quick, qx, qy = glyph_bitmap(manrope, 420, ch)
        exact, ex, ey = glyph_bitmap(manrope, 420, ch, exact=True)
        assert (qx, qy) == (ex, ey) and quick.shape == exact.shape, ch
        assert abs(exact.astype(np.int16) - quick).max() <= 40, ch


def test_fonts_without_overlap_flags_are_used_as_they_are():
    fjalla = package_font(FJALLA)
    assert _unflagged_bytes(fjalla) is None
    assert not uses_cleared_copy(fjalla, 650, "O")


def _placed(mask, left, top, side=900):
    canvas = np.zeros((side, side), np.int16)
    canvas[side - 150 + top:side - 150 + top + mask.shape[0], 100 + left:100 + left + mask.shape[1]] = mask
    return canvas


def test_letters_rasterised_by_freetype_match_pillows_drawing():
    # The stamped letters of tracked text and the whole lines Pillow draws must be the same letters, in the
    # same place relative to the pen.
    from PIL import Image, ImageDraw

    for genre in ("hiphop", "indie", "rnb"):
        font = package_font(GENRES[genre].fonts.primary)
        for size in (90, 450):
            face = freetype(font, size)
            for ch in "AVESgé":
                left, top, right, bottom = face.getbbox(ch, anchor="ls")
                drawn = Image.new("L", (right - left, bottom - top), 0)
                ImageDraw.Draw(drawn).text((-left, -top), ch, font=face, fill=255, anchor="ls")
                ours = glyph_bitmap(font, size, ch)
                difference = abs(_placed(np.asarray(drawn), left, top) - _placed(*ours))
                assert difference.max() <= 16 and (difference > 0).mean() < 0.002, (genre, size, ch)


def test_tracked_letters_are_spaced_without_ligatures():
    from generation.engine.typeset import _pen_positions

    font = package_font(GENRES["rnb"].fonts.primary)  # Source Serif: has fi/ff/fl ligatures
    positions = _pen_positions("Offline", font, 400, -0.005 * 400)
    f_advance = freetype(font, 400).getlength("f", features=["-liga"])
    # Each f is stamped on its own: the next letter starts a whole f further on, not inside a ligature.
    assert positions[2] - positions[1] >= 0.9 * f_advance - 2
    assert positions[3] - positions[2] >= 0.9 * f_advance - 2


def test_fitting_never_goes_below_the_smallest_size():
    from generation.engine.typeset import Role, _largest_fitting

    typo = GENRES["pop"].fonts
    role = Role("album", "A VERY LONG TITLE INDEED", 0.1, 1, typo.primary)
    assert _largest_fitting(role, [role.text], typo, 80, 6) == 6
    assert _largest_fitting(role, [role.text], typo, 80, 9) == 6


def test_a_word_too_long_for_its_column_closes_its_letter_spacing_before_it_shrinks():
    """Spaced capitals ("NOCTURNES," with the classical face's tracking) in a narrow column: the spacing is closed
    up to 2% before the size gives way, so the line is set larger than at the genre's full spacing."""
    from generation.engine.presets import GENRES as PRESETS
    from generation.engine.typeset import TIGHT_TRACKING, Role, _largest_fitting, face_for, fit_role

    typo = PRESETS["classical"].fonts
    assert typo.tracking > TIGHT_TRACKING
    role = Role("album", "NOCTURNES, OP. 9", 0.1, 3, face_for("NOCTURNES, OP. 9", typo.primary, typo))
    narrow = fit_role(role, typo, 3000, 900)
    assert narrow[0].tracking == pytest.approx(TIGHT_TRACKING * narrow[0].size)
    spaced = _largest_fitting(role, [line.text for line in narrow], typo, 900, 10_000)
    assert narrow[0].size > spaced * 1.04  # closing up bought a larger size
    assert max(line.ink[2] - line.ink[0] for line in narrow) <= 900  # and the lines still fit
    wide = fit_role(role, typo, 3000, 2600)  # room enough: the genre's spacing stays
    assert wide[0].tracking == pytest.approx(typo.tracking * wide[0].size)
