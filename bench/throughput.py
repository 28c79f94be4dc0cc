"""Sustained rendering: covers per second that N warmed render workers deliver, QA included, the way jobs run.

Submits --tasks tasks of 3 covers at once (each from its own organisation, so the reused-artwork check never
compares them), starts N `rqworker render` processes (warmed up before they fork, as in production) and counts the
covers stored between the first job's start and the last cover: covers/s, and seconds per cover per worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/throughput.py \
        [--workers 2] [--tasks 12] [--format jpeg] [--photo portrait|none]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency import Service, portrait_data_uri  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=12)
    parser.add_argument("--format", default="jpeg", choices=("jpeg", "png"))
    parser.add_argument("--photo", default="portrait", choices=("portrait", "none"))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    service = Service(args.redis, args.database_url or os.environ.get("DATABASE_URL"), label="throughput")
    try:
        service.redis().flushdb()
        service.create_database()
        photo_file = service.tmp / "photo.txt"  # too long for a command line
        photo_file.write_text(portrait_data_uri() if args.photo == "portrait" else "")
        # Queue every task first (no worker yet), then start the workers: they find a full queue.
        service.django(f"""
from rest_framework.test import APIClient
from accounts.models import ApiKey, Organization
from billing import ledger
photo = open({str(photo_file)!r}).read()
for i in range({args.tasks}):
    org = Organization.objects.create(name=f"Throughput {{i}}")
    ledger.grant(org, 3, note="bench")
    _, key = ApiKey.create(org)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + key)
    body = {{"genre": ["hiphop", "rnb", "electronic", "indie"][i % 4], "text_artist": f"Artist {{i}}",
             "text_album": "Sustained", "count": 3, "seed": i, "output_format": {args.format!r}}}
    if photo:
        body["source_image"] = photo
    r = client.post("/api/v1/cover/generate", body, format="json", HTTP_HOST="localhost")
    assert r.status_code == 200, r.content
""")
        names = service.start_workers("render", args.workers)
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            left = service.django("""
from generation.models import CoverTask
result = CoverTask.objects.filter(status__in=["PENDING", "GENERATING"]).count()
""")
            if not left:
                break
            time.sleep(2)
        stats = service.django("""
from django.db.models import Min, Max
from generation.models import CoverImage, CoverTask
first = CoverTask.objects.aggregate(t=Min("started_at"))["t"]
last = CoverImage.objects.aggregate(t=Max("created_at"))["t"]
result = {"covers": CoverImage.objects.count(), "seconds": (last - first).total_seconds(),
          "renders": sum(i.attempts for i in CoverImage.objects.all()),
          "statuses": sorted(CoverTask.objects.values_list("status", flat=True))}
""")
        for name in names:
            service.stop(name)
    finally:
        service.close()
    covers, seconds = stats["covers"], stats["seconds"]
    rate = covers / seconds
    print(f"{args.tasks} tasks x 3 covers ({args.format}, photo {args.photo}), {args.workers} warmed worker(s): "
          f"{covers} covers ({stats['renders']} renders with QA regenerations) in {seconds:.1f} s = "
          f"{rate:.2f} covers/s, {args.workers / rate:.2f} s per cover per worker")
    statuses = stats["statuses"]
    print("statuses:", ", ".join(f"{s} {statuses.count(s)}" for s in sorted(set(statuses))))
    print(f"target: >= 4 covers/s on 2 cores: {rate:.2f} {'PASS' if rate >= 4 else 'FAIL'}")


if __name__ == "__main__":
    main()
