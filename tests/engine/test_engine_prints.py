"""Background covers as screen prints: a stencil of the person only where there is a face, printed in one ink on
a flat ground (or light on black stock); the bold printed forms keep above the type."""

import numpy as np
import pytest

from generation.engine import GENRES, CoverSpec, render
from generation.engine.art import prints, textures
from generation.engine.art.compositions import LAYOUTS, Composition, direction
from generation.engine.art.direct import picture
from generation.engine.art.prints import figure_duotone
from generation.engine.art.raster import colour_luminance
from generation.engine.pipeline import resolve_palette

STENCILS = {lay.name for lay in LAYOUTS["background"] if lay.on_scene}
WORK = 600


def _layout(name):
    return next(lay for lay in LAYOUTS["background"] if lay.name == name)


def test_the_library_has_a_dark_and_a_light_stencil():
    assert {"screenprint", "print-top", "print-dark"} <= STENCILS
    assert _layout("print-dark").reverse and not _layout("screenprint").reverse


@pytest.mark.parametrize("name", ["busy_background", "no_person_landscape", "no_person_object", "group",
                                  "group_posed"])
def test_a_photo_without_a_face_or_with_a_group_is_never_printed_as_a_stencil(name, photo_set, prepared_set):
    """A stencil of a photo with no face prints the crowd or the scenery as a blot of ink; one of a group (three
    astronauts, a room full of people) prints its faces as small blobs."""
    layouts = {render(CoverSpec(genre="pop", artist="Mia Sky", album="Sugar Static", variant="background",
                                seed=seed, size=1400, photo=photo_set[name]), prepared_set[name])
               .measurements["composition"]["layout"] for seed in range(6)}
    assert not layouts & STENCILS, layouts


def test_four_seeds_of_a_portrait_give_every_stencil(photo_set, prepared_set):
    layouts = {render(CoverSpec(genre="rnb", artist="Layla Moore", album="Velvet Hours", variant="background",
                                seed=seed, size=1400, photo=photo_set["couple"]), prepared_set["couple"])
               .measurements["composition"]["layout"] for seed in range(4)}
    assert STENCILS <= layouts, layouts


@pytest.mark.parametrize("genre", ["rnb", "pop", "classical", "ambient"])
@pytest.mark.parametrize("reverse", [False, True])
def test_the_stencil_prints_the_face_in_one_ink_on_a_flat_ground(genre, reverse, prepared_set):
    """The face is ink and paper in hard levels (no photographic grey ramp); away from the person the ground
    is one flat colour; the reversed print is light ink on near-black stock."""
    palette = resolve_palette(GENRES[genre], None)
    layout = _layout("print-dark" if reverse else "screenprint")
    art = direction(genre)
    comp = Composition(layout, art.treatments[0], art.scenes[0], art.background[0], art)
    pic = picture(prepared_set["portrait_headshoulders"], comp, palette, np.random.default_rng(3), 3000)
    rgb = pic.rgb.astype(np.float32) / 255.0
    ground, _halo, ink = prints.inks(palette, reverse)
    x0, y0, x1, y1 = (round(v * pic.rgb.shape[0] / 3000) for v in pic.placement.face)
    face = rgb[y0:y1, x0:x1].reshape(-1, 3)
    near_ink = np.abs(face - ink).max(axis=1) < 0.12
    assert 0.15 < near_ink.mean() < 0.85, near_ink.mean()  # the face is drawn in the ink, not flooded by it
    corner = rgb[:40, :40].reshape(-1, 3)
    assert corner.std(axis=0).max() < 0.05  # flat printed stock, not a photo's background
    if reverse:
        assert colour_luminance(ground) < 0.06 and colour_luminance(ink) > 0.5
    else:
        assert colour_luminance(ink) < 0.12


@pytest.mark.parametrize("genre", ["hiphop", "edm", "pop", "jazz", "lofi", "classical"])
@pytest.mark.parametrize("form", textures.FORMS)
def test_bold_forms_keep_above_the_type(genre, form):
    """Whatever the seed, the form (a sun, a quarter disc, a ring, a crescent, a slanted cut, a field of dots)
    leaves the lower part of the sheet, where the name is set, to the ground colour."""
    palette = resolve_palette(GENRES[genre], None)
    n = 400
    for seed in range(6):
        image = textures.draw(form, np.random.default_rng(seed), n, palette)
        low = image[round(n * (textures.FORM_BOTTOM + 0.02)):]
        assert np.abs(low - np.asarray(palette[0], np.float32)).max() < 0.1, seed
        high = image[: round(n * textures.FORM_BOTTOM)]
        assert np.abs(high - np.asarray(palette[0], np.float32)).max(axis=2).mean() > 0.05, seed  # a form


def test_a_gated_figure_stands_on_printed_stock_with_a_halo_behind_its_head(photo_set, prepared_set, seed_for):
    """The cut-out (its mask passed the gate) on the stencil's flat stock, a disc of the second ink centred on its
    head: a stage, not a rendered texture."""
    import io

    from PIL import Image

    seed = seed_for("figure", prepared_set["halfbody_portrait"], "rnb", "background", 1400)
    palette = resolve_palette(GENRES["rnb"], None)
    result = render(CoverSpec(genre="rnb", artist="Layla Moore", album="Velvet Hours", variant="background",
                              seed=seed, size=1400, output_format="png", photo=photo_set["halfbody_portrait"]),
                    prepared_set["halfbody_portrait"])
    m = result.measurements
    assert m["composition"]["layout"] == "figure" and m["scene"]["name"] == "stock"
    rgb = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"), np.float32) / 255.0
    ground, halo, _ink = prints.inks(palette)
    x0, y0, x1, y1 = m["subject"]["face_box"]
    # (The genre's grade and vignette shift both colours a little: each pixel is nearer its own ink.)
    beside = rgb[(y0 + y1) // 2, max(0, x0 - (x1 - x0) // 2 - 5)]  # beside the head: inside the halo
    far = rgb[(y0 + y1) // 2, 1400 - 40 if x0 < 700 else 40]  # across the cover from the figure: the stock
    assert np.abs(beside - halo).sum() < np.abs(beside - ground).sum(), (beside, halo, ground)
    assert np.abs(far - ground).sum() < np.abs(far - halo).sum(), (far, halo, ground)
    assert np.abs(beside - far).max() > 0.08  # the halo reads against the stock
    # The person printed in the stock's two inks: every pixel of the face lies near the line from the
    # duotone's shadow to its light (a colour photo's skin and background tones would stray far from it).
    table = figure_duotone(palette).reshape(256, 3).astype(np.float32) / 255.0
    shadow, light = table[0], table[-1]
    face = rgb[y0:y1, x0:x1].reshape(-1, 3)
    along = np.clip((face - shadow) @ (light - shadow) / float((light - shadow) @ (light - shadow)), 0.0, 1.0)
    off = np.linalg.norm(face - (shadow + along[:, None] * (light - shadow)), axis=1)
    assert np.percentile(off, 90) < 0.08, np.percentile(off, 90)
    assert np.ptp(along) > 0.5  # the face keeps its tones: a print, not a flat silhouette


def test_the_figure_duotone_runs_from_a_deep_ink_to_a_light_one():
    for genre in ("pop", "indie", "rnb", "classical"):
        table = figure_duotone(resolve_palette(GENRES[genre], None)).reshape(256, 3).astype(np.float32)
        lum = table @ np.array([0.2126, 0.7152, 0.0722], np.float32)
        assert np.all(np.diff(lum) >= -0.5), genre  # grey to colour in order: no tone reversed
        assert lum[-1] - lum[0] > 150, (genre, lum[0], lum[-1])  # contrast a thumbnail keeps


def test_a_tight_portrait_is_printed_with_headroom_and_room_for_the_type(photo_set, prepared_set):
    """The print's frame may reach past the photo (the paper shows there): a face that fills its photo is
    printed at the layout's size, with the type below it, clear of the head."""
    from generation.engine.art.compositions import choose

    seen = set()
    for seed in range(8):
        result = render(CoverSpec(genre="hiphop", artist="NOVA", album="Still Standing", variant="background",
                                  seed=seed, size=1400, photo=photo_set["portrait_tight"]),
                        prepared_set["portrait_tight"])
        m = result.measurements
        if m["composition"]["layout"] not in STENCILS:
            continue
        seen.add(m["composition"]["layout"])
        x0, y0, x1, y1 = m["subject"]["face_box"]
        assert (y1 - y0) / 1400 < 0.3, m["subject"]  # the portrait's face fills ~60% of its photo
        for _bx0, by0, _bx1, by1 in m["text_boxes"]:
            assert by0 >= y1 or by1 <= y0, (m["text_boxes"], m["subject"])
    assert seen, "no stencil in 8 seeds"
    assert choose("hiphop", "background", 0, 698, 3000, faces=9).layout.name not in STENCILS


@pytest.mark.parametrize("genre", ["metal", "hiphop", "jazz"])
def test_the_dark_genres_print_light_ink_on_black_stock(genre, photo_set, prepared_set):
    for seed in range(6):
        result = render(CoverSpec(genre=genre, artist="IRONVEIL", album="Ashes of the Crown", variant="background",
                                  seed=seed, size=1400, output_format="png", photo=photo_set["portrait_headshoulders"]),
                        prepared_set["portrait_headshoulders"])
        if result.measurements["composition"]["layout"] in STENCILS:
            import io

            from PIL import Image

            grey = np.asarray(Image.open(io.BytesIO(result.data)).convert("L"), np.float32)
            assert np.median(grey[:, :60]) < 40, result.measurements["composition"]  # black stock at the edge


def test_the_band_is_a_neutral_slab_under_a_gritty_photo_below_or_over_it(photo_set, prepared_set):
    """A tinted photo over a slab of the same tint reads as a template: the band layout's photo is black and
    white, duotone or tritone, and its slab near-black (paper on a light palette) or a deep tone, under the
    photo or over it as a masthead."""
    import io

    from PIL import Image

    from generation.engine.art.compositions import GRIT_TREATMENTS

    places = set()
    for seed in range(6):
        result = render(CoverSpec(genre="hiphop", artist="NOVA", album="Still Standing", variant="artist", seed=seed,
                                  size=1400, output_format="png", photo=photo_set["group"]), prepared_set["group"])
        m = result.measurements
        if m["composition"]["layout"] != "band":
            continue
        assert m["composition"]["treatment"] in GRIT_TREATMENTS
        x0, y0, x1, y1 = m["subject"]["box"]
        top = y0 > 0
        places.add("top" if top else "bottom")
        rgb = np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"), np.float32)
        slab = rgb[10:y0 - 10] if top else rgb[y1 + 10:-10]
        text_rows = {r for bx0, by0, bx1, by1 in m["text_boxes"] for r in range(by0 - 20, by1 + 20)}
        rows = [r for r in range(slab.shape[0]) if (r + (10 if top else y1 + 10)) not in text_rows]
        ground = slab[rows][:, 40:-40]
        assert ground.std(axis=(0, 1)).max() < 12  # one flat colour
        assert np.median(ground.mean(axis=2)) < 90  # hip-hop's dark palette: a near-black or deep slab
    assert places == {"top", "bottom"}, places


def test_every_genre_has_a_bold_form_to_set_alone():
    """The atmosphere layout sets the scene alone under the type: a soft texture there reads as an empty cover,
    so every genre has a bold printed form (a sun, a ring, a worn eclipse or block, a crescent, a slanted cut, a
    field of dots), and no two genres share the same pair (the same forms across genres read as a template)."""
    from generation.engine.art.compositions import DIRECTIONS, FORM_SCENES

    forms = {genre: frozenset(set(art.scenes) & set(FORM_SCENES)) for genre, art in DIRECTIONS.items()}
    assert all(forms.values()), forms
    assert len({f for f in forms.values() if len(f) > 1}) == len([f for f in forms.values() if len(f) > 1])


@pytest.mark.parametrize("genre", ["metal", "rock"])
def test_rock_and_metal_set_a_worn_print_alone_not_an_empty_dark_texture(genre):
    """Rock and metal have no sun or ring: alone, their cover is a field of ink worn like an old screen print,
    a large share of the sheet in the ink, its edges crisp."""
    palette = resolve_palette(GENRES[genre], None)
    n = 400
    for seed in range(6):
        image = textures.draw("worn", np.random.default_rng(seed), n, palette)
        ground = image[-30:].reshape(-1, 3).mean(axis=0)
        inked = np.abs(image - ground).max(axis=2) > 0.2
        assert 0.05 < inked[: round(n * textures.FORM_BOTTOM)].mean(), seed  # a form above the type
        assert inked[round(n * (textures.FORM_BOTTOM + 0.02)):].mean() < 0.01, seed  # the ground under it
        assert colour_luminance(ground) < 0.06, seed  # black stock


def test_the_forms_rise_from_the_bottom_under_type_set_at_the_top():
    """Under a title set at the top, the form is the same print turned over: the upper part is clear."""
    for genre, family in (("jazz", "ring"), ("metal", "worn"), ("edm", "dots")):
        palette = resolve_palette(GENRES[genre], None)
        for seed in range(4):
            up = textures.draw(family, np.random.default_rng(seed), 300, palette)
            low = textures.draw(f"{family}-low", np.random.default_rng(seed), 300, palette)
            np.testing.assert_array_equal(low, up[::-1])
