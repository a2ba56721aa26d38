"""A trainee's progress: recent scores, dimensions over time, skill mastery, what to train next.

Only drills whose report the trainee may see count (a report held back by the trainer
stays out of the trainee's charts too), each by its current score (`drill_score`). Skills are the
rubric's speech-act criteria (act_present / act_absent / order: greeting, verification,
restating, empathy, time commitment, closing ...) and the scenarios' knowledge points;
mastery is the share of their points earned over the last `SKILL_WINDOW` scored drills.
Everything here reads only, except `start_assigned_drill`, which starts (and commits)
a drill for an assignment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import select

from app.core.charts import hbar_chart, line_chart
from app.core.dates import local
from app.extensions import db
from app.models import Drill
from app.services.assignments import assignments_for_trainee
from app.services.drill_score import CurrentScore, current_score
from app.services.scoring import latest_score

HISTORY = 30  # drills in the dimension chart and the recent-scores list
SKILL_WINDOW = 10  # drills the skill mastery is computed over
ACT_KINDS = ("act_present", "act_absent", "order")
KNOWLEDGE_KIND = "knowledge_points"
WEAKEST_CRITERIA = 8  # bars in the weakest-criteria chart


def _title(texts: Any, language: str, fallback: str) -> str:
    if isinstance(texts, dict):
        return texts.get(language) or texts.get("zh-CN") or next(iter(texts.values()), fallback)
    return str(texts or fallback)


@dataclass
class ScoredDrill:
    drill: Drill
    current: CurrentScore  # the one score the drill counts as (see `drill_score`)
    report: dict

    @property
    def total(self) -> float:
        return self.current.total

    @property
    def max_total(self) -> float:
        return self.current.max_total

    @property
    def hint_penalty(self) -> float:
        return self.current.hint_penalty

    @property
    def flagged(self) -> bool:
        return self.current.flagged

    @property
    def scenario_id(self) -> str:
        return self.drill.scenario_version.scenario_id


@dataclass
class Skill:
    key: str  # criterion id, or "kp:<scenario>:<point>" for a knowledge point
    kind: str  # "act" | "knowledge"
    title: str
    earned: float = 0.0
    max: float = 0.0
    # per scenario id: [earned, max], to find where the trainee does worst on it
    by_scenario: dict[str, list[float]] = field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.earned / self.max if self.max > 0 else 1.0

    @property
    def percent(self) -> int:
        return int(round(self.share * 100))


@dataclass
class CriterionMastery:
    """A rubric criterion (an expanded kind's items summed) over the last drills."""

    id: str
    title: str
    dimension: str
    earned: float = 0.0
    max: float = 0.0
    drills: int = 0  # drills where it applied

    @property
    def share(self) -> float:
        return max(0.0, self.earned) / self.max if self.max > 0 else 1.0

    @property
    def percent(self) -> int:
        return int(round(self.share * 100))


@dataclass
class Weakest:
    skill: Skill
    scenario_id: str
    scenario_title: str


@dataclass
class Progress:
    recent: list[ScoredDrill]  # newest first
    dimensions: list[tuple[str, str]]  # (id, title) of the latest rubric
    series_labels: list[str]  # one per drill, oldest first
    series: dict[str, list[float | None]]  # dimension id -> percent of max per drill
    skills: list[Skill]  # weakest first
    weakest: Weakest | None
    assignments: list[dict]
    criteria: list[CriterionMastery] = field(default_factory=list)  # below full marks, weakest first

    @property
    def weakest_criteria(self) -> list[CriterionMastery]:
        return self.criteria[:WEAKEST_CRITERIA]

    @property
    def empty(self) -> bool:
        return not self.recent


def scored_drills(user, limit: int = HISTORY, released_only: bool = True) -> list[ScoredDrill]:
    """The trainee's ended, scored drills, newest first: only those with a released report
    unless `released_only` is false (the trainer's view)."""
    q = select(Drill).where(Drill.trainee_id == user.id, Drill.status == "ended", Drill.mode != "playtest")
    if released_only:
        q = q.where(Drill.report_released.is_(True))
    drills = db.session.scalars(q.order_by(Drill.started_at.desc(), Drill.id.desc()).limit(limit * 2))
    out = []
    for drill in drills:
        score = latest_score(drill)
        if score is None or not score.report:
            continue
        out.append(ScoredDrill(drill, current_score(drill, score), score.report))
        if len(out) >= limit:
            break
    return out


def drill_labels(moments: list, zone_name: str) -> list[str]:
    """Axis labels for drills at `moments` (stored UTC), in the centre's time zone, never
    two alike: "12-07"; with the time ("12-07 09:15") for the drills of a day that has
    several; numbered within their day ("12-07 #2") when the minute repeats too. Short
    enough for the chart's tick width (about 11 characters)."""
    at = [local(m, zone_name) for m in moments]
    days = [a.strftime("%m-%d") for a in at]
    minutes = [a.strftime("%m-%d %H:%M") for a in at]
    ordinal: dict[str, int] = {}
    out = []
    for day, minute in zip(days, minutes):
        ordinal[day] = ordinal.get(day, 0) + 1
        if days.count(day) == 1:
            out.append(day)
        elif all(minutes.count(x) == 1 for x, d in zip(minutes, days) if d == day):
            out.append(minute)
        else:
            out.append(f"{day} #{ordinal[day]}")
    return out


def _dimension_series(history: list[ScoredDrill], language: str, zone_name: str = "UTC"):
    """Percent of max per dimension per drill, oldest first, for drills scored with the
    newest drill's rubric (other rubrics have other dimensions)."""
    if not history:
        return [], [], {}
    newest = history[0]
    score = latest_score(newest.drill)
    rubric = (score.rubric_version.data if score and score.rubric_version else None) or {}
    titles = {d["id"]: _title(d.get("title"), language, d["id"]) for d in rubric.get("dimensions", [])}
    dims = [(k, titles.get(k, k)) for k in newest.report.get("dimensions", {})]
    same = [h for h in reversed(history) if h.report.get("rubric") == newest.report.get("rubric")]
    labels = drill_labels([h.drill.started_at for h in same], zone_name)
    series: dict[str, list[float | None]] = {k: [] for k, _ in dims}
    for h in same:
        for k, _ in dims:
            d = h.current.dimensions.get(k)  # after the trainer's review
            series[k].append(round(100 * d["points"] / d["max"], 1) if d and d.get("max") else None)
    return dims, labels, series


def _skills(history: list[ScoredDrill], language: str) -> list[Skill]:
    skills: dict[str, Skill] = {}
    for h in history[:SKILL_WINDOW]:
        score = latest_score(h.drill)
        rubric = (score.rubric_version.data if score and score.rubric_version else None) or {}
        crit_titles = {c["id"]: c.get("title") for c in rubric.get("criteria", [])}
        points = {p["id"]: p.get("text") for p in (h.drill.scenario_version.data or {}).get("knowledge_points", [])}
        scenario_id = h.scenario_id
        for c in h.report.get("criteria", []):
            if not c.get("applicable", True) or not c.get("max"):
                continue
            kind = c.get("kind")
            if kind in ACT_KINDS:
                key, skind, title = c["id"], "act", _title(crit_titles.get(c["id"]), language, c["id"])
            elif kind == KNOWLEDGE_KIND and "." in c["id"]:
                point = c["id"].split(".", 1)[1]
                key, skind, title = f"kp:{scenario_id}:{point}", "knowledge", points.get(point) or point
            else:
                continue
            skill = skills.setdefault(key, Skill(key, skind, title))
            skill.earned += c["score"]
            skill.max += c["max"]
            per = skill.by_scenario.setdefault(scenario_id, [0.0, 0.0])
            per[0] += c["score"]
            per[1] += c["max"]
    return sorted(skills.values(), key=lambda s: (s.share, s.kind, s.key))


def criterion_mastery(history: list[ScoredDrill], language: str) -> list[CriterionMastery]:
    """Each rubric criterion's share of points over the last `SKILL_WINDOW` drills, by its
    current (reviewed) points, titled from the rubric in `language`; N/A results are
    left out, an expanded kind's items (knowledge_points.x) count toward their criterion.
    Only those below full marks, weakest first."""
    out: dict[str, CriterionMastery] = {}
    for h in history[:SKILL_WINDOW]:
        score = latest_score(h.drill)
        rubric = (score.rubric_version.data if score and score.rubric_version else None) or {}
        titles = {c["id"]: c.get("title") for c in rubric.get("criteria", [])}
        seen = set()
        for c in h.report.get("criteria", []):
            if not c.get("applicable", True) or not c.get("max"):
                continue
            base = c["id"].split(".")[0]
            m = out.setdefault(base, CriterionMastery(base, _title(titles.get(base), language, base), c["dimension"]))
            m.earned += h.current.criteria.get(c["id"], c["score"])
            m.max += c["max"]
            if base not in seen:
                seen.add(base)
                m.drills += 1
    return sorted((m for m in out.values() if m.share < 1.0), key=lambda m: (m.share, m.id))


def _weakest(skills: list[Skill], scenario_titles: dict[str, str]) -> Weakest | None:
    """The lowest-mastery skill below 100 %, with the scenario that trains it: a knowledge
    point's own scenario; for an act criterion, the scenario where it scored lowest."""
    for skill in skills:
        if skill.share >= 1.0:
            return None
        if skill.kind == "knowledge":
            scenario_id = skill.key.split(":")[1]
        else:
            scenario_id = min(skill.by_scenario, key=lambda s: (skill.by_scenario[s][0] / skill.by_scenario[s][1], s))
        if scenario_id in scenario_titles:
            return Weakest(skill, scenario_id, scenario_titles[scenario_id])
    return None


def trainee_progress(user, language: str, zone_name: str | None = None, released_only: bool = True) -> Progress:
    """Everything the trainee's home (and the trainer's page on the trainee) shows about
    their progress. No history gives empty lists and no weakest skill. Dates are in
    `zone_name` (default: the centre's, CENTRE_TIMEZONE). `released_only` false counts
    reports held back from the trainee too (for the trainer)."""
    from app.services.drills import find_scenario, scenarios_in

    scenario_titles = {s.id: s.title for s in scenarios_in(language)}
    if zone_name is None:
        from flask import current_app

        zone_name = current_app.config.get("CENTRE_TIMEZONE") or "UTC"
    history = scored_drills(user, released_only=released_only)
    dims, labels, series = _dimension_series(history, language, zone_name)
    skills = _skills(history, language)
    assignments = assignments_for_trainee(user, include_inactive=not released_only, released_only=released_only)
    for item in assignments:
        # (id, scenario model or None when the file is gone) in the assignment's language
        item["scenarios"] = [(s, find_scenario(s, item["assignment"].language)) for s in item["scenario_ids"]]
    return Progress(recent=history[:10], dimensions=dims, series_labels=labels, series=series, skills=skills,
                    weakest=_weakest(skills, scenario_titles), assignments=assignments,
                    criteria=criterion_mastery(history, language))


def charts(progress: Progress, titles: dict[str, str]) -> dict[str, Markup]:
    """The home page's inline SVG charts. `titles` holds the translated chart texts
    (`dimensions`, `skills`, `empty`, `percent`). The builders escape all data text."""
    dim_chart = line_chart(progress.series_labels,
                           [(title, progress.series[k]) for k, title in progress.dimensions],
                           titles["dimensions"], y_max=100, y_label=titles["percent"], empty=titles["empty"])
    # The weakest rubric criteria by name, not every skill and scenario fact (issue 15).
    skill_chart = hbar_chart([(c.title, c.percent) for c in progress.weakest_criteria], titles["skills"],
                             max_value=100, empty=titles["empty"], unit="%")
    return {"dimensions": Markup(dim_chart), "skills": Markup(skill_chart)}


def assignment_for_trainee(user, assignment_id: int):
    """The active assignment if it reaches this trainee (via cohort or by name), else None."""
    for item in assignments_for_trainee(user):
        if item["id"] == assignment_id:
            return item["assignment"]
    return None


def start_assigned_drill(user, assignment_id: int, scenario_id: str, persona: str | None,
                         customer_kind: str = "scripted") -> Drill:
    """Start (and commit, via `drills.start_drill`) a drill for an assignment: its
    language, mode and persona (the trainee's choice only when the assignment leaves it
    open), linked by `assignment_id`, with the report held back when the assignment says
    the trainer releases it.

    Raises LookupError when the assignment does not reach the trainee or is withdrawn,
    DrillError for a scenario not in the assignment or a bad persona.
    """
    from app.services.drills import DrillError, start_drill

    assignment = assignment_for_trainee(user, assignment_id)
    if assignment is None:
        raise LookupError(f"no assignment {assignment_id} for this trainee")
    if scenario_id not in assignment.scenario_ids:
        raise DrillError("unknown_scenario", f"scenario {scenario_id!r} is not part of this assignment")
    return start_drill(user, scenario_id, assignment.language, assignment.persona or persona or "", customer_kind,
                       mode=assignment.mode, assignment_id=assignment.id,
                       report_released=not (assignment.mode == "test" and assignment.report_release == "trainer"))
