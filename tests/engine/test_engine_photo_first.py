"""Photo-first: with a photo, the artist and text covers are made from it (no photo-free poster), and so is the
background cover of one or two people; the title set over the photo and the double exposure keep the faces whole
and clear of the type."""

import numpy as np
import pytest

from generation.engine import GENRES, CoverSpec, render
from generation.engine.art import treatments
from generation.engine.art.compositions import LAYOUTS, fits
from generation.engine.art.direct import faces_fit, text_room, usable_side
from generation.engine.pipeline import composition_for
from generation.engine.segmentation import DEFAULT_MODEL_DIR, MODEL_FILES
from generation.engine.sentinel.composition import face_clear

SIDE = 1400
pytestmark = pytest.mark.skipif(not all((DEFAULT_MODEL_DIR / m.filename).is_file() for m in MODEL_FILES),
                                reason="segmentation models not fetched (python manage.py fetch_models)")


def test_with_a_photo_the_artist_and_text_covers_are_never_photo_free(prepared_set):
    """A photo-free poster would ship the same cover for every artist of the genre: the artist and text covers are
    made from the photo whenever a layout of the variant can hold it (the text cover's screened photo always
    can). Only the background cover may leave the artist out, for its atmosphere."""
    for name, prepared in prepared_set.items():
        side, room, whole = usable_side(prepared), text_room(prepared), faces_fit(prepared, 3000)
        cutout = prepared.gate.passed and prepared.subject is not None
        for genre in GENRES:
            for variant in ("artist", "text", "free"):
                holds = any(lay.photo != "none" and fits(lay, side, 3000, cutout, room, whole, prepared.size,
                                                         len(prepared.faces)) for lay in LAYOUTS[variant])
                assert holds, (name, variant)
                for seed in range(6):
                    layout = composition_for(genre, variant, seed, prepared, 3000).layout
                    assert layout.photo != "none", (name, genre, variant, seed, layout.name)


def test_a_face_that_fills_the_frame_may_still_stand_beside_a_column(prepared_set):
    """The tight portrait leaves no room for type on a full bleed: its artist covers fall back to the layouts that
    hold it (a side column, a band), never to a photo-free one."""
    prepared = prepared_set["portrait_tight"]
    layouts = {composition_for("hiphop", "artist", seed, prepared, 3000).layout for seed in range(8)}
    assert layouts and all(lay.photo != "none" for lay in layouts)
    assert any(lay.photo in ("side", "band", "panel") for lay in layouts), {lay.name for lay in layouts}


@pytest.mark.parametrize(("layout", "variant"), [("stack-photo", "text"), ("poster-photo", "text"),
                                                 ("ghost", "background")])
def test_photo_layouts_keep_every_face_whole_and_clear_of_the_type(layout, variant, photo_set, prepared_set,
                                                                   seed_for):
    rendered = 0
    for name in ("halfbody_portrait", "full_body", "couple", "phone_size_3500px", "full_body_with_dog"):
        prepared = prepared_set[name]
        genre = sorted(GENRES)[rendered % len(GENRES)]
        seed = seed_for(layout, prepared, genre, variant, SIDE, required=False)
        if seed is None:
            continue  # the photo cannot hold this layout (no room for the type beside its faces)
        result = render(CoverSpec(genre=genre, artist="Layla Moore", album="Velvet Hours", variant=variant,
                                  seed=seed, size=SIDE, output_format="jpeg", photo=photo_set[name]), prepared)
        m = result.measurements
        assert m["composition"]["layout"] == layout
        face = m["subject"]["face_box"]
        assert face is not None, name
        verdict, values = face_clear(face, m["text_boxes"], SIDE)
        assert verdict == "pass", (name, layout, values)
        assert face[1] >= 0 and face[3] <= SIDE and face[0] >= 0 and face[2] <= SIDE, (name, face)
        rendered += 1
    assert rendered >= 3, (layout, rendered)  # the layout is reachable on most photos with room


@pytest.mark.parametrize("genre", ["hiphop", "classical"])  # a dark ground (screen) and a light one (multiply)
def test_a_double_exposure_keeps_the_person_and_dissolves_the_photo_background(genre):
    from generation.engine.pipeline import resolve_palette

    palette = resolve_palette(GENRES[genre], None)
    rng = np.random.default_rng(5)
    scene = np.broadcast_to(np.asarray(palette[0], np.float32), (120, 120, 3)).copy()
    photo = np.repeat(rng.uniform(0, 1, (120, 120, 1)).astype(np.float32), 3, axis=2)
    weight = np.zeros((120, 120), np.float32)
    weight[:, :60] = 1.0  # the person on the left, the photo's own background on the right
    out = treatments.ghost(scene, photo, weight, palette)
    grey = photo[..., 0]
    person, rest = out[:, :60].mean(axis=2), out[:, 60:].mean(axis=2)
    assert abs(np.corrcoef(person.ravel(), grey[:, :60].ravel())[0, 1]) > 0.9  # the person exposed whole
    swing = lambda part: float(np.percentile(part, 95) - np.percentile(part, 5))  # noqa: E731
    assert swing(rest) < 0.35 * swing(person)  # its background only a trace over the scene
    assert np.abs(out[:, 60:] - scene[:, 60:]).mean() < 0.1


def test_a_background_cover_is_made_from_the_photo_of_one_or_two_people(prepared_set):
    for name in ("halfbody_portrait", "couple"):
        layouts = {composition_for(genre, "background", seed, prepared_set[name], 3000).layout for genre in GENRES
                   for seed in range(8)}
        assert all(lay.photo != "none" for lay in layouts), (name, {lay.name for lay in layouts})
        assert "ghost" in {lay.name for lay in layouts} and len(layouts) >= 4, name
    # A wide group or a photo with nobody in it holds no stencil and no double exposure (a crowd or an empty
    # scene exposed over a scene reads as mud): its background cover is the genre's atmosphere.
    for name in ("group", "no_person_landscape"):
        chosen = {composition_for("jazz", "background", seed, prepared_set[name], 3000).layout for seed in range(4)}
        assert {lay.photo for lay in chosen} == {"none"}, (name, chosen)
