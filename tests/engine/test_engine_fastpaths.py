"""The speed-ups give the same pixels as the plain versions they replace."""

import cv2
import numpy as np

from generation.engine import composite, contrast, cutout, grade
from generation.engine.presets import GENRES
from generation.engine.scenes import motifs


def _soft_disc(h, w):
    alpha = np.zeros((h, w), np.float32)
    cv2.circle(alpha, (w // 2, h // 2), min(h, w) // 3, 1.0, -1)
    return cv2.GaussianBlur(alpha, (0, 0), 4)


def test_blend_tiled_matches_one_blend():
    rng = np.random.default_rng(3)
    h, w = 301, 259  # not multiples of the block: edge blocks are partial
    base = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    top = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    alpha = _soft_disc(h, w)
    expected = composite.blend(base, top, alpha)
    tiled = base.copy()
    composite.blend_tiled(tiled, top, alpha)
    assert np.array_equal(tiled, expected)
    flat = base.copy()
    composite.blend_tiled(flat, np.array([10, 20, 30], np.uint8), alpha * 0.5)
    colour = np.empty_like(base)
    colour[:] = (10, 20, 30)
    assert np.array_equal(flat, composite.blend(base, colour, alpha * 0.5))


def test_strip_grade_matches_the_steps():
    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, (500, 500, 3), dtype=np.uint8)
    for name in ("hiphop", "pop", "classical"):
        preset = GENRES[name].grade
        for full_grain in (True, False):
            out = grade.apply_curves(rgb, preset)
            out = grade.apply_saturation(out, preset.saturation)
            out = grade.apply_vignette(out, preset.vignette)
            if full_grain:
                out = grade.apply_grain(out, preset.grain)
            assert np.array_equal(grade.grade_image(rgb, preset, full_grain=full_grain), out)


def test_luminance_map_by_box_matches_the_whole_map():
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (400, 400, 3), dtype=np.uint8)
    whole = contrast.relative_luminance(cv2.resize(rgb, (100, 100), interpolation=cv2.INTER_AREA))
    lazy = contrast.LuminanceMap(rgb)
    for box, pad in (((10, 20, 300, 90), 0), ((-20, 350, 420, 420), 8), ((3, 5, 7, 9), 0)):
        f = 4
        x0, y0 = max(0, (box[0] - pad) // f), max(0, (box[1] - pad) // f)
        x1, y1 = min(100, -(-(box[2] + pad) // f)), min(100, -(-(box[3] + pad) // f))
        assert np.array_equal(lazy.under(box, pad), whole[y0:y1, x0:x1].ravel())


def test_luminance_map_on_a_side_not_a_multiple_of_four_uses_whole_blocks():
    # 750 and 869 px working canvases: the cells are the exact 4 x 4 means of the blocks they cover.
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (402, 402, 3), dtype=np.uint8)
    lazy = contrast.LuminanceMap(rgb)
    assert lazy.shape == (100, 100)
    cells = rgb[:400, :400].astype(np.float64).reshape(100, 4, 100, 4, 3).mean(axis=(1, 3))
    expected = contrast.relative_luminance(np.round(cells).astype(np.uint8))
    got = lazy.under((380, 0, 402, 40)).reshape(10, -1)  # the box reaches the last whole cell, no further
    assert got.shape == (10, 5)
    assert np.allclose(got, expected[:10, 95:], atol=0.01)


def test_scene_primitives_match_numpy():
    rng = np.random.default_rng(6)
    image = rng.random((64, 64, 3), dtype=np.float32)
    mask = rng.random((64, 64), dtype=np.float32)
    colour = np.array([0.2, 0.5, 0.9], np.float32)
    lit = image.copy()
    motifs.add_light(lit, mask, colour, 0.7)
    assert np.allclose(lit, image + (mask[..., None] * 0.7) * colour, atol=1e-6)
    spot = np.zeros((64, 64), np.float32)
    spot[10:20, 30:40] = 0.5  # light in one box only: the rest of the scene is untouched
    lit = image.copy()
    motifs.add_light(lit, spot, colour)
    assert np.allclose(lit, image + spot[..., None] * colour, atol=1e-6)
    assert np.array_equal(lit[:10], image[:10]) and np.array_equal(lit[:, :30], image[:, :30])


def test_standing_figure_casts_a_contact_shadow_under_its_feet():
    from generation.engine.cutout import CutoutStyle, Subject, paste_cutout

    photo = np.full((400, 200, 3), 200, np.uint8)
    alpha = np.zeros((400, 200), np.uint8)
    cv2.ellipse(alpha, (100, 220), (45, 150), 0, 0, 360, 255, -1)  # a body, feet at row 370
    cv2.circle(alpha, (100, 60), 30, 255, -1)
    style = CutoutStyle(rim_colour=np.ones(3, np.float32), ground_colour=np.zeros(3, np.float32), rim=0.0,
                        shadow=0.45)

    def paste(cut_bottom):
        canvas = np.full((1000, 1000, 3), 180, np.uint8)
        subject = Subject(alpha, (55, 30, 146, 371), None, cut_bottom)
        paste_cutout(canvas, photo, subject, 2.0, 300.0, 150.0, style)
        return canvas

    standing = paste(False)
    feet_y = 150 + 371 * 2
    below = standing[feet_y + 4:feet_y + 12, 480:520].mean()
    assert below < 150  # shade on the ground right under the feet
    assert standing[feet_y + 4:feet_y + 12, 50:100].mean() == 180  # the ground far to the side is untouched
    cut = paste(True)  # a bust the frame cuts: nothing to stand on
    assert cut[feet_y + 4:feet_y + 12, 480:520].mean() > below + 20


def test_block_reduced_copies_are_block_means():

    rng = np.random.default_rng(8)
    photo = rng.integers(0, 256, (403, 301, 3), dtype=np.uint8)
    reduced = cutout._block_reduced(photo, 3)
    expected = photo[:402, :300].astype(np.float64).reshape(134, 3, 100, 3, 3).mean(axis=(1, 3))
    assert reduced.shape == (134, 100, 3)
    assert np.abs(reduced - expected).max() <= 0.5 + 1e-9


def test_a_shrunk_cut_out_almost_off_the_canvas_is_still_drawn():
    # Scale 0.3 (whole blocks of 3) with only a two-pixel-wide sliver of the photo landing on the canvas:
    # narrower than a block, so it is shrunk as it is rather than sliced out of the reduced copy.
    from generation.engine.cutout import CutoutStyle, Subject, paste_cutout

    rng = np.random.default_rng(9)
    photo = rng.integers(0, 256, (600, 600, 3), dtype=np.uint8)
    alpha = np.zeros((600, 600), np.uint8)
    alpha[101:501, 101:501] = 255
    subject = Subject(alpha, (101, 101, 501, 501), None, True, mean=np.full(3, 128.0))
    style = CutoutStyle(rim_colour=np.ones(3, np.float32), ground_colour=np.zeros(3, np.float32))
    for parts in (("shadow",), ("subject", "rim")):
        canvas = np.full((300, 300, 3), 90, np.uint8)
        placement = paste_cutout(canvas, photo, subject, 0.3, -152.16, 0.0, style, parts=parts)
        assert placement.shape == "cutout" and placement.box[0] == 0  # cut by the canvas's left edge


def test_reduced_mask_and_pixels_of_a_shrunk_cut_out_line_up():
    # The mask and the clean pixels are reduced from the same corner: a subject with a hard vertical edge
    # keeps that edge where its pixels change colour.
    from generation.engine.cutout import CutoutStyle, Subject, paste_cutout

    photo = np.zeros((900, 900, 3), np.uint8)
    photo[:, 452:] = 250  # the subject's right half is bright
    alpha = np.zeros((900, 900), np.uint8)
    alpha[150:750, 301:601] = 255
    subject = Subject(alpha, (301, 150, 601, 750), None, True, mean=np.full(3, 128.0))
    style = CutoutStyle(rim_colour=np.ones(3, np.float32), ground_colour=np.zeros(3, np.float32), rim=0.0,
                        shadow=0.0)
    canvas = np.full((400, 400, 3), 60, np.uint8)
    paste_cutout(canvas, photo, subject, 0.25, 0.0, 0.0, style, parts=("subject",))
    row = canvas[150, :, 0].astype(int)
    inside = np.flatnonzero(np.abs(row - 60) > 20)
    assert inside.size and abs(inside[0] - 301 * 0.25) <= 1.5 and abs(inside[-1] - 601 * 0.25) <= 1.5
    assert abs(np.flatnonzero(row > 150)[0] - 452 * 0.25) <= 1.5


def test_a_vignette_window_reads_the_cover_map_where_it_lies():
    # A late cut-out finishes its pixels with the part of the vignette under them, at its own resolution.
    full = grade.vignette_map(3000, 0.4)
    window = grade.vignette_window(3000, 0.4, 1200.0, 2100.0, 1.0, 1.0, (700, 900))
    assert np.abs(full[2100:2800, 1200:2100].astype(int) - window).max() <= 1
    step = 2.5  # every 2.5 cover pixels: the window of a subject enlarged 2.5 times on the cover
    coarse = grade.vignette_window(3000, 0.4, 100 + 0.5 * step - 0.5, 2400 + 0.5 * step - 0.5, step, step, (240, 400))
    expected = cv2.resize(full[2400:3000, 100:1100], (400, 240), interpolation=cv2.INTER_AREA)
    assert np.abs(expected.astype(int) - coarse).max() <= 1
    assert coarse[-1, 0] < coarse[0, -1]  # darker toward the corner


def test_every_motif_draws_light_on_the_scene_and_is_deterministic():
    palette = [np.array(c, np.float32) for c in ((.1, .1, .2), (.2, .2, .3), (.8, .3, .2), (.6, .7, .9), (.9, .9, .9))]
    base = np.full((200, 200, 3), 0.2, np.float32)
    for name in motifs.MOTIFS:
        drawn = [base.copy(), base.copy()]
        for image in drawn:
            motifs.apply_motifs(image, (name,), np.random.default_rng(4), palette)
        assert np.array_equal(drawn[0], drawn[1]), name
        assert np.abs(drawn[0] - base).max() > 0.2, name  # streaks, flakes, stars or sparks are visible
