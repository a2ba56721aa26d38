"""Every core scenario with the LLM customer on a real model, a good and a bad agent.

What must hold for any model, however weak:
- the drill completes with the right outcome (good -> resolved; bad -> escalated or
  hung_up): the state machine decides, the model only phrases;
- every customer turn is either the model's reply, which passes all guardrails when
  they are run again on the turn's own inputs, or the scripted line with a recorded
  fallback reason;
- nothing hidden leaks: no back-office fact the agent has not stated yet shows up in
  what the customer said.
"""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tests.llm.drills import CORE, FALLBACK_REASONS, play, trace

pytestmark = pytest.mark.llm

ROOT = Path(__file__).resolve().parents[2]
# One persona per scenario, the harder ones, so moods and wording vary across the tier.
PERSONAS = {"5g_plan_launch": "skeptical", "billing_complaint": "furious", "signal_complaint": "impatient",
            "elderly_smartphone": "anxious"}
CASES = [pytest.param(sid, script, id=f"{sid}-{script}") for sid in CORE for script in ("good", "bad")]


@functools.cache
def scenario(sid: str):
    from app.core.scenario_files import load_scenario

    return load_scenario(ROOT / "scenarios" / f"{sid}.yaml")


@pytest.mark.parametrize("sid,script", CASES)
def test_drill_with_a_real_model(llm_engine, sid, script):
    sc = scenario(sid)
    drill = play(llm_engine, sc, PERSONAS[sid], script, seed=7)
    why = trace(drill)

    if script == "good":
        assert drill.outcome == "resolved", why
    else:
        assert drill.outcome in ("escalated", "hung_up"), why
    # The same agent lines to the scripted customer end the same way.
    scripted = play_scripted(llm_engine.scripted, sc, PERSONAS[sid], script)
    assert drill.outcome == scripted, why

    for t in drill.turns:
        assert t.text.strip(), why
        if t.used == "llm":
            assert t.reason is None and t.guardrail_recheck is None, f"turn {t.n}: {t.guardrail_recheck}\n{why}"
        else:
            assert t.used == "scripted" and t.reason in FALLBACK_REASONS, f"turn {t.n}\n{why}"
            assert t.text == t.line, f"turn {t.n}: a fallback says the scripted line\n{why}"
        assert not t.leaks, f"turn {t.n} leaks {t.leaks}\n{why}"
    # The model really answered: every turn carries its call record, with tokens counted.
    assert all(t.latency_ms is not None for t in drill.turns), why
    assert sum(t.completion_tokens or 0 for t in drill.turns) > 0, why
    streamed = [t for t in drill.turns if t.n and t.reason not in ("timeout", "http_error")]
    assert all(t.ttft_ms is not None for t in streamed), why


def play_scripted(engine, sc, persona: str, script: str) -> str | None:
    from tests.llm.drills import agent_lines

    _, state = engine.start(sc, persona, 7)
    for line in agent_lines(sc.id, script):
        if state["outcome"]:
            break
        _, state, _ = engine.next_turn(line, state, sc)
    return state["outcome"]
