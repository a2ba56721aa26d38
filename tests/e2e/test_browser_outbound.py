"""An outbound call in a real browser (callback_followup): the drill page opens with no
customer line and invites the trainee to place the call; the invitation goes once the
first line is sent, and the excellent script resolves the call."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.support import skip_module_without_browser

skip_module_without_browser()

try:
    from playwright.sync_api import expect
except ImportError:  # only under CI: the `browser` fixture fails each test, saying why
    expect = None

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
GOOD_SCRIPT = ROOT / "tests/data/agent_scripts/callback_followup.good.txt"


def test_the_trainee_opens_an_outbound_call(open_session):
    s = open_session("trainee")
    page = s.page
    s.goto("/trainee/start/callback_followup")
    page.check("input[name=persona][value=busy]")
    page.check("input[name=customer][value=scripted]")
    page.click("details.advanced summary")
    page.fill("input[name=seed]", "7")
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert re.search(r"/trainee/drills/\d+$", page.url), page.url

    # Nobody has spoken: no turn, an invitation to open, a placeholder asking for the opening.
    expect(page.locator("#transcript li[data-position]")).to_have_count(0)
    expect(page.locator("#agent-opens")).to_contain_text("外呼")
    assert "开场白" in page.get_attribute("#turn-text", "placeholder")
    s.shot("drill_outbound_start")

    lines = [ln.strip() for ln in GOOD_SCRIPT.read_text(encoding="utf-8").splitlines() if ln.strip()]
    answered = page.locator("#transcript li.turn-customer[data-position]")
    ended = page.locator("#drill-status.ended")
    for n, line in enumerate(lines, start=1):
        if ended.is_visible():  # the customer may close the call before the last line
            break
        page.fill("#turn-text", line)
        page.click("#send")
        expect(answered.nth(n - 1).or_(ended).first).to_be_visible()
        if n == 1:
            expect(page.locator("#agent-opens")).to_have_count(0)
            expect(page.locator("#transcript li[data-position]").first).to_have_class(re.compile("turn-agent"))
    expect(ended).to_contain_text("已解决")
    s.check("outbound drill page")
