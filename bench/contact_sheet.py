"""Render every genre x variant from real photos (astronaut, coffee) and with no photo into one contact sheet.

Each cell is the cover at 300 px with its 56 px thumbnail beside it, the way a playlist row shows it.

    .venv/bin/python bench/contact_sheet.py [--out bench/out/contact_sheet.png] [--size 1400] [--genres hiphop,edm]
"""

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw  # noqa: E402

from generation import engine  # noqa: E402

CELL, THUMB, PAD, LABEL = 300, 56, 12, 22
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
    "classical": ("Beyoncé Ensemble", "Nocturnes, Op. 9", None),
}


def photos() -> dict[str, Image.Image | None]:
    from skimage import data

    def load(array):
        buf = io.BytesIO()
        Image.fromarray(array).save(buf, "JPEG", quality=92)
        return engine.load_photo(buf.getvalue())

    return {"astronaut": load(data.astronaut()), "coffee": load(data.coffee()), "no photo": None}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("bench/out/contact_sheet.png"))
    parser.add_argument("--size", type=int, default=1400)
    parser.add_argument("--genres", default=",".join(engine.GENRES))
    parser.add_argument("--variants", default="artist,background,text")
    args = parser.parse_args()
    genres = [g for g in args.genres.split(",") if g]
    variants = args.variants.split(",")
    sources = photos()
    columns = [(name, v) for name in sources for v in variants]
    cell_w = CELL + PAD + THUMB + PAD
    sheet = Image.new("RGB", (LABEL * 5 + len(columns) * cell_w, LABEL * 2 + len(genres) * (CELL + PAD)), "#202020")
    draw = ImageDraw.Draw(sheet)
    for col, (name, variant) in enumerate(columns):
        draw.text((LABEL * 5 + col * cell_w, 4), f"{name} / {variant}", fill="#dddddd")
    started, count = time.monotonic(), 0
    for row, genre in enumerate(genres):
        artist, album, feature = SAMPLES.get(genre, ("NOVA", "STILL STANDING", None))
        y = LABEL * 2 + row * (CELL + PAD)
        draw.text((4, y + CELL // 2), genre, fill="#dddddd")
        for col, (name, variant) in enumerate(columns):
            spec = engine.CoverSpec(genre=genre, artist=artist, album=album, feature=feature, variant=variant,
                                    size=args.size, seed=11 + col, output_format="jpeg", photo=sources[name],
                                    explicit=(genre == "hiphop" and variant == "artist"))
            cover = Image.open(io.BytesIO(engine.render(spec).data)).convert("RGB")
            count += 1
            x = LABEL * 5 + col * cell_w
            sheet.paste(cover.resize((CELL, CELL), Image.LANCZOS), (x, y))
            sheet.paste(cover.resize((THUMB, THUMB), Image.LANCZOS), (x + CELL + PAD, y))
        print(f"{genre}: done ({time.monotonic() - started:.1f}s)", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"{args.out}: {count} covers in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
