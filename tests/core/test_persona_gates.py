"""Personas gate the call as people do: the furious caller must be heard first, the
privacy-wary one asks why before giving ID digits, the skeptical one disputes a valid
charge until it is explained (real act model, billing_complaint)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.core.acts import load_intent_model
from app.core.datafiles import DataFileError
from app.core.scenario_files import load_scenario
from app.core.simulation.scripted import ScriptedEngine

ROOT = Path(__file__).resolve().parents[2]
SC = load_scenario(ROOT / "scenarios" / "billing_complaint.yaml")

VERIFY = "为了保障您的账户安全，麻烦您提供一下机主姓名和身份证后四位。"
BREAKDOWN = "这个月多出的50元是两笔：视频彩铃会员15元，是10月3日回复短信开通的；另外流量超出3.5G，按每G 10元是35元。"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return ScriptedEngine(load_intent_model("zh-CN", ROOT / "rubrics" / "acts", tmp_path_factory.mktemp("cache")))


def play(engine, persona, lines):
    _, state, _ = engine.start_turn(SC, persona, 1)
    out = []
    for line in lines:
        text, state, events = engine.next_turn(line, state, SC)
        out.append((text, state, events))
    return out


def test_the_furious_caller_makes_no_progress_until_heard(engine):
    blunt = play(engine, "furious", [VERIFY, BREAKDOWN])
    text, state, events = blunt[-1]
    assert any(e["type"] == "not_heard" for e in events)
    assert state["facts"] == [] and text in SC.persona("furious").lines.get("not_heard", SC.lines["not_heard"])
    heard = play(engine, "furious", ["非常抱歉给您添麻烦了，多扣钱换谁都着急，我马上帮您查清楚。", VERIFY, BREAKDOWN])
    assert {"ringback_15", "overage_35"} <= set(heard[-1][1]["facts"])


def test_the_privacy_wary_caller_asks_why_before_giving_id(engine):
    (text, state, events), = play(engine, "privacy_wary", ["麻烦报一下身份证后四位和机主姓名。"])
    assert {"type": "asked_why_id"} in events and "4421" not in text and not state["verified"]
    (text, state, events), = play(engine, "privacy_wary", [VERIFY])
    assert "4421" in text and state["verified"]
    # Asked bare, then given the reason in the next turn: she answers then.
    turns = play(engine, "privacy_wary", ["麻烦报一下身份证后四位和机主姓名。", "这是为了确认是机主本人，保护您的账户安全。"])
    assert "4421" in turns[-1][0] and turns[-1][1]["verified"]


def test_the_skeptical_caller_disputes_the_valid_charge_until_explained(engine):
    turns = play(engine, "skeptical", [VERIFY, "多出来的里面有35元是超套流量费。",
                                        "彩铃会员15元我马上帮您退订，15元3个工作日内退回话费账户。",
                                        "请问还有其他可以帮您的吗？感谢来电，再见。"])
    assert any(e["type"] == "disputed" for e in turns[1][2])
    assert turns[-1][1]["outcome"] is None and turns[-1][1]["disputed"] == ["overage_35"]
    explained = play(engine, "skeptical", [VERIFY, "多出来的里面有35元是超套流量费。",
                                           "您10月12到15号出差用了13.5G，套餐含10G，超出的3.5G按每G 10元算是35元，属于正常计费。"])
    assert explained[-1][1]["disputed"] == []
    assert any(e["type"] == "dispute_settled" for e in explained[-1][2])


def test_personas_change_the_call(engine):
    """One plain script: the furious, skeptical and privacy-wary callers each take it
    differently from the calm one (before, one script scored the same against all)."""
    script = ["麻烦报一下机主姓名和身份证后四位。", BREAKDOWN, "彩铃我马上帮您退订，15元3个工作日内退回。",
              "请问还有其他需要吗？再见。"]
    runs = {p.id: play(engine, p.id, script) for p in SC.personas}
    calm = [t for t, _, _ in runs["calm"]]
    assert runs["calm"][-1][1]["outcome"] == "resolved"
    for pid in ("furious", "skeptical", "privacy_wary"):
        assert [t for t, _, _ in runs[pid]] != calm, pid
    # Not heard, and never verified: these two calls do not end well on this script.
    assert runs["furious"][-1][1]["outcome"] != "resolved"
    assert runs["privacy_wary"][-1][1]["outcome"] != "resolved"


@pytest.mark.parametrize("field, value, message", [
    ("hear_me_first", ["apologise"], "personas[2].hear_me_first[0]: unknown speech act 'apologise'"),
    ("contests", {"no_such_fact": "overage_valid_charge"}, "personas[2].contests.no_such_fact: unknown hidden fact"),
])
def test_gate_faults_name_the_field(tmp_path, field, value, message):
    data = yaml.safe_load((ROOT / "scenarios" / "billing_complaint.yaml").read_text(encoding="utf-8"))
    data["personas"][2][field] = value
    path = tmp_path / "billing_complaint.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataFileError) as exc:
        load_scenario(path, scenarios_dir=ROOT / "scenarios")
    assert message in str(exc.value)
