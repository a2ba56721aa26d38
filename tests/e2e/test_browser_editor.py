"""Issue 13's browser test of the scenario editor: a trainer edits a scenario, sees a
validation error as they type, fixes it, play-tests the draft on the drill page and
publishes it; a trainee then plays the new version, while the trainee's drill started
before keeps the version it was played on.

The server's content folders are copies (publishing writes the scenario file and its
scripts), so the repository's files are never touched.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.support import LIVE_APPS, skip_module_without_browser

skip_module_without_browser()

try:
    from playwright.sync_api import expect
except ImportError:  # only under CI: the `browser` fixture fails each test, saying why
    expect = None

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "billing_complaint"
NEW_TITLE = "账单异常投诉处理（第二版）"


@pytest.fixture(scope="module")
def live_overrides(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("editor-content")
    shutil.copytree(ROOT / "scenarios", root / "scenarios")
    shutil.copytree(ROOT / "tests" / "data" / "agent_scripts", root / "agent_scripts")
    return {"SCENARIOS_DIR": str(root / "scenarios"), "AGENT_SCRIPTS_DIR": str(root / "agent_scripts")}


def _versions(base_url: str) -> list[tuple[int, bool, bool, str]]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import ScenarioVersion

    with LIVE_APPS[base_url].app_context():
        rows = db.session.execute(select(ScenarioVersion.version, ScenarioVersion.is_current,
                                         ScenarioVersion.is_draft, ScenarioVersion.title)
                                  .where(ScenarioVersion.scenario_id == SCENARIO,
                                         ScenarioVersion.language == "zh-CN")).all()
        db.session.remove()
    return sorted(tuple(r) for r in rows)


def _drill_version(base_url: str, drill_id: int) -> int:
    from app.extensions import db
    from app.models import Drill

    with LIVE_APPS[base_url].app_context():
        version = db.session.get(Drill, drill_id).scenario_version.version
        db.session.remove()
    return version


def _start_drill(s) -> int:
    page = s.page
    s.goto(f"/trainee/start/{SCENARIO}")
    page.check("input[name=persona][value=calm]")
    page.check("input[name=customer][value=scripted]")
    with page.expect_navigation():
        page.click("main form [type=submit]")
    m = re.search(r"/trainee/drills/(\d+)$", page.url)
    assert m, page.url
    return int(m.group(1))


def test_a_trainer_edits_playtests_and_publishes_and_a_trainee_plays_the_new_version(open_session, live_server):
    before = open_session("trainee")
    earlier = _start_drill(before)
    old_version = _drill_version(live_server, earlier)

    s = open_session("trainer")
    page = s.page
    s.goto("/editor/")
    with page.expect_navigation():
        page.click(f"#scenario-{SCENARIO}-zh-CN button[type=submit]")
    assert re.search(r"/editor/drafts/\d+$", page.url), page.url
    draft_url = page.url
    text = page.input_value("#yaml_text")
    expect(page.locator("#fault-summary")).to_contain_text("✓")

    # A mistake while typing: the live check shows file, field and reason, in Chinese.
    page.fill("#yaml_text", re.sub(r"(?m)^difficulty: \d+$", "difficulty: 9", text, count=1))
    fault = page.locator("#fault-table tr.fault", has_text="difficulty")
    expect(fault).to_contain_text(f"scenarios/{SCENARIO}.yaml")
    expect(fault).to_contain_text("数值太大：最多为 3。")
    expect(page.locator("#fault-summary")).to_contain_text("1")
    s.shot("editor_fault")

    # Fixed, and retitled: the fault goes.
    page.fill("#yaml_text", re.sub(r"(?m)^title: .*$", f"title: {NEW_TITLE}", text, count=1))
    expect(page.locator("#fault-summary")).to_contain_text("✓")
    expect(page.locator("#fault-table")).to_be_hidden()

    # Play-test as a trainee would, on the drill page, against the scripted customer.
    page.select_option("#persona", "calm")
    with page.expect_navigation():
        page.click("#playtest")
    assert re.search(r"/editor/playtests/\d+$", page.url), page.url
    expect(page.locator("h1")).to_have_text(NEW_TITLE)
    lines = [ln.strip() for ln in (ROOT / "tests/data/agent_scripts" / f"{SCENARIO}.good.txt")
             .read_text(encoding="utf-8").splitlines() if ln.strip()]
    answered = page.locator("#transcript li.turn-customer[data-position]")
    ended = page.locator("#drill-status.ended")
    for n, line in enumerate(lines, start=1):
        if ended.is_visible():
            break
        page.fill("#turn-text", line)
        page.click("#send")
        expect(answered.nth(n).or_(ended).first).to_be_visible()
    expect(ended).to_contain_text("已解决")
    s.shot("editor_playtest")
    # Not published yet: the current version is still the old one.
    assert [v for v in _versions(live_server) if v[1]] == [(old_version, True, False, "账单异常投诉处理")]

    # Publish from the draft.
    s.goto(draft_url.removeprefix(live_server))
    with page.expect_navigation():
        page.click("#publish")
    assert page.url.endswith("/editor/"), page.url
    expect(page.locator(".flash").first).to_contain_text(f"已发布为第 {old_version + 1} 版")
    s.check("after publishing")
    current = [v for v in _versions(live_server) if v[1]]
    assert current == [(old_version + 1, True, False, NEW_TITLE)]

    # A trainee now plays the new version; the drill started before keeps the old one.
    t = open_session("trainee")
    drill = _start_drill(t)
    expect(t.page.locator("h1")).to_have_text(NEW_TITLE)
    t.page.fill("#turn-text", lines[0])
    t.page.click("#send")
    expect(t.page.locator("#transcript li.turn-customer[data-position]").nth(1)).to_be_visible()
    assert _drill_version(live_server, drill) == old_version + 1
    assert _drill_version(live_server, earlier) == old_version
    t.check("trainee drill on the new version")
