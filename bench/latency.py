"""Latency: one generate request of 3 covers, from submit to its signed callback, with 1 and 2 render workers.

The whole service runs as in production: the API under gunicorn (`-w 2`), N `manage.py rqworker render`
processes and one `manage.py rqworker callbacks` process, on a fresh database (PostgreSQL when DATABASE_URL or
--database-url names a server: a new database albumart_bench_<pid>, dropped at the end; otherwise a fresh SQLite
file) and Redis db 7 (--redis, flushed at the start and the end). A small threaded http.server in this process
receives the callbacks and checks their Standard Webhooks signature with the organisation's secret.

For each worker count it waits until every worker has registered with Redis, sends one warm-up request (not
counted), then --requests generate requests one at a time, each as soon as the previous one's callback arrived,
and times each from just before the POST to the callback's arrival. Prints p50 and p90 per worker count, the
ratio to the first worker count, and the targets: JPEG p50 <= 1.2 s and p90 <= 2.0 s with 2 workers, PNG
p50 <= 2.0 s with 2 workers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/latency.py [--workers 1,2] [--requests 12] [--format jpeg|png] \\
        [--photo portrait|none] [--redis redis://127.0.0.1:6379/7] [--verbose]

bench/load.py imports the service harness (Service) and percentile() from here.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

TARGETS = {"jpeg": {"p50": 1.2, "p90": 2.0}, "png": {"p50": 2.0}}  # seconds, with 2 render workers


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_postgres(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("postgres", "postgresql", "pgsql")


def _on_sigterm(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")  # so that the finally blocks stop every process we started


class Service:
    """A fresh database and Redis db, the API under gunicorn and rqworker processes; close() undoes all of it.

    Every process runs in its own process group, and close() signals the whole group (gunicorn's and rq's
    children included): SIGTERM, then SIGKILL after a grace period.
    """

    def __init__(self, redis_url: str, database_url: str | None, label: str = "bench"):
        self.redis_url = redis_url
        self.server_url = database_url if is_postgres(database_url) else None
        self.tmp = Path(tempfile.mkdtemp(prefix=f"albumart-{label}-"))
        self.procs: dict[str, subprocess.Popen] = {}
        self.db_name = f"albumart_{label}_{os.getpid()}"
        self.db_created = False
        self.port = free_port()
        if self.server_url:
            self.database_url = urlunsplit(urlsplit(self.server_url)._replace(path="/" + self.db_name))
        else:
            self.database_url = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        self.env = {
            **os.environ, "ALBUMART_TESTING": "1", "DATABASE_URL": self.database_url, "REDIS_URL": redis_url,
            "MEDIA_ROOT": str(self.tmp / "media"), "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "ALLOW_PRIVATE_CALLBACKS": "1", "DJANGO_SETTINGS_MODULE": "albumart.settings",
        }
        self.env.pop("DEBUG", None)  # production behaviour: no debug toolbar of errors, no dev receiver
        signal.signal(signal.SIGTERM, _on_sigterm)

    @property
    def database_label(self) -> str:
        return f"PostgreSQL {self.db_name} (fresh)" if self.server_url else "SQLite (fresh file)"

    def redis(self):
        import redis

        return redis.Redis.from_url(self.redis_url)

    # --- the database, the organisation

    def create_database(self) -> None:
        if self.server_url:
            import psycopg

            with psycopg.connect(self.server_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}"')
                conn.execute(f'CREATE DATABASE "{self.db_name}"')
            self.db_created = True
        self.run_python_file("manage.py", "migrate", "-v0")

    def drop_database(self) -> None:
        if self.server_url and self.db_created:
            import psycopg

            with psycopg.connect(self.server_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            self.db_created = False

    def run_python_file(self, *args: str) -> str:
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        return done.stdout

    def django(self, code: str) -> dict:
        """Run `code` after django.setup() in a fresh process; it sets `result`, which comes back as JSON."""
        script = "import json, django\ndjango.setup()\nresult = None\n" + code + \
            "\nprint('@@' + json.dumps(result))\n"
        out = self.run_python_file("-c", script)
        return json.loads(next(line[2:] for line in reversed(out.splitlines()) if line.startswith("@@")))

    def create_org(self, credits: int, name: str = "Bench Records") -> tuple[str, str]:
        """A new organisation with `credits` credits; returns (API key, webhook secret)."""
        return self.create_orgs(1, credits, name)[0]

    def create_orgs(self, count: int, credits: int, name: str = "Bench Records") -> list[tuple[str, str]]:
        """`count` new organisations with `credits` credits each; [(API key, webhook secret)]."""
        made = self.django(f"""
from accounts.models import ApiKey, Organization
from billing import ledger
result = []
for n in range({count}):
    org = Organization.objects.create(name={name!r} + f" {{n}}")
    ledger.grant(org, {credits}, note="bench")
    _, key = ApiKey.create(org)
    result.append([key, org.webhook_secret])
""")
        return [tuple(pair) for pair in made]

    # --- processes

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "wb") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs[name] = proc
        return proc

    def log_tail(self, name: str, chars: int = 3000) -> str:
        try:
            return (self.tmp / f"{name}.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, name: str, grace: float = 15.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # the group's stragglers (a work horse whose parent is gone)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def start_gunicorn(self, args: list[str]) -> None:
        gunicorn = BIN / "gunicorn"
        if not gunicorn.exists():
            raise SystemExit(f"{gunicorn} not found: install gunicorn into this venv (it is a project dependency)")
        self.spawn("gunicorn", [str(gunicorn), "albumart.wsgi", "-b", f"127.0.0.1:{self.port}", *args])
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.procs["gunicorn"].poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log_tail("gunicorn"))
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz within 90 s:\n" + self.log_tail("gunicorn"))

    def start_workers(self, queue: str, count: int, tag: str = "") -> list[str]:
        """`count` rqworker processes on `queue`, each named; returns once every one has registered in Redis."""
        names = [f"bench-{os.getpid()}-{queue}{tag}-{i}" for i in range(count)]
        for name in names:
            self.spawn(name, [sys.executable, "manage.py", "rqworker", queue, "--with-scheduler", "--name", name])
        self.wait_registered(queue, names)
        return names

    def wait_registered(self, queue: str, names: list[str], timeout: float = 120.0) -> None:
        from rq import Queue, Worker

        conn = self.redis()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            registered = {w.name for w in Worker.all(queue=Queue(queue, connection=conn))}
            if set(names) <= registered:
                return
            for name in names:
                if self.procs[name].poll() is not None:
                    raise RuntimeError(f"worker {name} exited:\n" + self.log_tail(name))
            time.sleep(0.2)
        raise RuntimeError(f"workers {names} did not register on {queue!r} within {timeout:.0f} s")

    def close(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        try:
            self.drop_database()
        except Exception as exc:  # report, go on cleaning
            print(f"could not drop database {self.db_name}: {exc}", file=sys.stderr)
        try:
            self.redis().flushdb()
        except Exception as exc:
            print(f"could not flush {self.redis_url}: {exc}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Receiver:
    """Callbacks on 127.0.0.1: records when each task's callback arrived and whether its signature was valid."""

    def __init__(self):
        self.secrets: list[bytes] = []
        self.arrived: dict[str, dict] = {}
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                at = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.record(at, {k.lower(): v for k, v in self.headers.items()}, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/cb"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def signature_ok(self, headers: dict, body: bytes) -> bool:
        signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
        given = headers.get("webhook-signature", "").split()
        for secret in self.secrets:
            key = base64.b64decode(secret.removeprefix(b"whsec_"))
            expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
            if any(hmac.compare_digest(expected, g) for g in given):
                return True
        return False

    def record(self, at: float, headers: dict, body: bytes) -> None:
        try:
            payload = json.loads(body)
            data = payload.get("data") or {}
            task_id = data.get("taskId")
        except ValueError:
            return
        with self.cond:
            self.arrived.setdefault(task_id, {"at": at, "code": payload.get("code"), "status": data.get("status"),
                                              "signed": self.signature_ok(headers, body)})
            self.cond.notify_all()

    def wait(self, task_id: str, timeout: float) -> dict | None:
        with self.cond:
            self.cond.wait_for(lambda: task_id in self.arrived, timeout=timeout)
            return self.arrived.get(task_id)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def portrait_data_uri() -> str:
    from PIL import Image
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((1536, 1536), Image.LANCZOS).save(buf, "JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def post_json(port: int, path: str, body: dict, key: str, timeout: float = 60.0) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, json.dumps(body).encode(),
                     {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, {"raw": raw[:300].decode(errors="replace")}
    finally:
        conn.close()


def measure(service: Service, receiver: Receiver, keys: list[str], args, photo: str | None, first_seed: int,
            count: int) -> list[dict]:
    """`count` generate requests one at a time, each after the previous callback arrived, each by its own
    organisation (`keys`): every request is another platform's release, so the Sentinel's reused-artwork check
    never compares one with the bench's earlier covers of the same photo."""
    rows = []
    for i in range(count):
        key = keys[i]
        body = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": 3,
                "output_format": args.format, "seed": first_seed + i, "callBackUrl": receiver.url}
        if photo:
            body["source_image"] = photo
        started = time.perf_counter()
        status, answer = post_json(service.port, "/api/v1/cover/generate", body, key)
        submitted = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"generate answered {status}: {answer}")
        task_id = answer["data"]["taskId"]
        got = receiver.wait(task_id, timeout=args.timeout)
        if got is None:
            raise RuntimeError(f"no callback for task {task_id} within {args.timeout:.0f} s")
        row = {"seconds": got["at"] - started, "submit": submitted - started, **got}
        rows.append(row)
        if args.verbose:
            print(f"    seed {first_seed + i}: {row['seconds']:.2f} s (submit {row['submit'] * 1000:.0f} ms), "
                  f"{row['status']}, signature {'ok' if row['signed'] else 'BAD'}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2", help="render worker counts to measure, comma-separated")
    parser.add_argument("--requests", type=int, default=12, help="measured requests per worker count")
    parser.add_argument("--warmup", type=int, default=1, help="requests per worker count before measuring")
    parser.add_argument("--format", default="jpeg", choices=("jpeg", "png"))
    parser.add_argument("--photo", default="portrait", choices=("portrait", "none"),
                        help="portrait: the astronaut at 1536 px as a JPEG data URI; none: background-only")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7", help="a Redis db of its own: it is flushed")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="a PostgreSQL server URL (a fresh database is made on it); else a fresh SQLite file")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for one callback")
    parser.add_argument("--verbose", action="store_true", help="every request's latency")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    if urlsplit(args.redis).path in ("", "/", "/0"):
        raise SystemExit("--redis must name a db of its own (it is flushed), not db 0")

    service = Service(args.redis, args.database_url, label="latency")
    receiver = Receiver()
    try:
        service.redis().flushdb()
        service.create_database()
        photo = portrait_data_uri() if args.photo == "portrait" else None
        service.start_gunicorn(["-w", str(args.gunicorn_workers)])
        service.start_workers("callbacks", 1)
        print(f"{args.requests} request(s) of 3 covers (3000 px, {args.format}), photo "
              f"{'portrait 1536 px' if photo else 'none'}, one at a time, submit -> signed callback; "
              f"gunicorn -w {args.gunicorn_workers}, {service.database_label}, Redis {args.redis}")
        results: dict[int, list[dict]] = {}
        base = None
        for n in counts:
            # a new organisation per request: the Sentinel's reused-artwork check compares with the org's covers
            orgs = service.create_orgs(args.requests + args.warmup, 30, name=f"Bench {n} workers")
            receiver.secrets.extend(secret.encode() for _, secret in orgs)
            keys = [key for key, _ in orgs]
            names = service.start_workers("render", n, tag=f"-n{n}")
            time.sleep(1)
            warm = (measure(service, receiver, keys[:args.warmup], args, photo, 10_000 * n, args.warmup)
                    if args.warmup else [])
            rows = measure(service, receiver, keys[args.warmup:], args, photo, 10_000 * n + args.warmup, args.requests)
            for name in names:
                service.stop(name)
            results[n] = rows
            secs = [r["seconds"] for r in rows]
            p50, p90 = percentile(secs, 0.5), percentile(secs, 0.9)
            base = base or p50
            statuses = {}
            for r in rows:
                statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            signed = sum(r["signed"] for r in rows)
            warm_secs = ", ".join(f"{r['seconds']:.2f}" for r in warm)
            warm_text = f"; warm-up {warm_secs} s" if warm else ""
            print(f"workers={n}: p50 {p50:.2f} s, p90 {p90:.2f} s (min {min(secs):.2f}, max {max(secs):.2f}; "
                  f"submit p50 {percentile([r['submit'] for r in rows], 0.5) * 1000:.0f} ms), "
                  f"p50 ratio to workers={counts[0]}: {p50 / base:.2f}; "
                  f"{', '.join(f'{k} {v}' for k, v in sorted(statuses.items(), key=str))}; "
                  f"signatures valid {signed}/{len(rows)}{warm_text}")
        targets = TARGETS[args.format]
        if 2 in results:
            secs = [r["seconds"] for r in results[2]]
            for name, limit in targets.items():
                value = percentile(secs, int(name[1:]) / 100)
                print(f"target ({args.format}, 2 workers): {name} <= {limit:.1f} s: {value:.2f} s "
                      f"{'PASS' if value <= limit else 'FAIL'}")
        else:
            print(f"targets ({args.format}) are for 2 render workers: "
                  + ", ".join(f"{k} <= {v:.1f} s" for k, v in targets.items()) + " (not measured: add 2 to --workers)")
    finally:
        receiver.close()
        service.close()


if __name__ == "__main__":
    main()
