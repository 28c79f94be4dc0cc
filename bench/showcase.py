"""The README's picture of the covers: a grid of covers from development photos whose licences allow showing them
(NASA's public-domain photos, CC0 photos; see tests/fixtures/photos/SOURCES.md) and one with no photo.

    .venv/bin/python bench/showcase.py [--out docs/covers-sheet.png]
"""

import argparse
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from contact_sheet import development_set, prepared, spec  # noqa: E402
from PIL import Image  # noqa: E402

from generation import engine  # noqa: E402

CELL, PAD = 360, 12
# (photo, genre, variant, seed): one row of artist-forward covers, one of background and text-forward ones.
PICKS = [
    ("full_body_spacesuit", "rock", "artist", 3), ("couple", "indie", "artist", 2),
    ("portrait_tight", "hiphop", "background", 3), ("couple", "pop", "background", 2),
    ("group_posed", "jazz", "text", 1), ("portrait_tight", "metal", "background", 3),
    ("full_body_spacesuit", "edm", "text", 6), ("none", "rnb", "artist", 2),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs/covers-sheet.png"))
    args = parser.parse_args()
    photos = development_set(sorted({p for p, *_ in PICKS}))
    ready = {name: prepared(image) for name, image in photos.items()}
    sheet = Image.new("RGB", (4 * CELL + 5 * PAD, 2 * CELL + 3 * PAD), "#161616")
    for index, (name, genre, variant, seed) in enumerate(PICKS):
        result = engine.render(spec(genre, variant, seed, 3000, photos[name]), ready[name])
        cover = Image.open(io.BytesIO(result.data)).convert("RGB").resize((CELL, CELL), Image.LANCZOS)
        row, col = divmod(index, 4)
        sheet.paste(cover, (PAD + col * (CELL + PAD), PAD + row * (CELL + PAD)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
