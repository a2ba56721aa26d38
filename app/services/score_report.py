"""The score report as pages and downloads show it, and the download writers.

`build_report` turns a drill and its current score into plain view objects
(titles in the reader's language, evidence quotes located in the transcript so the
page can wrap them in <mark>). Downloads are a registry of named writers
(`EXPORTS`); `export_drill` runs one and audits it, the view only streams the bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import select

from app.core.coaching import FixItem, fix_first
from app.core.transcript import render_text, write_transcript
from app.extensions import db
from app.models import Drill, Score, Turn
from app.services import audit, review
from app.services.drill_score import CurrentScore, current_score, with_current
from app.services.flag_review import Overturned
from app.services.scoring import drill_transcript, latest_score, previous_attempts


@dataclass(frozen=True)
class Segment:
    text: str
    mark: bool = False


@dataclass
class TurnView:
    number: int
    speaker: str
    text: str
    segments: list[Segment]
    flagged: bool = False


@dataclass
class DimensionView:
    id: str
    title: str
    score: float  # after the trainer's review
    max: float
    machine: float | None = None  # the machine's points, when the trainer changed them

    @property
    def percent(self) -> int:
        """0-100 in steps of 5, for the CSS width classes of the bars."""
        if self.max <= 0:
            return 0
        return int(round(max(0.0, min(1.0, self.score / self.max)) * 20)) * 5


@dataclass
class CriterionView:
    id: str
    title: str
    dimension: str
    score: float  # after the trainer's review
    max: float
    feedback: str
    tip: str
    evidence: list[dict]
    applicable: bool = True
    machine: float | None = None  # the machine's points, when the trainer changed them
    checks: str = ""  # the scenario fact or step this result checks (per-item kinds), else ""
    comment: str = ""  # the trainer's comment on this criterion, "" when none

    @property
    def full(self) -> bool:
        return self.score >= self.max


@dataclass
class ChangeView:
    """A change the trainer made, as the report lists it."""

    title: str
    machine: float
    adjusted: float
    max: float
    reason: str


@dataclass
class ReportView:
    drill: Drill
    turns: list[TurnView]
    score: Score | None = None
    current: CurrentScore | None = None  # the drill's one score (`drill_score`): None when `score` is
    released: bool = True
    dimensions: list[DimensionView] = field(default_factory=list)
    criteria: list[CriterionView] = field(default_factory=list)
    changes: list[ChangeView] = field(default_factory=list)  # the trainer's, oldest first
    flags: list[dict] = field(default_factory=list)  # the red-line flags that stand
    overturned: list[Overturned] = field(default_factory=list)  # flags the trainer overturned, with the reason
    attempts: list[tuple[Drill, CurrentScore | None]] = field(default_factory=list)
    hints_used: int = 0
    fix_first: list[FixItem] = field(default_factory=list)  # "three things to fix first" (app/core/coaching.py)

    @property
    def total(self) -> float | None:
        return self.current.total if self.current else None

    @property
    def hint_penalty(self) -> float:
        return self.current.hint_penalty if self.current else 0.0


def _title(texts: Any, language: str, fallback: str) -> str:
    if isinstance(texts, dict):
        return texts.get(language) or texts.get("zh-CN") or next(iter(texts.values()), fallback)
    return str(texts or fallback)


# Criterion kinds that give one result per scenario item (`<criterion>.<item id>`), and
# the scenario list each reads.
PER_ITEM_LISTS = {"knowledge_points": "knowledge_points", "resolution_items": "resolution_items"}


def checked_facts(rubric: dict, scenario: dict) -> dict[str, str]:
    """Result id -> the scenario's own words for the fact or step it checks, for the
    criteria that expand per scenario item (knowledge points, resolution items)."""
    out = {}
    for crit in rubric.get("criteria", []):
        for item in scenario.get(PER_ITEM_LISTS.get(crit.get("kind"), ""), None) or []:
            if isinstance(item, dict) and item.get("id"):
                out[f"{crit['id']}.{item['id']}"] = str(item.get("text") or "")
    return out


def _spans(text: str, evidence: list[dict]) -> list[tuple[int, int]]:
    """Character spans of the quotes in `text`, merged; a quote not found is skipped."""
    spans = []
    for ev in evidence:
        quote, span = ev.get("quote") or "", ev.get("span")
        if span and len(span) == 2 and text[span[0]:span[1]] == quote and span[1] > span[0]:
            spans.append((span[0], span[1]))
        elif quote and quote in text:
            start = text.index(quote)
            spans.append((start, start + len(quote)))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def segments(text: str, evidence: list[dict]) -> list[Segment]:
    """The text cut into plain and quoted (marked) pieces; joined they give `text` back."""
    out, pos = [], 0
    for start, end in _spans(text, evidence):
        if start > pos:
            out.append(Segment(text[pos:start]))
        out.append(Segment(text[start:end], True))
        pos = end
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out


def _turn_views(drill: Drill, report: dict | None, flags=()) -> list[TurnView]:
    """The transcript, evidence quotes marked; turns of the standing `flags` flagged."""
    turns = db.session.scalars(select(Turn).where(Turn.drill_id == drill.id).order_by(Turn.position)).all()
    cited: dict[int, list[dict]] = {}
    if report:
        for crit in report.get("criteria", []):
            for ev in crit.get("evidence", []):
                cited.setdefault(ev.get("turn"), []).append(ev)
    flagged = {n for f in flags for n in f.get("turns", [])}
    return [TurnView(t.position, t.speaker, t.text, segments(t.text, cited.get(t.position, [])),
                     t.position in flagged) for t in turns]


def build_report(drill: Drill, language: str, released: bool = True) -> ReportView:
    """Everything the report page shows, every figure from the drill's current score
    (`drill_score.current_score`): totals, dimensions and criteria after the trainer's
    review, the machine's points beside any it changed, the reasons, the hint penalty,
    the red-line flags that stand and those the trainer overturned (with the reason).
    Without a score (not scored yet) or when the report is held back (`released`
    false) only the transcript and attempts are filled."""
    score = latest_score(drill) if released else None
    report = score.report if score else None
    current = current_score(drill, score) if report else None
    view = ReportView(drill=drill, turns=_turn_views(drill, report, current.flags if current else ()), score=score,
                      released=released, attempts=with_current(previous_attempts(drill)),
                      hints_used=drill.hints_used or 0)
    if not report:
        return view
    view.current = current
    rubric = (score.rubric_version.data if score.rubric_version else None) or {}
    dim_titles = {d["id"]: d.get("title") for d in rubric.get("dimensions", [])}
    crit_titles = {c["id"]: c.get("title") for c in rubric.get("criteria", [])}

    def crit_title(crit_id: str) -> str:
        base = crit_id.split(".")[0]  # expanded kinds give one result per scenario item: id.item
        return _title(crit_titles.get(base), language, base)

    for k, v in report.get("dimensions", {}).items():
        points = current.dimensions.get(k, {}).get("points", v["score"])
        view.dimensions.append(DimensionView(k, _title(dim_titles.get(k), language, k), points, v["max"],
                                             machine=v["score"] if points != v["score"] else None))
    facts = checked_facts(rubric, drill.scenario_version.data or {})
    notes = {k: row.text for k, row in review.comments(score).items()}
    for c in report.get("criteria", []):
        points = current.criteria.get(c["id"], c["score"])
        view.criteria.append(CriterionView(
            id=c["id"], title=crit_title(c["id"]), dimension=c["dimension"],
            score=points, max=c["max"], feedback=c.get("feedback", ""), tip=c.get("tip", ""),
            evidence=c.get("evidence", []), applicable=c.get("applicable", True),
            machine=c["score"] if points != c["score"] else None,
            checks=facts.get(c["id"], ""), comment=notes.get(c["id"], "")))
    maxima = {**{k: v["max"] for k, v in report.get("dimensions", {}).items()},
              **{c["id"]: c["max"] for c in report.get("criteria", [])}}
    for ch in current.changes:
        title = (_title(dim_titles.get(ch.target), language, ch.target) if ch.kind == "dimension"
                 else " · ".join(filter(None, (crit_title(ch.target), facts.get(ch.target)))))
        view.changes.append(ChangeView(title, ch.machine, ch.adjusted, maxima.get(ch.target, 0.0), ch.reason))
    view.flags, view.overturned = list(current.flags), list(current.overturned)
    reviewed = [dict(c, score=current.criteria.get(c["id"], c["score"])) for c in report.get("criteria", [])]
    view.fix_first = fix_first(reviewed, rubric, drill.scenario_version.data or {},
                               [(t.speaker, t.text) for t in view.turns],
                               drill.scenario_version.language, language)
    return view


# --- downloads -------------------------------------------------------------------------

@dataclass(frozen=True)
class Download:
    data: bytes
    mimetype: str
    filename: str


Writer = Callable[[Drill, "Score | None", str], bytes]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    mimetype: str
    extension: str
    write: Writer


EXPORTS: dict[str, ExportFormat] = {}


def register_export(name: str, mimetype: str, extension: str):
    """Register a writer `(drill, score_or_None, language) -> bytes`; refuses duplicates."""
    def decorator(write: Writer) -> Writer:
        if name in EXPORTS:
            raise ValueError(f"export format {name!r} is registered twice")
        EXPORTS[name] = ExportFormat(name, mimetype, extension, write)
        return write
    return decorator


def export_format(name: str) -> ExportFormat:
    try:
        return EXPORTS[name]
    except KeyError:
        raise KeyError(f"unknown export format {name!r}; known: {', '.join(sorted(EXPORTS))}") from None


@register_export("json", "application/json", "json")
def _json(drill: Drill, score: Score | None, language: str) -> bytes:
    # Exactly transcript/1: the score is not part of the format, so it is not added here.
    return write_transcript(drill_transcript(drill)).encode("utf-8")


@register_export("txt", "text/plain", "txt")
def _text(drill: Drill, score: Score | None, language: str) -> bytes:
    from app.i18n import persona_label
    from app.services.drills import scenario_of

    persona = persona_label(scenario_of(drill), drill.persona) if drill.persona else None
    return render_text(drill_transcript(drill), language, drill.scenario_version.title, persona).encode("utf-8")


@register_export("pdf", "application/pdf", "pdf")
def _pdf(drill: Drill, score: Score | None, language: str) -> bytes:
    from app.services.report_pdf import render_pdf  # reportlab loads only when a PDF is asked for

    return render_pdf(build_report(drill, language, released=score is not None), language)


def export_drill(drill: Drill, fmt: str, actor, language: str, with_score: bool = True) -> Download:
    """Render a download of the drill and record an `export` audit entry; commits.

    `with_score` false leaves the score out of the PDF (report held back by the trainer).
    Raises KeyError for an unknown format.
    """
    spec = export_format(fmt)
    score = latest_score(drill) if with_score else None
    data = spec.write(drill, score, language)
    audit.record("export", actor, f"drill:{drill.id}", format=fmt, score_id=score.id if score else None)
    db.session.commit()
    name = f"drill-{drill.id}-{drill.scenario_version.scenario_id}.{spec.extension}"
    return Download(data, spec.mimetype, name)
