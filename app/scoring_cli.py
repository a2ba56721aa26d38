"""`flask score FILE [--rubric ID] [--json]`: score one transcript/1 file.

Registered by app/cli.py with ``app.cli.add_command(score_command)``. JSON output is
the "Score output" of shared/formats/TRANSCRIPT.md; without --json a readable report
labelled in the transcript's language. A bad file: one line per fault naming the file
and the JSON path, exit status 1.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core.datafiles import DataFileError
from app.core.rubric import load_rubric_by_id
from app.core.scoring.files import score_file
from app.core.scoring.report import ScoreReport, num

LABELS = {
    "zh-CN": {"scenario": "场景", "rubric": "评分表", "total": "总分", "flags": "红线（不计分，影响认证）",
              "none": "无", "criteria": "评分项", "tip": "建议", "turn": "第{n}轮", "na": "不适用"},
    "en": {"scenario": "Scenario", "rubric": "Rubric", "total": "Total", "flags": "Red lines (outside the score; block certification)",
           "none": "none", "criteria": "Criteria", "tip": "Tip", "turn": "turn {n}", "na": "n/a"},
}


def _config_path(key: str, default: str) -> Path:
    return Path(current_app.config.get(key) or default)


def _analyser_for(language: str):
    # The trained intent model, cached on disk; imported here so `flask --help` stays fast.
    from app.core.acts import load_intent_model

    lang = "zh-CN" if language.lower().startswith("zh") else "en"
    rubrics_dir = _config_path("RUBRICS_DIR", "rubrics")
    return load_intent_model(lang, acts_dir=rubrics_dir / "acts", cache_dir=current_app.config.get("CACHE_DIR")).analyse


def render_report(report: ScoreReport, dimension_titles: dict[str, str], criterion_titles: dict[str, str]) -> str:
    """A plain-text report: totals, dimension bars, red lines, then each criterion with
    its evidence and (when points were missed) the tip."""
    L = LABELS["zh-CN" if report.language.lower().startswith("zh") else "en"]
    out = [f"{L['scenario']}: {report.scenario}    {L['rubric']}: {report.rubric} (v{report.rubric_version})",
           f"{L['total']}: {report.total:g} / {num(report.max)}", *([report.veto] if report.veto else []), ""]
    for dim_id, d in report.dimensions.items():
        filled = round(10 * d.score / d.max) if d.max else 0
        out.append(f"  {dimension_titles.get(dim_id, dim_id):<12} {'█' * filled}{'░' * (10 - filled)} {d.score:>5g} / {num(d.max)}")
    out += ["", f"{L['flags']}:"]
    out += [f"  ! {f.id} ({', '.join(L['turn'].format(n=t) for t in f.turns)}): {f.reason}" for f in report.flags] or [f"  {L['none']}"]
    out += ["", f"{L['criteria']}:"]
    for c in report.criteria:
        base = c.id.split(".")[0]
        title = criterion_titles.get(base, base) + (f" · {c.id.split('.', 1)[1]}" if "." in c.id else "")
        points = L["na"] if not c.applicable else f"{c.score:g}/{num(c.max)}"
        out.append(f"  [{points:>9}] {title}: {c.feedback}")
        for e in c.evidence:
            out.append(f"      {L['turn'].format(n=e.turn)}: “{e.quote}”")
        if c.applicable and c.score < c.max:
            out.append(f"      {L['tip']}: {c.tip}")
    return "\n".join(out) + "\n"


@click.command("score")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rubric", "rubric_id", default="standard-100", show_default=True, help="rubric id in rubrics/")
@click.option("--json", "as_json", is_flag=True, help="print the score-output JSON of TRANSCRIPT.md")
@with_appcontext
def score_command(file: Path, rubric_id: str, as_json: bool) -> None:
    """Score a transcript/1 FILE with a rubric (deterministic scorer; no LLM judge)."""
    try:
        rubric = load_rubric_by_id(rubric_id, _config_path("RUBRICS_DIR", "rubrics"))
        _, report = score_file(file, rubric, _config_path("SCENARIOS_DIR", "scenarios"), _analyser_for)
    except DataFileError as exc:
        for fault in exc.faults:
            click.echo(str(fault), err=True)
        raise SystemExit(1) from None
    if as_json:
        click.echo(report.to_json(), nl=False)
        return
    lang = "zh-CN" if report.language.lower().startswith("zh") else "en"
    dims = {d.id: d.title.get(lang, d.id) for d in rubric.dimensions}
    crits = {c.id: c.title_for(lang) for c in rubric.criteria}
    click.echo(render_report(report, dims, crits), nl=False)
