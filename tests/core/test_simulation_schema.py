"""Scenario files for the simulated customer: the four core ones load, broken ones are rejected."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.core.datafiles import DataFileError, load_model
from app.core.scenario_files import scenario_versions
from app.core.simulation.prompts import load_prompt
from app.core.simulation.schema import FALLBACK_ACTS, Scenario, known_acts

ROOT = Path(__file__).resolve().parents[2]
CORE = ["5g_plan_launch", "billing_complaint", "signal_complaint", "elderly_smartphone"]
BROKEN = ROOT / "tests/data/scenarios_broken"


@pytest.mark.parametrize("scenario_id", CORE)
def test_core_scenarios_load(scenario_id):
    sc, digest = scenario_versions(ROOT / f"scenarios/{scenario_id}.yaml")["zh-CN"]
    assert sc.id == scenario_id and sc.language == "zh-CN" and len(digest) == 64
    assert len(sc.personas) >= 3
    # Personas differ in behaviour, not only in name.
    behaviours = {(p.mood, p.patience, p.escalate_at, p.on_stall, tuple(sorted(p.reactions.items()))) for p in sc.personas}
    assert len(behaviours) == len(sc.personas)
    for key, variants in sc.lines.items():
        assert len(variants) >= 2, f"{scenario_id}: line {key} needs two variants"


def test_fallback_acts_match_the_intent_model():
    acts = pytest.importorskip("app.core.acts")
    assert tuple(FALLBACK_ACTS) == tuple(acts.ACTS)
    assert known_acts() == tuple(acts.ACTS)


def test_minimal_fixture_is_valid():
    load_model(Scenario, BROKEN / "minimal_valid.yaml")


@pytest.mark.parametrize("name, field, words", [
    ("unknown_state.yaml", "states[0].transitions[0].to", "unknown state 'resolvd'"),
    ("unreachable_end.yaml", "states[2].id", "end state 'escalated' is unreachable"),
    ("persona_missing_field.yaml", "personas[1].patience", "required field is missing"),
    ("unknown_act.yaml", "states[0].transitions[0].when.acts_any[0]", "unknown speech act 'farewell'"),
    ("undefined_line_key.yaml", "states[0].say[1]", "line key 'complain' is defined neither"),
])
def test_broken_scenarios_name_file_and_field(name, field, words):
    with pytest.raises(DataFileError) as err:
        load_model(Scenario, BROKEN / name)
    faults = [f for f in err.value.faults if f.field == field]
    assert faults, f"no fault at {field}: {err.value}"
    assert words in faults[0].reason
    assert str(faults[0]).startswith(str(BROKEN / name) + ": " + field + ": ")


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_customer_prompts_validate(language):
    prompt = load_prompt(language, ROOT / "scenarios/prompts")
    assert prompt.language == language and "{line}" in prompt.user


def test_prompt_with_unknown_placeholder_is_rejected(tmp_path):
    src = (ROOT / "scenarios/prompts/customer.en.yaml").read_text(encoding="utf-8")
    (tmp_path / "customer.en.yaml").write_text(src.replace("{mood_word}", "{mood_wrod}"), encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_prompt("en", tmp_path)
    assert any(f.field == "system" and "mood_wrod" in f.reason for f in err.value.faults)


def _minimal_with(tmp_path, direction: str, opening_says: bool) -> Path:
    """minimal_valid.yaml with a direction, its start state saying its lines or nothing."""
    import yaml

    data = yaml.safe_load((BROKEN / "minimal_valid.yaml").read_text(encoding="utf-8"))
    data["direction"] = direction
    start = next(s for s in data["states"] if s["id"] == data["start_state"])
    if not opening_says:
        start.pop("say", None)
    path = tmp_path / "minimal_valid.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("direction, opening_says, words", [
    ("outbound", True, "in an outbound call the agent speaks first"),
    ("inbound", False, "in an inbound call the customer speaks first"),
])
def test_who_speaks_first_follows_the_direction(tmp_path, direction, opening_says, words):
    path = _minimal_with(tmp_path, direction, opening_says)
    with pytest.raises(DataFileError) as err:
        load_model(Scenario, path)
    faults = [f for f in err.value.faults if words in f.reason]
    assert faults, str(err.value)
    assert faults[0].field.startswith("states[") and faults[0].field.endswith("].say")


def test_an_outbound_scenario_opens_with_no_customer_line(tmp_path):
    from app.core.simulation import make_engine

    sc, _ = load_model(Scenario, _minimal_with(tmp_path, "outbound", opening_says=False))
    engine = make_engine("scripted", lambda language: None)  # opening a call analyses nothing
    text, state, events = engine.start_turn(sc, sc.personas[0].id, 3)
    assert text == "" and state["state"] == sc.start_state and state["history"] == []
    assert engine.start_turn(sc, sc.personas[0].id, 3)[1] == state  # the same inputs, the same state
