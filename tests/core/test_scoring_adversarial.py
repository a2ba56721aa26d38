"""Rules a trainer applies to calls written to game the scorer (issue 12, item 7): a
keyword list earns nothing anywhere, a comma list of bare phrases is a keyword list, a
clause that refuses or waves off a step states nothing, a call that refuses what the
case requires cannot communicate well, and a result never delivered cannot be
confirmed. The whole adversarial corpus, played live, is in test_understanding.py."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.core.datafiles import DataFileError
from app.core.meaning import clause_refuses
from app.core.rubric import load_rubric, parse_rubric
from app.core.scoring import load_scenario_for_scoring, score_transcript
from app.core.scoring.keywords import keyword_analyse
from app.core.transcript import make_transcript
from app.core.understanding import is_token_list

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = load_rubric(ROOT / "rubrics" / "standard-100.yaml")
BILLING = load_scenario_for_scoring(ROOT / "scenarios" / "billing_complaint.yaml")
PORTING = load_scenario_for_scoring(ROOT / "scenarios" / "number_porting.yaml")

OPEN = [("agent", "您好，这里是客服中心，工号1024，请问有什么可以帮您？"),
        ("customer", "我这个月话费怎么多了五十块？"),
        ("agent", "为了保障您的账户安全，麻烦您提供一下机主姓名和身份证后四位。"),
        ("customer", "我叫王丽华，身份证后四位 4421。")]
CLOSE = [("agent", "请问还有其他可以帮您的吗？感谢您的来电，再见。"), ("customer", "嗯。")]


def crit(report, cid):
    return next(c for c in report.criteria if c.id == cid)


def billing(turns):
    return score_transcript(make_transcript("billing_complaint", turns), BILLING, RUBRIC, keyword_analyse)


def porting(turns):
    return score_transcript(make_transcript("number_porting", turns), PORTING, RUBRIC, keyword_analyse)


# --- keyword lists --------------------------------------------------------------------

def test_a_keyword_list_turn_restates_explains_and_commits_to_nothing():
    listed = "您的意思是 因为 15元 35元 退订彩铃 退15元 3个工作日 24小时内 工单 加油包 是不是？"
    r = billing(OPEN + [("agent", listed), ("customer", "什么意思？")] + CLOSE)
    for cid in ("restate", "explanation", "closed_question", "time_commitment"):
        c = crit(r, cid)
        assert c.score == 0 and all(e.turn != 4 for e in c.evidence), cid
    # The same words said as speech earn them.
    said = "您的意思是这50元不清楚是什么，对吗？因为您不知情，我马上帮您退订彩铃，15元3个工作日内退回。"
    s = billing(OPEN + [("agent", said), ("customer", "好的。")] + CLOSE)
    assert crit(s, "restate").score > 0 and crit(s, "time_commitment").score > 0


@pytest.mark.parametrize("text", [
    "身份证，营业厅，二次实名核验，24小时，不会索要验证码，不收解封费，举报，110",
    "只支持2.4G，旧路由器，双频路由器，5G频段，光猫退还，按天算，不收违约金",
    "实名正常，没有欠费，只有合约，影响携转，还剩2个月",
])
def test_a_comma_list_of_bare_phrases_is_a_keyword_list(text):
    assert is_token_list(text, "zh-CN")


@pytest.mark.parametrize("text", [
    "您先打开设置，点显示和亮度，再点字体大小，把滑块往右拖，就变大了。",
    "好的，没问题，我这边马上帮您退订，您稍等，谢谢。",
    "您的实名正常，也没有欠费，只有合约会影响携转，还剩2个月。",
])
def test_speech_with_commas_is_not_a_keyword_list(text):
    assert not is_token_list(text, "zh-CN")


# --- refusals ---------------------------------------------------------------------------

@pytest.mark.parametrize("clause", ["合约影不影响我不跟您说", "##21#您也别拨", "营业厅您也别去", "5G频段也不用连",
                                    "双频路由器我不建议您换", "这事我不负责跟进", "12个月的合约我不跟您确认"])
def test_clauses_that_refuse_or_wave_off_the_step(clause):
    assert clause_refuses(clause, "zh-CN")


@pytest.mark.parametrize("clause", ["您别着急", "这个不用担心", "您放心，不会让您多花钱", "我建议您换一个双频路由器",
                                    "您先别挂", "您也不用担心费用", "这是我们应该做的"])
def test_reassurance_and_advice_are_no_refusal(clause):
    assert not clause_refuses(clause, "zh-CN")


def test_a_hit_that_spells_its_own_negation_states_nothing_in_a_refusing_clause():
    verified = [("agent", "您好，客服中心，工号6620，请问有什么可以帮您？"), ("customer", "我想携号转网。"),
                ("agent", "麻烦您提供机主姓名和身份证后四位。"), ("customer", "我叫邓雅婷，身份证后四位 6639。")]
    refused = porting(verified + [("agent", "合约影不影响我不跟您说。"), ("customer", "啊？")] + CLOSE)
    stated = porting(verified + [("agent", "您的实名和状态都正常，只有合约会影响携转。"), ("customer", "哦。")] + CLOSE)
    assert crit(refused, "knowledge_points.eligibility_result").score == 0
    assert crit(stated, "knowledge_points.eligibility_result").score > 0


REFUSED = OPEN + [("agent", "账单上多了视频彩铃会员15元和超套流量费35元，非常抱歉给您带来不便。"), ("customer", "那你给我退了。"),
                  ("agent", "我不会给您退订彩铃，也不会退15元，3个工作日也退不了。"), ("customer", "什么？"),
                  ("agent", "是不是还有别的问题？彩铃我们不退订，15块钱不能退给您。"), ("customer", "你们太过分了。")] + CLOSE


def test_a_call_that_refuses_the_remedy_earns_at_most_half_of_communication_and_attitude():
    r = billing(REFUSED)
    assert r.dimensions["communication"].score <= 15 and r.dimensions["attitude"].score <= 5
    capped = [c for c in r.criteria if c.dimension == "communication" and c.score > 0]
    assert capped and all("最多得 50%" in c.feedback for c in capped)
    # Without the cap the same call earns more: the cap, not the other rules, holds it down.
    data = yaml.safe_load((ROOT / "rubrics" / "standard-100.yaml").read_text(encoding="utf-8"))
    data.pop("refusal_cap")
    uncapped = score_transcript(make_transcript("billing_complaint", REFUSED), BILLING, parse_rubric(data, "x.yaml"),
                                keyword_analyse)
    assert uncapped.dimensions["communication"].score > 15


def test_a_call_that_does_the_remedy_is_not_capped():
    done = OPEN + [("agent", "非常抱歉，多出来的是视频彩铃会员15元，我马上帮您退订彩铃，15元3个工作日内退回话费账户。"),
                   ("customer", "好的，谢谢。")] + CLOSE
    r = billing(done)
    assert not any("最多得" in c.feedback for c in r.criteria)


def test_refusal_cap_names_known_dimensions():
    data = yaml.safe_load((ROOT / "rubrics" / "standard-100.yaml").read_text(encoding="utf-8"))
    data["refusal_cap"] = {"share": 0.5, "dimensions": ["communication", "manners"]}
    with pytest.raises(DataFileError) as exc:
        parse_rubric(data, "x.yaml")
    assert "refusal_cap.dimensions[1]: unknown dimension 'manners'" in str(exc.value)


# --- a result never delivered -------------------------------------------------------------

def played(turns, state):
    """Turns as a drill stores them: the simulated customer's state on each of her turns."""
    return [{"speaker": sp, "text": tx, **({"meta": {"state": state}} if sp == "customer" else {})} for sp, tx in turns]


IDLE = OPEN + [("agent", "好的，我看一下。"), ("customer", "然后呢？")] + CLOSE


def test_confirming_a_result_never_delivered_earns_in_proportion_to_the_steps_done():
    c = crit(billing(played(IDLE, "unfinished")), "confirm_result")
    assert c.score == 0 and "0 件" in c.feedback
    done = played(OPEN + [("agent", "我马上帮您退订彩铃，15元3个工作日内退回话费账户。"), ("customer", "好的。")] + CLOSE,
                  "resolved")
    assert crit(billing(done), "confirm_result").score == crit(billing(done), "confirm_result").max > 0


@pytest.mark.parametrize("turns", [played(IDLE, "resolved"), IDLE], ids=["customer-resolved", "imported-call"])
def test_the_steps_read_alone_never_withhold_the_confirmation(turns):
    """A customer who says she is helped, or a call with no customer state at all (an
    imported recording): the scorer may have missed steps said in natural words."""
    c = crit(billing(turns), "confirm_result")
    assert c.score == c.max > 0
