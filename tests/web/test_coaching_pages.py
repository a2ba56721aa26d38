"""The coaching loop's pages (issue 15 item 3): the report's three things to fix first,
the trainer's page per trainee (reachable only for the trainer's own cohort trainees)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.extensions import db
from app.models import Cohort
from app.services import scoring
from app.services.score_report import build_report

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
BAD = DATA / "billing_complaint.bad.json"


@pytest.fixture
def cohort(app, make_user):
    trainer = make_user("trainer", username="coach")
    group = Cohort(name="一班", trainer_id=trainer.id)
    db.session.add(group)
    db.session.commit()
    trainee = make_user("trainee", username="xiaowang", display_name="小王", cohort=group)
    return trainer, trainee


def imported(trainee, path=BAD):
    return scoring.import_transcript(path.read_bytes(), path.name, trainee, trainee=trainee)


def test_the_report_opens_with_three_things_to_fix_first(client, auth, cohort):
    _, trainee = cohort
    drill = imported(trainee)
    view = build_report(drill, "zh-CN")
    assert len(view.fix_first) == 3
    assert auth.login(trainee.username).status_code == 302
    page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    main = page.split('class="rp-main"', 1)[1]
    # First in the report body, before the flags and the total.
    assert main.index("先改这三点") < main.index("rp-flags") < main.index("rp-total")
    section = main.split('id="rp-fixfirst"', 1)[1].split("</section>", 1)[0]
    assert section.count('class="rp-fix"') == 3
    for f in view.fix_first:
        assert f.title in section
        if f.better:
            assert f.better in section
        if f.turn is not None:
            assert f'href="#turn-{f.turn}"' in section
    # a model line of this scenario, not only the rubric's generic ones
    own = drill.scenario_version.data["criterion_tips"]
    assert any(f.better == (own.get(f.criterion_id) or {}).get("model") for f in view.fix_first)


def test_trainer_page_per_trainee_shows_history_trend_weakest_adjustments_assignments(client, auth, cohort):
    from app.models import Score
    from app.services import assignments as assign
    from app.services import review

    trainer, trainee = cohort
    drill = imported(trainee)
    score = scoring.latest_score(drill)
    review.adjust(score, trainer, [("criterion", "restate", 3.0)], "复述了一半，给部分分",
                  score.revision or 0)
    a = assign.create_assignment(trainer, assign.AssignmentSpec(
        title="账单投诉周练", scenario_ids=["billing_complaint"], language="zh-CN", cohort_ids=[c.id for c in trainee.cohorts]))
    assert auth.login(trainer.username).status_code == 302
    home = client.get("/trainer/").get_data(as_text=True)
    assert f'href="/trainer/trainees/{trainee.id}"' in home  # linked from the trainer's lists
    r = client.get(f"/trainer/trainees/{trainee.id}")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "小王" in page and f'/trainer/drills/{drill.id}/report' in page  # history
    assert "<svg" in page  # trend
    assert "复述确认需求" in page and "复述了一半，给部分分" in page  # adjustment by name, with its reason
    section = page.split("tp-assignments", 1)[1].split("</section>", 1)[0]
    assert "账单投诉周练" in section and "未开始" in section, section  # the assignment and its state
    for raw in ("restate", "knowledge_points", "verify_before_account"):
        assert f">{raw}<" not in page


def test_the_pdf_report_opens_with_them_too(client, auth, cohort):
    from io import BytesIO

    from pypdf import PdfReader

    _, trainee = cohort
    drill = imported(trainee)
    view = build_report(drill, "zh-CN")
    assert auth.login(trainee.username).status_code == 302
    r = client.get(f"/trainee/drills/{drill.id}/transcript.pdf")
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(r.data)).pages).replace("\n", "")
    assert "先改这三点" in text
    assert text.index("先改这三点") < text.index(view.fix_first[0].title.replace(" ", "")[:4]) < text.index("总分")


def test_leaderboard_page_is_opt_in(client, auth, cohort, make_user):
    _, trainee = cohort
    classmate = make_user("trainee", username="xiaoli", display_name="小李", cohort=trainee.cohorts[0])
    classmate.leaderboard_opt_in = True
    db.session.commit()
    imported(classmate)
    assert auth.login(trainee.username).status_code == 302
    assert "/trainee/leaderboard" in client.get("/trainee/").get_data(as_text=True)
    page = client.get("/trainee/leaderboard").get_data(as_text=True)
    assert "加入排行榜" in page and "小李" not in page  # no looking without joining
    assert client.post("/trainee/leaderboard/opt", data={"join": "1"}).status_code == 303
    page = client.get("/trainee/leaderboard").get_data(as_text=True)
    assert "小李" in page and "退出排行榜" in page
    client.post("/trainee/leaderboard/opt", data={"join": "0"})
    db.session.refresh(trainee)
    assert trainee.leaderboard_opt_in is False


def test_trainee_page_is_the_trainers_of_the_cohort_only(client, auth, cohort, make_user):
    _, trainee = cohort
    stranger = make_user("trainer", username="other_coach")
    assert auth.login(trainee.username).status_code == 302
    assert client.get(f"/trainer/trainees/{trainee.id}").status_code == 403  # not even their own
    auth.logout()
    assert auth.login(stranger.username).status_code == 302
    missing = client.get("/trainer/trainees/999999")
    foreign = client.get(f"/trainer/trainees/{trainee.id}")
    assert foreign.status_code == missing.status_code == 404
    assert "小王" not in foreign.get_data(as_text=True)
