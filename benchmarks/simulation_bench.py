"""Does the scripted customer understand natural agents? Written into benchmarks/RESULTS.md.

    python benchmarks/simulation_bench.py

Plays the excellent and poor agent scripts of `tests/data/agent_scripts/natural/` (written
by another hand from the case facts only: colloquial, unpunctuated, and naming the
object once then leaving it out) and the older `good`/`bad` scripts against every
persona of each core scenario with the production act model, and counts outcomes and
customer lines said twice in one drill. Writes the `simulation` section.
"""
from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_section  # noqa: E402

from app.core.acts import load_intent_model  # noqa: E402
from app.core.scenario_files import load_scenario  # noqa: E402
from app.core.simulation.play import play_lines  # noqa: E402
from app.core.simulation.schema import Scenario  # noqa: E402
from app.core.simulation.scripted import ScriptedEngine  # noqa: E402

CORE = ("billing_complaint", "5g_plan_launch", "signal_complaint", "elderly_smartphone")
EXCELLENT = ("colloquial", "unpunctuated", "ellipsis")
POOR = ("poor1", "poor2")
SCRIPTS = ROOT / "tests" / "data" / "agent_scripts"


def play(engine: ScriptedEngine, sc: Scenario, lines: list[str]) -> list[dict]:
    out = []
    for persona in sc.personas:
        r = play_lines(engine, sc, persona.id, 1, lines)
        said = [t["text"] for t in r["turns"] if t["speaker"] == "customer"]
        out.append({"persona": persona.id, "outcome": r["outcome"], "repeats": sum(c - 1 for c in Counter(said).values())})
    return out


def main() -> None:
    engine = ScriptedEngine(load_intent_model("zh-CN", ROOT / "rubrics" / "acts", ROOT / "instance" / "cache"))
    rows, totals = [], Counter()
    for sid in CORE:
        sc = load_scenario(ROOT / "scenarios" / f"{sid}.yaml")
        for kind in (*EXCELLENT, *POOR, "good", "bad"):
            path = SCRIPTS / "natural" / f"{sid}.{kind}.txt" if kind in (*EXCELLENT, *POOR) else SCRIPTS / f"{sid}.{kind}.txt"
            results = play(engine, sc, path.read_text(encoding="utf-8").splitlines())
            grade = "excellent" if kind in (*EXCELLENT, "good") else "poor"
            resolved = sum(1 for r in results if r["outcome"] == "resolved")
            repeats = sum(r["repeats"] for r in results)
            totals[f"{grade}_resolved"] += resolved
            totals[f"{grade}_runs"] += len(results)
            totals["repeats"] += repeats
            outcomes = ", ".join(f"{r['persona']} {r['outcome']}" for r in results)
            rows.append(f"| {sid} | {kind} ({grade}) | {resolved}/{len(results)} | {repeats} | {outcomes} |")
    body = f"""## Simulated customer against natural agents (`benchmarks/simulation_bench.py`)

Measured {dt.date.today().isoformat()} with `python benchmarks/simulation_bench.py`: each script
played blind (its lines fixed in advance) against every persona, seed 1, production act
model. The `colloquial`, `unpunctuated`, `ellipsis` and `poor1/2` scripts in
`tests/data/agent_scripts/natural/` were written by a helper session from the case facts
alone, without the scenario files or the system's output. "repeats" counts customer lines
said twice in one drill.

| scenario | script | resolved | repeats | outcome per persona |
|---|---|---|---|---|
{chr(10).join(rows)}

Excellent scripts resolved: {totals['excellent_resolved']}/{totals['excellent_runs']}; poor scripts resolved:
{totals['poor_resolved']}/{totals['poor_runs']}; customer lines repeated within a drill: {totals['repeats']}.
"""
    write_section("simulation", body)
    print(body)


if __name__ == "__main__":
    main()
