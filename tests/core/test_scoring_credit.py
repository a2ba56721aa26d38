"""Credit a trainer would give (issue 12, item 7 and the calibration error analysis):
a turn that crosses a red line earns nothing elsewhere; credit for avoiding slips
follows the rest of the call; an address the caller gave in her own words is no
read-back; an A-not-A question is no negation; telegraphed keywords are no speech;
the seeds' forbidden tones cost attitude."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.core.rubric import load_rubric
from app.core.scoring import load_scenario_for_scoring, score_transcript
from app.core.scoring.keywords import keyword_analyse
from app.core.transcript import make_transcript
from app.core.understanding import _negated_before, is_token_list

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = load_rubric(ROOT / "rubrics" / "standard-100.yaml")
MINI = load_scenario_for_scoring(ROOT / "tests" / "data" / "scenarios" / "mini_billing.yaml")
SIGNAL = load_scenario_for_scoring(ROOT / "scenarios" / "signal_complaint.yaml")


def crit(report, cid):
    return next(c for c in report.criteria if c.id == cid)


def signal(turns):
    return score_transcript(make_transcript("signal_complaint", turns), SIGNAL, RUBRIC, keyword_analyse)


OPEN = [("agent", "您好，这里是客服中心，工号3358，请问有什么可以帮您？"),
        ("customer", "我家里信号很差，打电话老断。")]


def test_a_turn_that_crosses_a_red_line_earns_no_empathy():
    honest = signal(OPEN + [("agent", "非常抱歉给您添麻烦了，我马上帮您登记处理。"), ("customer", "好。")])
    promise = signal(OPEN + [("agent", "非常抱歉给您添麻烦了，我保证明天就能修好，以后保证满格。"), ("customer", "好。")])
    assert crit(honest, "empathy").score > 0 and not honest.flags
    assert [f.id for f in promise.flags] == ["impossible_promise"]
    e = crit(promise, "empathy")
    assert e.score == 0 and e.evidence == () and "红线" in e.feedback


def test_credit_from_other_turns_is_kept():
    r = signal(OPEN + [("agent", "非常抱歉给您添麻烦了。"), ("customer", "嗯。"),
                       ("agent", "我保证明天就能修好。"), ("customer", "好。")])
    e = crit(r, "empathy")
    assert e.score == e.max and [x.turn for x in e.evidence] == [2]


EMPTY = [("customer", "你们多扣了我钱！"), ("agent", "嗯。"), ("customer", "你倒是说话啊？"), ("agent", "好。")]
from tests.core.test_scoring import GOOD  # the mini scenario's by-the-book call  # noqa: E402


def mini(turns, rubric=RUBRIC):
    return score_transcript(make_transcript("mini_billing", turns), MINI, rubric, keyword_analyse)


@pytest.mark.parametrize("cid", ["no_forbidden_words", "no_jargon", "patience", "no_blame_or_rude"])
def test_an_empty_call_earns_little_for_avoiding_slips(cid):
    empty, good = crit(mini(EMPTY), cid), crit(mini(GOOD), cid)
    assert good.score == good.max
    assert empty.evidence == () and empty.score < 0.25 * empty.max
    assert "做到" in empty.feedback
    # Without absent_credit the rubric gives them in full, as before.
    raw = crit(mini(EMPTY, RUBRIC.model_copy(update={"absent_credit": None})), cid)
    assert raw.score == raw.max


def test_an_empty_call_totals_far_below_a_good_one():
    assert mini(EMPTY).total < 15 < 85 < mini(GOOD).total


ADDRESS = ("agent", "好的，我现在给您提交网络投诉工单，登记地址朝阳区阳光花园3号楼18层，24小时内联系您。")


def test_an_address_the_caller_gave_in_her_own_order_is_no_read_back():
    said = signal(OPEN + [("agent", "请问您家在哪里？"), ("customer", "我两周前搬到新家，阳光花园3号楼，18楼，朝阳区那个。"),
                          ADDRESS, ("customer", "好。")])
    assert "personal_data_read_back" not in [f.id for f in said.flags]
    unsaid = signal(OPEN + [("agent", "请问您家在哪里？"), ("customer", "就是我登记的那个地址。"), ADDRESS, ("customer", "好。")])
    assert "personal_data_read_back" in [f.id for f in unsaid.flags]
    half = signal(OPEN + [("agent", "请问您家在哪里？"), ("customer", "阳光花园那边。"), ADDRESS, ("customer", "好。")])
    assert "personal_data_read_back" in [f.id for f in half.flags]


@pytest.mark.parametrize("text, word, negated", [
    ("看它是不是变亮了", "亮", False),
    ("能不能帮您退订", "退订", False),
    ("有没有收到短信", "收到", False),
    ("可不可以帮您开通", "开通", False),
    ("我不会给您退订", "退订", True),
    ("没有退订", "退订", True),
    ("不是不能退", "退", True),
])
def test_an_a_not_a_question_is_no_negation(text, word, negated):
    assert _negated_before(text, text.index(word), "zh-CN") is negated


@pytest.mark.parametrize("text, is_list", [
    ("信号弱。高层。基站覆盖。工单。", True),
    ("核实通过。移动数据。流量。5G。视频通话。字体设置。", True),
    ("好的，明白了，您稍等。", False),
    ("好的。明白。稍等。谢谢。", False),
    ("对，就是它们。您找一找，有一个方块。", False),
])
def test_telegraphed_keywords_are_a_list(text, is_list):
    assert is_token_list(text, "zh-CN") is is_list


TONES = next(c for c in RUBRIC.criteria if c.id == "no_blame_or_rude").parsed_params


@pytest.mark.parametrize("text, hits", [
    ("短信上不是写了回复Y就订购吗？", 1),
    ("难道我还骗您吗？", 1),
    ("现在是高峰期，您理解一下。", 1),
    ("价格是公司定的，我改不了。", 1),
    ("可能是您理解错了。", 1),
    ("怕您误会，我再解释一遍。", 0),
    ("是不是我没说清楚？", 0),
    ("您没有收到短信吗？", 0),
    ("It's peak time, please be patient.", 1),
    ("You must have misunderstood the offer.", 1),
    ("So that you are not misled, let me explain.", 0),
])
def test_forbidden_tones_cost_attitude(text, hits):
    """The seeds' forbidden tones (反问) and "never say" answers to objections are blame."""
    from app.core.matching import compile_pattern

    found = [m for p in TONES.patterns for m in compile_pattern(p).finditer(text)]
    assert len(found) == hits, found


BILLING = load_scenario_for_scoring(ROOT / "scenarios" / "billing_complaint.yaml")


def billing(turns):
    return score_transcript(make_transcript("billing_complaint", turns), BILLING, RUBRIC, keyword_analyse)


ASK = [("customer", "我这个月话费多了50块，怎么回事？"),
       ("agent", "您好，工号1024，非常抱歉让您着急了。麻烦您提供一下机主姓名和身份证后四位。")]
CLOSE = [("agent", "请问还有其他可以帮您的吗？感谢您的来电，再见！"), ("customer", "嗯。")]


def test_a_refused_remedy_leaves_the_resolution_unearned():
    refused = billing(ASK + [("customer", "王丽华，4421。"),
                             ("agent", "多出来的是视频彩铃会员15元。我不会给您退订彩铃，这15元也退不了。"),
                             ("customer", "凭什么？")] + CLOSE)
    done = billing(ASK + [("customer", "王丽华，4421。"),
                          ("agent", "多出来的是视频彩铃会员15元，我现在就为您退订彩铃，15元3个工作日内退回您的话费账户。"),
                          ("customer", "好的。")] + CLOSE)
    for cid in ("closing", "confirm_result"):
        assert crit(done, cid).score == crit(done, cid).max
        assert crit(refused, cid).score == 0 and "拒绝" in crit(refused, cid).feedback
    later = billing(ASK + [("customer", "王丽华，4421。"),
                           ("agent", "我不会给您退订彩铃。"), ("customer", "什么？"),
                           ("agent", "抱歉，我说错了，我现在就为您退订彩铃，15元3个工作日内退回。"),
                           ("customer", "好的。")] + CLOSE)
    assert crit(later, "closing").score == crit(later, "closing").max  # done after all


def test_verification_needs_the_customer_to_give_the_items():
    gave = billing(ASK + [("customer", "王丽华，身份证后四位4421。"), ("agent", "谢谢您，核实好了。"), ("customer", "嗯。")])
    spoken = billing(ASK + [("customer", "身份证后四位四四二一。"), ("agent", "谢谢您，核实好了。"), ("customer", "嗯。")])
    refused = billing(ASK + [("customer", "我不想说，你们系统里不是都有吗？"), ("agent", "好的，那我直接帮您看。"),
                             ("customer", "嗯。")])
    assert crit(gave, "verify_before_account").score == crit(gave, "verify_before_account").max
    assert crit(spoken, "verify_before_account").score == crit(spoken, "verify_before_account").max
    assert crit(refused, "verify_before_account").score == 0


@pytest.mark.parametrize("clause, refuses", [
    ("24小时也恢复不了", True),
    ("带身份证去营业厅也没用", True),
    ("二次实名核验我不给您安排", True),
    ("这个费用我们退不了", True),
    ("我不会给您退订彩铃", True),
    ("3个工作日内退回话费账户", False),
    ("我马上帮您退订", False),
    ("这个我帮您查一下能不能退", False),
    ("看它亮没亮", False),
])
def test_a_clause_that_rules_out_what_it_names(clause, refuses):
    from app.core.meaning import clause_refuses

    assert clause_refuses(clause, "zh-CN") is refuses


def test_a_time_that_is_ruled_out_is_no_commitment():
    from app.core.acts_rules import has_time_commitment

    assert has_time_commitment("3个工作日内退回您的话费账户。", "zh-CN")
    assert not has_time_commitment("二次实名核验我不给您安排，24小时也恢复不了。", "zh-CN")
    assert not has_time_commitment("The 15 yuan is not refundable, nothing comes back within 3 working days.", "en")
