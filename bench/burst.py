"""Burst: one API key sends --requests generate requests spread evenly over --seconds; how many the rate limit lets
through, how many are 429, and the RateLimit-* and Retry-After fields seen along the way.

Starts the API under gunicorn (`-w 2 -k gthread --threads 4`: the limit must hold across processes) on a fresh
PostgreSQL database (albumart_burst_<pid>, dropped at the end) and a Redis db of its own (--redis, flushed at the
start and the end), with no render workers, through bench/latency.py's Service. The limits are set explicitly to
the production defaults (20 generate and 100 other requests per 10 s; the test settings that Service uses would
raise them out of reach). The requests are valid generate requests (count 1, no photo, no callback) that create
tasks and queue render jobs, as a client's burst would; they are sent on schedule (request i at i / rate) by a
pool of threads so that a slow answer does not delay the next one. At the end it waits for the last 429's
Retry-After and sends one more generate, which must be accepted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/burst.py \\
        [--requests 300] [--seconds 10] [--limit 20] [--window 10] [--redis redis://127.0.0.1:6379/8]
"""

import argparse
import itertools
import os
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency import Service, is_postgres  # noqa: E402
from load import Client, Endpoint, paced  # noqa: E402

FIELDS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", "Retry-After")
BODY = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": 1, "output_format": "jpeg"}


def burst(port: int, endpoint: Endpoint, total: int, seconds: float, threads: int) -> list[dict]:
    """Request i is due at start + i * seconds / total; each record has its due, sent and answered offsets."""
    def job(client: Client, i: int, due: float, sent: float) -> dict:
        status, headers, body = client.exchange(endpoint.method, endpoint.path, endpoint.payload(i), endpoint.headers)
        return {"i": i, "due": due, "sent": sent, "done": time.perf_counter(), "status": status,
                "fields": {name: headers[name] for name in FIELDS if headers.get(name) is not None},
                "body": body.decode(errors="replace")}

    results, start = paced(port, 30.0, total, seconds / total, threads, job)
    return [{**r, **{k: r[k] - start for k in ("due", "sent", "done")}} for r in results if r is not None]


def describe(r: dict) -> str:
    fields = "  ".join(f"{k}: {v}" for k, v in r["fields"].items()) or "(no RateLimit fields)"
    return f"  #{r['i'] + 1:<4} sent at {r['sent']:6.3f} s  HTTP {r['status']}  {fields}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0, help="the burst is spread evenly over this long")
    parser.add_argument("--limit", type=int, default=20, help="RATE_LIMIT_GENERATE (the production default)")
    parser.add_argument("--read-limit", type=int, default=100, help="RATE_LIMIT_READ (the production default)")
    parser.add_argument("--window", type=int, default=10, help="RATE_LIMIT_WINDOW_SECONDS (the production default)")
    parser.add_argument("--senders", type=int, default=8, help="client threads, each with its own connection")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/8", help="a Redis db of its own: it is flushed")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="the PostgreSQL server (a fresh database is made on it); required")
    args = parser.parse_args()
    if urlsplit(args.redis).path in ("", "/", "/0"):
        raise SystemExit("--redis must name a db of its own (it is flushed), not db 0")
    if not is_postgres(args.database_url):
        raise SystemExit("set DATABASE_URL (or --database-url) to a PostgreSQL server, "
                         "e.g. postgres://postgres@127.0.0.1:5432/postgres")

    service = Service(args.redis, args.database_url, label="burst")
    service.env.update(RATE_LIMIT_GENERATE=str(args.limit), RATE_LIMIT_READ=str(args.read_limit),
                       RATE_LIMIT_WINDOW_SECONDS=str(args.window))
    try:
        service.redis().flushdb()
        service.create_database()
        key, _ = service.create_org(args.requests + 10)
        gunicorn = ["-w", str(args.gunicorn_workers), "-k", "gthread", "--threads", str(args.threads)]
        service.start_gunicorn(gunicorn)
        # Warm every worker up with reads: they count in the read bucket, not in the generate one measured here.
        burst(service.port, Endpoint("read", "GET", "/api/v1/webhooks/secret", key), 2 * args.gunicorn_workers,
              0.5, args.gunicorn_workers)
        generate = Endpoint("generate", "POST", "/api/v1/cover/generate", key, body=BODY)
        print(f"gunicorn {' '.join(gunicorn)}, {service.database_label}, Redis {args.redis}, no render workers")
        print(f"limits: RATE_LIMIT_GENERATE={args.limit} RATE_LIMIT_READ={args.read_limit} "
              f"RATE_LIMIT_WINDOW_SECONDS={args.window}")
        print(f"burst: {args.requests} valid POST /api/v1/cover/generate (count 1) from one key over "
              f"{args.seconds:.0f} s ({args.requests / args.seconds:.0f}/s), {args.senders} client threads\n")

        results = burst(service.port, generate, args.requests, args.seconds, args.senders)
        statuses = Counter(r["status"] for r in results)
        accepted = [r for r in results if r["status"] == 200]
        refused = [r for r in results if r["status"] == 429]
        print(f"sent {len(results)} in {max(r['done'] for r in results):.2f} s: {len(accepted)} accepted (200), "
              f"{len(refused)} rate limited (429)"
              + "".join(f", {n} HTTP {s}" for s, n in sorted(statuses.items()) if s not in (200, 429)))
        if accepted:
            print(f"accepted requests sent between {accepted[0]['sent']:.3f} s and {accepted[-1]['sent']:.3f} s: "
                  + ", ".join(f"#{r['i'] + 1}" for r in accepted))

        # Samples in send order: the first ones, those around the limit, each new window's first, the last ones.
        around = set(range(max(0, args.limit - 2), min(len(results), args.limit + 2)))
        new_windows = {r["i"] for prev, r in itertools.pairwise(results) if prev["status"] == 429
                       and r["status"] == 200}
        shown = sorted({0, 1, 2, *around, *new_windows, len(results) - 2, len(results) - 1})
        print("\nheaders seen (in send order):")
        previous = -1
        for i in shown:
            if i != previous + 1:
                print("  ...")
            print(describe(results[i]))
            previous = i

        if refused:
            print(f"\nthe first 429's body: {refused[0]['body']}")
        consistent = all(r["fields"].get("Retry-After") == r["fields"].get("RateLimit-Reset")
                         and r["fields"].get("RateLimit-Remaining") == "0" for r in refused)
        print(f"\nevery 429 has Retry-After = RateLimit-Reset and RateLimit-Remaining 0: {consistent}")
        print(f"every answer has the RateLimit fields: {all('RateLimit-Limit' in r['fields'] for r in results)}")

        if refused:
            wait = int(refused[-1]["fields"].get("Retry-After", args.window))
            time.sleep(wait)  # counted from the last 429's answer, which is already in the past
            after = burst(service.port, generate, 1, 0.0, 1)[0]
            print(f"after waiting the last 429's Retry-After ({wait} s), one more generate:")
            print(describe(after))
    finally:
        service.close()


if __name__ == "__main__":
    sys.exit(main())
