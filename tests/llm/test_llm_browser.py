"""A trainee plays a drill in Chromium against the LLM customer on the real model: the
reply streams into the page piece by piece, the stored text replaces what streamed, and
the drill ends resolved. Every stored customer turn records the model call and, when
the model's words were rejected, why."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.e2e.conftest import browser  # noqa: F401 - the fixture, reused as it is
from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORDS, browser_missing
from tests.llm.conftest import skip_or_fail
from tests.llm.drills import FALLBACK_REASONS, agent_lines

pytestmark = [pytest.mark.llm, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 120_000  # a shared 2-core machine: the wait bounds a stuck page, not a slow model

# Records every text the streaming bubble shows, so the test can see it grow.
RECORD_STREAM = """
window.__streamed = [];
new MutationObserver(() => {
  const b = document.querySelector("#transcript li.streaming .bubble");
  if (b && b.textContent) window.__streamed.push(b.textContent);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture(scope="module")
def llm_app(llama, tmp_path_factory, cache_dir):
    """The app served on 127.0.0.1 with the LLM customer pointed at the llama.cpp server."""
    if browser_missing():
        skip_or_fail(browser_missing())
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from app import create_app
    from app.core.acts import load_intent_model
    from app.extensions import db
    from app.services.accounts import ensure_demo_accounts
    from app.services.content import sync_versions
    from app.services.engines import forget_engines
    from config import TestingConfig

    db_path = tmp_path_factory.mktemp("llm-e2e") / "app.db"
    config = type("LLMBrowserConfig", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "CACHE_DIR": str(cache_dir), "WTF_CSRF_ENABLED": True,
        "OPENAI_BASE_URL": llama.base_url, "OPENAI_MODEL": llama.model_id, "OPENAI_API_KEY": None,
        "OPENAI_TIMEOUT": 120.0})
    app = create_app(config)
    with app.app_context():
        upgrade()
        ensure_demo_accounts()
        sync_versions()
        load_intent_model("zh-CN", str(Path(app.config["RUBRICS_DIR"]) / "acts"), str(app.config["CACHE_DIR"]))
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="llm-e2e-server", daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    forget_engines()
    with app.app_context():
        db.engine.dispose()


def test_streamed_drill_in_the_browser(browser, llm_app, llama):  # noqa: F811
    from playwright.sync_api import expect

    from app.extensions import db
    from app.models import Drill
    from app.services import drills

    app, base = llm_app
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
        page.add_init_script(RECORD_STREAM)
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "trainee")
        page.fill("input[name=password]", DEMO_PASSWORDS["trainee"])
        with page.expect_navigation():
            page.click("main form [type=submit]")
        page.goto(f"{base}/trainee/start/billing_complaint")
        page.check("input[name=customer][value=llm]")
        page.click("details.advanced summary")  # the seed is folded away under "advanced"
        page.fill("input[name=seed]", "7")
        with page.expect_navigation():
            page.click("main form [type=submit]")
        drill_id = int(page.url.rsplit("/", 1)[1])

        answered = page.locator("#transcript li.turn-customer[data-position]")
        expect(answered).to_have_count(1, timeout=TIMEOUT_MS)
        ended = page.locator("#drill-status.ended")
        grew = 0
        for n, line in enumerate(agent_lines("billing_complaint", "good"), start=1):
            if ended.is_visible():
                break
            page.evaluate("window.__streamed = []")
            page.fill("#turn-text", line)
            page.click("#send")
            expect(answered.nth(n).or_(ended).first).to_be_visible(timeout=TIMEOUT_MS)
            seen = page.evaluate("window.__streamed")
            grew += len(set(seen)) > 1  # more than one partial text: it arrived in pieces
        expect(ended).to_contain_text("已解决", timeout=TIMEOUT_MS)
        assert grew > 0, "no reply was seen growing in the page: nothing streamed"
        shown = page.locator("#transcript li.turn-customer .bubble").all_inner_texts()
        assert not page.locator("#transcript li.streaming").count()
        assert not problems, problems
    finally:
        context.close()

    with app.app_context():
        drill = db.session.get(Drill, drill_id)
        assert drill.outcome == "resolved" and drill.customer_kind == "llm"
        customer = [t for t in drills.turns_of(drill) if t.speaker == "customer"]
        assert [t.text for t in customer] == [s.strip() for s in shown]  # the page shows what was stored
        for t in customer:
            assert t.meta["llm"]["model"] == llama.model_id, t.meta
            assert t.meta["llm"]["used"] in ("llm", "scripted"), t.meta
            if t.meta["llm"]["used"] == "scripted":
                assert t.meta["fallback"] in FALLBACK_REASONS, t.meta
            else:
                assert "fallback" not in t.meta, t.meta
