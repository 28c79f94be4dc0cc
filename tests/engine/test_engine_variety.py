"""Variety across a catalogue: the stencil's second ink takes the genre's shapes (not one disc everywhere), one
seed of one photo is not one layout in every genre, and four seeds of a screened-photo poster are four prints
(their stock, ink and screen change), with a face that fills the frame screened clear of the title."""

import numpy as np
import pytest

from generation.engine import GENRES, CoverSpec, render
from generation.engine.art import prints, textures
from generation.engine.art.compositions import DIRECTIONS, LAYOUTS, Composition, direction
from generation.engine.art.direct import _texture_inks, picture
from generation.engine.pipeline import composition_for, resolve_palette
from generation.engine.segmentation import DEFAULT_MODEL_DIR, MODEL_FILES

SIDE = 1400
needs_models = pytest.mark.skipif(not all((DEFAULT_MODEL_DIR / m.filename).is_file() for m in MODEL_FILES),
                                  reason="segmentation models not fetched (python manage.py fetch_models)")


def _inside(shape, x, y, r=100.0):
    return float(prints.halo_inside(shape, np.float32([[x]]), np.float32([[y]]), np.float32(r))[0, 0])


def test_each_halo_shape_covers_its_own_ground():
    """The head's centre lies in the disc, the arch and the band, and in the ring's hole; far below the head only
    the arch reaches; far to the side at the head's height only the band."""
    for shape in ("disc", "arch", "band"):
        assert _inside(shape, 0, 0) > 0, shape
    assert _inside("ring", 0, 0) < 0 and _inside("ring", 102, 0) > 0  # a ring around the head, open inside
    below, beside = (0, 900), (900, 0)
    assert _inside("arch", *below) > 0 and _inside("disc", *below) < 0 and _inside("band", *below) < 0
    assert _inside("band", *beside) > 0 and _inside("arch", *beside) < 0 and _inside("disc", *beside) < 0
    assert _inside("arch", 0, -85) > 0 > _inside("arch", 0, -100)  # the arch's round top just over the head


def test_every_genre_names_known_halos_and_the_catalogue_is_not_one_disc():
    for genre, art in DIRECTIONS.items():
        assert art.halos and set(art.halos) <= set(prints.HALOS), genre
    assert {halo for art in DIRECTIONS.values() for halo in art.halos} == set(prints.HALOS)


@pytest.mark.parametrize("halo", prints.HALOS)
def test_a_stencil_prints_its_halo_in_the_second_ink(halo, prepared_set):
    """Beside the head, inside every shape, the sheet is the halo's ink and not the ground's."""
    genre = "rnb"
    palette = resolve_palette(GENRES[genre], None)
    layout = next(lay for lay in LAYOUTS["background"] if lay.name == "screenprint")
    art = direction(genre)
    comp = Composition(layout, art.treatments[0], art.scenes[0], art.background[0], art, halo=halo)
    pic = picture(prepared_set["portrait_headshoulders"], comp, palette, np.random.default_rng(3), 3000)
    rgb = pic.rgb.astype(np.float32) / 255.0
    scale = pic.rgb.shape[0] / 3000
    x0, y0, x1, y1 = (v * scale for v in pic.placement.face)
    ground, second, _ink = (np.asarray(c, np.float32) for c in prints.inks(palette))
    # Level with the eyes, beside the face: just outside its box, or for the ring where its band lies (the halo's
    # radius is 1.45 to 1.8 times the face, the ring's band 0.82 to 1.22 times the radius).
    reach = 1.6 * max(x1 - x0, y1 - y0) if halo == "ring" else 0.85 * (x1 - x0)
    px = int(max(0, (x0 + x1) / 2 - reach))
    py = int((y0 + y1) / 2)
    beside = rgb[py - 2:py + 3, px - 2:px + 3].reshape(-1, 3).mean(axis=0)
    assert np.abs(beside - second).sum() < np.abs(beside - ground).sum(), (halo, beside, second, ground)


@needs_models
def test_one_seed_of_one_photo_is_not_one_layout_in_every_genre(prepared_set):
    """A catalogue renders many releases of one artist photo in different genres: the same seed must not give
    every genre the same design."""
    for name in ("halfbody_portrait", "couple", "phone_size_3500px"):
        for variant in ("artist", "background", "text"):
            layouts = {composition_for(genre, variant, 7, prepared_set[name], 3000).layout.name for genre in GENRES}
            assert len(layouts) >= 3, (name, variant, layouts)


def test_a_screened_photo_takes_three_kinds_of_stock():
    """Black and white (paper and black), the palette's ground and accent, and a deep coloured stock with the
    palette's light printed on it: the treatment decides, so four seeds are not one print."""
    for genre in ("edm", "hiphop", "pop", "metal"):
        palette = resolve_palette(GENRES[genre], None)
        art = direction(genre)
        layout = next(lay for lay in LAYOUTS["text"] if lay.name == "poster-texture")
        stocks = {}
        for treatment in ("mono", "duotone", "split", "tritone"):
            comp = Composition(layout, treatment, art.scenes[0], art.background[0], art)
            base, ink = _texture_inks(comp, palette)
            stocks[treatment] = tuple(np.round(base, 2))
            assert np.abs(np.asarray(base) - np.asarray(ink)).max() > 0.2, (genre, treatment)  # the ink shows
        assert len({stocks[t] for t in ("mono", "duotone", "split")}) == 3, (genre, stocks)
        assert max(stocks["mono"]) - min(stocks["mono"]) < 0.1  # a neutral stock


def test_the_line_screen_follows_the_tone():
    tone = np.tile(np.linspace(0.0, 1.0, 400, dtype=np.float32)[None, :], (400, 1))
    cover = textures.line_screen(tone, 8, 0.0)
    light, dark = cover[:, :40].mean(), cover[:, -40:].mean()
    assert light < 0.1 and dark > 0.6, (light, dark)
    rows = cover[:, 300]
    assert rows.max() - rows.min() > 0.9  # lines, not a flat tint


@needs_models
def test_four_seeds_of_a_screened_group_photo_are_different_prints(photo_set, prepared_set):
    """The group photo holds only the screened-photo posters: their four seeds used to be one cover."""
    covers = []
    for seed in (100, 117, 134, 151):
        result = render(CoverSpec(genre="edm", artist="Pulse Theory", album="Neon Cathedral", variant="text",
                                  seed=seed, size=SIDE, photo=photo_set["group"]), prepared_set["group"])
        assert result.measurements["composition"]["layout"] in ("poster-texture", "stack-texture")
        covers.append(result.pixels[::4, ::4].astype(np.float32))
    for i, a in enumerate(covers):
        for b in covers[i + 1:]:
            assert np.abs(a - b).mean() > 3.0  # levels of 255: another stock, ink, screen or crop (grain: under 1)


@needs_models
@pytest.mark.parametrize("layout", ["poster-texture", "stack-texture"])
def test_a_face_filling_the_frame_is_screened_clear_of_the_title(layout, photo_set, prepared_set, seed_for):
    prepared = prepared_set["portrait_tight"]
    for genre in ("edm", "classical", "hiphop"):
        seed = seed_for(layout, prepared, genre, "text", SIDE)
        result = render(CoverSpec(genre=genre, artist="Layla Moore", album="Velvet Hours", variant="text",
                                  seed=seed, size=SIDE, photo=photo_set["portrait_tight"]), prepared)
        m = result.measurements
        assert m["composition"]["layout"] == layout
        # The screened face (knocked back, it carries no face box for the Sentinel): where the picture put it.
        comp = composition_for(genre, "text", seed, prepared, SIDE)
        pic = picture(prepared, comp, resolve_palette(GENRES[genre], None), np.random.default_rng(0), SIDE)
        keep = pic.keep_clear  # the faces with their hair and chin
        assert keep is not None
        for x0, y0, x1, y1 in m["text_boxes"]:
            assert x1 <= keep[0] or x0 >= keep[2] or y1 <= keep[1] or y0 >= keep[3], (genre, keep, m["text_boxes"])
