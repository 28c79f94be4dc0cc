import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from generation import engine


def progress(done: int, total: int, label: str, started: float) -> None:
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<12} "
                     f"{time.monotonic() - started:5.1f}s")
    sys.stderr.flush()


class Command(BaseCommand):
    help = "Render covers locally, without the server or a worker: one file per variant in --out."

    def add_arguments(self, parser):
        parser.add_argument("--genre", required=True, help="a genre or alias, e.g. hiphop, trap, soul")
        parser.add_argument("--artist", required=True)
        parser.add_argument("--album", required=True)
        parser.add_argument("--feature", default=None)
        parser.add_argument("--photo", type=Path, default=None, help="JPEG/PNG/WebP; omit for background-only")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--count", type=int, default=3, choices=[1, 2, 3, 4])
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--size", type=int, default=3000)
        parser.add_argument("--format", choices=["png", "jpeg"], default="png")
        parser.add_argument("--explicit", action="store_true")
        parser.add_argument("--palette", default=None, help="comma-separated hex colours")

    def handle(self, **o):
        genre = engine.resolve_genre(o["genre"])
        if genre is None:
            raise CommandError(f"unknown genre {o['genre']!r}; known: {', '.join(sorted(engine.GENRES))}")
        photo = None
        if o["photo"]:
            try:
                photo = engine.load_photo(o["photo"].read_bytes())
            except (OSError, engine.PhotoError) as exc:
                raise CommandError(f"--photo: {exc}") from None
        prepared = None
        if photo is not None:
            prepared = engine.prepare_photo(photo, segmentation=settings.ALBUMART_SEGMENTATION,
                                            model_dir=settings.ALBUMART_MODEL_DIR)
        o["out"].mkdir(parents=True, exist_ok=True)
        palette = tuple(c.strip() for c in o["palette"].split(",")) if o["palette"] else None
        started = time.monotonic()
        progress(0, o["count"], "", started)
        for index in range(o["count"]):
            variant = engine.VARIANTS[index]
            spec = engine.CoverSpec(genre=genre, artist=o["artist"], album=o["album"], feature=o["feature"],
                                    variant=variant, size=o["size"], seed=o["seed"] + index,
                                    output_format=o["format"], explicit=o["explicit"], palette=palette, photo=photo)
            result = engine.render(spec, prepared)
            stem, ext = result.filename.rsplit(".", 1)
            path = o["out"] / f"{stem}_{variant}.{ext}"
            path.write_bytes(result.data)
            progress(index + 1, o["count"], variant, started)
            self.stdout.write(f"\n{path} ({len(result.data) / 1e6:.1f} MB)")
        sys.stderr.write("\n")
