"""Platform presets (API.md `renditions`): each delivered cover also as the file each platform asks for.

PLATFORMS is the one table of the platforms' artwork specs (README.md, "Platform presets", shows it with its
sources). Every file is a square, opaque RGB JPEG with the sRGB profile (the engine's own JPEG encoder): no store
takes transparency. `make` is plain image work (bytes in, files out); `store` and `api_data` are the Django side.

Where a platform publishes a byte limit, the file keeps under it; where none was found, MAX_BYTES_UNPUBLISHED
applies. A file is never made larger than the cover (stores reject upscaled art) nor, to fit a byte limit, smaller
than the smallest side the platform accepts (`min_side`): what cannot fit is reported as failed, with the reason,
never delivered.
"""

import difflib
import hashlib
import io
import logging
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from PIL import Image

from generation.engine.export import _LATIN_LETTERS, encode_jpeg, encode_png

log = logging.getLogger(__name__)

MB = 1_000_000  # decimal megabytes: the smaller reading of "4 MB"
# No byte limit published (or none found): the smallest limit the guides cite for any of these stores (Spotify's
# "under 4 MB" in third-party guides; distributors' own caps run 8 to 10 MB).
MAX_BYTES_UNPUBLISHED = 4 * MB
# Every store here asks for 3000 x 3000 px (the size distributors deliver); one that publishes no minimum is not
# sent anything smaller.
SIDE = 3000
JPEG_QUALITY_TOP = 95  # above 95 libjpeg's files grow fast for no visible gain
JPEG_QUALITY_FLOOR = 80  # below it, blocking shows in the smooth gradients covers are made of


@dataclass(frozen=True)
class PlatformSpec:
    name: str
    label: str
    side: int  # the square side delivered (never more than the cover's own)
    min_side: int  # the smallest side the platform takes: how far a file may shrink to fit max_bytes
    format: str  # "jpeg" (every row today) or "png"
    max_bytes: int  # MAX_BYTES_UNPUBLISHED where the platform publishes none (none of these was found to)


PLATFORMS: dict[str, PlatformSpec] = {spec.name: spec for spec in (
    # https://www.digitalmusicnews.com/2023/11/30/whats-the-best-spotify-album-art-cover-size/ and
    # https://moda.app/resources/sizes/spotify-album-cover (Spotify's spec: 1:1, 640 to 10,000 px a side, JPEG, PNG
    # or TIFF, sRGB 24-bit, no orientation metadata, 3000 px recommended); no byte limit from Spotify itself,
    # https://musosoup.com/blog/spotify-cover-art-size cites "under 4 MB".
    PlatformSpec("spotify", "Spotify", SIDE, 640, "jpeg", MAX_BYTES_UNPUBLISHED),
    # Apple's Music Style Guide is not in the corpus. https://www.releaskit.com/articles/album-cover-size-guide-2026
    # and https://sundesiremedia.com/en/faq/publishmusic/artworks: 3000 x 3000 minimum, square, RGB, JPEG;
    # https://artists.apple.com/support/1104-artist-image-guidelines (Apple, artist images): JPG or PNG, no
    # transparency/alpha. No byte limit published.
    PlatformSpec("apple_music", "Apple Music", SIDE, SIDE, "jpeg", MAX_BYTES_UNPUBLISHED),
    # Bandcamp's own help page is not in the corpus: 3000 px as every store; 1400 px is the smallest the distributor
    # guides cite (https://songkit.nl/faq/cover-image-requirements/,
    # https://music-artwork.com/blog/guidelines-for-album-artwork-to-music-distribution-services/). No byte limit
    # found.
    PlatformSpec("bandcamp", "Bandcamp", SIDE, 1400, "jpeg", MAX_BYTES_UNPUBLISHED),
    # YouTube Music makes its Art Tracks from the release's artwork (https://support.landr.com/hc/en-us/articles/
    # 360015745413-What-are-YouTube-Art-Tracks-); no YouTube spec in the corpus: 3000 px square JPEG, as delivered
    # by distributors (https://helpdesk.ptunestudio.com/?p=242). No byte limit found.
    PlatformSpec("youtube_music", "YouTube Music", SIDE, SIDE, "jpeg", MAX_BYTES_UNPUBLISHED),
    # https://help.soundcloud.com/hc/en-us/articles/40259650089243 (SoundCloud, artwork for distribution): at least
    # 3000 x 3000 px, 1:1, PNG or JPEG. No byte limit published.
    PlatformSpec("soundcloud", "SoundCloud", SIDE, SIDE, "jpeg", MAX_BYTES_UNPUBLISHED),
    # No TIDAL spec in the corpus: 3000 px square, PNG or JPEG, as distributors deliver to every store
    # (https://guidance.labelcaster.com/en/articles/cover-art-requirements). No byte limit found.
    PlatformSpec("tidal", "TIDAL", SIDE, SIDE, "jpeg", MAX_BYTES_UNPUBLISHED),
    # No Amazon Music spec in the corpus: JPEG, RGB, 3000 x 3000 px, 1:1, as distributors deliver
    # (https://support.the-source.eu/kb/a69/album-cover-artwork-specifications-and-guidelines.aspx). No byte limit
    # found.
    PlatformSpec("amazon_music", "Amazon Music", SIDE, SIDE, "jpeg", MAX_BYTES_UNPUBLISHED),
    # No Deezer spec in the corpus: JPEG, 3000 px at most and 1440 px at least for Believe's Backstage
    # (https://apprisemusic.com/knowledge-base/what-are-the-cover-art-requirements/); 3000 px kept as the minimum,
    # as for the other stores without a published one. No byte limit found.
    PlatformSpec("deezer", "Deezer", SIDE, SIDE, "jpeg", MAX_BYTES_UNPUBLISHED),
)}


def normalise(value: str) -> str:
    return str(value).strip().lower().replace("-", "_").replace(" ", "_")


def unknown_message(value: str) -> str:
    """The 422 message of a platform name that is not in the table, listing the valid ones."""
    guess = difflib.get_close_matches(normalise(value), PLATFORMS, 1, 0.6)
    hint = f"; did you mean {guess[0]}?" if guess else "."
    return f"unknown platform {str(value)[:40]!r}{hint} Use any of {', '.join(PLATFORMS)}"


def size_errors(requested: list[str], size: int) -> list[str]:
    """The requested platforms that a cover of `size` px cannot serve (a file is never upscaled)."""
    return [f"{name} needs a cover of at least {PLATFORMS[name].min_side} px and size is {size}; raise size or "
            f"leave {name} out" for name in requested if PLATFORMS[name].min_side > size]


# The image work: no Django below until `store`.


def filename_part(text: str, fallback: str, limit: int = 60) -> str:
    """ASCII letters, digits, '-' and '.', the rest as single underscores: "Sigur Rós" -> "Sigur_Ros"."""
    folded = unicodedata.normalize("NFKD", (text or "").translate(_LATIN_LETTERS))
    ascii_text = folded.encode("ascii", "ignore").decode()
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", ascii_text).strip("._-")
    return safe[:limit].strip("._-") or fallback


def filename(artist: str, album: str, side: int, output_format: str) -> str:
    extension = "jpg" if output_format == "jpeg" else "png"
    return f"{filename_part(artist, 'Artist')}_{filename_part(album, 'Release')}_{side}x{side}.{extension}"


@dataclass(frozen=True)
class Encoded:
    data: bytes | None  # None: nothing at this side fits the byte limit
    side: int
    format: str
    quality: int | None
    smallest: int  # the bytes of the smallest try (the floor quality): what the next, smaller side is sized by


@dataclass
class RenditionFile:
    data: bytes
    side: int
    format: str
    quality: int | None
    max_bytes: int
    platforms: list[str]


def _opaque_rgb(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Covers are opaque; should one ever carry alpha, it is flattened onto black, not dropped to garbage.
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
    return image.convert("RGB")


def _fit_jpeg(pixels: np.ndarray, max_bytes: int) -> tuple[bytes | None, int | None, int]:
    """The JPEG at the highest quality (JPEG_QUALITY_FLOOR..TOP) under max_bytes: binary search over the quality;
    (None, None, floor bytes) when even the floor is too big. Only a measured size counts, so a size that is not
    monotonic in the quality can cost a little quality, never the limit."""
    top = encode_jpeg(pixels, JPEG_QUALITY_TOP)
    if len(top) <= max_bytes:
        return top, JPEG_QUALITY_TOP, len(top)
    floor = encode_jpeg(pixels, JPEG_QUALITY_FLOOR)
    if len(floor) > max_bytes:
        return None, None, len(floor)
    best, best_quality = floor, JPEG_QUALITY_FLOOR
    low, high = JPEG_QUALITY_FLOOR + 1, JPEG_QUALITY_TOP - 1
    while low <= high:
        quality = (low + high) // 2
        data = encode_jpeg(pixels, quality)
        if len(data) <= max_bytes:
            best, best_quality, low = data, quality, quality + 1
        else:
            high = quality - 1
    return best, best_quality, len(floor)


class _Renderer:
    """One cover's renditions: the cover is decoded once; each side is resized once and each (side, format,
    limit) encoded once, whichever platforms ask for it."""

    def __init__(self, cover: bytes):
        self.image = _opaque_rgb(cover)
        self.cover_side = min(self.image.size)
        self._pixels: dict[int, np.ndarray] = {}
        self._encoded: dict[tuple[int, str, int], Encoded] = {}

    def pixels(self, side: int) -> np.ndarray:
        if side not in self._pixels:
            image = self.image
            if image.size != (side, side):
                image = image.resize((side, side), Image.Resampling.LANCZOS)
            self._pixels[side] = np.asarray(image)
        return self._pixels[side]

    def encode(self, side: int, output_format: str, max_bytes: int) -> Encoded:
        key = (side, output_format, max_bytes)
        if key not in self._encoded:
            if output_format == "jpeg":
                data, quality, smallest = _fit_jpeg(self.pixels(side), max_bytes)
            else:
                png = encode_png(self.pixels(side))
                data, quality, smallest = (png if len(png) <= max_bytes else None), None, len(png)
            self._encoded[key] = Encoded(data, side, output_format, quality, smallest)
        return self._encoded[key]

    def fit(self, spec: PlatformSpec) -> Encoded | str:
        """The platform's file, or why there is none."""
        side = min(spec.side, self.cover_side)
        if side < spec.min_side:
            return (f"{spec.label} needs at least {spec.min_side} x {spec.min_side} px and the cover is "
                    f"{self.cover_side} px; covers are never upscaled for a store")
        while True:
            encoded = self.encode(side, spec.format, spec.max_bytes)
            if encoded.data is not None:
                return encoded
            if side <= spec.min_side:
                floor = f" at JPEG quality {JPEG_QUALITY_FLOOR}" if spec.format == "jpeg" else ""
                smallest = f" ({spec.min_side} px is the smallest {spec.label} takes)" if spec.min_side < spec.side \
                    else ""
                return (f"does not fit {spec.label}'s limit of {spec.max_bytes:,} bytes: {encoded.smallest:,} bytes "
                        f"at {side} px{floor}{smallest}")
            # Bytes grow about with the area: shrink to where the floor's size would fit, with a margin.
            scaled = int(side * (spec.max_bytes / encoded.smallest) ** 0.5 * 0.95)
            side = max(spec.min_side, min(scaled, int(side * 0.9)))


def make(cover: bytes, requested: list[str]) -> tuple[list[RenditionFile], dict[str, str]]:
    """The files for the requested platforms, one per distinct file (platforms that want the same get the same
    one), and the reason for each platform that gets none."""
    renderer = _Renderer(cover)
    files: dict[bytes, RenditionFile] = {}
    failures: dict[str, str] = {}
    for name in dict.fromkeys(requested):
        spec = PLATFORMS[name]
        fitted = renderer.fit(spec)
        if isinstance(fitted, str):
            failures[name] = fitted
            continue
        digest = hashlib.blake2b(fitted.data, digest_size=16).digest()
        if digest in files:
            file = files[digest]
            file.platforms.append(name)
            file.max_bytes = min(file.max_bytes, spec.max_bytes)
        else:
            files[digest] = RenditionFile(fitted.data, fitted.side, fitted.format, fitted.quality, spec.max_bytes,
                                          [name])
    return list(files.values()), failures


# Storage and the task data


def store(cover: bytes, requested: list[str], cover_path: str, artist: str, album: str) -> dict:
    """Make the requested renditions of a stored cover and store them next to it; what CoverImage.renditions keeps:
    per platform its file (path, name, size, format, bytes) or the reason it has none. {} when none was requested.

    The paths follow from the cover's and the file's spec, so a retried job overwrites the same files."""
    from generation import files as storage

    if not requested:
        return {}
    try:
        made, failures = make(cover, requested)
    except Exception as exc:  # a rendition must not cost the cover: each platform says it failed, and why
        log.exception("renditions failed for %s", cover_path)
        return {name: {"error": f"could not be made ({exc.__class__.__name__}); contact support"}
                for name in dict.fromkeys(requested)}
    stem = cover_path.rsplit(".", 1)[0]
    stored: dict[str, dict] = {name: {"error": reason} for name, reason in failures.items()}
    for file in made:
        name = filename(artist, album, file.side, file.format)
        extension = name.rsplit(".", 1)[1]
        path = storage.save(f"{stem}-renditions/{file.side}x{file.side}-{file.max_bytes}.{extension}", file.data)
        entry = {"path": path, "filename": name, "width": file.side, "height": file.side, "format": file.format,
                 "bytes": len(file.data), "quality": file.quality}
        for platform in file.platforms:
            stored[platform] = entry
    return {name: stored[name] for name in dict.fromkeys(requested)}


def stored_paths(renditions: dict | None) -> list[str]:
    """Every stored file of an image's renditions (several platforms may share one)."""
    return list(dict.fromkeys(entry["path"] for entry in (renditions or {}).values() if entry.get("path")))


def api_data(renditions: dict) -> dict:
    """The task data's `renditions` of one image: per platform a signed download URL and the file's measurements,
    or `url: null` and the reason. In the table's order (PostgreSQL's jsonb keeps no order of its own)."""
    from generation import files as storage

    order = list(PLATFORMS)
    data = {}
    for name, entry in sorted(renditions.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99):
        if entry.get("path"):
            data[name] = {"url": storage.signed_url(entry["path"], entry["filename"], attachment=True),
                          "width": entry["width"], "height": entry["height"], "format": entry["format"],
                          "bytes": entry["bytes"], "filename": entry["filename"]}
        else:
            data[name] = {"url": None, "reason": entry.get("error", "not made")}
    return data
