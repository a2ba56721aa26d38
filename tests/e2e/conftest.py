"""Browser fixtures: the real app on 127.0.0.1 and Debian's Chromium driven by Playwright.

The server is the app as deployed, not the test client: a werkzeug server in a
background thread, CSRF on, a migrated SQLite file with the demo accounts, the
scenarios and a few certification results. Playwright launches /usr/bin/chromium
(never a browser it downloads). Without Chromium or Playwright the browser tests are
skipped, saying why; under CI (`CI` set) that is a failure, because CI installs both.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.support import (CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORDS, LIVE_APPS, SCREENSHOTS, TIMEOUT_MS,
                              browser_missing, skip_or_fail)


@pytest.fixture(scope="module")
def live_overrides() -> dict:
    """Config settings a test module changes for its server (e.g. copies of the content
    folders where publishing writes files); none by default."""
    return {}


@pytest.fixture(scope="module")
def live_server(browser, tmp_path_factory, cache_dir, live_overrides) -> str:
    """The app served on 127.0.0.1 at a free port for the browser tests; yields its base URL.

    Depends on `browser` so that a missing browser skips (or fails) before the slow setup."""
    from flask_migrate import upgrade
    from sqlalchemy import select
    from werkzeug.serving import make_server

    from app import create_app
    from app.core.acts import load_intent_model
    from app.extensions import db
    from app.models import CertificationResult
    from app.services.accounts import ensure_demo_accounts
    from app.services.content import sync_versions
    from app.services.demo_certification import seed_demo_results
    from config import TestingConfig

    db_path = tmp_path_factory.mktemp("e2e") / "e2e.db"
    # TestingConfig turns CSRF off for the test client; the browser gets the real thing.
    config = type("BrowserConfig", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "CACHE_DIR": str(cache_dir),
        "WTF_CSRF_ENABLED": True, **live_overrides})
    app = create_app(config)
    with app.app_context():
        upgrade()
        ensure_demo_accounts()
        sync_versions()
        seed_demo_results(n_people=4, seed=3, results=8)
        assert db.session.scalar(select(CertificationResult.id)) is not None, "the seed certified no one"
        # Fit the intent model now, so the first turn in the browser does not wait for it.
        # (the same arguments as app/services/engines.py, so its in-process memo is hit)
        load_intent_model("zh-CN", str(Path(app.config["RUBRICS_DIR"]) / "acts"), str(app.config["CACHE_DIR"]))
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    LIVE_APPS[base_url] = app
    yield base_url
    LIVE_APPS.pop(base_url, None)
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    reason = browser_missing()
    if reason is not None:
        skip_or_fail(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # Playwright gives the browser a new empty profile (--user-data-dir) of its own.
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class BrowserSession:
    """One logged-in person: a browser context (own cookies) and a page that records
    console errors and uncaught exceptions, checked after every page visited."""

    base_url: str
    context: object
    page: object
    problems: list[str] = field(default_factory=list)

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.ok, f"GET {path}: {response and response.status}"
        return response

    def shot(self, name: str) -> Path:
        """Save tests/screenshots/<name>.png once the page and its stylesheet have loaded."""
        self.page.wait_for_load_state("load")
        # The stylesheet is applied: the top bar is laid out as a flex row, not a block.
        assert self.page.eval_on_selector("header.topbar", "e => getComputedStyle(e).display") == "flex", \
            f"{name}: app.css is not applied"
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.check(name)
        return path

    def cjk_renders(self) -> bool:
        """Whether two different Chinese characters draw differently: without a CJK font
        both come out as the same empty box ("tofu")."""
        return self.page.evaluate("""() => {
            const draw = (ch) => {
                const c = document.createElement("canvas");
                c.width = c.height = 40;
                const g = c.getContext("2d");
                g.font = "32px sans-serif";
                g.fillText(ch, 2, 34);
                return c.toDataURL();
            };
            return draw("中") !== draw("训");
        }""")

    def check(self, where: str) -> None:
        problems, self.problems[:] = list(self.problems), []
        assert not problems, f"{where}: browser console errors:\n" + "\n".join(problems)


@pytest.fixture
def open_session(browser, live_server):
    """open_session(role=None) → a BrowserSession, logged in as that demo account if a role is given."""
    contexts = []

    def open_(role: str | None = None, shot_login: bool = False) -> BrowserSession:
        # Chinese interface: the default for this app's users, and it shows whether CJK renders.
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        session = BrowserSession(live_server, context, page)
        page.on("console", lambda msg: msg.type == "error" and session.problems.append(
            f"console: {msg.text} ({msg.location.get('url', '')})"))
        page.on("pageerror", lambda exc: session.problems.append(f"uncaught: {exc}"))
        if role is not None:
            session.goto("/login")
            if shot_login:
                session.shot("login")
            page.fill("input[name=username]", role)
            page.fill("input[name=password]", DEMO_PASSWORDS[role])
            with page.expect_navigation():
                page.click("main form [type=submit]")
            assert "/login" not in page.url, f"login as {role} failed: {page.url}"
            session.check(f"after login as {role}")
        return session

    yield open_
    for context in contexts:
        context.close()
