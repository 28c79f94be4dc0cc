"""Time one cover per genre on one core against the bare encode of the same pixels (the floor); prints ratios.

    .venv/bin/python bench/engine.py [--size 3000] [--repeat 3]
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


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def encode_floor(image: Image.Image, fmt: str, quality: int) -> float:
    def run():
        buf = io.BytesIO()
        if fmt == "jpeg":
            image.save(buf, "JPEG", quality=quality)
        else:
            image.save(buf, "PNG", compress_level=1)
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from skimage import data

    photo = engine.load_photo(_jpeg(data.astronaut()))
    print(f"{'genre':<10} {'fmt':<5} {'render s':>9} {'floor s':>8} {'ratio':>6} {'MB':>6}")
    ratios = {"png": [], "jpeg": []}
    for genre in engine.GENRES:
        for fmt in ("jpeg", "png"):
            spec = engine.CoverSpec(genre=genre, artist="NOVA", album="STILL STANDING", variant="artist",
                                    size=args.size, seed=7, output_format=fmt, photo=photo)
            engine.render(spec)  # warm caches (fonts, plates)
            render_s = best_of(lambda spec=spec: engine.render(spec), args.repeat)
            result = engine.render(spec)
            pixels = Image.open(io.BytesIO(result.data)).convert("RGB")
            floor_s = best_of(encode_floor(pixels, fmt, spec.jpeg_quality), args.repeat)
            ratios[fmt].append(render_s / floor_s)
            print(f"{genre:<10} {fmt:<5} {render_s:9.3f} {floor_s:8.3f} {render_s / floor_s:6.2f} "
                  f"{len(result.data) / 1e6:6.2f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for fmt, values in ratios.items():
        print(f"median ratio {fmt}: {statistics.median(values):.2f}x the bare encode")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")


def _jpeg(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=92)
    return buf.getvalue()


if __name__ == "__main__":
    main()
