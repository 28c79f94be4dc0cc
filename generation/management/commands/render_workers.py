import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Run one render worker per core (`rqworker render --with-scheduler` each, warmed up before it forks), "
            "start again any that exits, and stop them all on SIGTERM or SIGINT.")

    def add_arguments(self, parser):
        parser.add_argument("--num", type=int, default=settings.RENDER_WORKERS or os.cpu_count() or 1,
                            help="how many workers (default RENDER_WORKERS, else the number of cores)")

    def handle(self, *args, num: int, **options):
        if num < 1:
            raise SystemExit(f"--num must be at least 1, not {num}")
        command = [sys.executable, os.path.abspath(sys.argv[0]), "rqworker", "render", "--with-scheduler"]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        def start():  # each in its own process group, so that what a dead worker leaves (its scheduler) goes too
            return subprocess.Popen(command, start_new_session=True)

        workers = [start() for _ in range(num)]
        self.stdout.write(f"{num} render worker(s) started: {' '.join(str(p.pid) for p in workers)}")
        self.stdout.flush()
        started = [time.monotonic()] * num
        while not stopping:
            time.sleep(0.5)
            for i, proc in enumerate(workers):
                if proc.poll() is not None and not stopping:
                    # One that keeps dying at start (Redis unreachable, a bad setting) is started at most every 10 s.
                    if time.monotonic() - started[i] < 10:
                        continue
                    self.stderr.write(f"render worker {proc.pid} exited ({proc.returncode}); starting another")
                    self.stderr.flush()
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    workers[i], started[i] = start(), time.monotonic()
        for proc in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # warm shutdown: each finishes its job first
        for proc in workers:
            try:
                proc.wait(timeout=settings.RQ_QUEUES["render"]["DEFAULT_TIMEOUT"] + 30)
            except subprocess.TimeoutExpired:
                proc.kill()
