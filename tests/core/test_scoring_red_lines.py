"""Precise red lines: each false flag reported in issue 12 stays quiet, the real ones
fire and name the turn and the clause; the rude call loses forbidden-word and patience
points; the rubric's forbidden-word check is the act layer's rule."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.core.rubric import load_rubric, parse_rubric
from app.core.scoring import load_scenario_for_scoring, score_transcript
from app.core.scoring.keywords import keyword_analyse
from app.core.transcript import make_transcript

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = load_rubric(ROOT / "rubrics" / "standard-100.yaml")
# The counting tests below read act_absent deductions alone, without the share of the
# rest of the call that standard-100's absent_credit scales them by.
RAW = RUBRIC.model_copy(update={"absent_credit": None})
EN_MODEL_VERIFICATION = next(c for c in RUBRIC.criteria if c.id == "verify_before_account").model["en"]


def score(sid, turns, language="zh-CN", rubric=RUBRIC):
    sc = load_scenario_for_scoring(ROOT / "scenarios" / f"{sid}.yaml", language)
    return score_transcript(make_transcript(sid, turns), sc, rubric, keyword_analyse)


def flag_ids(report):
    return [f.id for f in report.flags]


def crit(report, cid):
    return next(c for c in report.criteria if c.id == cid)


# --- the false red lines of the issue -------------------------------------------------

def test_repeating_back_the_usage_the_customer_just_gave_is_no_disclosure():
    r = score("5g_plan_launch", [
        ("customer", "我每个月大概用25个G流量，老是不够用。"),
        ("agent", "您好，工号2046。您的意思是您每个月用25GB左右，对吗？"),
        ("customer", "对。"),
    ])
    assert r.flags == ()


def test_stating_the_usage_unasked_before_verification_is_still_a_disclosure():
    r = score("5g_plan_launch", [
        ("customer", "我想换个套餐。"),
        ("agent", "您好，工号2046。我看到您近三个月平均每月用25GB流量。"),
        ("customer", "对。"),
    ])
    assert flag_ids(r) == ["disclosed_before_verification"]
    (ev,) = r.flags[0].evidence
    assert ev.turn == 1 and "25GB" in ev.quote


def test_elderly_guidance_is_neither_a_promise_nor_a_disclosure():
    # The elderly call's briefing never asks for verification, and guiding her to switch
    # mobile data on (or doing it with remote assistance) is what the model agent does.
    r = score("elderly_smartphone", [
        ("customer", "我在外面用不了微信视频。"),
        ("agent", "您好阿姨，工号5012。我来帮您打开移动数据，您先从屏幕最上面往下滑。"),
        ("customer", "滑下来了。"),
        ("agent", "您的套餐每月38元，含5GB流量，视频完全够用。"),
        ("customer", "好。"),
    ])
    assert r.flags == ()
    assert not crit(r, "verify_before_account").applicable


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_scrolling_the_screen_is_no_insult(language):
    r = score("elderly_smartphone", [("customer", "字太小。"), ("agent", "您好，工号5012。您把屏幕往下滚动，找到“设置”。"),
                                     ("customer", "好。")], language)
    assert "insulted_customer" not in flag_ids(r)


def test_saying_a_repair_today_cannot_be_guaranteed_is_no_promise():
    r = score("signal_complaint", [
        ("customer", "今天能修好吗？"),
        ("agent", "您好，工号1024。我没法保证今天修好，技术人员会在48小时内上门测试。"),
        ("customer", "好吧。"),
    ])
    assert "impossible_promise" not in flag_ids(r)
    promised = score("signal_complaint", [("customer", "今天能修好吗？"), ("agent", "您放心，今天就能修好。"), ("customer", "好。")])
    assert flag_ids(promised) == ["impossible_promise"]
    assert promised.flags[0].evidence[0].quote == "今天就能修好"


@pytest.mark.parametrize("sid", ["billing_complaint", "5g_plan_launch", "signal_complaint", "elderly_smartphone"])
def test_the_rubrics_english_model_verification_sentence_raises_nothing(sid):
    sc = load_scenario_for_scoring(ROOT / "scenarios" / f"{sid}.yaml", "en")
    r = score(sid, [
        ("customer", "Hello, I have a question about my phone."),
        ("agent", "Hello, customer service, staff number 1024. " + EN_MODEL_VERIFICATION),
        ("customer", sc.customer.identity_answer),
        ("agent", "Thank you, that matches our records."),
    ], "en")
    assert r.flags == ()
    if sc.verification_required:
        assert crit(r, "verify_before_account").score == crit(r, "verify_before_account").max


# --- contempt, sarcasm, abuse ---------------------------------------------------------

RUDE = [
    ("customer", "我家里信号特别差，一天掉好几次线。"),
    ("agent", "说。"),
    ("customer", "我说信号很差！"),
    ("agent", "信号不好你找我有什么用？又不是我建的基站。"),
    ("customer", "你这什么态度？"),
    ("agent", "你烦不烦啊，这种事我们也没办法"),
    ("customer", "算了。"),
]


def test_the_rude_call_is_a_red_line_naming_each_clause():
    r = score("signal_complaint", RUDE)
    (flag,) = [f for f in r.flags if f.id == "insulted_customer"]
    assert flag.turns == (1, 3, 5)
    quotes = {(e.turn, e.quote) for e in flag.evidence}
    assert {(1, "说。"), (3, "又不是我建的基站"), (5, "你烦不烦啊")} <= quotes
    assert any(t == 3 and "有什么用" in q for t, q in quotes)
    text = {i: t for i, (_, t) in enumerate(RUDE)}
    for e in flag.evidence:
        assert text[e.turn][e.span[0]:e.span[1]] == e.quote
    assert r.to_output()["flags"][0]["evidence"], "the flag's clauses are in the score JSON"


def test_the_rude_call_loses_forbidden_word_patience_and_question_credit():
    r = score("signal_complaint", RUDE)
    assert crit(r, "no_forbidden_words").score < crit(r, "no_forbidden_words").max
    assert crit(r, "patience").score < crit(r, "patience").max
    assert crit(r, "no_blame_or_rude").score == 0
    assert crit(r, "open_question").score == 0, "the rhetorical 有什么用？ is no open question"


def test_condescension_is_a_red_line():
    r = score("billing_complaint", [("customer", "为什么多扣我钱？"),
                                    ("agent", "这个小学生都懂。跟您这种人讲道理太费劲。"), ("customer", "……")])
    (flag,) = r.flags
    assert flag.id == "insulted_customer" and {e.quote for e in flag.evidence} == {"这个小学生都懂", "跟您这种人讲道理太费劲"}


def test_attitude_zero_instead_of_a_red_line_when_the_rubric_says_so():
    data = yaml.safe_load((ROOT / "rubrics" / "standard-100.yaml").read_text("utf-8"))
    data["red_lines"]["contempt"] = "attitude_zero"
    rubric = parse_rubric(data, "rubrics/standard-100.yaml")
    r = score("signal_complaint", RUDE, rubric=rubric)
    assert "insulted_customer" not in flag_ids(r)
    assert r.dimensions["attitude"].score == 0
    assert all("服务态度记 0 分" in c.feedback for c in r.criteria if c.dimension == "attitude" and c.applicable)


# --- forbidden words: the act layer's rule --------------------------------------------

def test_courtesy_phrases_are_not_forbidden_words():
    r = score("billing_complaint", [
        ("customer", "谢谢你啊。"),
        ("agent", "这是我们应该做的。不知道您方便提供一下机主姓名和身份证后四位吗？"),
        ("customer", "王丽华，4421。"),
    ], rubric=RAW)
    c = crit(r, "no_forbidden_words")
    assert c.score == c.max and c.evidence == ()


def test_forbidden_words_count_each_occurrence_with_its_span():
    turn = "这个我也不知道，应该是系统的问题。"
    r = score("billing_complaint", [("customer", "怎么回事？"), ("agent", turn), ("customer", "啊？")], rubric=RAW)
    c = crit(r, "no_forbidden_words")
    assert [e.quote for e in c.evidence] == ["不知道", "应该"]
    assert c.score == c.max - 2 * RUBRIC.criteria[[x.id for x in RUBRIC.criteria].index("no_forbidden_words")].parsed_params.per_occurrence
