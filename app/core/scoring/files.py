"""Scoring a transcript file end to end: read, find its scenario, score.

Shared by `flask score` and the upload service so both reject and score the same way.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from app.core.rubric import Rubric
from app.core.transcript import Transcript, read_transcript

from .context import Analyse
from .report import ScoreReport
from .scenarios import load_scenario_for_scoring, scenario_ids, scenario_path
from .scorer import score_transcript


def score_file(
    source: Path | str | bytes,
    rubric: Rubric,
    scenarios_dir: Path | str,
    analyse_for: Callable[[str], Analyse],
    name: str | None = None,
) -> tuple[Transcript, ScoreReport]:
    """Read a transcript/1 file and score it with `rubric`.

    `analyse_for(language)` returns the analyser for the transcript's language. Raises
    `DataFileError` (file + JSON path) for a bad transcript or a broken scenario file.
    """
    transcript = read_transcript(source, scenario_ids(scenarios_dir), name=name)
    scenario = load_scenario_for_scoring(scenario_path(transcript.scenario, transcript.language, scenarios_dir),
                                         transcript.language)
    language = transcript.effective_language(scenario.language)
    return transcript, score_transcript(transcript, scenario, rubric, analyse_for(language))
