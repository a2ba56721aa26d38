"""The report's "three things to fix first" on a known transcript (app/core/coaching.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.coaching import fix_first
from app.core.rubric import load_rubric
from app.core.scoring import load_scenario_for_scoring, score_transcript
from app.core.scoring.keywords import keyword_analyse
from app.core.transcript import read_transcript

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = load_rubric(ROOT / "rubrics" / "standard-100.yaml")
CRIT = {c.id: c for c in RUBRIC.criteria}
BILLING = load_scenario_for_scoring(ROOT / "scenarios" / "billing_complaint.yaml")


@pytest.fixture(scope="module")
def bad():
    """The rude, unverified billing call: a score report and its turns."""
    t = read_transcript((ROOT / "tests/data/transcripts/billing_complaint.bad.json").read_bytes(), None)
    report = json.loads(score_transcript(t, BILLING, RUBRIC, keyword_analyse).to_json())
    return report, [(x.speaker, x.text) for x in t.turns]


def pick(report, turns, **kw):
    return fix_first(report["criteria"], RUBRIC.model_dump(), BILLING.model_dump(), turns, "zh-CN", "zh-CN", **kw)


def test_the_three_are_the_biggest_fixable_losses(bad):
    report, turns = bad
    three = pick(report, turns)
    # verify_before_account loses 8 × 0.8 = 6.4; then three losses of 5 at fixability 1:
    # the forbidden words (a fault with a quote) before the omissions restate and
    # time_commitment, which rubric order breaks (restate comes first).
    assert [f.criterion_id for f in three] == ["verify_before_account", "no_forbidden_words", "restate"]
    assert [f.priority for f in three] == [6.4, 5.0, 5.0]


def test_each_says_where_what_was_said_and_a_better_line_for_this_scenario(bad):
    report, turns = bad
    verify, forbidden, restate = pick(report, turns)
    assert verify.turn == 3 and verify.quote in turns[3][1] and verify.line == turns[3][1]
    assert verify.better == CRIT["verify_before_account"].model["zh-CN"]  # the scenario has none
    assert forbidden.turn == 1 and forbidden.quote == "喂"
    # The scenario's own model line, not the rubric's generic one.
    assert restate.better == BILLING.criterion_tips["restate"].model
    assert restate.better != CRIT["restate"].model["zh-CN"]
    assert restate.turn is None and restate.quote == ""  # never restated anywhere: no turn to point at


def test_no_fault_credit_loss_na_and_full_marks_are_never_picked(bad):
    report, turns = bad
    everything = {f.criterion_id for f in pick(report, turns, how_many=100)}
    # no_jargon lost 2.6 points only through the credit rule (no jargon was said).
    assert "no_jargon" not in everything and "patience" not in everything
    assert "open_question" not in everything  # full marks
    crits = [dict(c, applicable=False) if c["id"] == "verify_before_account" else c for c in report["criteria"]]
    again = fix_first(crits, RUBRIC.model_dump(), BILLING.model_dump(), turns, "zh-CN", "zh-CN")
    assert "verify_before_account" not in {f.criterion_id for f in again}


def test_a_trainer_review_that_restores_points_changes_the_three(bad):
    report, turns = bad
    crits = [dict(c, score=c["max"]) if c["id"] == "verify_before_account" else c for c in report["criteria"]]
    three = fix_first(crits, RUBRIC.model_dump(), BILLING.model_dump(), turns, "zh-CN", "zh-CN")
    assert [f.criterion_id for f in three] == ["no_forbidden_words", "restate", "time_commitment"]


def test_a_window_criterion_points_at_the_turn_where_it_belonged(bad):
    report, turns = bad
    greeting = next(f for f in pick(report, turns, how_many=100) if f.criterion_id == "greeting")
    assert greeting.turn == 1 and greeting.quote == turns[1][1]  # the first agent turn, said instead
