"""The adversarial corpus, played live and scored offline (issue 12, item 7).

Usage: python benchmarks/adversarial_bench.py [--cache-dir DIR] [--no-write] [--results FILE]

Plays every call of tests/data/adversarial_turns.yaml (zh-CN) and .en.yaml (keyword
lists, comma lists, refusals written with every expected word) against the scripted
customer under every persona of its scenario, as tests/core/test_understanding.py does,
and scores the transcript as played with the standard-100 rubric. Reports, per language
and kind, the number of calls, the highest and mean totals, how many are above 40 (the
issue's ceiling) and how many reached `resolved` (the issue wants none).

Writes its section of benchmarks/RESULTS.md between <!-- adversarial:start --> and
<!-- adversarial:end -->.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import RESULTS, command_line, machine_line, now_utc, write_section  # noqa: E402

from app.core.acts import load_intent_model  # noqa: E402
from app.core.rubric import load_rubric  # noqa: E402
from app.core.scenario_files import load_scenario  # noqa: E402
from app.core.scoring import score_transcript  # noqa: E402
from app.core.simulation.play import play_lines  # noqa: E402
from app.core.simulation.scripted import ScriptedEngine  # noqa: E402
from app.core.transcript import make_transcript  # noqa: E402

CORPORA = (("zh-CN", "adversarial_turns.yaml"), ("en", "adversarial_turns.en.yaml"))
CEILING = 40.0


@dataclass(frozen=True)
class Played:
    language: str
    scenario: str
    kind: str
    persona: str
    total: float
    outcome: str


def measure(cache_dir: str | None) -> list[Played]:
    rubric = load_rubric(ROOT / "rubrics" / "standard-100.yaml")
    out = []
    for lang, name in CORPORA:
        model = load_intent_model(lang, ROOT / "rubrics" / "acts", cache_dir)
        calls = yaml.safe_load((ROOT / "tests" / "data" / name).read_text(encoding="utf-8"))
        for sid, kinds in calls.items():
            scenario = load_scenario(ROOT / "scenarios" / f"{sid}.yaml", lang)
            for kind, lines in kinds.items():
                for persona in scenario.personas:
                    r = play_lines(ScriptedEngine(model), scenario, persona.id, 1, lines)
                    report = score_transcript(make_transcript(sid, r["turns"]), scenario, rubric, model.analyse)
                    out.append(Played(lang, sid, kind, persona.id, report.total, r["outcome"]))
    return out


def report_lines(played: list[Played], argv: list[str] | None) -> list[str]:
    lines = [
        "## Adversarial corpus (`benchmarks/adversarial_bench.py`)",
        "",
        f"- Command: `{command_line('adversarial_bench.py', argv)}`",
        f"- Date: {now_utc()}",
        f"- Machine: {machine_line()}",
        "- Set: every call of tests/data/adversarial_turns.yaml and .en.yaml, played against the scripted customer "
        "under every persona of its scenario, scored as played (standard-100, trained intent model, no LLM). "
        f"Issue 12 item 7 wants every total at or below {CEILING:g} and no customer `resolved`.",
        "",
        f"| language | kind | calls | max total | mean total | above {CEILING:g} | resolved |",
        "|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[Played]] = {}
    for p in played:
        groups.setdefault((p.language, p.kind), []).append(p)
    for (lang, kind), ps in list(groups.items()) + [(("all", "all"), played)]:
        totals = [p.total for p in ps]
        lines.append(f"| {lang} | {kind} | {len(ps)} | {max(totals):g} | {statistics.mean(totals):.1f} | "
                     f"{sum(t > CEILING for t in totals)} | {sum(p.outcome == 'resolved' for p in ps)} |")
    worst = sorted(played, key=lambda p: -p.total)[:5]
    lines += ["", "Highest: " + "; ".join(f"{p.language} {p.scenario} {p.kind} ({p.persona}) {p.total:g}"
                                          for p in worst)]
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache-dir", default=None, help="intent-model cache (default: none, train in process)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--results", type=Path, default=RESULTS, help="the RESULTS file to write the section into")
    args = ap.parse_args(argv)
    body = "\n".join(report_lines(measure(args.cache_dir), argv))
    print(body)
    if not args.no_write:
        write_section("adversarial", body, args.results)


if __name__ == "__main__":
    main()
