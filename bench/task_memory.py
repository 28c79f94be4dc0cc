"""Peak memory of one render job's covers in a fresh process, the way an RQ work horse runs them.

Loads a photo the size a phone takes (the astronaut portrait enlarged to 3024 x 4032, or --side), renders the
artist, background and text variants of one task at 3000 px (the photo prepared once) and prints the resident
memory after each cover and the peak.

    .venv/bin/python bench/task_memory.py [--format jpeg] [--genre hiphop]
"""

import argparse
import io
import os
import resource
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
from PIL import Image  # noqa: E402

cv2.setNumThreads(1)


def rss_mb() -> tuple[int, int]:
    with open("/proc/self/status") as status:
        current = int(status.read().split("VmRSS:")[1].split()[0]) // 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--format", default="jpeg", choices=("jpeg", "png"))
    parser.add_argument("--genre", default="hiphop")
    parser.add_argument("--width", type=int, default=3024)
    parser.add_argument("--height", type=int, default=4032)
    args = parser.parse_args()
    from skimage import data

    from generation import engine

    print(f"after imports: {rss_mb()[0]} MB")
    photo = cv2.resize(data.astronaut(), (args.width, args.height), interpolation=cv2.INTER_CUBIC)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=92)
    del photo
    loaded = engine.load_photo(buf.getvalue())
    print(f"photo {args.width}x{args.height} loaded: {rss_mb()[0]} MB")
    models = str(Path(__file__).resolve().parent.parent / "var" / "models")
    prepared = engine.prepare_photo(loaded, model_dir=models)
    print(f"photo prepared (faces, mask, gate): {rss_mb()[0]} MB")
    for variant in ("artist", "background", "text"):
        engine.render(engine.CoverSpec(genre=args.genre, artist="NOVA", album="STILL STANDING", variant=variant,
                                       size=3000, seed=7, output_format=args.format, photo=loaded,
                                       model_dir=models), prepared)
        current, peak = rss_mb()
        print(f"{variant:<10} resident {current} MB, peak so far {peak} MB")
    print(f"peak memory (max RSS): {rss_mb()[1]} MB")


if __name__ == "__main__":
    main()
