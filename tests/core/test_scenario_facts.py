"""Issue 13, item 2: factual fixes in today's scenarios, each held by a test.

- call_forwarding: the number is China Mobile (158), so it teaches GSM codes (##21#, **61*),
  never China Telecom's CDMA star codes (*720, *92), and a CDMA code is a wrong statement;
- elderly_smartphone: remote assistance is no impossible promise, and free incoming calls
  (free on every plan) are no fact of her plan;
- 5g_plan_launch: the usage the customer states himself is no account fact, for the
  simulated customer and the scorer alike (also when he says "二十五个 G" with a space);
- signal_complaint: the labels phones use ("WLAN通话", "无线局域网通话", "WLAN calling") count.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core.rubric import load_rubric
from app.core.scenario_files import load_scenario
from app.core.scoring import load_scenario_for_scoring, score_transcript
from app.core.scoring.keywords import keyword_analyse
from app.core.simulation.play import play_lines
from app.core.simulation.schema import Scenario
from app.core.simulation.scripted import ScriptedEngine
from app.core.transcript import make_transcript
from tests.fakes.analyser import fake_analyse

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = load_rubric(ROOT / "rubrics" / "standard-100.yaml")
# China Mobile's number blocks (the ones this content uses are 135-139, 150, 158).
CHINA_MOBILE = re.compile(r"^1(3[4-9]|4[78]|5[0-27-9]|7[28]|8[2-478]|98)")
# China Telecom CDMA service codes (seed 001, a 10000 handbook): *72 / *720 / *730 / *80 / *800 / *90 / *900 / *92 / *920.
CDMA_CODE = re.compile(r"(?<![*#\d])\*\s*(72|720|730|80|800|90|900|92|920)(?!\d)")


def scenario(rel: str) -> Scenario:
    """`rel` is a file name, or `en/<file name>` for the English version of that file."""
    language, _, name = rel.rpartition("/")
    return load_scenario(ROOT / "scenarios" / name, language or "zh-CN")


def events(sc: Scenario, lines: list[str], persona: str | None = None) -> list[dict]:
    r = play_lines(ScriptedEngine(fake_analyse), sc, persona or sc.personas[0].id, 3, lines)
    return [e for t in r["turns"] if t["speaker"] == "customer" for e in t["meta"]["events"]]


def taught_text(sc: Scenario) -> str:
    """Everything the trainee or the customer reads as fact (not the feedback reasons)."""
    parts = [sc.briefing, sc.background, sc.customer.profile]
    parts += [f.text for f in sc.hidden_facts] + [k.text for k in sc.knowledge_points]
    parts += [r.text for r in sc.resolution_items]
    parts += [v for variants in sc.lines.values() for v in variants]
    parts += [v for p in sc.personas for variants in p.lines.values() for v in variants]
    return "\n".join(parts)


VERIFY = "为了保护您的账户安全，麻烦您提供一下机主姓名和身份证后四位。"


# --- call_forwarding: GSM codes on a China Mobile number -----------------------------------

def test_call_forwarding_teaches_gsm_codes_on_a_china_mobile_number():
    sc = scenario("call_forwarding.yaml")
    assert CHINA_MOBILE.match(sc.customer.personal_data["phone"].replace(" ", ""))
    assert not CDMA_CODE.search(taught_text(sc)), CDMA_CODE.findall(taught_text(sc))
    texts = {k.id: k.text for k in sc.knowledge_points}
    assert "##21#" in texts["cancel_forward_code"]
    assert "**61*" in texts["no_answer_code"] and "**62*" in texts["no_answer_code"]


@pytest.mark.parametrize("wrong", ["您拨*720再按拨号键，就能取消无条件转移。", "没接的时候转给您爱人，就拨*92加他的号码。"])
def test_a_cdma_code_told_for_a_china_mobile_number_is_a_wrong_statement(wrong):
    sc = scenario("call_forwarding.yaml")
    evs = events(sc, ["您好，客服中心，工号8042。", VERIFY, wrong])
    assert any(e["type"] == "wrong_statement" for e in evs), evs


def test_the_gsm_codes_do_the_steps():
    sc = scenario("call_forwarding.yaml")
    evs = events(sc, ["您好，客服中心，工号8042。", VERIFY,
                      "您的号码开着无条件呼叫转移，所有来电都直接转走。",
                      "第一步，请您拨##21#，再按拨号键，取消无条件转移。",
                      "第二步，拨**61*加您爱人的号码，再按#号和拨号键。",
                      "第三步，拨**62*再输入他的号码，按#号和拨号键。"])
    done = {e["id"] for e in evs if e["type"] == "resolution_done"}
    assert {"cancel_forward", "set_no_answer", "set_unreachable"} <= done, evs
    assert not any(e["type"] == "wrong_statement" for e in evs), evs


# --- elderly_smartphone -----------------------------------------------------------------------

@pytest.mark.parametrize("rel, line", [
    ("elderly_smartphone.yaml", "阿姨，我帮您开通远程协助，您点一下同意，我就能看到您的屏幕，远程帮您把移动数据打开。"),
    ("en/elderly_smartphone.yaml", "I can set up remote assistance: tap Accept and I'll see your screen and switch mobile data on for you remotely."),
])
def test_remote_assistance_is_no_impossible_promise(rel, line):
    sc = scenario(rel)
    evs = events(sc, ["您好，工号4001。" if rel.startswith("elderly") else "Hello, agent 4001.", line])
    assert not any(e["type"] == "impossible_promise" for e in evs), evs
    assert not any(re.search(p.pattern, line, re.IGNORECASE) for p in sc.impossible_promises)


@pytest.mark.parametrize("rel, free_incoming", [
    ("elderly_smartphone.yaml", "阿姨，您这个套餐接听免费。"),
    ("en/elderly_smartphone.yaml", "Incoming calls are free on your plan."),
])
def test_free_incoming_calls_are_no_plan_perk(rel, free_incoming):
    # Incoming domestic calls are free on every plan: not a fact of hers to sell or credit.
    sc = scenario(rel)
    plan = next(k for k in sc.knowledge_points if k.id == "plan_facts")
    assert not re.search(r"接听免费|incoming", plan.text, re.IGNORECASE)
    assert not plan.stated_by.matches(free_incoming)
    assert not any(re.search(r"接听免费|incoming calls? free", f.text, re.IGNORECASE) for f in sc.hidden_facts)


# --- 5g_plan_launch: the customer's own usage ---------------------------------------------------

def test_usage_the_customer_states_is_no_account_fact_for_the_simulated_customer():
    sc = scenario("5g_plan_launch.yaml")
    evs = events(sc, ["您好，客服中心，工号3001。请问您平时每个月流量大概用多少？",
                      "您的意思是您每个月用25个G左右，每月还另外买三十块钱的流量包，对吗？"])
    told = [e["id"] for e in evs if e["type"] == "detail_told"]
    assert "usage" in told, evs
    assert not any(e["type"] == "disclosed_before_verification" and e["id"] == "usage_25gb" for e in evs), evs


def test_usage_stated_unasked_before_verification_is_still_a_disclosure():
    sc = scenario("5g_plan_launch.yaml")
    evs = events(sc, ["您好，客服中心，工号3001。", "我看到您近三个月平均每月用25GB流量。"])
    assert {"type": "disclosed_before_verification", "id": "usage_25gb"} in evs, evs


def test_the_scorer_reads_the_customers_spoken_figure_with_its_space():
    sc = load_scenario_for_scoring(ROOT / "scenarios" / "5g_plan_launch.yaml")
    r = score_transcript(make_transcript("5g_plan_launch", [
        ("customer", "我流量用得多，一个月大概二十五个 G，十个 G 根本不够。"),
        ("agent", "您好，工号2046。您每个月用二十五个G左右，对吗？"),
        ("customer", "对。"),
    ]), sc, RUBRIC, keyword_analyse)
    assert r.flags == ()


# --- signal_complaint: Wi-Fi calling as phones label it -------------------------------------------

@pytest.mark.parametrize("label", ["WLAN通话", "无线局域网通话", "Wi-Fi通话"])
def test_wifi_calling_is_credited_under_the_labels_phones_use(label):
    sc = scenario("signal_complaint.yaml")
    evs = events(sc, ["您好，客服中心，工号2001，很高兴为您服务。", VERIFY,
                      f"您家里有宽带，我教您在手机设置里打开{label}，在家打电话就走宽带了。"], persona="calm")
    got = {(e["type"], e.get("id")) for e in evs}
    assert ("knowledge_stated", "wifi_calling") in got and ("resolution_done", "wifi_calling_workaround") in got, evs


def test_wlan_calling_counts_in_english():
    sc = scenario("en/signal_complaint.yaml")
    evs = events(sc, ["Hello, agent 2001.", "Could you give me the account holder's full name and the last four digits of the ID card?",
                      "You have broadband at home, so let's turn on WLAN calling in your phone's settings."], persona="calm")
    got = {(e["type"], e.get("id")) for e in evs}
    assert ("resolution_done", "wifi_calling_workaround") in got, evs


# --- billing_complaint / vas_unordered: one refund rule for an SMS-ordered service ---------------

def test_billing_complaint_and_vas_unordered_state_the_same_sms_refund_rule():
    """Both files state the three cases (no second confirmation; confirmed within 7 days;
    confirmed past 7 days, customer unaware) and billing_complaint's order record says which
    case its goodwill refund is, so the two drills no longer teach different rules."""
    bill, vas = scenario("billing_complaint.yaml"), scenario("vas_unordered.yaml")
    for sc in (bill, vas):
        bg = sc.background
        assert "二次确认" in bg and "7 天" in bg and "善意退费" in bg, sc.id
    assert "回复了二次确认短信" in bill.background and "超过 7 天" in bill.background
    en = scenario("en/billing_complaint.yaml")
    assert "second-confirmation" in en.background and "past 7 days" in en.background
