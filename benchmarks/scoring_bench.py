"""Scoring speed: time to score a transcript vs time to merely read and parse it, in the
same run, and how scoring time grows with transcript length (10, 50, 200 turns).

Usage: python benchmarks/scoring_bench.py [--analyser keywords|model] [--repeat N] [--no-write]
Writes its section of benchmarks/RESULTS.md between <!-- scoring:start --> and
<!-- scoring:end --> (creates the file with a header if absent; other sections untouched).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_section  # noqa: E402

from app.core.rubric import load_rubric  # noqa: E402
from app.core.scoring import load_scenario_for_scoring, scenario_ids, score_transcript  # noqa: E402
from app.core.scoring.keywords import keyword_analyse  # noqa: E402
from app.core.transcript import make_transcript, read_transcript, write_transcript  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "transcripts"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- scoring:start -->", "<!-- scoring:end -->"


def best_of(fn, repeat: int) -> float:
    """Median wall time of `repeat` runs of fn(), in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def memory_gb() -> str:
    try:
        kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
        return f"{kb / 1024 / 1024:.1f} GB"
    except (OSError, StopIteration):
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    from app.core.acts import load_intent_model

    model = load_intent_model("zh-CN", acts_dir=ROOT / "rubrics" / "acts").analyse
    rubric = load_rubric(ROOT / "rubrics" / "standard-100.yaml")
    ids = scenario_ids(ROOT / "scenarios")
    scenarios = {sid: load_scenario_for_scoring(ROOT / "scenarios" / f"{sid}.yaml") for sid in ids}
    files = sorted(CORPUS.glob("*.json"))
    transcripts = [read_transcript(f, ids) for f in files]
    for t in transcripts:  # warm-up: regex compilation and any model caches
        score_transcript(t, scenarios[t.scenario], rubric, model)

    def score_all(analyse):
        return [score_transcript(t, scenarios[t.scenario], rubric, analyse) for t in transcripts]

    parse = best_of(lambda: [read_transcript(f, ids) for f in files], args.repeat) / len(files)
    score_kw = best_of(lambda: score_all(keyword_analyse), args.repeat) / len(files)
    score_model = best_of(lambda: score_all(model), max(3, args.repeat // 4)) / len(files)
    mean_turns = statistics.mean(len(t.turns) for t in transcripts)

    base = read_transcript(CORPUS / "billing_complaint.good.json", ids)
    growth = []
    for n in (10, 50, 200):
        turns = [base.turns[i % len(base.turns)].model_dump(exclude_none=True) for i in range(n)]
        t = make_transcript(base.scenario, turns, language="zh-CN")
        raw = write_transcript(t).encode("utf-8")
        p = best_of(lambda: read_transcript(raw, ids), args.repeat)
        s = best_of(lambda: score_transcript(t, scenarios[t.scenario], rubric, keyword_analyse), args.repeat)
        m = best_of(lambda: score_transcript(t, scenarios[t.scenario], rubric, model), max(3, args.repeat // 4))
        growth.append((n, p, s, m))

    lines = [
        START,
        "## Scoring (`benchmarks/scoring_bench.py`)",
        "",
        f"- Command: `python benchmarks/scoring_bench.py --repeat {args.repeat}`",
        f"- Date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- Machine: {os.cpu_count()} CPUs (nproc), {memory_gb()} RAM, {platform.platform()}, Python {platform.python_version()}",
        f"- Rubric standard-100; median of {args.repeat} runs ({max(3, args.repeat // 4)} with the intent model).",
        "  Two analysers: the regex-only one (the scorer's own cost) and the trained intent",
        "  model (app/core/acts.py, all agent turns of a transcript in one batch).",
        "",
        f"Corpus: {len(files)} transcripts (tests/data/transcripts), mean {mean_turns:.1f} turns.",
        "",
        "| per transcript | time | ratio to read+parse |",
        "|---|---|---|",
        f"| read + parse (JSON + schema) | {parse * 1e3:.3f} ms | 1.0 |",
        f"| score, regex analyser (all criteria + red lines) | {score_kw * 1e3:.3f} ms | {score_kw / parse:.1f} |",
        f"| score, intent model (acts + all criteria + red lines) | {score_model * 1e3:.3f} ms | {score_model / parse:.1f} |",
        "",
        "Growth with transcript length (billing_complaint.good turns repeated):",
        "",
        "| turns | read+parse | score (regex) | ratio | score (model) | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for n, p, s, m in growth:
        lines.append(f"| {n} | {p * 1e3:.3f} ms | {s * 1e3:.3f} ms | {s / p:.1f} | {m * 1e3:.3f} ms | {m / p:.1f} |")
    lines += ["", f"From 10 to 200 turns (20× the turns) scoring time grows {growth[-1][2] / growth[0][2]:.1f}× "
              f"(regex) and {growth[-1][3] / growth[0][3]:.1f}× (model); read+parse grows "
              f"{growth[-1][1] / growth[0][1]:.1f}×.", END]
    section = "\n".join(lines)
    print(section)
    if args.no_write:
        return
    write_section("scoring", section.removeprefix(START).removesuffix(END), RESULTS)


if __name__ == "__main__":
    main()
