"""The optional LLM judge on a real model: whatever it answers, every verdict it gets
credited for quotes the cited agent turn word for word, anything else is void, and a
reply that is no use leaves the deterministic score exactly as it was."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.core.rubric import load_rubric
from app.core.scoring import load_scenario_for_scoring, score_transcript
from app.core.scoring.judge import apply_judge, find_quote
from app.core.transcript import read_transcript

pytestmark = pytest.mark.llm

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "transcripts"
RUBRIC = load_rubric(ROOT / "rubrics" / "standard-100.yaml")  # judge mode advisory
VOID_REASONS = {"unknown_criterion", "not_judgeable", "not_applicable", "duplicate", "score_out_of_range",
                "no_such_turn", "customer_turn", "quote_not_in_turn"}


@pytest.mark.parametrize("name", ["billing_complaint.good", "5g_plan_launch.bad"])
def test_judge_verdicts_quote_the_agent_or_are_void(llm_client, zh_intents, name):
    transcript = read_transcript(CORPUS / f"{name}.json", None)
    scenario = load_scenario_for_scoring(ROOT / "scenarios" / f"{transcript.scenario}.yaml")
    rules = score_transcript(transcript, scenario, RUBRIC, zh_intents.analyse)
    judged = apply_judge(rules, transcript, scenario, RUBRIC, llm_client, prompts_dir=ROOT / "rubrics" / "prompts")

    j = judged.judge
    assert j is not None and j["model"] == llm_client.model, j
    assert j["status"] in ("ok", "partial", "failed"), j
    if j["status"] == "failed":
        # A useless reply (not JSON, wrong shape) changes nothing but the record of why.
        assert j["error_kind"] in ("schema", "malformed", "empty", "timeout", "http_error"), j
        assert judged.model_copy(update={"judge": None}) == rules
        return
    asked = {c.id for c in RUBRIC.judgeable()}
    by_id = {c.id: c for c in judged.criteria}
    for v in j["verdicts"]:
        if v["accepted"]:
            turn = transcript.turns[v["turn"]]
            assert turn.speaker == "agent" and v["criterion"] in asked, v
            assert find_quote(v["quote"], turn.text) is not None, v  # real words of that agent turn
            assert by_id[v["criterion"]].judge["quote"] == v["quote"], v
        else:
            assert v["void"] in VOID_REASONS, v
    # Advisory mode: the judge is shown next to the rules score, never changes it.
    assert judged.total == rules.total
    assert [c.score for c in judged.criteria] == [c.score for c in rules.criteria]
