"""Render every genre x variant x photo of the development set into contact sheets, one sheet per photo.

Each cell is the cover at 300 px with its 56 px thumbnail and a 56 px greyscale thumbnail beside it, the way a
playlist row and a grey UI theme show it. The photos are tests/fixtures/photos (see its SOURCES.md), plus
"no photo".

    .venv/bin/python bench/contact_sheet.py [--out bench/out/sheets] [--size 3000] [--photos portrait_tight,group]
        [--genres hiphop,edm] [--variants artist,background,text] [--seed 7] [--full]

`--full` also keeps every cover at full size (PNG) next to the sheets, for a look at 100%.
"""

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageOps  # noqa: E402

from generation import engine  # noqa: E402
from generation.engine.art.prepare import prepare_photo  # noqa: E402

PHOTOS = ROOT / "tests" / "fixtures" / "photos"
MODELS = ROOT / "var" / "models"
CELL, THUMB, PAD, LABEL = 300, 56, 10, 22
SAMPLES = {
    "hiphop": ("NOVA", "STILL STANDING", None),
    "indie": ("The Paper Kites", "Golden Hour Letters", None),
    "edm": ("Pulse Theory", "Neon Cathedral", None),
    "rnb": ("Layla Moore", "Velvet Hours", "feat. NOVA"),
    "rock": ("Static Saints", "Burn the Quiet", None),
    "pop": ("Mia Sky", "Sugar Static", None),
    "jazz": ("The Blue Room Trio", "After Midnight", None),
    "ambient": ("Sigur Rós", "Slow Tides", None),
    "metal": ("IRONVEIL", "Ashes of the Crown", None),
    "lofi": ("dreamcatcher", "rainy study tapes", None),
    "classical": ("Riccardo Muti · Chicago Symphony", "Nocturnes, Op. 9", None),
}


def development_set(names: list[str] | None = None) -> dict[str, Image.Image | None]:
    """The photos of tests/fixtures/photos by file stem (all of them without `names`), plus "no photo"."""
    files = sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    out = {}
    for path in files:
        if names and path.stem not in names:
            continue
        try:
            out[path.stem] = engine.load_photo(path.read_bytes())
        except engine.PhotoError as error:  # the API refuses it too
            print(f"{path.name}: refused ({error})", file=sys.stderr)
    if not names or "none" in names:
        out["none"] = None
    return out


def spec(genre: str, variant: str, seed: int, size: int, image, fmt: str = "jpeg") -> engine.CoverSpec:
    artist, album, feature = SAMPLES[genre]
    return engine.CoverSpec(genre=genre, artist=artist, album=album, feature=feature, variant=variant, seed=seed,
                            size=size, output_format=fmt, photo=image, model_dir=str(MODELS))


def prepared(image):
    return None if image is None else prepare_photo(image, model_dir=str(MODELS))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("bench/out/sheets"))
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--photos", default="")
    parser.add_argument("--genres", default=",".join(engine.GENRES))
    parser.add_argument("--variants", default="artist,background,text")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    genres = [g for g in args.genres.split(",") if g]
    variants = [v for v in args.variants.split(",") if v]
    args.out.mkdir(parents=True, exist_ok=True)
    cell_w = CELL + PAD + THUMB + PAD
    started, count = time.perf_counter(), 0
    for name, image in development_set([n for n in args.photos.split(",") if n] or None).items():
        photo = prepared(image)
        sheet = Image.new("RGB", (LABEL * 5 + len(variants) * cell_w, LABEL * 2 + len(genres) * (CELL + PAD)),
                          "#202020")
        draw = ImageDraw.Draw(sheet)
        draw.text((8, 4), f"{name}", fill="#dddddd")
        for col, variant in enumerate(variants):
            draw.text((LABEL * 5 + col * cell_w, LABEL), variant, fill="#aaaaaa")
        for row, genre in enumerate(genres):
            y = LABEL * 2 + row * (CELL + PAD)
            draw.text((6, y + CELL // 2), genre, fill="#dddddd")
            for col, variant in enumerate(variants):
                # As a job seeds a task's images: the base seed plus the image's index (artist, background, text).
                result = engine.render(spec(genre, variant, args.seed + row + col, args.size, image), photo)
                cover = Image.open(io.BytesIO(result.data)).convert("RGB")
                count += 1
                if args.full:
                    cover.save(args.out / f"{name}-{genre}-{variant}.png")
                x = LABEL * 5 + col * cell_w
                sheet.paste(cover.resize((CELL, CELL), Image.LANCZOS), (x, y))
                thumb = cover.resize((THUMB, THUMB), Image.LANCZOS)
                sheet.paste(thumb, (x + CELL + PAD, y))
                sheet.paste(ImageOps.grayscale(thumb).convert("RGB"), (x + CELL + PAD, y + THUMB + PAD))
                layout = result.measurements.get("composition", {}).get("layout", "")
                draw.text((x + CELL + PAD, y + 2 * (THUMB + PAD)), layout[:9], fill="#888888")
        sheet.save(args.out / f"{name}.png")
        print(f"{name}: {args.out / (name + '.png')}", flush=True)
    elapsed = time.perf_counter() - started
    print(f"{count} covers in {elapsed:.1f} s ({elapsed / max(count, 1):.2f} s each)")


if __name__ == "__main__":
    main()
