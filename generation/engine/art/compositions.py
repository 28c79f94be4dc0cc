"""The composition library as data: layouts per variant, and each genre's art direction.

A cover is a layout (where the photo, the scene and the type go) with the genre's treatment of the photo, a
scene family, the way the photo's own background is transformed and the film look. The seed picks among them
and the photo's geometry rules out what it cannot hold (a 480p frame is never blown up full-bleed).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

MAX_ENLARGE = 3.5  # cover pixels per photo pixel the grain can still hide; past it the photo is shown smaller
# ... in black and white or duotone under heavy grain, where no skin tone or edge halo shows: any photo the API
# accepts (400 px and up) fills a 3000 px cover this way rather than shrinking to a framed postcard.
GRIT_ENLARGE = 7.5
GRIT_TREATMENTS = ("mono", "duotone", "tritone")
GRIT_GRAIN = 2.2  # times the genre's grain
BAND_PHOTO = 0.68  # the photo's share of the height in a band layout (the band takes the rest)
SIDE_PHOTO = 0.6  # the photo's share of the width in a side layout (a solid column holds the type)
SIDE_MAX = 0.64  # ... widened to hold a broad face whole, leaving the type a column of at least 36%
MIN_PANEL = 0.4  # a panel shrinks to the photo's resolution down to this share of the side


@dataclass(frozen=True)
class Layout:
    name: str
    photo: str  # "full", "band", "side", "panel", "texture", "ghost", "knockout", "cutout" or "none"
    text: str  # "bottom", "top", "band", "side", "stamp", "corner", "poster", "below" or "stack"
    share: float  # the photo's extent on the cover as a share of the side (the enlargement cap's measure)
    face_share: float = 0.2  # the face cluster's height in the crop
    eye_y: float = 0.36
    # Cap height (share of the side) and most lines of each role; the largest is the cover's dominant line.
    type: dict = field(default_factory=lambda: {"artist": (0.10, 2), "album": (0.042, 3), "feature": (0.03, 2)},
                       compare=False, hash=False)
    # A gritty full-bleed: only the treatments that hide a soft source (black and white, duotone, tritone) and
    # heavier grain, so the photo may be enlarged further (GRIT_ENLARGE) than a colour photo (MAX_ENLARGE).
    grit: bool = False
    on_scene: bool = False  # a texture layout's photo printed as a stencil (art/prints.py), not as fine dots
    reverse: bool = False  # a stencil printed light on black stock
    flat: bool = False  # no scene: one flat ink on paper (a printed typographic poster)
    form: bool = False  # the scene alone: the genre's bold printed form (FORM_SCENES) when it has one
    instead_of: str | None = None  # used only where the named layout does not fit (a gritty twin of a colour one)


# Secondary lines are held to half the dominant one's cap height (typeset.HIERARCHY) and must still read at
# 128 px: about 1/22 of the side.
_FORWARD = {"artist": (0.10, 2), "album": (0.048, 3), "feature": (0.032, 2)}
_COMPACT = {"artist": (0.09, 2), "album": (0.045, 2), "feature": (0.03, 2)}
_SMALL = {"artist": (0.076, 2), "album": (0.038, 2), "feature": (0.028, 2)}
_POSTER = {"artist": (0.06, 2), "album": (0.2, 3), "feature": (0.032, 2)}
_STACK = {"artist": (0.055, 2), "album": (0.17, 4), "feature": (0.03, 2)}
_MASTHEAD = {"artist": (0.13, 1), "album": (0.042, 2), "feature": (0.03, 1)}
_SIDE = {"artist": (0.1, 3), "album": (0.045, 3), "feature": (0.03, 2)}  # a column a third of the side wide
_KNOCK = {"artist": (0.055, 2), "album": (0.3, 4), "feature": (0.03, 2)}  # letters big enough to hold a face

LAYOUTS: dict[str, tuple[Layout, ...]] = {
    # The photo dominates; the face is the focal point.
    "artist": (
        Layout("full-bottom", "full", "bottom", 1.0, face_share=0.2, eye_y=0.34, type=_FORWARD),
        # (Graded like a gritty full-bleed: above a flat colour band, a colour snapshot reads as a web banner.)
        # (The name set large across the band, a masthead: small type centred in a slab reads as a caption.)
        Layout("band", "band", "band", 1.0, face_share=0.26, eye_y=0.4, type=_MASTHEAD, grit=True),
        Layout("stamp", "full", "stamp", 1.0, face_share=0.22, eye_y=0.4, type=_COMPACT),
        Layout("title-top", "full", "top", 1.0, face_share=0.18, eye_y=0.56, type=_FORWARD),
        Layout("corner", "full", "corner", 1.0, face_share=0.3, eye_y=0.42, type=_SMALL),
        Layout("grit", "full", "bottom", 1.0, face_share=0.22, eye_y=0.36, type=_FORWARD, grit=True),
        Layout("panel", "panel", "below", 0.64, face_share=0.26, eye_y=0.4, type=_COMPACT),
        Layout("grit-top", "full", "top", 1.0, face_share=0.2, eye_y=0.56, type=_FORWARD, grit=True),
        Layout("grit-corner", "full", "corner", 1.0, face_share=0.3, eye_y=0.42, type=_SMALL, grit=True,
               instead_of="corner"),
        # A tall crop beside a solid column of type: a tight portrait's face fills the frame and leaves no room
        # for type on it, and a framed panel would shrink it to a postcard.
        # (Black and white, duotone or tritone only: beside a flat column, a colour photo reads as a press shot.)
        Layout("side", "side", "side", 1.0, face_share=0.3, eye_y=0.4, type=_SIDE, grit=True),
    ),
    # The atmosphere is the cover; the artist is a print in it, a figure set on it, or absent.
    "background": (
        # The stencil reversed: the face's lights printed in a light ink on black stock.
        Layout("print-dark", "texture", "bottom", 1.0, face_share=0.24, eye_y=0.36, type=_COMPACT, on_scene=True,
               reverse=True),
        # The person screen-printed as a stencil in one deep ink, a halo of a second ink behind the head.
        Layout("screenprint", "texture", "bottom", 1.0, face_share=0.26, eye_y=0.34, type=_COMPACT, on_scene=True),
        # The scene alone, the artist absent: a bold printed form where the genre has one.
        Layout("atmosphere", "none", "bottom", 0.0, type=_COMPACT, form=True),
        # The stencil again with the type above the head (the halo and the head lower in the frame).
        Layout("print-top", "texture", "top", 1.0, face_share=0.26, eye_y=0.62, type=_COMPACT, on_scene=True),
        # A double exposure: the photo in black and white exposed over the scene, the person whole and the
        # photo's own background dissolving into the atmosphere (soft by design: a mask error stays invisible).
        Layout("ghost", "ghost", "bottom", 1.0, face_share=0.26, eye_y=0.36, type=_COMPACT),
        # The person cut out and set on the scene: only when the mask gate passed (cutout.judge_mask).
        Layout("figure", "cutout", "auto", 0.7, type=_COMPACT),
    ),
    # A typographic poster: the title is the image, the photo absent, a texture or a small panel.
    "text": (
        Layout("poster", "none", "poster", 0.0, type=_POSTER, flat=True),
        Layout("poster-texture", "texture", "poster", 1.0, face_share=0.24, type=_POSTER),
        Layout("stack", "none", "stack", 0.0, type=_STACK),
        Layout("stack-texture", "texture", "stack", 1.0, face_share=0.3, type=_STACK),
        # The title as the image over a black-and-white full bleed of the photo (stacked, or a poster's block),
        # where the faces leave room for it above or under them.
        Layout("stack-photo", "full", "stack", 1.0, face_share=0.18, eye_y=0.3, type=_STACK, grit=True),
        Layout("poster-photo", "full", "poster", 1.0, face_share=0.18, eye_y=0.3, type=_POSTER, grit=True),
        # The title knocked out of a flat printed ground: the photo is seen only through its letters (any photo,
        # a crowd or a face that fills the frame included: the letters hold the picture, nothing crosses a face).
        Layout("knockout", "knockout", "stack", 1.0, face_share=0.5, type=_KNOCK),
    ),
}
LAYOUTS["free"] = LAYOUTS["artist"]
# Without a photo the artist-forward covers are the scene with the artist's name as the largest element.
SCENE_ONLY = (
    Layout("scene-bottom", "none", "bottom", 0.0, type=_FORWARD, form=True),
    # A printed poster in one flat ink with the name as the image (a stamped box on a texture read as a template).
    Layout("scene-flat", "none", "stack", 0.0, flat=True,
           type={"artist": (0.15, 3), "album": (0.045, 2), "feature": (0.03, 2)}),
    Layout("scene-top", "none", "top", 0.0, type=_FORWARD),
    Layout("scene-stack", "none", "stack", 0.0,
           type={"artist": (0.14, 4), "album": (0.045, 2), "feature": (0.03, 2)}),
)
# The free cover of a task starts two layouts after the artist one, so the two never coincide.
VARIANT_OFFSET = {"artist": 0, "background": 1, "text": 2, "free": 3}


@dataclass(frozen=True)
class ArtDirection:
    treatments: tuple[str, ...]  # photo treatments (art/treatments.py)
    scenes: tuple[str, ...]  # scene families (art/textures.py), at least two
    background: tuple[str, ...]  # what happens to the photo's own background: depth, dark, wash, desat
    grain: float = 4.0  # film grain at full size, 8-bit levels (PNG gets 60% of it)
    halation: float = 0.2
    leak: float = 0.2
    dust: float = 0.3
    vignette: float = 0.3
    band: int = 2  # the palette role of solid bands and boxes
    # Every stencil printed light on black stock: a pastel paper with a cameo disc is the wrong energy for the
    # dark genres (hip-hop, electronic, rock, metal, jazz).
    dark_prints: bool = False
    # The shapes of the second ink behind a stencil's head (art/prints.HALOS): a disc in every genre read as one
    # template across a catalogue.
    halos: tuple[str, ...] = ("disc",)
    # Whether the genre's display face holds a photo in its letters (the knockout layout): a thin hand or a
    # blackletter turns the photo in them to grey mush at 56 px (blind review).
    knockout: bool = True


DIRECTIONS: dict[str, ArtDirection] = {
    "hiphop": ArtDirection(("mono", "split", "cross", "film"), ("leaks", "paper", "worn", "sun"),
                           ("dark", "depth"),
                           grain=5.0, halation=0.15, leak=0.2, dust=0.3, vignette=0.35, band=2, dark_prints=True,
                           halos=("band", "disc")),
    "edm": ArtDirection(("duotone", "tritone", "cross", "split"), ("flow", "interference", "ring", "dots"),
                        ("wash", "dark"),
                        grain=3.0, halation=0.3, leak=0.0, dust=0.0, vignette=0.3, band=2, dark_prints=True,
                        halos=("ring", "disc")),
    "rnb": ArtDirection(("film", "split", "duotone"), ("leaks", "gradient", "crescent", "sun"), ("depth", "wash"),
                        grain=3.5, halation=0.35, leak=0.35, dust=0.1, vignette=0.3, band=1, halos=("arch", "disc")),
    "indie": ArtDirection(("film", "mono", "split"), ("paper", "leaks", "split", "quarter"), ("depth", "desat"),
                          grain=5.0, halation=0.25, leak=0.4, dust=0.5, vignette=0.25, band=1, halos=("arch", "band"),
                          knockout=False),
    "rock": ArtDirection(("mono", "cross", "film", "duotone"), ("paper", "leaks", "worn", "split"), ("dark", "desat"),
                         grain=6.0, halation=0.2, leak=0.2, dust=0.6, vignette=0.4, band=2, dark_prints=True,
                         halos=("band", "disc")),
    "metal": ArtDirection(("mono", "duotone", "tritone"), ("fog", "paper", "worn", "crescent"), ("dark",),
                          grain=6.0, halation=0.1, leak=0.0, dust=0.7, vignette=0.55, band=2, dark_prints=True,
                          halos=("arch", "ring"), knockout=False),
    "pop": ArtDirection(("film", "duotone", "cross", "split"), ("gradient", "bokeh", "dots", "sun"),
                        ("wash", "depth"),
                        grain=2.0, halation=0.15, leak=0.15, dust=0.0, vignette=0.1, band=1, halos=("disc", "band")),
    "jazz": ArtDirection(("mono", "duotone", "split", "film"), ("bokeh", "ring", "split"), ("dark", "depth"),
                         grain=5.0, halation=0.2, leak=0.1, dust=0.4, vignette=0.45, band=2, dark_prints=True,
                         halos=("ring", "arch")),
    "ambient": ArtDirection(("tritone", "film", "duotone"), ("fog", "flow", "gradient", "crescent", "ring"),
                            ("wash", "desat"),
                            grain=3.0, halation=0.2, leak=0.1, dust=0.0, vignette=0.2, band=1, halos=("disc", "arch")),
    "lofi": ArtDirection(("film", "duotone", "mono"), ("paper", "sun", "quarter"), ("wash", "depth"),
                         grain=7.0, halation=0.3, leak=0.4, dust=0.6, vignette=0.25, band=2, halos=("arch", "disc")),
    "classical": ArtDirection(("mono", "split", "film"), ("paper", "dots", "quarter"), ("desat", "depth"),
                              grain=3.0, halation=0.0, leak=0.0, dust=0.2, vignette=0.12, band=3,
                              halos=("arch", "ring")),
}
DEFAULT_DIRECTION = DIRECTIONS["indie"]


# Never over a photo: discs of light or a bold form on a face read as a mistake, glowing trails as scribbles.
FORM_SCENES = ("worn", "sun", "quarter", "ring", "crescent", "split", "dots")  # a bold form above low type, alone
PHOTO_UNSAFE_SCENES = ("bokeh", "flow", *FORM_SCENES)
LOW_TYPE = ("bottom", "band", "corner")


def direction(genre: str) -> ArtDirection:
    return DIRECTIONS.get(genre, DEFAULT_DIRECTION)


@dataclass(frozen=True)
class Composition:
    layout: Layout
    treatment: str
    scene: str
    background: str
    direction: ArtDirection
    variation: int = 0  # a digit of the seed: where the faces sit across a crop, where a poster's block goes
    halo: str = "disc"  # the shape of the second ink behind a stencil's head

    @property
    def dark_print(self) -> bool:
        """Whether a stencil of this composition prints light ink on black stock (the layout's or the genre's)."""
        return self.layout.reverse or self.direction.dark_prints

    @property
    def face_x(self) -> float:
        """Where the faces sit across a full-bleed crop: centred, or on a third."""
        return FACE_X[self.variation % len(FACE_X)]


FACE_X = (0.5, 0.4, 0.6)


def panel_share(layout: Layout, photo_side: float, side: int) -> float:
    """A panel's share of the side: as designed, or smaller where the photo's resolution cannot fill it."""
    return min(layout.share, max(MIN_PANEL, photo_side * MAX_ENLARGE / side))


def photo_px_needed(layout: Layout, side: int, share: float | None = None) -> float:
    """The fewest photo pixels across the crop that the layout may enlarge to its size on the cover."""
    return (layout.share if share is None else share) * side / (GRIT_ENLARGE if layout.grit else MAX_ENLARGE)


PRINT_FACES = 2  # a stencil of more faces than this (a group, a room) prints its faces as small blobs
PHOTO_DESIGNS = 3  # a background cover leaves the photo-free forms out when its photo holds this many layouts
TEXT_ROOM = 0.24  # the share of a full-bleed crop that must lie clear of the faces for type set on the photo


def fits(layout: Layout, photo_side: float | None, side: int, cutout: bool = False, room: float = 1.0,
         whole=None, photo_size: tuple[int, int] | None = None, faces: int = 1) -> bool:
    """Whether a photo whose usable crop is `photo_side` px (None: no photo) can fill the layout; a cut-out
    layout also needs a mask that passed the gate, and type on a full-bleed photo `room` clear of the faces
    (a face filling the frame leaves none: its covers set the type in a band or under a panel); a stencil needs
    one or two faces (`faces`: how many the photo has)."""
    if layout.photo == "none":
        return True
    if photo_side is None or (layout.photo == "cutout" and not cutout):
        return False
    if layout.photo == "full" and room < TEXT_ROOM:
        return False
    if whole is not None and layout.photo in ("full", "band", "side") and not whole(layout):
        return False  # the faces with their hair and chin cannot all be in this layout's frame
    if layout.on_scene and not 1 <= faces <= PRINT_FACES:
        return False  # a stencil prints a person or a few: without a face it prints the scenery, a crowd is noise
    if layout.photo == "ghost":  # soft by design; but an empty scene or a crowd exposed over a scene reads as mud,
        # and the type over a face that fills the frame runs across the forehead
        return 1 <= faces <= PRINT_FACES and room >= TEXT_ROOM
    if layout.photo in ("texture", "knockout"):
        return True  # soft by design: a print, a texture or a photo seen through letters holds no detail to lose
    if layout.photo == "side":  # a tall crop (at most SIDE_MAX wide): its height is what gets enlarged
        w, h = photo_size or (photo_side, photo_side)
        return min(h, w / SIDE_MAX) >= photo_px_needed(layout, side)
    if layout.photo == "panel":
        return photo_side >= photo_px_needed(layout, side, min(layout.share, MIN_PANEL))
    if layout.photo == "band" and photo_size is not None:  # a wide crop: its width is what gets enlarged
        w, h = photo_size
        return min(w, h / BAND_PHOTO) >= photo_px_needed(layout, side)
    return photo_side >= photo_px_needed(layout, side)  # the gritty cap for a gritty layout


def choose(genre: str, variant: str, seed: int, photo_side: float | None, side: int, *,
           cutout: bool = False, room: float = 1.0, whole=None, photo_size: tuple[int, int] | None = None,
           faces: int = 1) -> Composition:
    """The composition of one cover: the seed walks the variant's layouts in order (four seeds, four layouts),
    skipping those the photo cannot hold; treatment, scene and background are picked by further digits.
    `whole(layout)` says whether the photo's faces fit that layout's frame whole (None: they do)."""
    art = direction(genre)
    layouts = LAYOUTS[variant] if photo_side is not None or variant not in ("artist", "free") else SCENE_ONLY
    usable = [lay for lay in layouts if fits(lay, photo_side, side, cutout, room, whole, photo_size, faces)
              and (lay.photo != "knockout" or art.knockout)]
    names = {lay.name for lay in usable}
    usable = [lay for lay in usable if lay.instead_of not in names]
    if photo_side is not None:
        with_photo = [lay for lay in usable if lay.photo != "none"]
        if variant == "text" or (variant == "background" and len(with_photo) >= PHOTO_DESIGNS):
            # The artist's photo in the cover: a photo-free poster or form would ship the same cover for every
            # artist of the genre. The background cover of a photo that holds fewer of its designs (nobody in
            # it, or a crowd: no stencil, no double exposure) keeps the photo-free atmosphere.
            usable = with_photo or usable
        if variant in ("artist", "free"):  # the artist-forward cover always shows the artist, full-bleed if it can
            smallest = min((lay for lay in layouts if lay.photo == "panel"), key=lambda lay: lay.share)
            usable = [lay for lay in with_photo if lay.photo != "panel"] or with_photo or [smallest]
    seed = int(seed) % (1 << 62)
    salt = zlib.crc32(genre.encode())
    # (The genre's salt in the walk too: one seed of one photo across a catalogue's genres is not one layout.)
    layout = usable[(seed + VARIANT_OFFSET[variant] + salt) % len(usable)]
    rest = seed // len(usable) + salt
    treatments = [t for t in art.treatments if t in GRIT_TREATMENTS] or list(GRIT_TREATMENTS) if layout.grit \
        else art.treatments
    treatment = treatments[(rest + seed) % len(treatments)]  # (four seeds: four treatments)
    scenes = art.scenes
    if layout.photo != "none":
        # Soft colour fields suit every palette when nothing is left.
        scenes = [sc for sc in scenes if sc not in PHOTO_UNSAFE_SCENES] or ["gradient"]
    elif layout.text == "top":  # the genre's form rising from the bottom edge, under the title
        scenes = [f"{sc}-low" for sc in scenes if sc in FORM_SCENES]
    elif layout.text not in LOW_TYPE:  # one bold form and a block of type would fight for the same middle
        scenes = [sc for sc in scenes if sc not in FORM_SCENES] or scenes
    elif layout.form:  # every genre has one (a soft texture alone reads as an empty cover)
        scenes = [sc for sc in scenes if sc in FORM_SCENES]
    # (From the seed alone, not the count of usable layouts: a task's covers then take other scenes, and the
    # artist and background covers made without a photo never show the same form twice.)
    scene = scenes[(salt // 7 + seed + VARIANT_OFFSET[variant]) % len(scenes)]
    if layout.photo == "ghost" and scene == "gradient":
        scene = "glow"  # (behind a double exposure a mesh of three colours read as a cheap rainbow: one colour)
    background = art.background[(rest // 3) % len(art.background)]
    return Composition(layout, treatment, scene, background, art, (rest // 11 + seed) % len(FACE_X),
                       art.halos[(rest // 5 + seed) % len(art.halos)])
