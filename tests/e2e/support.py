"""What the browser tests need from this machine, and what happens when it is missing."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Explicit waits only: an element that does not show within this many ms fails the test.
TIMEOUT_MS = 15_000

# The app behind each live server's base URL, for a test module that seeds rows of its own
# (in an app context, while the server is idle) before the browser reads them.
LIVE_APPS: dict = {}

DEMO_PASSWORDS = {"trainee": "trainee-demo", "trainer": "trainer-demo", "hr": "hr-demo-pass", "admin": "admin-demo"}


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip, saying why; under CI (which installs what the browser tests need) fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


def skip_module_without_browser() -> None:
    """At import of a browser test module: skip it all when no browser is here, except
    under CI, where each test fails instead (a collection error would stop the whole run)."""
    reason = browser_missing()
    if reason is not None and not os.environ.get("CI"):
        pytest.skip(f"browser tests skipped: {reason}", allow_module_level=True)
