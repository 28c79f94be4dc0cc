"""The art direction: every layout and treatment renders for every genre, four seeds are four designs, the face
stays whole on every photo of the development set, the mask gate refuses bad masks, and type keeps its script,
its case and its phrase."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from generation.engine import GENRES, CoverSpec, render
from generation.engine.art import compositions, textures, treatments
from generation.engine.art.compositions import (
    GRIT_ENLARGE,
    GRIT_TREATMENTS,
    LAYOUTS,
    MAX_ENLARGE,
    PHOTO_UNSAFE_SCENES,
    SCENE_ONLY,
    Composition,
    choose,
    direction,
)
from generation.engine.art.crop import face_crop, protected
from generation.engine.art.direct import picture
from generation.engine.cutout import judge_mask
from generation.engine.fonts import choose_font, coverage
from generation.engine.pipeline import resolve_palette
from generation.engine.presets import GARAMOND, SPARTAN_BLACK
from generation.engine.segmentation import DEFAULT_MODEL_DIR, MODEL_FILES
from generation.engine.sentinel.composition import face_clear
from generation.engine.typeset import Role, _splits, deliberate_lowercase, fit_role, role_caps

SIDE = 1400
needs_models = pytest.mark.skipif(not all((DEFAULT_MODEL_DIR / m.filename).is_file() for m in MODEL_FILES),
                                  reason="segmentation models not fetched (python manage.py fetch_models)")


def spec(**kwargs):
    base = {"genre": "hiphop", "artist": "NOVA", "album": "Still Standing", "size": SIDE, "seed": 1,
            "output_format": "jpeg"}
    return CoverSpec(**{**base, **kwargs})


# -- the library ------------------------------------------------------------------------------------

def test_every_genre_has_two_scene_families_and_every_variant_four_layouts():
    for genre in GENRES:
        art = direction(genre)
        assert len(set(art.scenes)) >= 2 and set(art.scenes) <= set(textures.FAMILIES), genre
        assert set(art.treatments) <= set(treatments.TREATMENTS), genre
    for variant, layouts in LAYOUTS.items():
        assert len({lay.name for lay in layouts if lay.photo != "cutout"}) >= 4, variant
    assert len(SCENE_ONLY) >= 4


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_every_layout_and_treatment_renders_with_and_without_a_photo(genre, astronaut):
    """Each layout of the library drawn directly for the genre (with each of its treatments and scenes in
    turn), then as a whole cover through the pipeline: with the astronaut and with no photo."""
    from generation.engine.art.prepare import prepare_photo

    palette = resolve_palette(GENRES[genre], None)
    prepared = prepare_photo(astronaut)
    art = direction(genre)
    layouts = [lay for v in ("artist", "background", "text") for lay in LAYOUTS[v] if lay.photo != "cutout"]
    for index, layout in enumerate(layouts + list(SCENE_ONLY)):
        comp = Composition(layout, art.treatments[index % len(art.treatments)], art.scenes[index % len(art.scenes)],
                           art.background[index % len(art.background)], art)
        for photo in (prepared, None):
            pic = picture(photo, comp, palette, np.random.default_rng(index), 600)
            assert pic.rgb.shape == (600, 600, 3) and pic.rgb.dtype == np.uint8
            if layout.photo == "knockout" and photo is not None:  # a flat ground: the photo is in the letters
                tone = pic.knockout((300, 200))  # framed to a block 3:2
                assert tone.shape == (200, 300) and tone.dtype == np.uint8 and tone.std() > 20, genre
            elif not layout.flat:  # (a printed poster is one flat ink by design)
                assert pic.rgb.std() > 4, (layout.name, comp.treatment, comp.scene)  # a picture, not a flat field
    for variant in ("artist", "background", "text", "free"):
        for photo in (astronaut, None):
            result = render(spec(genre=genre, variant=variant, photo=photo, size=1400), prepared if photo else None)
            assert result.measurements["text_boxes"], (variant, photo is None)


def test_four_seeds_give_four_layouts(astronaut):
    from generation.engine.art.prepare import prepare_photo

    big = cv2.resize(np.asarray(astronaut), (1100, 1100), interpolation=cv2.INTER_CUBIC)  # full-bleed at 3000
    buffer = io.BytesIO()
    Image.fromarray(big).save(buffer, "JPEG", quality=92)
    from generation.engine import load_photo

    photo = load_photo(buffer.getvalue())
    prepared = prepare_photo(photo)
    for genre in ("hiphop", "classical", "edm"):
        for variant in ("artist", "background", "text"):
            seen = set()
            for seed in range(4):
                comp = choose(genre, variant, seed, 1100, 3000)
                seen.add(comp.layout.name)
            assert len(seen) == 4, (genre, variant, seen)
    # And the covers themselves differ as designs: not one picture re-coloured.
    covers = [np.asarray(Image.open(io.BytesIO(render(spec(photo=photo, seed=seed, size=1400), prepared).data))
                         .convert("L").resize((64, 64)), np.float32) for seed in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(covers[i] - covers[j]).mean() > 12, (i, j)


def test_a_low_resolution_photo_is_never_enlarged_past_the_cap(photo_set, prepared_set):
    """A 640 x 480 photo on a 3000 px cover: a colour photo is shown at most MAX_ENLARGE times (a panel), and
    only a gritty black-and-white or duotone one fills the cover, at most GRIT_ENLARGE times."""
    photo = photo_set["lowres_480p"]
    seen = set()
    for seed in range(8):
        for variant in ("artist", "free"):
            result = render(spec(photo=photo, variant=variant, seed=seed, size=3000), prepared_set["lowres_480p"])
            composition = result.measurements["composition"]
            seen.add(composition["layout"])
            assert composition["enlargement"] <= GRIT_ENLARGE * 1.01, composition
            if composition["enlargement"] > MAX_ENLARGE * 1.01:
                layout = next(lay for lay in LAYOUTS["artist"] if lay.name == composition["layout"])
                assert layout.grit and composition["treatment"] in GRIT_TREATMENTS, composition
    assert {"grit", "grit-top"} <= seen  # it is full-bleed, not a postcard


def test_png_covers_carry_film_grain_too():
    flat = render(spec(genre="ambient", variant="text", seed=2, output_format="png", size=1400))
    pixels = flat.pixels.astype(np.float32)
    smooth = cv2.GaussianBlur(pixels, (0, 0), 2.0)
    assert np.abs(pixels - smooth).mean() > 0.8  # grain: fine luminance noise over the whole picture


# -- faces on real photos -------------------------------------------------------------------------

@needs_models
@pytest.mark.parametrize("variant", ["artist", "free"])
def test_a_face_never_leaves_the_frame_on_any_photo_of_the_set(variant, photo_set, prepared_set):
    for name, photo in photo_set.items():
        prepared = prepared_set[name]
        for seed in range(3):
            result = render(spec(photo=photo, variant=variant, seed=seed), prepared)
            subject = result.measurements["subject"]
            face = subject["face_box"]
            if prepared.faces:
                assert face is not None, (name, seed)
                verdict, values = face_clear(face, result.measurements["text_boxes"], SIDE)
                assert verdict == "pass", (name, seed, result.measurements["composition"], values)
                # The hair and the chin too: the protected box lies inside the photo's frame on the cover.
                box = subject["box"]
                assert face[0] >= box[0] and face[1] >= box[1] and face[2] <= box[2] and face[3] <= box[3], name


def test_the_crop_keeps_hair_ears_and_chin_inside():
    face = (400.0, 300.0, 520.0, 450.0)  # 150 px high in a 1000 x 1600 portrait
    for share in (0.1, 0.2, 0.34, 0.6):
        crop = face_crop((1000, 1600), 1.0, face, face_share=share)
        keep = protected(face)
        assert crop.whole
        assert crop.box[0] <= keep[0] and crop.box[1] <= keep[1] and crop.box[2] >= keep[2] and crop.box[3] >= keep[3]
    # A group wider than the photo is tall: the crop is the widest it can be and says the faces don't all fit.
    wide = face_crop((1600, 600), 1.0, (50.0, 200.0, 1550.0, 330.0), face_share=0.2)
    assert not wide.whole and wide.width == 600


# -- the mask gate ----------------------------------------------------------------------------------

def _person(h=600, w=500):
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, 380), (150, 200), 0, 0, 360, 255, -1)  # the body
    cv2.circle(mask, (w // 2, 150), 70, 255, -1)  # the head
    return cv2.GaussianBlur(mask, (0, 0), 1.5)


def test_the_gate_passes_a_clean_person():
    gate = judge_mask(_person(), [(200.0, 100.0, 300.0, 210.0)], (200.0, 100.0, 300.0, 210.0))
    assert gate.passed, gate.reasons


def test_the_gate_refuses_masks_built_to_fail():
    face = (200.0, 100.0, 300.0, 210.0)
    cut = _person()
    cut[:, :40] = 255  # runs into the left edge: the frame cut the shoulder
    assert any("frame" in r for r in judge_mask(cut, [face], face).reasons)
    blobs = _person()
    cv2.circle(blobs, (60, 60), 40, 255, -1)  # a piece of the background kept apart from the body
    assert any("blobs" in r for r in judge_mask(blobs, [face], face).reasons)
    holes = _person()
    cv2.circle(holes, (250, 400), 40, 0, -1)  # the scene would show through the body
    assert any("holes" in r for r in judge_mask(holes, [face], face).reasons)
    bystander = (210.0, 420.0, 290.0, 500.0)  # another face inside the mask
    assert any("other face" in r for r in judge_mask(_person(), [face, bystander], face).reasons)
    soft = cv2.GaussianBlur(_person(), (0, 0), 25)  # an edge nobody is sure of
    assert any("uncertain edge" in r for r in judge_mask(soft, [face], face).reasons)


# -- type ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, script_font", [
    ("Кино", "NotoSerif"),  # Cyrillic in EB Garamond's style: a serif, not DejaVu
    ("Ελληνικά", "NotoSerif"),
    ("방탄소년단", "NotoSerifCJK"),
    ("עברית", "NotoSerifHebrew"),
    ("العربية", "NotoNaskhArabic"),
    ("हिन्दी", "NotoSerifDevanagari"),
])
def test_fallback_fonts_match_the_script_and_the_style(text, script_font):
    choice = choose_font(text, GARAMOND)
    if not any(script_font in f.path for f in _system_candidates(script_font)):
        pytest.skip(f"{script_font} not installed (Debian fonts-noto-core / fonts-noto-cjk)")
    if set(map(ord, text)) <= coverage(choice.font) and choice.font.path.endswith(GARAMOND.system.rsplit("/")[-1]):
        return  # the genre face itself covers the script (EB Garamond has Greek and Cyrillic)
    assert script_font in choice.font.path, choice.font.path
    assert "DejaVu" not in choice.font.path
    sans = choose_font(text, SPARTAN_BLACK)  # a sans genre face falls back to a sans
    assert "Sans" in sans.font.path or choice.font.path == sans.font.path, sans.font.path


def _system_candidates(name):
    from generation.engine.fonts import system_fonts

    return [f for f in system_fonts() if name in f.path]


def test_one_line_is_one_face():
    mixed = choose_font("SEOUL 서울", SPARTAN_BLACK)
    assert set(map(ord, "SEOUL 서울".replace(" ", ""))) <= coverage(mixed.font) or mixed.missing


def test_deliberate_lowercase_stays_lowercase():
    typo = GENRES["hiphop"].fonts  # an all-caps genre
    assert deliberate_lowercase("billie eilish") and not deliberate_lowercase("Billie Eilish")
    assert not role_caps(Role("artist", "billie eilish", 0.1, 2, typo.primary), typo)
    assert role_caps(Role("artist", "Billie Eilish", 0.1, 2, typo.primary), typo)
    result = render(spec(artist="dvsn", album="morning after", seed=2))
    displays = {line["role"]: line["display"] for line in result.measurements["lines"]}
    assert displays["artist"] == "dvsn" and displays["album"] == "morning after"


def test_no_line_starts_with_a_separator_and_breaks_follow_the_phrase():
    for text in ("RICCARDO MUTI · CHICAGO SYMPHONY ORCHESTRA", "Live / Unplugged / Remastered"):
        for count in (2, 3):
            for parts in _splits(text, count):
                assert all(part[0] not in "·/" for part in parts[1:]), parts
    typo = GENRES["rnb"].fonts
    lines = fit_role(Role("album", "Velvet Hours (Live)", 0.2, 2, typo.primary), typo, 3000, 1500)
    assert [line.text for line in lines] == ["Velvet Hours", "(Live)"]


def test_genre_faces_have_their_voice():
    def name(genre):
        from generation.engine.fonts import package_font

        return package_font(GENRES[genre].fonts.primary).path.rsplit("/", 1)[-1]

    installed = {GENRES[g].fonts.primary.system for g in ("hiphop", "metal", "lofi", "edm", "classical")}
    from pathlib import Path

    if not all(Path("/usr/share/fonts", s).is_file() for s in installed):
        pytest.skip("Debian genre fonts not installed (.ci/run installs them)")
    assert name("hiphop").startswith("BebasNeue")  # heavy condensed display
    assert name("metal").startswith("Blankenburg")  # blackletter
    assert name("lofi").startswith("Courier Prime")  # typewriter
    assert name("edm").startswith("LeagueSpartan")  # geometric
    assert name("classical").startswith("EBGaramond")  # elegant serif
    assert compositions.DIRECTIONS.keys() == GENRES.keys()


def test_a_tight_portrait_fills_the_height_beside_a_column_of_type(photo_set, prepared_set):
    """A face that fills the frame leaves no room for type on the photo: the artist cover sets the photo at the
    cover's full height beside a solid column of type, never as a framed postcard."""
    seen = set()
    for seed in range(10):
        result = render(spec(photo=photo_set["portrait_tight"], seed=seed, size=1400), prepared_set["portrait_tight"])
        layout = result.measurements["composition"]["layout"]
        seen.add(layout)
        if layout.startswith("side"):
            x0, y0, x1, y1 = result.measurements["subject"]["box"]
            assert (y0, y1) == (0, SIDE) and (x0 == 0 or x1 == SIDE)
            assert 0.6 * SIDE <= x1 - x0 <= 0.73 * SIDE
            for tx0, _ty0, tx1, _ty1 in result.measurements["text_boxes"]:
                assert tx1 <= x0 or tx0 >= x1, (layout, result.measurements["text_boxes"])
    assert "panel" not in seen and "side" in seen, seen


def test_no_disc_of_light_or_bold_form_is_laid_over_a_photo(photo_set, prepared_set):
    """Bokeh discs and the Swiss-print forms sit in the upper middle, where a face is: with the photo on the
    cover (a ghost, a screenprint, a texture) the scene is another family; alone, the form is preferred."""
    for genre in ("jazz", "pop", "edm", "classical"):
        for variant in ("background", "text"):
            for seed in range(6):
                result = render(spec(genre=genre, photo=photo_set["couple"], variant=variant, seed=seed, size=1400),
                                prepared_set["couple"])
                composition = result.measurements["composition"]
                if composition["photo"] not in ("none", "cutout"):
                    assert composition["scene"] not in PHOTO_UNSAFE_SCENES, composition
    alone = [render(spec(genre="jazz", variant="background", seed=seed, size=1400)).measurements["composition"]
             for seed in range(8)]
    assert {c["scene"] for c in alone if c["layout"] == "atmosphere"} == {"ring", "split"}  # jazz's two forms



@pytest.mark.parametrize("genre", ["hiphop", "rock", "metal", "pop", "jazz", "ambient"])
def test_a_title_set_high_without_a_photo_stands_over_a_form_rising_from_the_bottom(genre):
    """Without a photo, a title set at the top stands over the genre's bold form turned over (a sunrise, a ring
    or a worn eclipse rising from the bottom edge), never over fog or leaks: alone under type set high, a soft
    atmosphere read as a picture out of focus."""
    tops = [choose(genre, "artist", seed, None, 3000) for seed in range(8)]
    tops = [c for c in tops if c.layout.text == "top"]
    assert tops
    assert all(c.scene.endswith("-low") and c.scene[:-4] in direction(genre).scenes for c in tops), tops


def test_a_photo_with_nobody_in_it_is_never_blurred_as_a_depth_of_field(prepared_set):
    """Depth blur keeps a person sharp and softens what is behind them; with nobody in the photo it would leave
    the whole picture out of focus, so the background is darkened instead."""
    from dataclasses import replace as replaced

    import cv2

    from generation.engine.art.direct import _treated

    photo = prepared_set["no_person_landscape"]
    assert photo.mask is None and photo.face is None
    comp = choose("indie", "artist", 0, 3000.0, 3000)
    crop = face_crop(photo.size, 1.0, None, face_share=0.2)
    palette = resolve_palette(GENRES["indie"], None)

    def sharpness(background):
        out = _treated(photo, crop, (600, 600), replaced(comp, background=background, treatment="film"), palette,
                       np.random.default_rng(1))
        grey = cv2.cvtColor((np.clip(out, 0, 1) * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
        return cv2.Laplacian(grey, cv2.CV_64F).var() / grey.var()  # fine detail for its contrast

    assert sharpness("depth") > 0.8 * sharpness("none")
    assert sharpness("dark") > 0.8 * sharpness("none")


@pytest.mark.parametrize("name", ["halfbody_portrait", "couple", "portrait_headshoulders", "group"])
def test_a_screened_photo_under_a_title_lies_where_the_block_does_not(name, prepared_set):
    """Text-forward covers over the photo as halftone texture: the screen takes the part of the sheet the title's
    block leaves (a band under a block hung from the top, over one standing at the bottom, or a tall panel beside
    a column of type where a band would slice the faces of one or two people) and the block's zone never reaches
    the faces with their hair and chin (a crowd's, which fill the band, only over its faded edge): the title is
    the image, but the face is still the artist's, whole and clear."""
    from dataclasses import replace as replaced

    from generation.engine.art.compositions import LAYOUTS
    from generation.engine.art.direct import SCREEN_FADE, picture
    from generation.engine.art.zones import text_zone
    from generation.engine.typeset import MARGIN

    photo = prepared_set[name]
    palette = resolve_palette(GENRES["pop"], None)
    side, m = 1500, round(1500 * MARGIN)
    arrangements = set()
    for layout in (lay for lay in LAYOUTS["text"] if lay.photo == "texture" and not lay.on_scene):
        for variation in range(3):
            comp = replaced(choose("pop", "text", 0, 3000.0, 3000), layout=layout, variation=variation)
            pic = picture(photo, comp, palette, np.random.default_rng(variation), side)
            zone = text_zone(comp, pic, side, False, "left")
            bx0, by0, bx1, by1 = pic.photo_box
            if pic.keep_clear is None:  # a crowd fills the band: the block may take the band's faded edge, no more
                assert len(photo.faces) > 2 and by1 - by0 < side - 1, name
                fade = round(side * SCREEN_FADE)
                assert zone.bottom <= by0 + fade if by0 > 0 else zone.top >= by1 - fade, (layout.name, zone)
                face = pic.placement.face  # the main face still stays clear
                assert face is None or zone.bottom <= face[1] or zone.top >= face[3], (layout.name, zone, face)
                arrangements.add("low" if by0 > 0 else "high")
                continue
            kx0, ky0, kx1, ky1 = pic.keep_clear
            kx0, ky0, kx1, ky1 = max(kx0, bx0), max(ky0, by0), min(kx1, bx1), min(ky1, by1)  # the faces shown
            zx0, zx1 = zone.left if zone.left is not None else m, zone.right if zone.right is not None else side - m
            overlap = max(0, min(zx1, kx1) - max(zx0, kx0)) * max(0, min(zone.bottom, ky1) - max(zone.top, ky0))
            assert overlap == 0, (layout.name, variation, zone, pic.keep_clear, pic.photo_box)
            tall = by1 - by0 >= side - 1
            arrangements.add("panel" if tall else "low" if by0 > 0 else "high")
            assert zone.bottom - zone.top >= side * 0.16 and zx1 - zx0 >= side * 0.3
    if name == "couple":  # room above and below the faces: the seed moves the block (and the screen) between the two
        assert arrangements == {"low", "high"}
    if name == "portrait_headshoulders":  # a face that fills the frame: a band would slice it
        assert arrangements == {"panel"}
    if name == "group":  # a crowd is cut by any frame: a band, which leaves the title a wide zone
        assert "panel" not in arrangements


def test_a_side_column_is_led_by_the_text_whose_words_fit_it(prepared_set):
    """One unbreakable word sets a column's type size: "dreamcatcher" in a column a third of the cover wide
    would be a caption at 56 px, so "rainy study tapes" leads; a palette printed on paper sets its column in
    its darkest ink (its band colour, a mid brown, read as mud)."""
    from dataclasses import replace as replaced

    from generation.engine.art.compositions import LAYOUTS
    from generation.engine.art.direct import picture
    from generation.engine.art.raster import colour_luminance
    from generation.engine.art.zones import roles
    from generation.engine.presets import GENRES as PRESETS

    side_layout = next(lay for lay in LAYOUTS["artist"] if lay.name == "side")
    comp = replaced(choose("lofi", "artist", 0, 3000.0, 3000), layout=side_layout)
    caps = {r.name: r.cap for r in roles(comp, spec(genre="lofi", artist="dreamcatcher", album="rainy study tapes"),
                                          PRESETS["lofi"].fonts)}
    assert caps["album"] > caps["artist"]
    caps = {r.name: r.cap for r in roles(comp, spec(genre="lofi", artist="NOVA", album="rainy study tapes"),
                                          PRESETS["lofi"].fonts)}
    assert caps["artist"] > caps["album"]  # a short name still leads
    photo = prepared_set["portrait_tight"]
    palette = resolve_palette(GENRES["classical"], None)
    comp = replaced(choose("classical", "artist", 0, 3000.0, 3000), layout=side_layout)
    pic = picture(photo, comp, palette, np.random.default_rng(0), 1500)
    column = pic.rgb[:, 40:60] if pic.photo_box[0] > 0 else pic.rgb[:, -60:-40]
    colour = column.reshape(-1, 3).mean(axis=0) / 255.0
    assert colour_luminance(colour) < 0.1 and colour.max() - colour.min() < 0.08, colour  # near-black, no brown


@pytest.mark.parametrize(("genre", "expected"), [("edm", {"light", "accent"}), ("metal", {"accent"})])
def test_a_poster_on_a_near_black_palette_is_printed_in_its_accent_or_its_light(genre, expected):
    """A near-black ground alone reads as an empty cover, and one accent for every poster of the genre reads as a
    template: the seed picks the accent (light letters) or the palette's light (dark letters on bone, on ice),
    where that light has a colour (metal's pale grey read as a placeholder: its posters take the accent)."""
    from dataclasses import replace as replaced

    from generation.engine.art.compositions import LAYOUTS
    from generation.engine.art.direct import picture
    from generation.engine.art.raster import colour_luminance

    palette = resolve_palette(GENRES[genre], None)
    assert colour_luminance(palette[0]) < 0.06
    poster = next(lay for lay in LAYOUTS["text"] if lay.name == "poster")
    comp = replaced(choose(genre, "text", 0, None, 3000), layout=poster)
    grounds = set()
    for seed in range(8):
        pic = picture(None, comp, palette, np.random.default_rng(seed), 1500)
        mean = pic.rgb.reshape(-1, 3).mean(axis=0) / 255.0
        grounds.add("light" if colour_luminance(mean) > 0.5 else "accent")
        assert colour_luminance(mean) > 0.08  # never the near-black ground
    assert grounds == expected


def test_a_tritone_screen_is_never_printed_grey_in_a_colour_genre():
    """Electronic and pop have a pure white light: a screen in it printed a grey photocopy (the blind review read
    it as a filter). They print in their brightest colour; metal, whose palette has no bright colour, stays grey."""
    from dataclasses import replace as replaced

    from generation.engine.art.direct import _texture_inks

    def ink(genre):
        comp = replaced(choose(genre, "text", 0, 3000.0, 3000), treatment="tritone")
        return _texture_inks(comp, resolve_palette(GENRES[genre], None))[1]

    for genre in ("edm", "pop"):
        assert float(ink(genre).max() - ink(genre).min()) > 0.2, genre  # a colour, not a grey
    assert float(ink("metal").max() - ink("metal").min()) < 0.05
