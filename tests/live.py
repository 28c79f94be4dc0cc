"""Real moving parts for end-to-end tests: an RQ worker process and a local callback receiver."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import django_rq
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    host, port = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


def empty_queues() -> None:
    for name in ("render", "callbacks"):
        queue = django_rq.get_queue(name)
        queue.empty()
        for registry in (queue.scheduled_job_registry, queue.failed_job_registry, queue.started_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)


class Worker:
    """`manage.py rqworker render callbacks --with-scheduler` in its own process, on the test database."""

    def __init__(self, public_base_url: str, extra_env: dict | None = None,
                 command: tuple[str, ...] = ("rqworker", "render", "callbacks", "--with-scheduler")):
        self.command = list(command)
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PUBLIC_BASE_URL": public_base_url,
            "SECRET_KEY": settings.SECRET_KEY,
            "API_KEY_PEPPERS": ",".join(f"{k}:{v.decode()}" for k, v in settings.API_KEY_PEPPERS.items()),
            "ALLOW_PRIVATE_CALLBACKS": "1",
            "CALLBACK_RETRY_SCHEDULE": "1,1,1",
            "ALBUMART_TESTING": "1",
            "WORKER_WARM_UP": "0",  # ~10 s a start; tests/drills/test_worker.py covers it
            **(extra_env or {}),
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", *self.command],
            # A file, not a pipe: a pipe nobody reads until the end fills, and a worker blocked on its log never
            # stops.
            cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() takes any children with it
        )
        return self

    def stop(self) -> str:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.proc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # children left behind would hold the pipe open
        if not self.proc:
            return ""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def child_pids(self) -> set[int]:
        import psutil

        return {child.pid for child in psutil.Process(self.proc.pid).children()}

    def settled_child_pids(self, quiet: float = 1.0, timeout: float = 30.0) -> set[int]:
        """The worker's children once the set is non-empty and unchanged for `quiet` seconds: its scheduler,
        without the short-lived helpers its imports run at start (`file -b` from platform.architecture())."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            now = self.child_pids()
            if now != last:
                last, since = now, time.monotonic()
            elif now and time.monotonic() - since >= quiet:
                return now
            time.sleep(0.05)
        raise AssertionError(f"the worker's children did not settle within {timeout}s (last seen: {last})")


class Receiver:
    """An HTTP server on 127.0.0.1 that records callbacks and answers with the next status in `answers`."""

    def __init__(self, answers: list[int] | None = None):
        self.calls: list[dict] = []
        self.answers = list(answers or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                                       "at": time.monotonic()})
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()

    def json(self, i: int) -> dict:
        return json.loads(self.calls[i]["body"])


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Trickle:
    """A server that answers any request 200 with a long Content-Length and then one byte every `every` seconds
    (a slow-loris receiver or photo host)."""

    def __init__(self, every: float = 0.4):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.every, self.closed = every, threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not self.closed.is_set():
                conn.sendall(b"x")
                time.sleep(self.every)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.closed.set()
        self.sock.close()
