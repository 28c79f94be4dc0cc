"""Playwright on Debian's Chromium against pytest-django's live_server; skipped where either is missing."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make there are still
# synchronous, so Django's async-safety check would be a false alarm.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - a laptop without the dev extra
    sync_playwright = None


def _skip_reason() -> str | None:
    if sync_playwright is None:
        return "playwright is not installed (pip install playwright; browsers come from apt: chromium)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def chromium():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, live):
    """Pages in fresh browser contexts (separate cookies), each closed after the test."""
    contexts = []

    def make(width=1280, height=860):
        context = chromium.new_context(viewport={"width": width, "height": height}, base_url=live.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str, full_page: bool = True) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
