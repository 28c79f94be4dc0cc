"""Variety across a catalogue: the stencil's second ink takes the genre's shapes (not one disc everywhere), one
seed of one photo is not one layout in every genre, and a screened photo's ink follows the treatment."""

import numpy as np
import pytest

from generation.engine import GENRES
from generation.engine.art import prints
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


def test_a_screened_photo_prints_the_light_of_a_tritone_and_the_accent_of_the_rest():
    """Seeds that walk the treatments also change a screened photo's ink on the palette's ground."""
    for genre in ("edm", "hiphop", "metal", "jazz"):
        palette = resolve_palette(GENRES[genre], None)
        art = direction(genre)
        layout = next(lay for lay in LAYOUTS["text"] if lay.name == "poster-texture")
        inks = {}
        for treatment in ("duotone", "tritone"):
            base, ink = _texture_inks(Composition(layout, treatment, art.scenes[0], art.background[0], art), palette)
            assert np.allclose(base, palette[0])
            assert np.abs(np.asarray(base) - np.asarray(ink)).max() > 0.2, (genre, treatment)  # the ink shows
            inks[treatment] = tuple(np.round(ink, 2))
        assert inks["duotone"] != inks["tritone"], genre


def test_without_a_photo_a_tasks_artist_and_background_covers_are_not_one_design():
    """Both show the genre's bold printed form; the same form on both read as one cover twice."""
    for genre in GENRES:
        for seed in range(6):
            artist = composition_for(genre, "artist", seed, None, 3000)
            background = composition_for(genre, "background", seed, None, 3000)
            if artist.layout.form and background.layout.form:
                assert artist.scene.removesuffix("-low") != background.scene, (genre, seed, artist.scene)


@needs_models
def test_a_double_exposure_stands_on_one_colour_and_leaves_the_type_room(prepared_set):
    """Behind a double exposure a mesh of three colours read as a cheap rainbow (one soft field of one colour
    instead); and a face that fills the frame leaves its type only the forehead: no double exposure there."""
    seen = 0
    for name in ("halfbody_portrait", "couple", "portrait_tight", "portrait_headshoulders"):
        for genre in GENRES:
            for seed in range(4):
                comp = composition_for(genre, "background", seed, prepared_set[name], 3000)
                if comp.layout.photo == "ghost":
                    seen += 1
                    assert comp.scene != "gradient", (name, genre, seed)
                    assert name not in ("portrait_tight", "portrait_headshoulders"), (name, genre, seed)
    assert seen >= 10
