"""Score report pages and transcript downloads: who sees what, what the page shows,
and that each download is in its format and audited."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.transcript import read_transcript
from app.extensions import db
from app.models import AuditEvent, Cohort, Drill, Score
from app.services import content, scoring

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
GOOD = DATA / "billing_complaint.good.json"
NOVERIFY = DATA / "billing_complaint.good.noverify.json"


@pytest.fixture
def cohort(app, make_user):
    trainer = make_user("trainer", username="coach")
    group = Cohort(name="一班", trainer_id=trainer.id)
    db.session.add(group)
    db.session.commit()
    trainee = make_user("trainee", username="xiaowang", display_name="小王", cohort=group)
    return trainer, trainee


def imported(trainee, path=GOOD, uploader=None) -> Drill:
    return scoring.import_transcript(path.read_bytes(), path.name, uploader or trainee, trainee=trainee)


def login(auth, user):
    assert auth.login(user.username).status_code == 302


def test_trainee_sees_own_report_with_evidence_and_flags(client, auth, cohort):
    _, trainee = cohort
    drill = imported(trainee, NOVERIFY)
    score = scoring.latest_score(drill)
    assert score.flags, "the fixture transcript should raise a red-line flag"
    login(auth, trainee)

    r = client.get(f"/trainee/drills/{drill.id}/report")
    page = r.get_data(as_text=True)

    assert r.status_code == 200
    assert f"<strong>{score.total:g}</strong> / 100" in page
    assert 'class="card rp-flags" role="alert"' in page
    assert score.flags[0]["reason"] in page
    # every criterion's evidence links to a turn that exists on the page, quote marked
    for c in score.report["criteria"]:
        for ev in c["evidence"]:
            assert f'href="#turn-{ev["turn"]}"' in page
            assert f'id="turn-{ev["turn"]}"' in page
    assert page.count("<mark>") > 5
    assert 'class="rp-fill rp-w' in page and "style=" not in page.split("<main", 1)[1]
    assert "专业知识" in page or "Professional knowledge" in page


def test_evidence_quote_is_marked_inside_its_turn(client, auth, cohort):
    _, trainee = cohort
    drill = imported(trainee)
    score = scoring.latest_score(drill)
    ev = next(e for c in score.report["criteria"] for e in c["evidence"] if e.get("span"))
    login(auth, trainee)
    page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    turn_html = re.search(rf'<li id="turn-{ev["turn"]}".*?</li>', page, re.S).group(0)
    assert f"<mark>{ev['quote']}</mark>" in turn_html or ev["quote"] in re.findall(r"<mark>(.*?)</mark>", turn_html)[0]


def test_previous_attempts_are_listed(client, auth, cohort):
    _, trainee = cohort
    first = imported(trainee, NOVERIFY)
    second = imported(trainee)
    login(auth, trainee)
    page = client.get(f"/trainee/drills/{second.id}/report").get_data(as_text=True)
    attempts = page.split("rp-side", 1)[1]
    assert f'/trainee/drills/{first.id}/report' in attempts
    assert f"{scoring.latest_score(first).total:g}" in attempts


def test_not_scored_yet_and_held_back(client, auth, cohort):
    trainer, trainee = cohort
    version = content.scenario_version("billing_complaint", "zh-CN")
    unscored = Drill(trainee_id=trainee.id, scenario_version_id=version.id, status="ended")
    held = imported(trainee)
    held.report_released = False
    db.session.add(unscored)
    db.session.commit()
    login(auth, trainee)

    r = client.get(f"/trainee/drills/{unscored.id}/report")
    assert r.status_code == 200 and "rp-pending" in r.get_data(as_text=True)
    page = client.get(f"/trainee/drills/{held.id}/report").get_data(as_text=True)
    assert "rp-pending" in page and "rp-total" not in page
    pdf = client.get(f"/trainee/drills/{held.id}/transcript.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    auth.logout()
    login(auth, trainer)
    assert "rp-total" in client.get(f"/trainer/drills/{held.id}/report").get_data(as_text=True)


def test_an_imported_call_opens_as_its_report(client, auth, cohort):
    """The home page lists a trainee's uploaded calls with their drills; opening one
    shows its report (it used to fail: a recorded call has no persona to show)."""
    _, trainee = cohort
    drill = imported(trainee)
    login(auth, trainee)
    assert f"/trainee/drills/{drill.id}\"" in client.get("/trainee/").get_data(as_text=True)
    r = client.get(f"/trainee/drills/{drill.id}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/trainee/drills/{drill.id}/report")
    assert client.get(r.headers["Location"]).status_code == 200


def test_other_trainee_gets_404(client, auth, cohort, make_user):
    _, trainee = cohort
    drill = imported(trainee)
    login(auth, make_user("trainee", username="nosy"))
    for url in (f"/trainee/drills/{drill.id}/report", f"/trainee/drills/{drill.id}/transcript.json",
                f"/trainee/drills/{drill.id}/transcript.pdf", "/trainee/drills/99999/report"):
        assert client.get(url).status_code == 404, url
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export")) is None


def test_trainer_of_the_cohort_sees_it_others_do_not(client, auth, cohort, make_user):
    trainer, trainee = cohort
    drill = imported(trainee)
    login(auth, trainer)
    assert client.get(f"/trainer/drills/{drill.id}/report").status_code == 200
    assert client.get(f"/trainer/drills/{drill.id}/transcript.txt").status_code == 200
    home = client.get("/trainer/").get_data(as_text=True)
    assert f"/trainer/drills/{drill.id}/report" in home

    auth.logout()
    stranger = make_user("trainer", username="other-coach")
    db.session.add(Cohort(name="二班", trainer_id=stranger.id))
    db.session.commit()
    login(auth, stranger)
    assert client.get(f"/trainer/drills/{drill.id}/report").status_code == 404
    assert client.get(f"/trainer/drills/{drill.id}/transcript.pdf").status_code == 404
    assert f"/trainer/drills/{drill.id}/report" not in client.get("/trainer/").get_data(as_text=True)


def test_trainee_cannot_use_trainer_report(client, auth, cohort):
    _, trainee = cohort
    drill = imported(trainee)
    login(auth, trainee)
    assert client.get(f"/trainer/drills/{drill.id}/report").status_code == 403


def test_downloads_are_in_their_formats_and_audited(client, auth, cohort):
    _, trainee = cohort
    drill = imported(trainee)
    login(auth, trainee)

    r = client.get(f"/trainee/drills/{drill.id}/transcript.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert "attachment" in r.headers["Content-Disposition"]
    data = json.loads(r.data)
    assert data["format"] == "transcript/1" and set(data) <= {
        "format", "scenario", "language", "persona", "agent", "started_at", "turns"}
    back = read_transcript(r.data, scoring.known_scenarios(), name="download.json")
    source = read_transcript(GOOD, None)
    assert [(t.speaker, t.text) for t in back.turns] == [(t.speaker, t.text) for t in source.turns]
    assert back.agent.id == "xiaowang"

    text = client.get(f"/trainee/drills/{drill.id}/transcript.txt")
    assert text.mimetype == "text/plain" and source.turns[0].text in text.get_data(as_text=True)
    assert "[0]" in text.get_data(as_text=True)

    pdf = client.get(f"/trainee/drills/{drill.id}/transcript.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert b"/FontFile2" in pdf.data  # the embedded font (tests/web/test_pdf_fonts.py checks them all)

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)).all()
    assert [e.detail["format"] for e in events] == ["json", "txt", "pdf"]
    assert all(e.actor_id == trainee.id and e.target == f"drill:{drill.id}" for e in events)
    assert client.get(f"/trainee/drills/{drill.id}/transcript.csv").status_code == 404


def test_external_call_is_visible_to_its_uploader_only(client, auth, cohort, make_user):
    trainer, _ = cohort
    drill = scoring.import_transcript(GOOD.read_bytes(), "real.json", trainer, external_agent="外包 07")
    login(auth, trainer)
    page = client.get(f"/trainer/drills/{drill.id}/report")
    assert page.status_code == 200 and "外包 07" in page.get_data(as_text=True)
    auth.logout()
    other = make_user("trainer", username="other-coach")
    login(auth, other)
    assert client.get(f"/trainer/drills/{drill.id}/report").status_code == 404


def test_rescored_drill_shows_the_latest_score(client, auth, cohort):
    _, trainee = cohort
    drill = imported(trainee)
    newest = scoring.score_drill(drill)
    assert db.session.scalar(select(Score.id).where(Score.drill_id == drill.id).order_by(Score.id)) != newest.id
    login(auth, trainee)
    page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    assert f"<strong>{newest.total:g}</strong>" in page


def test_not_applicable_criteria_show_as_such_and_flags_quote_their_clause(client, auth, cohort):
    _, trainee = cohort
    drill = imported(trainee, NOVERIFY)  # an imported call: no end state, so end_state is N/A
    score = scoring.latest_score(drill)
    na = [c for c in score.report["criteria"] if c.get("applicable") is False]
    assert na and score.flags[0]["evidence"]
    login(auth, trainee)
    page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    rows = re.findall(r'<li class="rp-crit rp-na">.*?</li>', page, re.S)
    assert len(rows) == len(na)
    assert all(re.search(r'rp-points">(不适用|N/A)</span>', row) for row in rows)
    flags = page.split('class="card rp-flags"', 1)[1].split("</section>", 1)[0]
    for ev in score.flags[0]["evidence"]:
        assert f"<mark>{ev['quote']}</mark>" in flags
