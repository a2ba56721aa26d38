"""`flask drill` as a plain click command (registered by app/cli.py)."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from app.core.scenario_files import load_scenario
from app.simulation_cli import drill_command
from tests.fakes.analyser import fake_analyser_for_language

ROOT = Path(__file__).resolve().parents[2]


def lookup(sid, language):
    path = ROOT / "scenarios" / f"{sid}.yaml"
    if not path.exists():
        raise LookupError("no such scenario file")
    return load_scenario(path)


def test_drill_json_with_agent_lines():
    cmd = drill_command(lookup, fake_analyser_for_language, scorer=lambda t: {"total": 1.0, "turns": len(t["turns"])})
    lines = ROOT / "tests/data/agent_scripts/billing_complaint.good.txt"
    out = CliRunner().invoke(cmd, ["billing_complaint", "--persona", "furious", "--seed", "3",
                                   "--agent-lines", str(lines), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data) == {"scenario", "persona", "customer", "seed", "outcome", "turns", "score"}
    assert data["outcome"] == "resolved" and data["seed"] == 3 and data["customer"] == "scripted"
    assert data["turns"][0]["speaker"] == "customer"
    assert all(t["text"] and t["speaker"] in ("agent", "customer") for t in data["turns"])
    assert "mood" in data["turns"][-1]["meta"] and data["score"]["turns"] == len(data["turns"])
    again = CliRunner().invoke(cmd, ["billing_complaint", "--persona", "furious", "--seed", "3",
                                     "--agent-lines", str(lines), "--json"])
    assert again.output == out.output


def test_drill_interactive_and_errors():
    cmd = drill_command(lookup, fake_analyser_for_language)
    out = CliRunner().invoke(cmd, ["signal_complaint", "--seed", "1"], input="喂？\n你自己的问题。\n\n")
    assert out.exit_code == 0, out.output
    assert "客户:" in out.output and "outcome:" in out.output
    bad = CliRunner().invoke(cmd, ["nope"])
    assert bad.exit_code == 2 and "unknown scenario" in bad.output
    bad = CliRunner().invoke(cmd, ["signal_complaint", "--persona", "zen"])
    assert bad.exit_code == 2 and "no persona 'zen'" in bad.output
    bad = CliRunner().invoke(cmd, ["signal_complaint", "--customer", "llm"])
    assert bad.exit_code == 2 and "LLM" in bad.output
