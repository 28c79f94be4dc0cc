"""Load: the generate endpoint at fixed arrival rates against gunicorn and PostgreSQL, beside an authenticated bare GET.

Starts the API under gunicorn (`-w 4 -k gthread --threads 4` by default) on a fresh PostgreSQL database
(albumart_load_<pid> on the server DATABASE_URL or --database-url names, dropped at the end) and Redis db 7
(--redis, flushed at the start and the end), with no render workers: the queued render jobs just accumulate.
One organisation with 1,000,000 credits and one API key.

Open loop, per rate of --rates for --seconds each: requests are scheduled at fixed times (i / rate) and sent by
a pool of threads (each with its own keep-alive connection, http.client); every latency is measured from the
scheduled send time, so a server (or a client) that falls behind shows up in the latency instead of silently
lowering the rate (no coordinated omission). First the bare GET (--get-path, default /api/v1/webhooks/secret:
API key auth, one organisation read, a tiny JSON answer), then POST /api/v1/cover/generate (count 1, no photo,
no callback). Per rate: p50, p99, the error share (non-2xx or exceptions), how late the client sent (its own
lag, which should stay near zero) and the client's CPU use. A rate the server cannot keep up with is cut off
3 x --seconds + --timeout after its start; the requests still unsent then count as errors ("Unsent").

Closed loop: --clients concurrent clients sending back to back for --closed-seconds, for each endpoint; the
throughput ratio generate/GET is printed, and so is the ratio of the open-loop capacities (the highest tested rate
each endpoint sustains with p99 <= 100 ms and no errors). Targets: generate p99 <= 100 ms at 200 req/s on
2 cores, and generate throughput >= 50% of the bare GET's.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/load.py [--rates 50,100,200] [--seconds 10] [--clients 16] [--closed-seconds 5] \\
        [--gunicorn-workers 4] [--threads 4] [--get-path /api/v1/webhooks/secret] [--redis redis://127.0.0.1:6379/7]

bench/latency.py uses the same Redis db by default and flushes it too: don't run the two at once.
The load generator runs in this process on the same machine as the server, so it takes CPU from it: its share
is printed beside each result.
"""

import argparse
import http.client
import itertools
import json
import os
import select
import sys
import threading
import time
from urllib.parse import urlsplit

from latency import Service, percentile

P99_TARGET_MS = 100.0
TARGET_RATE = 200
THROUGHPUT_TARGET = 0.5


class Client:
    """One keep-alive HTTP/1.1 connection to the API, reopened when the server has closed it."""

    def __init__(self, port: int, timeout: float):
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def _fresh(self) -> http.client.HTTPConnection:
        if self.conn is not None:
            sock = self.conn.sock
            # an idle keep-alive connection that is readable has been closed by the server (gunicorn's keep-alive)
            if sock is None or select.select([sock], [], [], 0)[0]:
                self.conn.close()
                self.conn = None
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.reconnects += 1
        return self.conn

    def send(self, method: str, path: str, body: bytes | None, headers: dict) -> int:
        """The answer's status; raises on a connection error or timeout."""
        return self.exchange(method, path, body, headers)[0]

    def exchange(self, method: str, path: str, body: bytes | None, headers: dict):
        """(status, headers, body) of the answer; raises on a connection error or timeout."""
        for attempt in (0, 1):
            conn = self._fresh()
            reused = conn.sock is not None
            try:
                conn.request(method, path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    conn.close()
                    self.conn = None
                return resp.status, resp.msg, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self.conn = None
                if not reused or attempt:  # only a race with the server closing an idle connection is retried
                    raise
            except Exception:
                conn.close()
                self.conn = None
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class Endpoint:
    def __init__(self, name: str, method: str, path: str, key: str, body=None):
        self.name, self.method, self.path, self.body = name, method, path, body
        self.headers = {"Authorization": f"Bearer {key}"}
        if body is not None:
            self.headers["Content-Type"] = "application/json"

    def payload(self, i: int) -> bytes | None:
        return None if self.body is None else json.dumps({**self.body, "seed": i}).encode()


def _one(client: Client, endpoint: Endpoint, i: int) -> tuple[int | None, str]:
    try:
        return client.send(endpoint.method, endpoint.path, endpoint.payload(i), endpoint.headers), ""
    except Exception as exc:
        return None, f"{exc.__class__.__name__}: {exc}"


def paced(port: int, timeout: float, total: int, interval: float, threads: int, job, *, give_up: float | None = None,
          late=None) -> tuple[list, float]:
    """Request i due at start + i * interval, sent by `threads` threads each with its own keep-alive Client, so
    that a slow answer does not delay the next one: results[i] = job(client, i, due, sent) (perf_counter times).
    With `give_up` (seconds after the start), a request still unsent then is results[i] = late(i, due, now)
    instead, so a server far behind cannot make the run last for ever. Returns (results, start)."""
    results: list = [None] * total
    counter = itertools.count()
    lock = threading.Lock()
    start = time.perf_counter() + 0.3  # every thread is running by then
    deadline = start + give_up if give_up is not None else float("inf")

    def run():
        client = Client(port, timeout)
        try:
            while True:
                with lock:
                    i = next(counter)
                if i >= total:
                    return
                due = start + i * interval
                if (now := time.perf_counter()) > deadline:
                    results[i] = late(i, due, now)
                    continue
                if (delay := due - time.perf_counter()) > 0:
                    time.sleep(delay)
                results[i] = job(client, i, due, time.perf_counter())
        finally:
            client.close()

    pool = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results, start


def open_loop(port: int, endpoint: Endpoint, rate: float, seconds: float, threads: int, timeout: float) -> dict:
    """rate * seconds requests, request i due at start + i / rate; latency counted from the due time.

    A server that falls far behind would make the phase last for ever: the requests not yet sent
    3 * seconds + timeout after the start are counted as errors ("Unsent") instead."""
    def job(client: Client, i: int, due: float, sent: float) -> tuple:
        status, error = _one(client, endpoint, i)
        return time.perf_counter() - due, sent - due, status, error

    def late(i: int, due: float, now: float) -> tuple:
        return now - due, now - due, None, "Unsent: still queued in the client at the deadline"

    cpu = time.process_time()
    results, start = paced(port, timeout, max(1, round(rate * seconds)), 1 / rate, threads, job,
                           give_up=3 * seconds + timeout, late=late)
    wall = time.perf_counter() - start
    return summarise(results, wall, time.process_time() - cpu)


def closed_loop(port: int, endpoint: Endpoint, clients: int, seconds: float, timeout: float) -> dict:
    """`clients` threads sending back to back for `seconds`: the endpoint's throughput at that concurrency."""
    results: list[tuple] = []
    lock = threading.Lock()
    seq = itertools.count(1_000_000)
    start = time.perf_counter() + 0.3
    end = start + seconds

    def run():
        client = Client(port, timeout)
        mine = []
        try:
            delay = start - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            while (sent := time.perf_counter()) < end:
                with lock:
                    i = next(seq)
                status, error = _one(client, endpoint, i)
                mine.append((time.perf_counter() - sent, 0.0, status, error))
        finally:
            client.close()
            with lock:
                results.extend(mine)

    cpu = time.process_time()
    pool = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - start
    return summarise(results, wall, time.process_time() - cpu)


def summarise(results: list, wall: float, cpu: float) -> dict:
    done = [r for r in results if r is not None]
    ok = [r for r in done if r[2] is not None and 200 <= r[2] < 300]
    errors: dict[str, int] = {}
    for r in done:
        if not (r[2] is not None and 200 <= r[2] < 300):
            kind = r[3].split(":")[0] if r[3] else f"HTTP {r[2]}"
            errors[kind] = errors.get(kind, 0) + 1
    lat = [r[0] * 1000 for r in ok] or [float("nan")]
    lag = [r[1] * 1000 for r in done] or [0.0]
    return {
        "sent": len(done), "ok": len(ok), "error_share": (len(done) - len(ok)) / max(1, len(done)),
        "errors": errors, "p50": percentile(lat, 0.5), "p99": percentile(lat, 0.99), "max": max(lat),
        "lag_p99": percentile(lag, 0.99), "throughput": len(ok) / wall, "wall": wall, "client_cpu": cpu / wall,
    }


def line(name: str, s: dict) -> str:
    errors = "" if not s["errors"] else " (" + ", ".join(f"{k} x{v}" for k, v in sorted(s["errors"].items())) + ")"
    return (f"  {name:<8} p50 {s['p50']:7.1f} ms  p99 {s['p99']:7.1f} ms  max {s['max']:7.1f} ms  "
            f"errors {s['error_share'] * 100:5.1f}%{errors}  done {s['ok']}/{s['sent']} in {s['wall']:.1f} s "
            f"({s['throughput']:.0f}/s)  client lag p99 {s['lag_p99']:.1f} ms, client CPU {s['client_cpu']:.0%}")


def sustains(s: dict) -> bool:
    return s["ok"] > 0 and s["error_share"] == 0 and s["p99"] <= P99_TARGET_MS


def count_tasks(service: Service) -> int:
    import psycopg

    with psycopg.connect(service.database_url) as conn:
        return conn.execute("SELECT count(*) FROM generation_covertask").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,200", help="arrival rates in requests per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per rate and endpoint")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--senders", type=int, default=64, help="client threads of the open-loop generator")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients of the closed loop")
    parser.add_argument("--closed-seconds", type=float, default=5.0, help="seconds of closed loop per endpoint")
    parser.add_argument("--get-path", default="/api/v1/webhooks/secret", help="the authenticated bare GET")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a request counts as failed")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7", help="a Redis db of its own: it is flushed")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="the PostgreSQL server (a fresh database is made on it); required")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    if urlsplit(args.redis).path in ("", "/", "/0"):
        raise SystemExit("--redis must name a db of its own (it is flushed), not db 0")
    if not args.database_url or urlsplit(args.database_url).scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit("set DATABASE_URL (or --database-url) to a PostgreSQL server, "
                         "e.g. postgres://postgres@127.0.0.1:5432/postgres")

    service = Service(args.redis, args.database_url, label="load")
    try:
        service.redis().flushdb()
        service.create_database()
        key, _ = service.create_org(1_000_000)
        gunicorn = ["-w", str(args.gunicorn_workers), "-k", "gthread", "--threads", str(args.threads)]
        service.start_gunicorn(gunicorn)
        get = Endpoint("GET", "GET", args.get_path, key)
        generate = Endpoint("generate", "POST", "/api/v1/cover/generate", key, body={
            "genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": 1,
            "output_format": "jpeg"})
        print(f"gunicorn {' '.join(gunicorn)}, {service.database_label}, Redis {args.redis}, no render workers; "
              f"{os.cpu_count()} cores shared with this load generator")
        print(f"GET = {args.get_path}; generate = POST /api/v1/cover/generate (count 1, no photo, no callback)")
        for endpoint in (get, generate):  # warm-up: every gunicorn worker imports, connects, compiles templates
            closed_loop(service.port, endpoint, args.gunicorn_workers * args.threads, 1.0, args.timeout)

        print(f"\nopen loop, {args.seconds:.0f} s per rate, latency from the scheduled send time:")
        opened: dict[float, dict[str, dict]] = {}
        for rate in rates:
            print(f"rate {rate:.0f} req/s")
            opened[rate] = {}
            for endpoint in (get, generate):
                s = open_loop(service.port, endpoint, rate, args.seconds, args.senders, args.timeout)
                opened[rate][endpoint.name] = s
                print(line(endpoint.name, s), flush=True)
                time.sleep(1)

        print(f"\nclosed loop, {args.clients} clients back to back for {args.closed_seconds:.0f} s:")
        closed = {}
        for endpoint in (get, generate):
            closed[endpoint.name] = s = closed_loop(service.port, endpoint, args.clients, args.closed_seconds,
                                                    args.timeout)
            print(line(endpoint.name, s), flush=True)
            time.sleep(1)

        ok_generates = sum(r["generate"]["ok"] for r in opened.values()) + closed["generate"]["ok"]
        from rq import Queue

        queued = Queue("render", connection=service.redis()).count
        print(f"\ncheck: {count_tasks(service)} tasks stored, {ok_generates} generates answered 2xx "
              f"(+ warm-up), {queued} render jobs queued")

        print("\nsummary:")
        capacity = {name: max([r for r in rates if sustains(opened[r][name])], default=0.0)
                    for name in ("GET", "generate")}
        for name in ("GET", "generate"):
            print(f"  {name}: sustains up to {capacity[name]:.0f} req/s of the tested rates "
                  f"(p99 <= {P99_TARGET_MS:.0f} ms, no errors); closed-loop throughput "
                  f"{closed[name]['throughput']:.0f} req/s")
        if capacity["GET"]:
            print(f"  open-loop capacity ratio generate/GET: {capacity['generate'] / capacity['GET']:.2f} "
                  f"(bounded by the tested rates)")
        else:
            print("  open-loop capacity ratio generate/GET: n/a (GET sustains none of the tested rates)")
        ratio = closed["generate"]["throughput"] / max(closed["GET"]["throughput"], 1e-9)
        print(f"  closed-loop throughput ratio generate/GET: {ratio:.2f}")

        print("targets:")
        if TARGET_RATE in rates:
            s = opened[TARGET_RATE]["generate"]
            verdict = "PASS" if sustains(s) else "FAIL"
            print(f"  generate p99 <= {P99_TARGET_MS:.0f} ms at {TARGET_RATE} req/s (no errors) on "
                  f"{os.cpu_count()} cores: p99 {s['p99']:.1f} ms, errors {s['error_share'] * 100:.1f}% {verdict}")
        else:
            print(f"  generate p99 <= {P99_TARGET_MS:.0f} ms at {TARGET_RATE} req/s: not measured "
                  f"(add {TARGET_RATE} to --rates)")
        print(f"  generate throughput >= {THROUGHPUT_TARGET:.0%} of the bare GET's (closed loop): {ratio:.0%} "
              f"{'PASS' if ratio >= THROUGHPUT_TARGET else 'FAIL'}")
    finally:
        service.close()


if __name__ == "__main__":
    sys.exit(main())
