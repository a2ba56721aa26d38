"""一票否决 on the QA form: a red line sets the total to 0 and the report says why; the
standard rubric (no veto) keeps red lines outside the weighted score."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.core.rubric import load_rubric, parse_rubric
from app.core.scoring import load_scenario_for_scoring, scenario_ids, score_transcript
from app.core.scoring.keywords import keyword_analyse
from app.core.scoring.scorer import apply_veto
from app.core.transcript import read_transcript
from app.scoring_cli import render_report

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "transcripts"
QA = load_rubric(ROOT / "rubrics" / "qa-inspection.yaml")
STANDARD = load_rubric(ROOT / "rubrics" / "standard-100.yaml")


def score(name: str, rubric):
    t = read_transcript(CORPUS / f"{name}.json", scenario_ids(ROOT / "scenarios"))
    return score_transcript(t, load_scenario_for_scoring(ROOT / "scenarios" / f"{t.scenario}.yaml"), rubric, keyword_analyse)


def dimension_sum(report) -> float:
    return round(sum(d.score for d in report.dimensions.values()), 1)


def test_a_red_line_sets_the_qa_total_to_zero_and_says_which_line_and_turn():
    report = score("billing_complaint.bad", QA)
    assert report.flags, "the fixture call must cross a red line"
    assert report.total == 0
    assert dimension_sum(report) > 0, "the dimensions keep what the call earned"
    for flag in report.flags:
        assert flag.id in report.veto and all(f"第{t}轮" in report.veto for t in flag.turns)
    assert f"{dimension_sum(report):g}" in report.veto
    out = report.to_output()
    assert out["total"] == 0 and out["veto"] == report.veto
    assert report.veto in render_report(report, {}, {})


def test_the_standard_rubric_has_no_veto():
    report = score("billing_complaint.bad", STANDARD)
    assert report.flags and report.veto is None and "veto" not in report.to_output()
    assert report.total == dimension_sum(report) > 0


def test_a_clean_call_on_the_qa_form_is_not_vetoed():
    report = score("billing_complaint.good", QA)
    assert not report.flags and report.veto is None
    assert report.total == dimension_sum(report) > 0


def test_the_veto_comes_from_the_rubric_data():
    data = yaml.safe_load((ROOT / "rubrics" / "qa-inspection.yaml").read_text("utf-8"))
    assert data["red_lines"]["veto"] is True
    data["red_lines"]["veto"] = False
    report = score("billing_complaint.bad", parse_rubric(data, "<qa without veto>"))
    assert report.flags and report.veto is None and report.total == dimension_sum(report) > 0


@pytest.mark.parametrize("language, words", [("zh-CN", "一票否决"), ("en", "Red-line veto")])
def test_the_reason_is_in_the_report_language_and_applying_twice_changes_nothing(language, words):
    report = score("billing_complaint.bad", QA).model_copy(update={"language": language})
    # A re-tally (the LLM judge's) restores the dimensions' sum; the veto applies again.
    again = apply_veto(QA, report.model_copy(update={"total": dimension_sum(report), "veto": None}))
    assert again.total == 0 and words in again.veto
