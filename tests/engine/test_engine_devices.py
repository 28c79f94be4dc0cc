"""A typographic poster's device (a heavy rule or a hairline) in the genre's manner, never a border; and
line breaks that keep a name together."""

import io

import numpy as np
import pytest
from PIL import Image

from generation.engine import GENRES, CoverSpec, render
from generation.engine.art.devices import DEVICES, poster_device
from generation.engine.pipeline import resolve_palette
from generation.engine.sentinel.pixels import border
from generation.engine.typeset import Line, Role, break_quality, fit_role


def _line(box):
    """A stand-in line: only its box and cap height matter to the device."""
    x0, y0, x1, y1 = box
    line = Line("album", "x", "X", None, 100, 0.0, (0, y0 - 2000, x1 - x0, y1 - 2000), y1 - y0)
    line.x, line.baseline = x0, 2000
    return line


@pytest.mark.parametrize("genre", sorted(GENRES))
@pytest.mark.parametrize("low", [False, True])
def test_every_genre_draws_its_device_and_never_a_border(genre, low):
    palette = resolve_palette(GENRES[genre], None)
    canvas = np.full((750, 750, 3), 40, np.uint8)
    lines = [_line((210, 1900, 2400, 2250)), _line((210, 2300, 1800, 2700))] if low else \
        [_line((210, 300, 2400, 650)), _line((210, 700, 1800, 1100))]
    for seed in range(3):
        rgb = canvas.copy()
        poster_device(genre, palette, seed)(rgb, lines, 0.25)
        changed = np.abs(rgb.astype(int) - canvas).max(axis=2) > 10
        assert changed.mean() > 0.001, (genre, seed)  # a mark (a hairline is 2 px here)
        for y0, y1, x0, x1 in ((ln.box[1], ln.box[3], ln.box[0], ln.box[2]) for ln in lines):
            assert not changed[y0 // 4:y1 // 4, x0 // 4:x1 // 4].any()  # never under the letters
        assert border(np.asarray(Image.fromarray(rgb).convert("L")))[0] == "pass", (genre, seed)
    assert DEVICES[genre] in ("rule", "hairline")


@pytest.mark.parametrize("genre", ["jazz", "classical", "hiphop", "edm"])
def test_text_posters_carry_the_device_and_pass_the_border_check(genre):
    for seed in range(3):
        result = render(CoverSpec(genre=genre, artist="Layla Moore", album="Velvet Hours", variant="text", seed=seed,
                                  size=1400, output_format="png"))
        assert result.measurements["composition"]["layout"] in ("poster", "stack")
        grey = np.asarray(Image.open(io.BytesIO(result.data)).convert("L"))
        assert border(grey)[0] == "pass"


def test_a_name_is_broken_after_its_separator_before_it_is_broken_between_its_words():
    typo = GENRES["classical"].fonts
    lines = fit_role(Role("artist", "Riccardo Muti · Chicago Symphony", 0.1, 2, typo.secondary), typo, 3000, 1400)
    assert [line.text for line in lines] == ["Riccardo Muti", "Chicago Symphony"]  # the break stands for the dot
    # Among breaks of one line count, one between two capitalised words of a name costs more than any other;
    # a title's words ("Velvet / Hours") and all-caps text are free to stack.
    assert break_quality(["Riccardo Muti · Chicago", "Symphony"], True) > \
        break_quality(["Riccardo Muti · Chicago", "Symphony"], False) == 1.0
    assert break_quality(["STILL", "STANDING"], True) == 1.0
    assert break_quality(["Riccardo Muti ·", "Chicago Symphony"], True) < 1.0


@pytest.mark.parametrize(("text", "lines"), [
    (["Riccardo Muti ·", "Chicago Symphony"], ["Riccardo Muti", "Chicago Symphony"]),
    (["Daft Punk /", "Pharrell"], ["Daft Punk", "Pharrell"]),
    (["Simon &", "Garfunkel"], ["Simon &", "Garfunkel"]),  # words, not marks: they stay
    (["Nocturnes,", "Op. 9"], ["Nocturnes,", "Op. 9"]),
    (["AC/DC", "Live"], ["AC/DC", "Live"]),  # inside a word
    (["Volume ·"], ["Volume ·"]),  # no break, nothing stands for it
])
def test_a_separating_mark_at_a_line_break_is_dropped(text, lines):
    from generation.engine.typeset import _drop_marks

    assert _drop_marks(text) == lines
