"""`flask score` through a bare Flask app carrying only the directories it reads."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from app.scoring_cli import score_command

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "transcripts"


@pytest.fixture()
def runner(cache_dir, monkeypatch):
    import app.scoring_cli as cli
    from app.core.scoring.keywords import keyword_analyse

    # The CLI's analyser is the trained model; the regex analyser keeps this test about the CLI.
    monkeypatch.setattr(cli, "_analyser_for", lambda language: keyword_analyse)
    app = Flask(__name__)
    app.config.update(SCENARIOS_DIR=str(ROOT / "scenarios"), RUBRICS_DIR=str(ROOT / "rubrics"), CACHE_DIR=str(cache_dir))
    app.cli.add_command(score_command)
    return app.test_cli_runner()


def test_json_output_is_the_contract(runner):
    result = runner.invoke(args=["score", str(CORPUS / "billing_complaint.bad.json"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["scenario"] == "billing_complaint" and out["rubric"] == "standard-100"
    assert out["dimensions"]["attitude"]["max"] == 10
    assert {f["id"] for f in out["flags"]} == {"disclosed_before_verification", "insulted_customer"}


def test_readable_report_in_chinese_and_other_rubric(runner):
    result = runner.invoke(args=["score", str(CORPUS / "signal_complaint.mediocre.json"), "--rubric", "qa-inspection"])
    assert result.exit_code == 0, result.output
    assert "总分:" in result.output and "服务礼仪" in result.output and "建议:" in result.output


def test_bad_file_names_file_and_json_path(runner, tmp_path):
    bad = tmp_path / "call.json"
    bad.write_text(json.dumps({"format": "transcript/1", "scenario": "billing_complaint",
                               "turns": [{"speaker": "agent", "text": "a"}, {"speaker": "robot", "text": "b"}]}))
    result = runner.invoke(args=["score", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: turns[1].speaker:" in result.output


def test_unknown_rubric_exits_1(runner):
    result = runner.invoke(args=["score", str(CORPUS / "billing_complaint.good.json"), "--rubric", "nope"])
    assert result.exit_code == 1 and "no rubric 'nope'" in result.output
