"""The Sentinel's reuse check against an organisation's delivered covers: the band index against the full scan.

Seeds --covers delivered covers (default 100000, three per task, a real cover's QA record each) for one
organisation into a fresh database (a temporary SQLite file, or with --postgres a new database on that server,
dropped at the end), plus --others covers of another organisation. Then times, for --probes new covers (half of
them a few bits from a delivered one, the rest random), what a render job now does per image: the candidate query
of jobs.known_hashes(task) and sentinel.reuse() on its rows. Prints p50/p90/p99 ms per image and the candidates per
query, checks on every probe that the verdict and values equal those of reuse() over the full list, and times the
old path (load every delivered cover, then the loop as it was before the index) on --brute probes for the ratio.

    .venv/bin/python bench/reuse.py [--covers 100000] [--others 0] [--probes 200] [--brute 10] [--clustered]
                                    [--postgres postgres://postgres@127.0.0.1:5432]

--clustered draws the covers around --covers/50 centres (8-20 bits from their centre) instead of uniformly: an
organisation's covers share layouts, so real hashes are not spread evenly, and the candidate lists grow.
"""

import argparse
import copy
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "albumart_bench_reuse"

# A real cover's QA record (bench: hiphop / text / 1400 px, no OCR): the rows carry its size of JSON.
QA = {
    "passed": True, "verdict": "pass", "score": 1.0,
    "checks": {k: "pass" for k in (
        "square size format rgb srgb dpi alpha bytes border sharpness pixelation blank legibility_56px "
        "legibility_128px legibility_256px legibility_gray legibility_blur ocr_text face_clear cutout_mask "
        "focal_point reuse").split()},
    "values": {"width": 1400, "height": 1400, "min_side": 1400, "format": "PNG", "mode": "RGB",
               "icc_profile": "sRGB built-in", "dpi": 72.01, "bytes": 1922887, "border": 0.0, "border_sides": 0,
               "sharpness": 486.0, "pixelation": 0.0, "blank_std": 64.89, "legibility_56px": 7.65,
               "legibility_128px": 9.19, "legibility_256px": 10.28, "legibility_gray": 10.07,
               "legibility_blur": 5.69, "focal_ratio": 16.96, "phash": "", "colour_signature": "",
               "reuse_distance": 64},
    "timings_ms": {"decode": 98.5, "technical": 0.1, "border": 29.6, "sharpness": 8.1, "pixelation": 7.7,
                   "blank": 1.6, "legibility": 44.2, "ocr": 0.0, "composition": 1.5, "reuse": 103.8,
                   "total": 295.1, "total_without_ocr": 295.1},
    "attempts": [{"seed": 45, "verdict": "pass", "failed": []}],
}


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def near_signature(rng: random.Random, signature: str, spread: int) -> str:
    """A colour signature whose Lab bytes are moved by up to `spread` each (0: the same colours)."""
    raw = bytes.fromhex(signature)
    return bytes(min(255, max(0, b + rng.randint(-spread, spread))) for b in raw).hex()


def flip(rng: random.Random, value: int, bits: int) -> int:
    for b in rng.sample(range(64), bits):
        value ^= 1 << b
    return value


def hashes(rng: random.Random, n: int, clustered: bool) -> list[int]:
    if not clustered:
        return [rng.getrandbits(64) for _ in range(n)]
    centres = [rng.getrandbits(64) for _ in range(max(1, n // 50))]
    return [flip(rng, rng.choice(centres), rng.randint(8, 20)) for _ in range(n)]


def seed(org, values: list[int], rng: random.Random, prefix: str) -> list[tuple[int, str]]:
    """Delivered covers, three per task; returns (pHash, colour signature) of each."""
    from generation.models import CoverImage, CoverTask

    delivered, batch = [], 3000
    for start in range(0, len(values), batch):
        chunk = values[start:start + batch]
        tasks = CoverTask.objects.bulk_create([
            CoverTask(id=f"{prefix}{start // 3 + i:08d}", organization=org, genre="hiphop", params={}, count=3,
                      status="SUCCESS") for i in range((len(chunk) + 2) // 3)])
        rows = []
        for i, value in enumerate(chunk):
            qa = copy.deepcopy(QA)
            signature = rng.randbytes(48).hex()
            qa["values"].update(phash=f"{value:016x}", colour_signature=signature)
            delivered.append((value, signature))
            rows.append(CoverImage(task=tasks[i // 3], organization=org, index=i % 3, variant="text", seed=i,
                                   format="png", width=1400, height=1400, bytes=1922887,
                                   storage_path=f"covers/x/{i}.png", filename="c.png", passed=True, verdict="pass",
                                   phash=f"{value:016x}", qa=qa))
        CoverImage.objects.bulk_create(rows)  # bulk_create does not call save(): the organisation is given
    return delivered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--covers", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=0, help="delivered covers of another organisation")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--brute", type=int, default=10, help="probes timed on the old full-scan path")
    parser.add_argument("--clustered", action="store_true")
    parser.add_argument("--postgres", default="", help="a PostgreSQL server URL; the bench creates its own database")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="albumart-reuse-"))
    if args.postgres:
        import psycopg

        server = args.postgres.rstrip("/")
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            admin.execute(f"CREATE DATABASE {BENCH_DB}")
        url = f"{server}/{BENCH_DB}"
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.update(ALBUMART_TESTING="1", DATABASE_URL=url, ALBUMART_VAR_DIR=str(tmp), MEDIA_ROOT=str(tmp / "media"),
                      LOG_LEVEL="WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "albumart.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Organization
    from generation import jobs
    from generation.engine.sentinel.phash import FOUND_WITHIN, band_keys, reuse
    from generation.models import CoverTask

    try:
        call_command("migrate", verbosity=0)
        rng = random.Random(args.seed)
        org, other = Organization.objects.create(name="Bench Records"), Organization.objects.create(name="Others")
        t0 = time.perf_counter()
        delivered = seed(org, hashes(rng, args.covers, args.clustered), rng, "t")
        if args.others:
            seed(other, hashes(rng, args.others, args.clustered), rng, "o")
        if connection.vendor == "postgresql":  # what autovacuum does after a bulk load (SQLite gets no ANALYZE)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        print(f"{connection.vendor}: seeded {args.covers} delivered covers (+{args.others} of another organisation)"
              f"{' clustered' if args.clustered else ''} in {time.perf_counter() - t0:.1f} s")

        task = CoverTask.objects.create(organization=org, genre="hiphop", params={}, count=1)
        probes = []
        for i in range(args.probes):
            if i % 2:
                probes.append((rng.getrandbits(64), rng.randbytes(48).hex()))
            else:  # near a delivered cover: 0-12 bits away, its colours nearly the same or regraded
                value, signature = rng.choice(delivered)
                probes.append((flip(rng, value, rng.randint(0, 12)), near_signature(rng, signature, rng.choice(
                    (0, 4, 10, 20)))))

        known = jobs.known_hashes(task)
        for value, signature in probes[:5]:  # warm the connection, the caches and the query compiler
            reuse(value, signature, known)
        indexed, candidates, results = [], [], []
        for value, signature in probes:
            t = time.perf_counter()
            results.append(reuse(value, signature, jobs.known_hashes(task)))
            indexed.append((time.perf_counter() - t) * 1000)
            candidates.append(len(known._candidates(band_keys(value))))  # what the index query returned

        everything = list(known)
        mismatches, verdicts = 0, {}
        for (value, signature), got in zip(probes, results, strict=True):
            want = reuse(value, signature, everything)
            verdicts[want[0]] = verdicts.get(want[0], 0) + 1
            exact = want[1]["reuse_distance"] <= FOUND_WITHIN
            if got[0] != want[0] or (exact and got != want):
                mismatches += 1
                print("MISMATCH", f"{value:016x}", got, want)

        from tests.test_reuse_index import old_reuse  # the scan before the index, the test's reference

        old = []
        for value, signature in probes[:args.brute]:
            t = time.perf_counter()
            old_reuse(value, signature, list(jobs.known_hashes(task)))
            old.append((time.perf_counter() - t) * 1000)

        print(f"indexed lookup + reuse(), {len(indexed)} images: p50 {percentile(indexed, .5):.2f} ms, "
              f"p90 {percentile(indexed, .9):.2f} ms, p99 {percentile(indexed, .99):.2f} ms, "
              f"max {max(indexed):.2f} ms; candidates per image: median {statistics.median(candidates):.0f}, "
              f"max {max(candidates)}")
        print(f"verdicts {verdicts}; equal to reuse() over all {len(everything)} covers: "
              f"{len(probes) - mismatches}/{len(probes)}")
        if old:
            print(f"old full scan (load every cover + the old loop), {len(old)} images: median "
                  f"{statistics.median(old):.0f} ms; indexed is {statistics.median(old) / percentile(indexed, .5):.0f}x"
                  f" faster at the median")
        if mismatches:
            sys.exit(1)
    finally:
        connection.close()
        if args.postgres:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        shutil.rmtree(tmp, ignore_errors=True)  # the SQLite file (~250 MB at 100k covers)


if __name__ == "__main__":
    main()
