"""Every page of every role, reached by following links only, in a Chinese browser.

Two promises of issue 15 are checked on the same walk:

- "Chinese all the way": no internal id or code (collected from the scenario and track
  files and the app's enums: scenario, persona and track ids, categories, exam topics,
  outcome, status, mode, grade and role codes) appears in the visible text of any page.
  People's names, usernames, cohort names and assignment titles are text people typed
  (a demo account is called "trainee"), so they are taken out of the text first.
- "Every flow reachable": from each role's home, each of the role's pages is reached in
  at most two clicks, following <a href> only (no typed URL, no form).

Rows to show (calls with a score, an assignment with a persona, certification attempts)
are seeded in the live app before the walk; each page is saved to
tests/screenshots/walk_<role>_<n>.png, and each main page once more in English to
tests/screenshots/walk_en_<role>_<page>.png.
"""
from __future__ import annotations

import json
import re
from collections import Counter, deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.e2e.support import LIVE_APPS, SCREENSHOTS, skip_module_without_browser

skip_module_without_browser()

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPTS = ROOT / "tests/data/transcripts"

HOMES = {"trainee": "/trainee/", "trainer": "/trainer/", "hr": "/hr/", "admin": "/admin/"}

# Each role's pages (URL patterns) and the most clicks from home each may take.
REACHABLE = {
    "trainee": [r"/notifications$", r"/trainee/leaderboard$", r"/trainee/certification/$",
                r"/trainee/certification/core$", r"/trainee/certification/core/exam$",
                r"/trainee/start/\w+$", r"/trainee/drills/\d+/report$"],
    "trainer": [r"/notifications$", r"/trainer/review$", r"/trainer/review/\d+$", r"/trainer/marking/$", r"/trainer/assignments$",
                r"/trainer/assignments/new$", r"/trainer/upload$", r"/trainer/analytics$", r"/trainer/library$",
                r"/trainer/drills/\d+/report$", r"/trainer/trainees/\d+$"],
    "hr": [r"/notifications$", r"/hr/runs$", r"/hr/people/\d+$", r"/hr/drills/\d+/report$"],
    "admin": [r"/notifications$", r"/admin/cohorts$", r"/admin/users/new$", r"/admin/users/\d+$", r"/admin/audit$"],
}
MAX_CLICKS = 2

# Links the walk does not open: files (downloads, PDFs, exports), not pages.
NOT_PAGES = re.compile(r"(\.(pdf|json|txt|csv|xlsx)$)|/export/")
# Pages whose raw-id check waits for another change of issue 15: the audit log is being
# reworked (its action names and details in words) on another branch.
PENDING: dict[str, str] = {}  # pages left out of the raw-id walk, with why (none now)
MAX_PAGES = 80  # per role
# Pages of one shape (/trainer/drills/N/report) walked at most: they differ in their rows only.
PER_SHAPE = 6


def _data_ids() -> dict[str, set[str]]:
    """The ids and codes a person must never read, by where they come from."""
    from app.core.simulation.schema import END_OUTCOMES
    from app.models import Role

    scenarios, personas, categories = set(), set(), set()
    for path in sorted((ROOT / "scenarios").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "personas" not in data:
            continue
        scenarios.add(data["id"])
        categories.add(data["category"])
        personas.update(p["id"] for p in data["personas"])
    tracks, topics = set(), set()
    for path in sorted((ROOT / "rubrics/tracks").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        tracks.add(data["id"])
        topics.update(q["topic"] for q in data["exam"]["questions"])
    return {
        "scenario": scenarios, "persona": personas, "category": categories, "track": tracks, "topic": topics,
        "outcome": set(END_OUTCOMES) | {"unfinished"}, "role": set(Role.values()),
        "mode": {"practice", "test", "import", "scripted", "llm"},
        "status": {"active", "ended", "open", "submitted", "marked"},
        "grade": {"excellent", "good", "pass", "retake"},
    }


@pytest.fixture(scope="module")
def seeded(live_server):
    """Rows for the pages to show, made in the live app: three scored calls of the demo
    trainee (one with the simulator's moods and end state) and one in progress, a test
    assignment with a persona, an open certification attempt, and for the second demo
    trainee a certified attempt with exam topics and a drill.
    Returns the texts people typed (names, usernames, cohorts, titles)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Assignment, CertificationAttempt, CertificationResult, Cohort, User
    from app.models.base import utcnow
    from app.services import assignments, certification, scoring
    from app.services.drills import start_drill

    app = LIVE_APPS[live_server]
    with app.app_context():
        people = {u.username: u for u in db.session.scalars(select(User))}
        trainee, trainer = people["trainee"], people["trainer"]
        hung_up = json.loads((TRANSCRIPTS / "billing_complaint.bad.json").read_text(encoding="utf-8"))
        customer = [i for i, t in enumerate(hung_up["turns"]) if t["speaker"] == "customer"]
        hung_up["turns"][customer[0]]["meta"] = {"mood": 5, "state": "opening"}
        hung_up["turns"][customer[-1]]["meta"] = {"mood": 10, "state": "hung_up"}
        hung_up["persona"] = "furious"
        # File names are the uploader's own words (the audit page shows them): none is an id.
        for name, raw in (("账单通话.json", (TRANSCRIPTS / "billing_complaint.good.json").read_bytes()),
                          ("挂断的通话.json", json.dumps(hung_up, ensure_ascii=False).encode()),
                          ("信号通话.json", (TRANSCRIPTS / "signal_complaint.good.json").read_bytes())):
            scoring.import_transcript(raw, name, trainer, trainee=trainee)
        cohort = trainee.cohorts[0]
        assignments.create_assignment(trainer, assignments.AssignmentSpec(
            title="本周练习", scenario_ids=["billing_complaint", "signal_complaint"], persona="calm", mode="test",
            cohort_ids=[cohort.id]))
        certification.start_attempt(trainee, "core", seed=5)
        start_drill(trainee, "billing_complaint", "zh-CN", "calm", "scripted", seed=7)  # a call in progress
        # A marked attempt as the marking leaves it: exam topics, drills, cases.
        other = people["trainee2"]
        signal = scoring.import_transcript((TRANSCRIPTS / "signal_complaint.good.json").read_bytes(), "cert.json",
                                           trainer, trainee=other)
        marked = CertificationAttempt(
            user_id=other.id, track_id="core", status="marked", exam_score=84.0, drill_score=40.0, case_score=30.0,
            total=154.0, grade="good", finished_at=utcnow(),
            details={"exam_topics": {"verification": [9.6, 9.6], "privacy": [1.6, 3.2]}, "drills": ["signal_complaint"],
                     "drill_ids": {"signal_complaint": signal.id}, "cases": []})
        db.session.add(marked)
        db.session.flush()
        signal.certification_attempt_id = marked.id
        db.session.add(CertificationResult(user_id=other.id, attempt_id=marked.id, track_id="core", grade="good",
                                           total=154.0, awarded_at=utcnow()))
        db.session.commit()
        typed = {s for u in db.session.scalars(select(User)) for s in (u.username, u.display_name)}
        typed |= {c.name for c in db.session.scalars(select(Cohort))}
        typed |= {a.title for a in db.session.scalars(select(Assignment))}
        db.session.remove()
    return typed


def _visible_text(page) -> str:
    """The text a person reads: the body's innerText (hidden elements, scripts and styles
    excluded by the browser), plus the options of selects (innerText leaves closed ones out
    on some builds), the values of buttons and the titles shown on hover.

    Left out: <code>, where an id is shown as an id on purpose (the scenario library shows
    a file's own names to the people who write the files), and text marked as written in
    another language (lang="en": an English scenario's briefing has English words in it)."""
    return page.evaluate("""() => {
        let body = document.body.innerText;
        document.querySelectorAll('code, [lang]:not([lang^="zh"])').forEach(e => {
            body = body.replace(e.innerText, ' ');
        });
        const parts = [body];
        document.querySelectorAll('option').forEach(o => parts.push(o.textContent));
        document.querySelectorAll('input[type=submit], input[type=button]').forEach(b => parts.push(b.value));
        document.querySelectorAll('[title]').forEach(e => parts.push(e.getAttribute('title')));
        return parts.join('\\n');
    }""")


def _raw_ids(text: str, ids: dict[str, set[str]], typed: set[str]) -> list[str]:
    # Longest first, so "演示学员 Demo trainee" goes before a shorter name inside it.
    for s in sorted(typed, key=len, reverse=True):
        text = text.replace(s, " ")
    found = []
    for kind, values in ids.items():
        for value in values:
            if re.search(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])", text):
                found.append(f"{kind} {value!r}")
    return sorted(found)


def _shape(path: str) -> str:
    """One page per URL shape: /trainee/drills/7/report and /trainee/drills/9/report look alike."""
    return re.sub(r"/\d+", "/N", path)


def walk(session, role: str):
    """Breadth-first over <a href> links from the role's home: yields (path, clicks from
    home) in the order visited, each path once at its fewest clicks, at most PER_SHAPE
    paths of one shape (query strings, e.g. filters and pages, are not new pages)."""
    page, base = session.page, session.base_url
    home = HOMES[role]
    shapes, seen, clicks, queue = Counter({_shape(home): 1}), {home}, {}, deque([(home, 0)])
    while queue and len(clicks) < MAX_PAGES:
        path, depth = queue.popleft()
        session.goto(path)
        clicks[path] = depth
        yield path, depth
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
        for href in hrefs:
            url = urlsplit(href)
            if f"{url.scheme}://{url.netloc}" != base or NOT_PAGES.search(url.path):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if url.path in seen or shapes[_shape(url.path)] >= PER_SHAPE:
                continue
            seen.add(url.path)
            shapes[_shape(url.path)] += 1
            queue.append((target, depth + 1))


@pytest.mark.parametrize("role", list(HOMES))
def test_every_page_in_chinese_without_raw_ids_and_within_two_clicks(open_session, seeded, role):
    ids = _data_ids()
    s = open_session(role)
    assert s.page.evaluate("document.documentElement.lang") == "zh-CN"
    problems, clicks = [], {}
    for n, (path, depth) in enumerate(walk(s, role)):
        clicks[path] = depth
        s.shot(f"walk_{role}_{n:02d}")
        if urlsplit(path).path in PENDING:
            continue
        found = _raw_ids(_visible_text(s.page), ids, seeded)
        if found:
            problems.append(f"{path}: {', '.join(found)}")
    assert not problems, "internal ids in the Chinese pages:\n" + "\n".join(problems)
    far = [p for p in REACHABLE[role]
           if not any(re.search(p, urlsplit(path).path) and d <= MAX_CLICKS for path, d in clicks.items())]
    assert not far, (f"{role}: not reached from {HOMES[role]} within {MAX_CLICKS} clicks: {far}\n"
                     f"walked: {json.dumps(clicks, indent=1)}")


# The main pages shot in English too ("screenshots of each main page in both languages"):
# each role's home and the pages it must reach, plus the trainee's call page.
MAIN_PAGES = {role: [re.escape(home) + "$"] + REACHABLE[role] + ([r"/trainee/drills/\d+$"] if role == "trainee" else [])
              for role, home in HOMES.items()}


@pytest.mark.parametrize("role", list(HOMES))
def test_main_pages_in_english(open_session, seeded, role):
    """The interface switched to English with its own button, then the same link walk,
    shooting each main page once as tests/screenshots/walk_en_<role>_<page>.png (the
    Chinese ones are the walk_<role>_<n>.png above). Every page must stay in English."""
    s = open_session(role)
    s.goto(HOMES[role])
    with s.page.expect_navigation():
        s.page.click(".tools button[lang=en]")
    todo, not_english = list(MAIN_PAGES[role]), []
    for path, _ in walk(s, role):
        pattern = next((p for p in todo if re.search(p, urlsplit(path).path)), None)
        if pattern is None:
            continue
        todo.remove(pattern)
        if s.page.evaluate("document.documentElement.lang") != "en":
            not_english.append(path)
        s.shot(f"walk_en_{role}_" + _shape(urlsplit(path).path).strip("/").replace("/", "_"))
        if not todo:
            break
    assert not not_english, f"{role}: pages not in English after switching: {not_english}"
    assert not todo, f"{role}: main pages not shot in English: {todo}"


PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("role", list(HOMES))
def test_every_page_fits_a_phone(open_session, seeded, role):
    """At 390 px no page scrolls sideways: wide tables scroll inside their own box."""
    s = open_session(role)
    s.page.set_viewport_size(PHONE)
    SCREENSHOTS.mkdir(exist_ok=True)
    wide = []
    for n, (path, _) in enumerate(walk(s, role)):
        s.page.wait_for_load_state("load")
        width = s.page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            # The outermost elements that stick out, to say what to fix.
            culprits = s.page.evaluate("""(limit) => {
                const out = [];
                document.querySelectorAll('main *').forEach(e => {
                    const r = e.getBoundingClientRect();
                    if (r.right > limit + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > limit + 1))
                        out.push(e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
                                 + ' ' + Math.round(r.right) + 'px');
                });
                return out.slice(0, 5);
            }""", PHONE["width"])
            wide.append(f"{path}: {width}px ({'; '.join(culprits)})")
        s.page.screenshot(path=str(SCREENSHOTS / f"phone_{role}_{n:02d}.png"), full_page=True)
    assert not wide, f"pages wider than {PHONE['width']} px:\n" + "\n".join(wide)


def test_drill_page_puts_timer_and_briefing_above_the_chat_on_a_phone(open_session, seeded):
    s = open_session("trainee")
    s.page.set_viewport_size(PHONE)
    s.goto("/trainee/")
    s.page.locator("a[href*='/trainee/drills/']:not([href$='/report'])").first.click()
    s.page.wait_for_selector("#timer")
    top = s.page.evaluate("""() => ({
        timer: document.querySelector('#timer').getBoundingClientRect().top,
        briefing: document.querySelector('.drill-briefing').getBoundingClientRect().top,
        chat: document.querySelector('.drill-chat').getBoundingClientRect().top})""")
    assert top["timer"] < top["chat"] and top["briefing"] < top["chat"], top
    s.shot("phone_drill")
