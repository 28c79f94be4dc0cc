"""Fan-out: how long one task of three 3000 px covers takes from submit to its end with 1, 2, ... render workers.

Each run uses a fresh SQLite database and Redis db 7 (or --redis), starts N `rqworker render` processes and
waits until they are idle, then submits --tasks tasks through the API one at a time, each when the one before has
ended (the astronaut portrait as the photo), and times each from its creation to its end. Prints the median and
p90 latency of a task on an idle fleet per worker count, and the ratio to one worker.

    .venv/bin/python bench/fanout.py [--workers 1,2] [--tasks 3] [--format jpeg] [--pin] [--verbose]

On one machine the workers share its cores, and a render already uses more than one, so the gain is small there;
--pin gives each worker one core of its own, the way separate machines would have.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def run(workers: int, tasks: int, output_format: str, redis_url: str, verbose: bool = False,
        pin: bool = False) -> list[float]:
    db = Path(tempfile.mkdtemp(prefix="albumart-fanout-")) / "bench.sqlite3"
    env = {**os.environ, "ALBUMART_TESTING": "1", "DATABASE_URL": f"sqlite:///{db}", "REDIS_URL": redis_url,
           "MEDIA_ROOT": str(db.parent / "media"), "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = f"""
import base64, io, json, django
django.setup()
import django_rq
from PIL import Image
from skimage import data
from rest_framework.test import APIClient
from accounts.models import ApiKey, Organization
from billing import ledger
from generation.models import CoverTask
import time
from rq import Worker
queue = django_rq.get_queue("render")
while len(Worker.all(queue=queue)) < {workers}:
    time.sleep(0.2)
time.sleep(2)  # their first job imports nothing
org = Organization.objects.create(name="Bench Records")
ledger.grant(org, 1000, note="bench")
_, key = ApiKey.create(org)
client = APIClient()
client.credentials(HTTP_AUTHORIZATION="Bearer " + key)
buf = io.BytesIO()
Image.fromarray(data.astronaut()).resize((1536, 1536)).save(buf, "JPEG", quality=90)
photo = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
for i in range({tasks}):
    r = client.post("/api/v1/cover/generate", {{"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL",
                    "seed": i, "count": 3, "output_format": "{output_format}", "source_image": photo}},
                    format="json", HTTP_HOST="localhost")
    assert r.status_code == 200, r.content
    while CoverTask.objects.filter(status__in=["PENDING", "GENERATING"]).exists():
        time.sleep(0.1)
"""
    env_py = {**env, "DJANGO_SETTINGS_MODULE": "albumart.settings"}
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    def machine(i):  # --pin: worker i alone on core i, as if each worker were a one-core machine
        return (lambda: os.sched_setaffinity(0, {i % os.cpu_count()})) if pin else None

    procs = [subprocess.Popen([sys.executable, "manage.py", "rqworker", "render"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=machine(i))
             for i in range(workers)]
    try:
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env_py, check=True)
        out = subprocess.run([sys.executable, "-c", """
import sys, time, django
django.setup()
from generation.models import CoverTask
while CoverTask.objects.filter(status__in=["PENDING", "GENERATING"]).exists():
    time.sleep(0.2)
for t in CoverTask.objects.all():
    assert t.status in ("SUCCESS", "PARTIAL", "REVIEW"), t.status
    print(*("%.2f" % (i.created_at.timestamp() - t.created_at.timestamp()) for i in t.images.order_by("created_at")),
          "started %.2f" % (t.started_at.timestamp() - t.created_at.timestamp()), sep=" ", end=" #\\n")
    print((t.completed_at or t.images.latest("created_at").created_at).timestamp() - t.created_at.timestamp())
"""], cwd=ROOT, env=env_py, check=True, capture_output=True, text=True, timeout=3600).stdout
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    lines = out.splitlines()
    for line in lines:
        if line.endswith("#") and verbose:
            print("  covers stored at", line[:-1])
    return [float(line) for line in lines if not line.endswith("#")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--format", default="jpeg", choices=("jpeg", "png"))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--verbose", action="store_true", help="when each task started and each cover was stored")
    parser.add_argument("--pin", action="store_true", help="each worker on its own core (one-core machines)")
    args = parser.parse_args()
    base = None
    print(f"{args.tasks} task(s) of 3 covers at 3000 px, {args.format}, photo 1536 px, one at a time on an idle fleet")
    for workers in (int(w) for w in args.workers.split(",")):
        started = time.monotonic()
        latencies = run(workers, args.tasks, args.format, args.redis, args.verbose, args.pin)
        wall = time.monotonic() - started
        median = statistics.median(latencies)
        base = base or median
        print(f"workers={workers}: task latency median {median:.2f} s, p90 {percentile(latencies, 0.9):.2f} s, "
              f"ratio to 1 worker {median / base:.2f} (run {wall:.0f} s incl. setup)")


if __name__ == "__main__":
    main()
