"""The harness of the browser tests: Debian's Chromium (/usr/bin/chromium) driven headless by
Playwright, the flags it runs with, and ``shot``, which saves a full-page screenshot to
$MEDIACHECK_SCREENSHOTS (default .cache/screenshots) to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(
    os.environ.get("MEDIACHECK_SCREENSHOTS") or Path(__file__).resolve().parents[2] / ".cache" / "screenshots"
)

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
"""Skips a browser test where Chromium is not installed."""


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the tests of one module (registered in tests/conftest.py)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
