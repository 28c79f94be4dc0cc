"""Time the covers of one task per genre on one core against the bare encode of the same pixels (the floor).

A task prepares its photo once (faces, mask, gate: engine.prepare_photo) and renders its variants one after
another on one worker (artist, background, text), each with a new seed per task, the way the render job does;
every cover's time is counted, and the photo's preparation is added to the first cover of each task. Prints
per genre the median cover time, the first cover's, the median floor and the ratio, then the medians over all
genres and the worker's peak memory. The floor of each cover is the median of three bare Pillow encodes of its
own pixels (one for PNG, whose target is absolute), taken right after it; the ratio is the median over the
genre's covers of each cover's time over its own floor, so the machine's drift during a run (seen here as +-20%
from one minute to the next) counts neither for nor against the render.

    .venv/bin/python bench/engine.py [--size 3000] [--tasks 3] [--photo astronaut|phone|none|<photo>]

`astronaut` is scikit-image's 512 px portrait; `phone` the development set's 3500 x 2333 photo; any other name
a photo of tests/fixtures/photos.
"""

import argparse
import io
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

cv2.setNumThreads(1)

from generation import engine  # noqa: E402

VARIANTS = ("artist", "background", "text")
# A new release per task (as on a worker): the text of one task is no help to the next one's caches.
RELEASES = (("NOVA", "STILL STANDING"), ("Layla Moore", "Velvet Hours"), ("Static Saints", "Burn the Quiet"),
            ("Pulse Theory", "Neon Cathedral"), ("The Paper Kites", "Golden Hour Letters"), ("Mia Sky", "Sugar Static"),
            ("IRONVEIL", "Ashes of the Crown"), ("Sigur Rós", "Slow Tides"), ("dreamcatcher", "rainy study tapes"))


def median_of(fn, repeat: int) -> float:
    """The median time of `repeat` runs: the same statistic as the covers' (a best-of floor against a median
    render would count the machine's noise against the render)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def encode_floor(image: Image.Image, fmt: str, quality: int):
    def run():
        buf = io.BytesIO()
        if fmt == "jpeg":
            image.save(buf, "JPEG", quality=quality)
        else:
            image.save(buf, "PNG", compress_level=1)
    return run


PHOTOS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "photos"
MODELS = str(Path(__file__).resolve().parent.parent / "var" / "models")


def photo_for(kind: str):
    from skimage import data

    if kind == "none":
        return None
    if kind == "astronaut":
        return engine.load_photo(_jpeg(data.astronaut()))
    name = "phone_size_3500px" if kind == "phone" else kind
    return engine.load_photo((PHOTOS / f"{name}.jpg").read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--tasks", type=int, default=3, help="tasks per genre and format (new seed each)")
    parser.add_argument("--photo", default="astronaut")
    parser.add_argument("--formats", default="jpeg,png")
    args = parser.parse_args()
    photo = photo_for(args.photo)
    formats = args.formats.split(",")
    print(f"photo: {args.photo}; {args.tasks} tasks x {len(VARIANTS)} variants per genre and format")
    print(f"{'genre':<10} {'fmt':<5} {'cover s':>8} {'first s':>8} {'floor s':>8} {'ratio':>6} {'MB':>6}")
    ratios = {fmt: [] for fmt in formats}
    covers = {fmt: [] for fmt in formats}
    seed = 1000
    for genre in engine.GENRES:
        for fmt in formats:
            def spec(variant, seed, release, fmt=fmt, genre=genre):
                artist, album = release
                return engine.CoverSpec(genre=genre, artist=artist, album=album, variant=variant,
                                        size=args.size, seed=seed, output_format=fmt, photo=photo, model_dir=MODELS)
            engine.render(spec("artist", 1, ("Warm", "Up")))  # warm caches (font files, grain and vignette plates)
            times, firsts, sizes, floors = [], [], [], []
            for _ in range(args.tasks):
                seed += 1
                release = RELEASES[seed % len(RELEASES)]
                t = time.perf_counter()
                prepared = engine.prepare_photo(photo, model_dir=MODELS) if photo is not None else None
                preparation = time.perf_counter() - t
                for index, variant in enumerate(VARIANTS):
                    t = time.perf_counter()
                    result = engine.render(spec(variant, seed, release), prepared)
                    elapsed = time.perf_counter() - t + (preparation if index == 0 else 0.0)
                    times.append(elapsed)
                    sizes.append(len(result.data))
                    if index == 0:
                        firsts.append(elapsed)
                    # The floor of this very cover, right after it: the machine's speed drifts over a run, and a
                    # floor taken minutes away from a cover would count that drift for or against the render.
                    pixels = Image.open(io.BytesIO(result.data)).convert("RGB")
                    floors.append(median_of(encode_floor(pixels, fmt, 92), 3 if fmt == "jpeg" else 1))
                    del pixels, result
            paired = [t / f for t, f in zip(times, floors, strict=True)]
            cover_s, floor_s, ratio = statistics.median(times), statistics.median(floors), statistics.median(paired)
            ratios[fmt].append(ratio)
            covers[fmt].extend(times)
            print(f"{genre:<10} {fmt:<5} {cover_s:8.3f} {statistics.median(firsts):8.3f} {floor_s:8.3f} "
                  f"{ratio:6.2f} {max(sizes) / 1e6:6.2f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for fmt in formats:
        ordered = sorted(covers[fmt])
        print(f"{fmt}: median cover {statistics.median(ordered):.3f} s, p95 {ordered[int(len(ordered) * 0.95)]:.3f} s, "
              f"max {ordered[-1]:.3f} s, median ratio {statistics.median(ratios[fmt]):.2f}x the bare encode")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")


def _jpeg(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=92)
    return buf.getvalue()


if __name__ == "__main__":
    main()
