"""Play the four core zh-CN drills with the real intent model, for every persona.

The scripted engine runs on the production intent model (trained from the train split of
rubrics/acts/zh-CN.yaml, cached for the session) against the good and the bad agent
script in tests/data/agent_scripts/:

- good script -> `resolved` for every persona, however impatient or skeptical: a good
  agent must never be hung up on because the model mistakes a usage question, a thank-you
  for the customer's interest or the confirmation of the plan the customer chose for an
  upsell (the bug these tests guard against);
- bad script -> `escalated` or `hung_up`.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.core.test_simulation_more import _trace

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "data" / "agent_scripts"
ACTS_DIR = ROOT / "rubrics" / "acts"
CORE = ("5g_plan_launch", "billing_complaint", "signal_complaint", "elderly_smartphone")
SEED = 7


def _cases():
    """(scenario id, persona id) for every persona of every core scenario."""
    cases = []
    for sid in CORE:
        path = ROOT / "scenarios" / f"{sid}.yaml"
        if not path.exists():  # collected anyway, so a missing file fails loudly
            cases.append(pytest.param(sid, "?", id=f"{sid}-missing"))
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for persona in raw["personas"]:
            cases.append(pytest.param(sid, persona["id"], id=f"{sid}-{persona['id']}"))
    return cases


CASES = _cases()


@pytest.fixture(scope="session")
def zh_model(cache_dir):
    from app.core.acts import load_intent_model

    return load_intent_model("zh-CN", acts_dir=ACTS_DIR, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def core_scenario():
    from app.core.scenario_files import load_scenario

    cache = {}

    def get(sid: str):
        if sid not in cache:
            cache[sid] = load_scenario(ROOT / "scenarios" / f"{sid}.yaml")
        return cache[sid]

    return get


@pytest.fixture(scope="session")
def play_core(zh_model, core_scenario):
    """Play one scripted drill with the real model; returns outcome, turns and events."""
    from app.core.simulation import make_engine

    def run(sid: str, persona_id: str, kind: str) -> dict:
        sc = core_scenario(sid)
        assert sc.language == "zh-CN"
        engine = make_engine("scripted", lambda language: zh_model)
        lines = [ln.strip() for ln in (SCRIPTS / f"{sid}.{kind}.txt").read_text(encoding="utf-8").splitlines()
                 if ln.strip()]
        text, state = engine.start(sc, persona_id, SEED)
        turns = [("customer", text)]
        events: list[dict] = []
        for line in lines:
            reply, state, evs = engine.next_turn(line, state, sc)
            acts = sorted(zh_model.analyse(line).acts)
            turns += [("agent", f"{line}    {acts}"), ("customer", reply)]
            events += evs
            if state["outcome"]:
                break
        return {"outcome": state["outcome"], "turns": turns, "events": events}

    return run


@pytest.mark.parametrize("sid,persona", CASES)
def test_good_script_resolves_with_real_model(play_core, sid, persona):
    result = play_core(sid, persona, "good")
    assert result["outcome"] == "resolved", _trace(result)


@pytest.mark.parametrize("sid,persona", CASES)
def test_bad_script_escalates_or_hangs_up_with_real_model(play_core, sid, persona):
    result = play_core(sid, persona, "bad")
    assert result["outcome"] in ("escalated", "hung_up"), _trace(result)


@pytest.mark.parametrize("text", [
    "感谢您关注我们的新5G套餐。",
    "请问您每个月大概用多少流量？",
    "好的，那就按您选的这个套餐给您办理，对吗？",
])
def test_good_5g_sentences_are_not_upsell(zh_model, text):
    """The sentences that made impatient customers hang up on a good agent."""
    assert "upsell" not in zh_model.analyse(text).acts, zh_model.analyse(text).scores
