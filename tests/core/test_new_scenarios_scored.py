"""Issue 13's new zh-CN scenarios under the scorer: each excellent agent script, played
against every persona with the trained act model, scores high on the standard rubric with
no red line; each poor script scores low. Every hidden fact and knowledge point names the
norm it follows (a `# norm:` comment right above it).

The play itself (resolved / not resolved, moods) is tested in test_simulation_more.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from app.core.rubric import load_rubric
from app.core.scenario_files import load_scenario
from app.core.scoring import load_scenario_for_scoring, score_transcript
from app.core.simulation import make_engine
from app.core.simulation.play import play_lines
from app.core.transcript import make_transcript

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "data" / "agent_scripts"
NEW = ["arrears_suspension", "plan_downgrade", "fraud_suspension", "sim_replacement", "escalation_threat",
       "broadband_cancel", "number_porting", "callback_followup"]
RUBRIC = load_rubric(ROOT / "rubrics" / "standard-100.yaml")
EXCELLENT_AT_LEAST, POOR_AT_MOST = 85, 30


@pytest.fixture(scope="module")
def zh_model(cache_dir):
    from app.core.acts import load_intent_model

    return load_intent_model("zh-CN", acts_dir=ROOT / "rubrics" / "acts", cache_dir=cache_dir)


def personas(sid: str) -> list[str]:
    raw = yaml.safe_load((ROOT / "scenarios" / f"{sid}.yaml").read_text(encoding="utf-8"))
    return [p["id"] for p in raw["personas"]]


CASES = [pytest.param(sid, p, id=f"{sid}-{p}") for sid in NEW for p in personas(sid)]


def scored(model, sid: str, persona: str, kind: str):
    sc = load_scenario(ROOT / "scenarios" / f"{sid}.yaml")
    lines = [ln for ln in (SCRIPTS / f"{sid}.{kind}.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
    played = play_lines(make_engine("scripted", lambda language: model), sc, persona, 7, lines)
    transcript = make_transcript(sid, [(t["speaker"], t["text"]) for t in played["turns"]])
    return played, score_transcript(transcript, load_scenario_for_scoring(ROOT / "scenarios" / f"{sid}.yaml"),
                                    RUBRIC, model.analyse)


@pytest.mark.parametrize("sid, persona", CASES)
def test_the_excellent_script_scores_high_with_no_red_line(zh_model, sid, persona):
    played, report = scored(zh_model, sid, persona, "good")
    assert played["outcome"] == "resolved"
    assert report.total >= EXCELLENT_AT_LEAST, [(c.id, c.score, c.max) for c in report.criteria if c.score < c.max]
    assert report.flags == (), report.flags


@pytest.mark.parametrize("sid, persona", CASES)
def test_the_poor_script_scores_low(zh_model, sid, persona):
    played, report = scored(zh_model, sid, persona, "bad")
    assert played["outcome"] != "resolved"
    assert report.total <= POOR_AT_MOST


@pytest.mark.parametrize("sid", NEW)
def test_every_fact_and_point_names_its_norm(sid):
    lines = (ROOT / "scenarios" / f"{sid}.yaml").read_text(encoding="utf-8").splitlines()
    section, missing = None, []
    for i, line in enumerate(lines):
        top = re.match(r"^([a-z_]+):", line)
        if top:
            section = top.group(1)
        if section in ("hidden_facts", "knowledge_points") and re.match(r"^  - id: ", line):
            if not lines[i - 1].strip().startswith("# norm:"):
                missing.append(line.strip())
    assert not missing, f"{sid}: no '# norm:' comment above {missing}"


def test_the_outbound_opening_earns_the_opening_criteria(zh_model):
    """callback_followup opens with the agent: the rubric's greeting and staff-number
    criteria credit an outbound opening (greeting, who is calling, why, is now a good time)
    given in the first turn, and the report's model lines are this call's own."""
    played, report = scored(zh_model, "callback_followup", "busy", "good")
    assert played["turns"][0]["speaker"] == "agent"
    by_id = {c.id: c for c in report.criteria}
    for cid in ("greeting", "self_id"):
        assert by_id[cid].score == by_id[cid].max > 0, by_id[cid]
        assert [e.turn for e in by_id[cid].evidence] == [0]
    sc = load_scenario_for_scoring(ROOT / "scenarios" / "callback_followup.yaml")
    assert "回访" in sc.criterion_tip("self_id", "zh-CN").model
