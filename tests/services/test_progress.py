"""The trainee's progress: dimension series, skill mastery, the weakest skill and where to train it."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.extensions import db
from app.services import progress, scoring

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"


def imported(trainee, name):
    path = DATA / name
    return scoring.import_transcript(path.read_bytes(), path.name, trainee, trainee=trainee)


@pytest.fixture
def trainee(app, make_user):
    return make_user("trainee", username="learner")


def test_no_history_gives_empty_defaults(trainee):
    view = progress.trainee_progress(trainee, "zh-CN")
    assert view.empty and view.recent == [] and view.skills == [] and view.weakest is None
    assert view.series == {} and view.series_labels == []
    charts = progress.charts(view, {"dimensions": "D", "skills": "S", "empty": "nothing", "percent": "%"})
    assert "nothing" in charts["dimensions"] and "<svg" in charts["skills"]


def test_series_per_dimension_in_percent_oldest_first(trainee):
    bad = imported(trainee, "billing_complaint.bad.json")
    good = imported(trainee, "billing_complaint.good.json")
    view = progress.trainee_progress(trainee, "zh-CN")
    assert [r.drill.id for r in view.recent] == [good.id, bad.id]
    assert [d for d, _ in view.dimensions] == ["knowledge", "communication", "resolution", "attitude"]
    for dim, values in view.series.items():
        assert len(values) == 2 == len(view.series_labels)
        for drill, value in zip((bad, good), values):
            d = scoring.latest_score(drill).dimensions[dim]
            assert value == pytest.approx(100 * d["score"] / d["max"], abs=0.1)
    assert view.series["knowledge"][1] >= view.series["knowledge"][0]


def test_skill_mastery_is_share_of_points(trainee):
    drills = [imported(trainee, "billing_complaint.bad.json"), imported(trainee, "billing_complaint.good.json")]
    view = progress.trainee_progress(trainee, "zh-CN")
    skills = {s.key: s for s in view.skills}
    assert {"greeting", "verify_before_account", "empathy", "closing"} <= set(skills)
    assert "kp:billing_complaint:bill_breakdown" in skills
    assert skills["kp:billing_complaint:bill_breakdown"].kind == "knowledge"
    assert "resolution_items.refund_15" not in skills and "end_state" not in skills
    crit = [c for d in drills for c in scoring.latest_score(d).report["criteria"] if c["id"] == "greeting"]
    earned, most = sum(c["score"] for c in crit), sum(c["max"] for c in crit)
    assert skills["greeting"].share == pytest.approx(earned / most)
    assert [s.share for s in view.skills] == sorted(s.share for s in view.skills)


def test_weakest_skill_and_the_scenario_that_trains_it(trainee):
    imported(trainee, "billing_complaint.good.json")
    imported(trainee, "signal_complaint.bad.json")
    view = progress.trainee_progress(trainee, "zh-CN")
    weakest = view.weakest
    assert weakest is not None and weakest.skill is view.skills[0] and weakest.skill.share < 1
    if weakest.skill.kind == "knowledge":
        assert weakest.skill.key.split(":")[1] == weakest.scenario_id
    else:
        per = weakest.skill.by_scenario
        assert weakest.scenario_id == min(per, key=lambda s: (per[s][0] / per[s][1], s))
    assert weakest.scenario_title


def test_act_skill_points_to_the_scenario_where_it_scored_lowest(trainee):
    imported(trainee, "billing_complaint.good.json")
    imported(trainee, "signal_complaint.bad.json")
    view = progress.trainee_progress(trainee, "zh-CN")
    acts = [s for s in view.skills if s.kind == "act" and s.share < 1 and len(s.by_scenario) == 2]
    assert acts, "the fixtures should differ on some act criterion"
    only_acts = [s for s in view.skills if s.kind == "act"]
    weakest = progress._weakest(only_acts, {"billing_complaint": "a", "signal_complaint": "b"})
    per = weakest.skill.by_scenario
    # Lowest share first; two scenarios at the same share go by id, whatever order they came in.
    assert weakest.scenario_id == min(per, key=lambda s: (per[s][0] / per[s][1], s))


def test_held_back_reports_stay_out_of_progress(trainee):
    drill = imported(trainee, "billing_complaint.good.json")
    drill.report_released = False
    db.session.commit()
    assert progress.trainee_progress(trainee, "zh-CN").empty


def test_hints_come_off_the_recent_totals(trainee):
    drill = imported(trainee, "billing_complaint.good.json")
    drill.hints_used = 3
    db.session.commit()
    recent = progress.trainee_progress(trainee, "zh-CN").recent[0]
    assert recent.hint_penalty == 6.0  # the app's HINT_PENALTY (2) per hint: no assignment
    assert recent.total == pytest.approx(max(0.0, recent.current.machine_total - 6.0))


def test_axis_labels_are_local_and_never_repeat():
    from datetime import datetime, timezone

    utc = lambda *a: datetime(*a, tzinfo=timezone.utc)  # noqa: E731
    # 23:30 UTC on 12-06 is 07:30 on 12-07 in Shanghai: three drills that day, two at one minute.
    moments = [utc(2026, 12, 5, 2, 0), utc(2026, 12, 6, 23, 30), utc(2026, 12, 7, 1, 15), utc(2026, 12, 7, 1, 15, 40)]
    labels = progress.drill_labels(moments, "Asia/Shanghai")
    assert labels == ["12-05", "12-07 #1", "12-07 #2", "12-07 #3"]
    # A day whose drills are at different minutes shows the times.
    assert progress.drill_labels(moments[:3], "Asia/Shanghai") == ["12-05", "12-07 07:30", "12-07 09:15"]
    assert all(len(x) <= 11 for x in labels)  # the chart's tick width (app/core/charts.py clips at 84 px)
    assert len(set(labels)) == len(labels)
    assert progress.drill_labels(moments[:2], "UTC") == ["12-05", "12-06"]


def test_weakest_criteria_are_named_by_the_rubric_and_skip_na(trainee):
    bad = imported(trainee, "billing_complaint.bad.json")
    view = progress.trainee_progress(trainee, "zh-CN")
    report = scoring.latest_score(bad).report
    ids = [c.id for c in view.criteria]
    assert ids and "." not in "".join(ids)  # expanded items summed into their criterion
    assert [c.share for c in view.criteria] == sorted(c.share for c in view.criteria)
    titles = {c.id: c.title for c in view.criteria}
    assert titles["restate"] == "复述确认需求" and titles["knowledge_points"] != "knowledge_points"
    na = {c["id"].split(".")[0] for c in report["criteria"] if not c.get("applicable", True)}
    assert not na & set(ids)
    charts = progress.charts(view, {"dimensions": "D", "skills": "S", "empty": "nothing", "percent": "%"})
    shown = view.weakest_criteria
    assert 0 < len(shown) <= progress.WEAKEST_CRITERIA
    assert all(c.title in charts["skills"] and f">{c.id}<" not in charts["skills"] for c in shown)
