"""The rubric scorer (no Flask): `score_transcript(transcript, scenario, rubric, analyse)`.

Modules: `scorer` (the entry point), `kinds` / `kinds_scenario` (criterion-kind
registry), `flags` (red lines), `context` (analysed turns and events), `report`
(ScoreReport and the score-output JSON), `scenarios` (reading scenario files for
scoring), `judge` (the optional LLM judge), `keywords` (a regex-only analyser).
"""
from __future__ import annotations

from .report import CriterionResult, Evidence, Flag, ScoreReport
from .scenarios import load_scenario_for_scoring, scenario_ids, scenario_path
from .scorer import SCORER, score_transcript

__all__ = [
    "SCORER", "CriterionResult", "Evidence", "Flag", "ScoreReport",
    "load_scenario_for_scoring", "scenario_ids", "scenario_path", "score_transcript",
]
