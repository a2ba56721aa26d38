"""Cohort analytics on a small hand-built cohort: every expected number below is worked
out by hand in the comments (scores are percent of the maximum; all maxima are 100).

Distributions, most-missed items, difficulty and progress read each drill's current
score (after every review of it, whoever reviewed); the agreement compares the machine
with this trainer's own adjustments only. After review the three drills of cohort A are
D1 51 (knowledge 25, communication 26 then 0 by the other trainer, resolution 18,
attitude 8), D2 52 (15, 15, 15, 7) and D3 73 (27, 27, 10, 9)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.extensions import db
from app.models import Cohort, Drill, Score, ScoreAdjustment
from app.services import analytics, content

DIM_MAX = {"knowledge": 30, "communication": 30, "resolution": 30, "attitude": 10}


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 9, 0, tzinfo=timezone.utc)


def scored(trainee, scenario: str, started: datetime, dims: dict, criteria: list, status: str = "ended") -> Score:
    """A drill with one machine score whose report holds `criteria` (id, dim, score, max, kind)."""
    version = content.scenario_version(scenario, "zh-CN")
    drill = Drill(trainee_id=trainee.id, scenario_version_id=version.id, persona="calm", status=status,
                  started_at=started, ended_at=started)
    db.session.add(drill)
    db.session.flush()
    report = {"criteria": [{"id": i, "dimension": d, "score": s, "max": m, "kind": k, "applicable": True}
                           for i, d, s, m, k in criteria]}
    score = Score(drill_id=drill.id, rubric_version_id=content.rubric_version("standard-100").id,
                  scorer_kind="rules/1", total=sum(dims.values()), max_total=100,
                  dimensions={k: {"score": v, "max": DIM_MAX[k]} for k, v in dims.items()}, flags=[], report=report)
    db.session.add(score)
    db.session.flush()
    return score


def adjust(score, reviewer, kind, target, machine, adjusted, when=1):
    db.session.add(ScoreAdjustment(score_id=score.id, reviewer_id=reviewer.id, target_kind=kind, target_id=target,
                                   machine_points=machine, adjusted_points=adjusted, reason="review",
                                   created_at=datetime(2026, 11, 20, 10, when, tzinfo=timezone.utc)))


KP, AP = "knowledge_points", "act_present"


def build_cohort(make_user):
    """Trainer T leads cohort A (three scored drills, adjustments on all three) and an empty
    cohort C; trainer O leads cohort B (one drill that T must never see)."""
    trainer, other = make_user("trainer", username="an-trainer"), make_user("trainer", username="an-other")
    a = Cohort(name="A 班", trainer_id=trainer.id)
    b = Cohort(name="B 班", trainer_id=other.id)
    db.session.add_all([a, b, Cohort(name="C 班", trainer_id=trainer.id)])
    db.session.commit()
    t1, t2 = make_user("trainee", cohort=a), make_user("trainee", cohort=a)
    outsider = make_user("trainee", cohort=b)
    # D1 week of 2 Nov: total 70.
    d1 = scored(t1, "billing_complaint", at(2), {"knowledge": 20, "communication": 24, "resolution": 18, "attitude": 8},
                [("knowledge_points.bill_breakdown", "knowledge", 10, 10, KP),
                 ("knowledge_points.callback_24h", "knowledge", 0, 12, KP),
                 ("greeting", "communication", 0, 2, AP), ("empathy", "attitude", 3, 3, AP)])
    # D2 same week: total 45.
    d2 = scored(t2, "billing_complaint", at(4), {"knowledge": 10, "communication": 15, "resolution": 15, "attitude": 5},
                [("knowledge_points.bill_breakdown", "knowledge", 0, 10, KP),
                 ("knowledge_points.callback_24h", "knowledge", 0, 12, KP),
                 ("greeting", "communication", 2, 2, AP), ("empathy", "attitude", 1, 3, AP)])
    # D3 week of 16 Nov, another scenario: total 90.
    d3 = scored(t1, "5g_plan_launch", at(16), {"knowledge": 27, "communication": 27, "resolution": 27, "attitude": 9},
                [("greeting", "communication", 0, 2, AP), ("empathy", "attitude", 3, 3, AP)])
    # Not counted: an unfinished drill, and the other trainer's trainee.
    scored(t1, "billing_complaint", at(3), {"knowledge": 0, "communication": 0, "resolution": 0, "attitude": 0},
           [("greeting", "communication", 0, 2, AP)], status="active")
    d4 = scored(outsider, "billing_complaint", at(3), {"knowledge": 1, "communication": 1, "resolution": 1, "attitude": 1},
                [("greeting", "communication", 0, 2, AP), ("empathy", "attitude", 0, 3, AP)])
    # Trainer adjustments. D1: knowledge 20 → 22 then 25 (latest counts), greeting +2.
    adjust(d1, trainer, "dimension", "knowledge", 20, 22, when=1)
    adjust(d1, trainer, "dimension", "knowledge", 20, 25, when=2)
    adjust(d1, trainer, "criterion", "greeting", 0, 2)
    adjust(d1, other, "dimension", "communication", 24, 0)  # someone else's review: ignored
    # D2: empathy +2 (attitude 7), a knowledge point +5 (knowledge 15).
    adjust(d2, trainer, "criterion", "empathy", 1, 3)
    adjust(d2, trainer, "criterion", "knowledge_points.bill_breakdown", 0, 5)
    # D3: resolution 27 → 10.
    adjust(d3, trainer, "dimension", "resolution", 27, 10)
    adjust(d4, other, "dimension", "resolution", 1, 30)
    db.session.commit()
    return trainer, other, a


@pytest.fixture(autouse=True)
def request_ctx(app):
    # Titles such as "Total" go through gettext, which needs a request (English here).
    with app.test_request_context():
        yield


@pytest.fixture
def cohort(app, make_user):
    return build_cohort(make_user)


def test_distribution_counts(cohort):
    trainer, _other, _a = cohort
    data = analytics.cohort_analytics(trainer, lang="en")
    assert data.n_drills == 3
    # Reviewed totals 51, 52, 73 (the machine's were 70, 45, 90).
    assert {b.label: b.count for b in data.total.bins if b.count} == {"50–60": 2, "70–80": 1}
    assert data.total.mean == pytest.approx((51 + 52 + 73) / 3) and data.total.median == 52
    knowledge = next(d for d in data.dimensions if d.id == "knowledge")
    # reviewed 25/30, 15/30, 27/30 → 83.3 %, 50 %, 90 %
    assert {b.label: b.count for b in knowledge.bins if b.count} == {"50–60": 1, "80–90": 1, "90–100": 1}
    assert [d.id for d in data.dimensions] == ["knowledge", "communication", "resolution", "attitude"]
    assert knowledge.title == "Professional knowledge"  # the rubric's title in the reader's language


def test_most_missed_ordering(cohort):
    trainer, *_ = cohort
    data = analytics.cohort_analytics(trainer, lang="en")
    # As reviewed: knowledge points D1 10/22 and D2 5/22 both below half → 2/2; greeting
    # raised to 2/2 in D1, so missed in D3 only → 1/3; empathy raised to 3/3 in D2 → never.
    assert [(m.key, m.missed, m.n) for m in data.missed_criteria] == [("knowledge_points", 2, 2), ("greeting", 1, 3)]
    assert data.missed_criteria[1].title == "Greeting in the first turn"
    # callback_24h missed in both billing drills; bill_breakdown reviewed to 5/10 in D2 is half, not below.
    assert [(m.key, m.missed, m.n) for m in data.missed_knowledge] == [("billing_complaint/callback_24h", 2, 2)]
    assert "24" in data.missed_knowledge[0].title  # the knowledge point's text from the scenario


def test_difficulty_and_progress(cohort):
    trainer, *_ = cohort
    data = analytics.cohort_analytics(trainer, lang="en")
    billing, launch = data.difficulty  # hardest first
    assert (billing.scenario_id, billing.n, billing.mean) == ("billing_complaint", 2, 51.5)
    assert billing.sd == pytest.approx(0.70710678)  # sqrt(2 × 0.5² / 1)
    assert (launch.scenario_id, launch.n, launch.mean, launch.sd) == ("5g_plan_launch", 1, 73, None)
    assert data.weeks == ["2026-11-02", "2026-11-09", "2026-11-16"]
    assert list(data.progress.values())[0] == [51.5, None, 73]  # the total comes first
    assert len(data.progress) == 5


def test_scorer_agreement(cohort):
    trainer, *_ = cohort
    data = analytics.cohort_analytics(trainer, lang="en")
    assert data.n_adjusted == 3
    g = {a.id: a for a in data.agreement}
    # knowledge: machine 20, 10, 27; trainer 25, 15, 27 → MAD 10/3, same order → rho 1.
    assert (g["knowledge"].n, g["knowledge"].mad, g["knowledge"].rho) == (3, pytest.approx(10 / 3), pytest.approx(1))
    # communication: 24 → 26 (greeting +2), others unchanged → MAD 2/3.
    assert g["communication"].mad == pytest.approx(2 / 3)
    # resolution: machine 18, 15, 27; trainer 18, 15, 10 → MAD 17/3; ranks 2,1,3 vs 3,2,1 → rho -0.5.
    assert (g["resolution"].mad, g["resolution"].rho) == (pytest.approx(17 / 3), pytest.approx(-0.5))
    # attitude: 8, 5, 9 vs 8, 7, 9 → MAD 2/3, rho 1.
    assert (g["attitude"].mad, g["attitude"].rho) == (pytest.approx(2 / 3), pytest.approx(1))
    # total: 70, 45, 90 vs 77, 52, 73 → MAD 31/3; ranks 2,1,3 vs 3,1,2 → rho 0.5.
    assert (g["total"].mad, g["total"].rho) == (pytest.approx(31 / 3), pytest.approx(0.5))
    assert list(g)[-1] == "total"


def test_filters_and_other_trainer(cohort):
    trainer, other, a = cohort
    assert analytics.cohort_analytics(trainer, cohort_id=a.id).n_drills == 3
    # Another trainer sees only their own cohort's drill and none of T's adjustments.
    theirs = analytics.cohort_analytics(other, lang="en")
    assert theirs.n_drills == 1 and theirs.total.mean == 33  # 4, resolution 1 → 30 by them
    assert {x.id: x.mad for x in theirs.agreement}["resolution"] == 29
    # A cohort T does not lead yields nothing, as does a date range without drills.
    b_id = db.session.query(Cohort.id).filter_by(name="B 班").scalar()
    assert analytics.cohort_analytics(trainer, cohort_id=b_id).n_drills == 0
    assert analytics.cohort_analytics(trainer, start=date(2026, 11, 3), end=date(2026, 11, 4)).n_drills == 1
    assert analytics.cohort_analytics(trainer, start=date(2026, 11, 2), end=date(2026, 11, 2)).n_drills == 1


def test_empty_is_graceful(app, make_user):
    trainer = make_user("trainer")
    data = analytics.cohort_analytics(trainer)
    assert data.n_drills == 0 and data.total is None and data.agreement == []
    charts = analytics.render_charts(data)
    assert all("<svg" in c for c in charts.values())


def test_single_drill_has_no_spread_or_rho(app, make_user):
    trainer = make_user("trainer")
    cohort = Cohort(name="solo", trainer_id=trainer.id)
    db.session.add(cohort)
    db.session.commit()
    s = scored(make_user("trainee", cohort=cohort), "billing_complaint", at(5),
               {"knowledge": 30, "communication": 30, "resolution": 30, "attitude": 10}, [])
    adjust(s, trainer, "dimension", "attitude", 10, 4)
    db.session.commit()
    data = analytics.cohort_analytics(trainer)
    assert data.total.sd is None and data.difficulty[0].sd is None
    att = {a.id: a for a in data.agreement}["attitude"]
    assert (att.n, att.mad, att.rho) == (1, 6, None)
    analytics.render_charts(data)


def test_not_applicable_criteria_are_no_weakness(app, make_user):
    """Sales calls where no time commitment was due (N/A, max 0) do not make 'time
    commitment' the cohort's weakness; where it applied and was missed, it counts."""
    trainer = make_user("trainer")
    cohort = Cohort(name="sales", trainer_id=trainer.id)
    db.session.add(cohort)
    db.session.commit()
    trainee = make_user("trainee", cohort=cohort)
    dims = {"knowledge": 30, "communication": 28, "resolution": 30, "attitude": 10}
    for day in (2, 3, 4):
        s = scored(trainee, "5g_plan_launch", at(day), dims, [("greeting", "communication", 0, 2, AP)])
        s.report = {"criteria": [*s.report["criteria"], {"id": "time_commitment", "dimension": "resolution",
                                                        "score": 0, "max": 0, "kind": AP, "applicable": False}]}
    s = scored(trainee, "billing_complaint", at(5), dims, [("time_commitment", "resolution", 0, 5, AP)])
    db.session.commit()
    data = analytics.cohort_analytics(trainer, lang="en")
    missed = {m.key: (m.missed, m.n) for m in data.missed_criteria}
    assert missed["greeting"] == (3, 3) and missed["time_commitment"] == (1, 1)
    assert data.missed_criteria[0].key == "greeting"
