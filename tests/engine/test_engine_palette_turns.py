"""Each release is printed in its genre's palette or in a turn of its hues, fixed by the release: one palette for
every release of a genre read as a template."""

import numpy as np
import pytest

from generation.engine import GENRES, CoverSpec
from generation.engine.palette import _linear, rotate_hue
from generation.engine.pipeline import release_hue, resolve_palette, spec_palette
from generation.engine.presets import RELEASE_HUES

LUMA = np.array([0.2126, 0.7152, 0.0722])
RELEASES = [(f"Artist {i}", f"Title {i}") for i in range(40)]


def spec(genre="jazz", artist="Artist 1", album="Title 1", **kwargs):
    return CoverSpec(genre=genre, artist=artist, album=album, size=1400, **kwargs)


@pytest.mark.parametrize("degrees", [-30, 60, 180])
def test_a_turn_keeps_every_colours_luminance_and_leaves_greys_alone(degrees):
    for preset in GENRES.values():
        for colour in resolve_palette(preset, None):
            turned = rotate_hue(colour, degrees)
            before, after = float(_linear(colour.astype(np.float64)) @ LUMA), float(_linear(turned) @ LUMA)
            assert after == pytest.approx(before, rel=0.03, abs=0.004), (preset.key, colour, turned)
    grey = np.array([0.4, 0.4, 0.4], np.float32)
    np.testing.assert_array_equal(rotate_hue(grey, degrees), grey)
    orange = np.array([1.0, 0.54, 0.16], np.float32)
    assert np.abs(rotate_hue(orange, degrees) - orange).max() > 0.1  # a colour does turn


def test_a_release_keeps_its_palette_and_a_genres_releases_do_not_share_one():
    for genre, turns in RELEASE_HUES.items():
        seen = {release_hue(spec(genre, a, t), GENRES[genre]) for a, t in RELEASES}
        assert seen == {0, *turns}, (genre, seen)  # the genre's own palette and every turn appear
        for variant in ("artist", "background", "text"):  # the covers of one release share it
            assert release_hue(spec(genre, "NOVA", "Still Standing", variant=variant, seed=7), GENRES[genre]) == \
                release_hue(spec(genre, " nova", "STILL STANDING ", seed=99), GENRES[genre])
    for genre in ("metal", "indie", "jazz", "edm"):  # no turn stays true to these
        assert {release_hue(spec(genre, a, t), GENRES[genre]) for a, t in RELEASES} == {0}


def test_a_callers_palette_or_reference_is_used_as_it_is():
    turned = next(s for s in (spec("ambient", a, t) for a, t in RELEASES) if release_hue(s, GENRES["ambient"]))
    own, _ = spec_palette(turned, GENRES["ambient"])
    base = resolve_palette(GENRES["ambient"], None)
    assert any(np.abs(a - b).max() > 0.05 for a, b in zip(own, base, strict=True))  # the turn is applied
    explicit = CoverSpec(genre="ambient", artist=turned.artist, album=turned.album, size=1400,
                         palette=tuple(GENRES["ambient"].palette))
    assert release_hue(explicit, GENRES["ambient"]) == 0
    got, _ = spec_palette(explicit, GENRES["ambient"])
    assert all(np.abs(a - b).max() < 1e-6 for a, b in zip(got, base, strict=True))
