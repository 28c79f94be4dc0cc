"""How different the covers of one request are: across seeds, and across the variants of one task.

Seed spread: the mean pairwise 64-bit pHash distance (bits, as the Sentinel's reuse check measures it) between
the covers of one request (genre, photo, variant) over 4 seeds, averaged over the photos and variants, per
genre. Variant spread: the mean pairwise distance between the artist, background and text covers of one task
(one seed). Targets: seed spread >= 24 bits, variant spread >= 26 bits. Random pairs of unrelated images sit
near 32.

    .venv/bin/python bench/diversity.py [--size 1400] [--photos halfbody_portrait,couple,lowres_480p,none]
        [--genres hiphop,edm] [--seeds 4]
"""

import argparse
import io
import statistics
import sys
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from contact_sheet import development_set, prepared, spec  # noqa: E402
from PIL import Image  # noqa: E402

from generation import engine  # noqa: E402
from generation.engine.sentinel import distance, phash  # noqa: E402

VARIANTS = ("artist", "background", "text")


def cover_hash(result) -> str:
    grey = np.asarray(Image.open(io.BytesIO(result.data)).convert("L"))
    return phash(grey)


def mean_pairwise(hashes: list[str]) -> float:
    return statistics.mean(distance(a, b) for a, b in combinations(hashes, 2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1400)
    parser.add_argument("--photos", default="halfbody_portrait,couple,group,lowres_480p,portrait_tight,none")
    parser.add_argument("--genres", default=",".join(engine.GENRES))
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--base-seed", type=int, default=100)
    args = parser.parse_args()
    photos = development_set([n for n in args.photos.split(",") if n])
    ready = {name: prepared(image) for name, image in photos.items()}
    seeds = [args.base_seed + 17 * i for i in range(args.seeds)]
    started = time.perf_counter()
    seed_all, variant_all = [], []
    print(f"{'genre':<10} {'seed spread':>12} {'variant spread':>15}   (bits of 64; {len(photos)} photos, "
          f"{len(seeds)} seeds)")
    for genre in [g for g in args.genres.split(",") if g]:
        hashes = {}
        for name, image in photos.items():
            for variant in VARIANTS:
                for seed in seeds:
                    result = engine.render(spec(genre, variant, seed, args.size, image), ready[name])
                    hashes[name, variant, seed] = cover_hash(result)
        seed_spread = statistics.mean(mean_pairwise([hashes[n, v, s] for s in seeds])
                                      for n in photos for v in VARIANTS)
        variant_spread = statistics.mean(mean_pairwise([hashes[n, v, s] for v in VARIANTS])
                                         for n in photos for s in seeds)
        seed_all.append(seed_spread)
        variant_all.append(variant_spread)
        print(f"{genre:<10} {seed_spread:>12.1f} {variant_spread:>15.1f}", flush=True)
    print(f"{'all':<10} {statistics.mean(seed_all):>12.1f} {statistics.mean(variant_all):>15.1f}   "
          f"(targets 24 and 26; {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
