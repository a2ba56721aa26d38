"""Calibration: the production scorer against marks a trainer wrote blind (issue 12, item 5).

Usage: python benchmarks/calibration_bench.py [--cache-dir DIR] [--no-write] [--detail]

Scores every call of tests/data/calibration (44 zh-CN transcripts, marked by the seeds'
standards before any scorer ran: see its README) exactly as `flask score` and the upload
service do (`app.core.scoring.files.score_file` with the trained intent model), with the
standard-100 rubric, and compares with marks.yaml: MAE of totals and per dimension, mean
signed error per kind, excellent calls below 88, poor calls above 20, red lines on
excellent/natural calls. The same calls are also scored on the QA form
(rubrics/qa-inspection.yaml, 一票否决: a red line sets its total to 0).

Writes its section of benchmarks/RESULTS.md between <!-- calibration:start --> and
<!-- calibration:end -->. `measure()` is what tests/core/test_calibration.py asserts.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import command_line, machine_line, now_utc, write_section  # noqa: E402

from app.core.rubric import Rubric, load_rubric_by_id  # noqa: E402
from app.core.scoring.files import score_file  # noqa: E402
from app.core.scoring.report import ScoreReport  # noqa: E402

DATA = ROOT / "tests" / "data" / "calibration"
DEV_DATA = ROOT / "tests" / "data" / "calibration_dev"
BOUNDS = DATA / "bounds.yaml"
DIMENSIONS = ("knowledge", "communication", "resolution", "attitude")
KINDS = ("excellent", "natural", "mediocre", "poor")
# The thresholds on single calls (the aggregate targets live in bounds.yaml).
EXCELLENT_FLOOR, POOR_CEILING, QA_REMEDIAL = 88.0, 20.0, 85.0


@dataclass
class Call:
    file: str
    kind: str
    marks: dict[str, float]
    total: float
    red_line: bool
    report: ScoreReport
    qa: ScoreReport

    @property
    def error(self) -> float:
        """Scorer minus marks (positive: the scorer is too generous)."""
        return self.report.total - self.total

    def dim_error(self, dim: str) -> float:
        return self.report.dimensions[dim].score - self.marks[dim]


@dataclass
class Figures:
    calls: list[Call]
    mae_total: float
    mae: dict[str, float]
    signed_by_kind: dict[str, float]
    excellent_below: list[Call] = field(default_factory=list)
    poor_above: list[Call] = field(default_factory=list)
    flagged_good: list[Call] = field(default_factory=list)      # red line on an excellent/natural call
    flagged_excellent: list[Call] = field(default_factory=list)
    missed_red_lines: list[Call] = field(default_factory=list)  # marked red line, no flag
    qa_mean_by_kind: dict[str, float] = field(default_factory=dict)
    qa_remedial_good: list[Call] = field(default_factory=list)  # excellent/natural below 85 on the QA form
    qa_vetoed: list[Call] = field(default_factory=list)

    def value(self, name: str) -> float:
        """The figure a bound in bounds.yaml names."""
        if name == "mae_total":
            return self.mae_total
        if name.startswith("mae_"):
            return self.mae[name[4:]]
        return float(len(getattr(self, name)))


def production_analyser(cache_dir: str | Path | None):
    """The analyser `flask score` and the upload service use: the trained intent model."""
    from app.core.acts import load_intent_model

    def analyse_for(language: str):
        lang = "zh-CN" if language.lower().startswith("zh") else "en"
        return load_intent_model(lang, acts_dir=ROOT / "rubrics" / "acts", cache_dir=cache_dir).analyse

    return analyse_for


def score_calls(analyse_for, standard: Rubric | None = None, qa: Rubric | None = None,
                data: Path = DATA) -> list[Call]:
    """Every call of the set in `data` scored with both rubrics, in file order."""
    standard = standard or load_rubric_by_id("standard-100", ROOT / "rubrics")
    qa = qa or load_rubric_by_id("qa-inspection", ROOT / "rubrics")
    marks = yaml.safe_load((data / "marks.yaml").read_text("utf-8"))
    calls = []
    for name, m in sorted(marks.items()):
        path = data / name
        _, report = score_file(path, standard, ROOT / "scenarios", analyse_for)
        _, qa_report = score_file(path, qa, ROOT / "scenarios", analyse_for)
        red = str(m.get("red_line", "none")).strip().lower() != "none"
        calls.append(Call(name, m["kind"], {d: float(m["marks"][d]) for d in DIMENSIONS}, float(m["total"]),
                          red, report, qa_report))
    return calls


def figures(calls: list[Call]) -> Figures:
    good = [c for c in calls if c.kind in ("excellent", "natural")]
    return Figures(
        calls=calls,
        mae_total=statistics.fmean(abs(c.error) for c in calls),
        mae={d: statistics.fmean(abs(c.dim_error(d)) for c in calls) for d in DIMENSIONS},
        signed_by_kind={k: statistics.fmean(c.error for c in calls if c.kind == k) for k in KINDS},
        excellent_below=[c for c in good if c.report.total < EXCELLENT_FLOOR],
        poor_above=[c for c in calls if c.kind == "poor" and c.report.total > POOR_CEILING],
        flagged_good=[c for c in good if c.report.flags],
        flagged_excellent=[c for c in calls if c.kind == "excellent" and c.report.flags],
        missed_red_lines=[c for c in calls if c.red_line and not c.report.flags],
        qa_mean_by_kind={k: statistics.fmean(c.qa.total for c in calls if c.kind == k) for k in KINDS},
        qa_remedial_good=[c for c in good if c.qa.total < QA_REMEDIAL],
        qa_vetoed=[c for c in calls if c.qa.flags],
    )


def measure(cache_dir: str | Path | None = None, data: Path = DATA) -> Figures:
    return figures(score_calls(production_analyser(cache_dir), data=data))


def load_bounds() -> dict[str, dict[str, float | None]]:
    """{figure: {target, ratchet}}: the issue's target and the current ratchet."""
    return yaml.safe_load(BOUNDS.read_text("utf-8"))["bounds"]


def _names(calls: list[Call]) -> str:
    return ", ".join(f"{c.file.removesuffix('.json')} ({c.report.total:g})" for c in calls) or "none"


def _signed(x: float) -> str:
    return f"{x:+.1f}"


def report_lines(f: Figures, argv: list[str] | None) -> list[str]:
    bounds = load_bounds()
    lines = [
        "## Calibration against blind marks (`benchmarks/calibration_bench.py`)",
        "",
        f"- Command: `{command_line('calibration_bench.py', argv)}`",
        f"- Date: {now_utc()}",
        f"- Machine: {machine_line()}",
        f"- Set: {len(f.calls)} zh-CN calls in tests/data/calibration "
        f"({', '.join(f'{sum(c.kind == k for c in f.calls)} {k}' for k in KINDS)}), marked per dimension "
        "by the seeds' standards before any scorer ran. Scorer: `score_file` with the trained intent model "
        "(what `flask score` and the upload service run), rubric standard-100; no LLM judge.",
        "",
        "| figure | measured | issue target | met | ratchet (tests/core/test_calibration.py) |",
        "|---|---|---|---|---|",
    ]
    for name, b in bounds.items():
        v = f.value(name)
        shown = f"{v:.2f}" if name.startswith("mae") else f"{v:g}"
        lines.append(f"| {name} | {shown} | ≤ {b['target']:g} | {'met' if v <= b['target'] else 'not met'} | ≤ {b['ratchet']:g} |")
    met = sum(f.value(n) <= b["target"] for n, b in bounds.items())
    lines += [
        "",
        f"Issue targets met: {met} of {len(bounds)}. excellent_below counts excellent and natural calls below "
        f"{EXCELLENT_FLOOR:g}, poor_above poor calls above {POOR_CEILING:g}, flagged_good excellent and natural calls "
        "with a red line; MAE in points (totals out of 100, dimensions out of 30/30/30/10).",
    ]
    lines += [
        "",
        "Mean signed error of the total per kind (scorer − marks; negative: the scorer is too strict):",
        "",
        "| kind | calls | marks (mean) | scorer (mean) | signed error | QA form (mean) |",
        "|---|---|---|---|---|---|",
    ]
    for k in KINDS:
        cs = [c for c in f.calls if c.kind == k]
        lines.append(f"| {k} | {len(cs)} | {statistics.fmean(c.total for c in cs):.1f} | "
                     f"{statistics.fmean(c.report.total for c in cs):.1f} | {_signed(f.signed_by_kind[k])} | "
                     f"{f.qa_mean_by_kind[k]:.1f} |")
    lines += [
        "",
        "Mean signed error per dimension and kind:",
        "",
        "| kind | " + " | ".join(DIMENSIONS) + " |",
        "|---|" + "---|" * len(DIMENSIONS),
    ]
    for k in KINDS:
        cs = [c for c in f.calls if c.kind == k]
        lines.append(f"| {k} | " + " | ".join(_signed(statistics.fmean(c.dim_error(d) for c in cs)) for d in DIMENSIONS) + " |")
    lines += [
        "",
        f"- Excellent or natural calls below {EXCELLENT_FLOOR:g}: {len(f.excellent_below)} — {_names(f.excellent_below)}",
        f"- Poor calls above {POOR_CEILING:g}: {len(f.poor_above)} — {_names(f.poor_above)}",
        f"- Red lines on excellent/natural calls: {len(f.flagged_good)} — "
        + ("; ".join(f"{c.file.removesuffix('.json')}: {', '.join(fl.id for fl in c.report.flags)}" for c in f.flagged_good) or "none"),
        f"- Calls marked with a red line that raised no flag: {len(f.missed_red_lines)} of "
        f"{sum(c.red_line for c in f.calls)} — {_names(f.missed_red_lines)}",
        f"- QA form (一票否决: a red line sets the total to 0): {len(f.qa_vetoed)} calls vetoed; "
        f"{len(f.qa_remedial_good)} of {sum(c.kind in ('excellent', 'natural') for c in f.calls)} excellent/natural "
        f"calls below {QA_REMEDIAL:g} (sent to remedial training).",
    ]
    return lines


def detail_lines(f: Figures) -> list[str]:
    out = []
    for c in sorted(f.calls, key=lambda c: -abs(c.error)):
        dims = " ".join(f"{d[:4]} {c.marks[d]:g}/{c.report.dimensions[d].score:g}" for d in DIMENSIONS)
        out.append(f"{c.file:<36} {c.kind:<9} marks {c.total:5g} scorer {c.report.total:5g} err {c.error:+6.1f} | {dims} "
                   f"| flags {','.join(x.id for x in c.report.flags) or '-'} | qa {c.qa.total:g}")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache-dir", default=None, help="intent-model cache (default: none, train in process)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--detail", action="store_true", help="also print every call, worst first")
    ap.add_argument("--dev", action="store_true",
                    help="score the development set (tests/data/calibration_dev, the set to tune on) "
                         "instead of the held-out one; never writes RESULTS.md")
    args = ap.parse_args(argv)
    f = measure(args.cache_dir, DEV_DATA if args.dev else DATA)
    body = "\n".join(report_lines(f, argv))
    print(body)
    if args.detail:
        print("\n".join(detail_lines(f)))
    if not args.no_write and not args.dev:
        write_section("calibration", body)


if __name__ == "__main__":
    main()
