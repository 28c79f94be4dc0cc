"""Render every genre x variant x photo of the development set (tests/fixtures/photos, plus no photo) and run
the Sentinel on every cover, as a task's job does (the photo prepared once).

Prints the first-attempt pass rate (the share of covers delivered without a regeneration or a staff review),
every cover that did not pass and why, and each check's median time against the median render time. `--turns`
renders every genre once per turn of its palette (each release is printed in one: presets.RELEASE_HUES).

    .venv/bin/python bench/sentinel.py [--size 3000] [--genres hiphop,edm] [--photos couple,none] [--no-ocr] [--turns]
"""

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.contact_sheet import SAMPLES, development_set, prepared  # noqa: E402
from generation import engine  # noqa: E402
from generation.engine import sentinel  # noqa: E402
from generation.engine.presets import RELEASE_HUES  # noqa: E402


def _titles(genre: str, artist: str, album: str) -> list[str]:
    """The album title, then "<title> (Vol. 2)", "(Vol. 3)"... until every turn of the genre's palette is taken."""
    from generation.engine.pipeline import release_hue

    preset = engine.GENRES[genre]
    wanted, titles = {0, *RELEASE_HUES.get(genre, ())}, {}
    for n in range(1, 60):
        title = album if n == 1 else f"{album} (Vol. {n})"
        turn = release_hue(engine.CoverSpec(genre=genre, artist=artist, album=title, size=1400), preset)
        titles.setdefault(turn, title)
        if set(titles) == wanted:
            break
    return [titles[t] for t in sorted(titles)]



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--genres", default=",".join(engine.GENRES))
    parser.add_argument("--variants", default="artist,background,text")
    parser.add_argument("--format", default="png")
    parser.add_argument("--no-ocr", action="store_true")
    parser.add_argument("--photos", default="")
    parser.add_argument("--turns", action="store_true",
                        help="every genre once per turn of its palette (a release title that picks each turn)")
    args = parser.parse_args()
    sources = development_set([n for n in args.photos.split(",") if n] or None)
    ready = {name: prepared(image) for name, image in sources.items()}
    verdicts: Counter = Counter()
    per_check: Counter = Counter()
    render_ms, timings, hashes, lows = [], {}, [], {}
    started = time.monotonic()
    runs = []
    for genre in [g for g in args.genres.split(",") if g]:
        artist, album, feature = SAMPLES.get(genre, ("NOVA", "STILL STANDING", None))
        titles = _titles(genre, artist, album) if args.turns else [album]
        runs += [(genre, artist, title, feature) for title in titles]
    for genre, artist, album, feature in runs:
        for col, (name, variant) in enumerate((n, v) for n in sources for v in args.variants.split(",")):
            spec = engine.CoverSpec(genre=genre, artist=artist, album=album, feature=feature, variant=variant,
                                    size=args.size, seed=11 + col, output_format=args.format, photo=sources[name],
                                    explicit=(genre == "hiphop" and variant == "artist"),
                                    model_dir=str(Path(__file__).resolve().parent.parent / "var" / "models"))
            t0 = time.perf_counter()
            result = engine.render(spec, ready[name])
            render_ms.append((time.perf_counter() - t0) * 1000)
            texts = {"artist": artist, "album": album, "feature": feature}
            qa = sentinel.check(result, result.measurements, requested_size=args.size, texts=texts,
                                ocr=not args.no_ocr)
            hashes.append((f"{genre}/{name}/{variant}", qa["values"]["phash"], qa["values"]["colour_signature"]))
            verdicts[qa["verdict"]] += 1
            for key, ms in qa["timings_ms"].items():
                timings.setdefault(key, []).append(ms)
            bad = {k: v for k, v in qa["checks"].items() if v in ("review", "fail")}
            for k in qa["values"]:
                if k.startswith("legibility") or k in ("sharpness", "pixelation", "border", "focal_ratio", "blank_std"):
                    lows.setdefault(k, []).append(qa["values"][k])
            for k, v in bad.items():
                per_check[(k, v)] += 1
            if bad:
                shown = {k: qa["values"].get(k, qa["values"].get(k + "_ratio")) for k in bad}
                layout = result.measurements.get("composition", {}).get("layout", "")
                print(f"  {genre:10} {name:22} {variant:10} {layout:14} {qa['verdict']:6} {bad} {shown} "
                      f"{qa['values'].get('ocr_read', '')}", flush=True)
    total = sum(verdicts.values())
    print(f"\n{total} covers at {args.size}px in {time.monotonic() - started:.0f}s")
    print(f"first-attempt pass rate: {verdicts['pass'] / total:.1%}  ({dict(verdicts)})")
    print("non-passing checks:", dict(per_check))
    for k, vs in lows.items():
        vs = sorted(vs)
        print(f"  {k:18} min {vs[0]:8.3f}  5th {vs[len(vs) // 20]:8.3f}  median {vs[len(vs) // 2]:8.3f}  "
              f"max {vs[-1]:8.3f}")
    median_render = statistics.median(render_ms)
    print(f"median render: {median_render:.0f} ms")
    for key, values in timings.items():
        med = statistics.median(values)
        print(f"  {key:18} median {med:7.1f} ms  p95 {sorted(values)[int(len(values) * 0.95) - 1]:7.1f} ms  "
              f"= {med / median_render:6.1%} of render")
    flagged = Counter()
    for a in hashes:
        # Reuse is judged across releases: compare with the other genres' covers (another title), not the same one's.
        others = [(b[1], b[2]) for b in hashes if b[0].split("/")[0] != a[0].split("/")[0]]
        verdict, values = sentinel.reuse(int(a[1], 16), a[2], others)
        flagged[verdict] += 1
        if verdict != "pass":
            print("  reuse", verdict, a[0], values)
    print(f"reuse among the set's distinct covers: {dict(flagged)}")


if __name__ == "__main__":
    main()
