"""Criteria that apply by call type and by what happened in the call (rubric
`applies_when`): N/A in the report, the dimension rescaled, a perfect call reaching 100."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.core.rubric import load_rubric, parse_rubric
from app.core.scoring import load_scenario_for_scoring, score_transcript
from app.core.scoring.keywords import keyword_analyse
from app.core.transcript import Transcript, make_transcript, read_transcript

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "transcripts"
RUBRIC = load_rubric(ROOT / "rubrics" / "standard-100.yaml")


def scenario(sid: str):
    return load_scenario_for_scoring(ROOT / "scenarios" / f"{sid}.yaml")


def corpus(name: str) -> Transcript:
    return read_transcript(CORPUS / f"{name}.json", None)


def edited(t: Transcript, turn: int, old: str, new: str) -> Transcript:
    """`t` with `old` replaced by `new` in one turn (the text must be there)."""
    assert old in t.turns[turn].text, (turn, t.turns[turn].text)
    turns = [(x.speaker, x.text.replace(old, new) if i == turn else x.text, x.meta) for i, x in enumerate(t.turns)]
    return make_transcript(t.scenario, [(s, x) for s, x, _ in turns], persona=t.persona)


def score(t: Transcript, rubric=RUBRIC):
    return score_transcript(t, scenario(t.scenario), rubric, keyword_analyse)


def crit(report, cid):
    return next(c for c in report.criteria if c.id == cid)


def plain_5g() -> Transcript:
    """The excellent 5G sales call without its sympathy phrase: a sales call where nothing
    went wrong and nothing is left to follow up."""
    return edited(corpus("5g_plan_launch.excellent"), 3, "明白，很理解您想流量够用又不多花钱的想法。", "好的。")


def plain_elderly() -> Transcript:
    """The excellent elderly how-to call without its sympathy phrase and without the
    identity check its briefing never asks for."""
    t = edited(corpus("elderly_smartphone.excellent"), 1, "很理解您刚换新手机不太习惯，", "")
    return edited(t, 5, "为了帮您查一下套餐，麻烦您告诉我机主姓名和身份证后四位，好吗？", "好的，我先帮您看看怎么设置。")


def undated_5g() -> Transcript:
    """`plain_5g` without the day the change takes effect ("次月1日生效" is a time given,
    so the time commitment is credited): nothing at all is left pending in time."""
    t = plain_5g()
    return make_transcript(t.scenario, [(x.speaker, x.text.replace("次月1日", "下月")) for x in t.turns])


@pytest.mark.parametrize("rubric_id", ["standard-100", "qa-inspection"])
@pytest.mark.parametrize("make, na", [
    # ("次月1日生效" is a time commitment since standard-100 v5: given, it is credited)
    (plain_5g, {"empathy"}),
    # (the elderly call promises an SMS "5分钟内": a commitment given is always credited)
    (plain_elderly, {"empathy", "verify_before_account"}),
])
def test_a_perfect_sales_or_how_to_call_reaches_100(make, na, rubric_id):
    r = score(make(), load_rubric(ROOT / "rubrics" / f"{rubric_id}.yaml"))
    assert r.total == 100, [(c.id, c.score, c.max) for c in r.criteria if c.score < c.max]
    assert na <= {c.id for c in r.criteria if not c.applicable}
    assert r.flags == ()


def test_not_applicable_is_shown_and_its_points_go_to_the_dimension():
    out = score(undated_5g()).to_output()
    by_id = {c["id"]: c for c in out["criteria"]}
    for cid in ("time_commitment", "empathy"):
        c = by_id[cid]
        assert c["applicable"] is False and c["max"] == 0 and c["score"] == 0 and c["evidence"] == []
        assert "不适用" in c["feedback"]
    for dim, d in out["dimensions"].items():
        assert sum(c["max"] for c in out["criteria"] if c["dimension"] == dim) == pytest.approx(d["max"])
    # The contract keys other tools read are all still there.
    assert {"scenario", "rubric", "total", "max", "dimensions", "criteria", "flags"} <= set(out)


def test_complaint_calls_still_owe_a_time_and_an_apology():
    t = corpus("billing_complaint.excellent")
    r = score(t)
    assert crit(r, "time_commitment").applicable and crit(r, "empathy").applicable
    # ... so leaving the apology out of a complaint call costs points.
    worse = score(make_transcript(t.scenario, [(x.speaker, x.text) for x in t.turns if x.speaker == "customer"]
                                  [:1] + [("agent", "您好，工号1024，请讲。")]))
    assert crit(worse, "empathy").applicable and crit(worse, "empathy").score == 0


def test_a_sales_call_that_leaves_a_call_back_owes_a_time():
    base = undated_5g()
    r = score(edited(base, 15, "稍后会收到短信通知。", "稍后会有专人回电跟您核对合约。"))
    assert crit(r, "time_commitment").applicable
    assert not crit(score(base), "time_commitment").applicable
    # ... and the day the change takes effect is a time given, credited where it is said.
    dated = crit(score(plain_5g()), "time_commitment")
    assert dated.applicable and dated.score == dated.max


def test_a_sales_call_where_the_caller_gets_upset_owes_an_apology():
    base = plain_5g()
    turns = [(x.speaker, x.text) for x in base.turns]
    turns[8] = ("customer", "你们这个合约太坑人了，我要投诉！")
    r = score(make_transcript(base.scenario, turns))
    assert crit(r, "empathy").applicable and crit(r, "empathy").score == 0
    mood = [(x.speaker, x.text, {"mood": 7} if i == 8 else None) for i, x in enumerate(base.turns)]
    r = score(Transcript.model_validate({**base.model_dump(), "turns": [
        {"speaker": s, "text": x, **({"meta": m} if m else {})} for s, x, m in mood]}))
    assert crit(r, "empathy").applicable


def test_persona_and_scenario_cases():
    data = yaml.safe_load((ROOT / "rubrics" / "standard-100.yaml").read_text("utf-8"))
    greeting = next(c for c in data["criteria"] if c["id"] == "greeting")
    greeting["applies_when"] = [{"personas": ["impatient"]}, {"scenarios": ["billing_complaint"]}]
    rubric = parse_rubric(data, "rubrics/standard-100.yaml")
    t = plain_5g()
    assert not crit(score(t, rubric), "greeting").applicable
    impatient = make_transcript(t.scenario, [(x.speaker, x.text) for x in t.turns], persona="impatient")
    assert crit(score(impatient, rubric), "greeting").applicable
    assert crit(score(corpus("billing_complaint.excellent"), rubric), "greeting").applicable
