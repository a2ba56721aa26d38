"""Cohort analytics for a trainer: distributions, most-missed criteria and knowledge
points, progress by week, per-scenario difficulty and scorer agreement.

Reads only; commits nothing. The data are the current score (`drill_score`: the latest
machine score after the trainer's review and hints; the agreement compares the machine
with the trainer) of every ended drill done by a trainee of a cohort the trainer leads (optionally one cohort, optionally
drills started within a date range). Imported calls of external agents belong to no
cohort and are left out. Scores are compared as percentages of their maxima, so drills
scored under rubrics with different weights still share one scale. Every statistic is
None where it is undefined (no drills, one drill, no variance); nothing divides by zero.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from app.core import charts, stats
from app.core.dates import after_day, day_start
from app.extensions import db
from app.i18n import centre_zone
from app.models import Cohort, Drill, Score, ScoreAdjustment
from app.services.drill_score import CurrentScore, current_score
from app.services.scoring import led_member_ids

MISSED_BELOW = 0.5  # a criterion counts as missed below half its points
TOP_MISSED = 10
HIST_BINS = 10


@dataclass
class DimensionStats:
    id: str
    title: str
    n: int
    mean: float | None  # percent of the dimension's max
    sd: float | None
    median: float | None
    bins: list[stats.Bin]


@dataclass
class Missed:
    key: str
    title: str
    missed: int
    n: int
    detail: str = ""  # for knowledge points: the scenario they belong to

    @property
    def share(self) -> float:
        return self.missed / self.n if self.n else 0.0


@dataclass
class Difficulty:
    scenario_id: str
    title: str
    language: str
    n: int
    mean: float | None
    sd: float | None


@dataclass
class Agreement:
    id: str
    title: str
    n: int
    mad: float | None  # points
    rho: float | None
    machine_mean: float | None
    trainer_mean: float | None


@dataclass
class Analytics:
    n_drills: int
    total: DimensionStats | None
    dimensions: list[DimensionStats] = field(default_factory=list)
    missed_criteria: list[Missed] = field(default_factory=list)
    missed_knowledge: list[Missed] = field(default_factory=list)
    weeks: list[str] = field(default_factory=list)
    progress: dict[str, list[float | None]] = field(default_factory=dict)  # title -> mean % per week
    difficulty: list[Difficulty] = field(default_factory=list)
    agreement: list[Agreement] = field(default_factory=list)
    n_adjusted: int = 0


Currents = dict[int, CurrentScore]  # score id -> the drill's current score


def trainer_cohorts(trainer) -> list[Cohort]:
    return list(db.session.scalars(select(Cohort).where(Cohort.trainer_id == trainer.id).order_by(Cohort.name)))


def _scored_drills(trainer, cohort_id: int | None, start: date | None, end: date | None) -> list[tuple[Drill, Score]]:
    latest = (select(Score.drill_id, func.max(Score.id).label("sid")).group_by(Score.drill_id).subquery())
    # IN (members), not a join: a trainee in two of the trainer's cohorts counts once.
    members = led_member_ids(trainer)
    if cohort_id is not None:
        members = members.where(Cohort.id == cohort_id)
    q = (select(Drill, Score)
         .join(latest, latest.c.drill_id == Drill.id)
         .join(Score, Score.id == latest.c.sid)
         .where(Drill.trainee_id.in_(members), Drill.status == "ended", Drill.mode != "playtest"))
    if start is not None:
        q = q.where(Drill.started_at >= day_start(start, centre_zone()))
    if end is not None and (after := after_day(end, centre_zone())):  # the end day is included
        q = q.where(Drill.started_at < after)
    return [tuple(r) for r in db.session.execute(q.order_by(Drill.started_at, Drill.id))]


def _pct(score: float, maximum: float) -> float | None:
    return 100.0 * score / maximum if maximum else None


def _title(titles: dict | str | None, lang: str, fallback: str) -> str:
    if isinstance(titles, dict):
        return titles.get(lang) or titles.get("zh-CN") or next(iter(titles.values()), fallback)
    return titles or fallback


class _Rubrics:
    """Titles, kinds and dimensions of criteria, from the rubric versions the scores name."""

    def __init__(self, lang: str):
        self.lang = lang
        self.dimensions: dict[str, str] = {}
        self.criteria: dict[str, dict] = {}

    def add(self, score: Score) -> None:
        data = (score.rubric_version.data if score.rubric_version else None) or {}
        for d in data.get("dimensions", []):
            self.dimensions.setdefault(d["id"], _title(d.get("title"), self.lang, d["id"]))
        for c in data.get("criteria", []):
            self.criteria.setdefault(c["id"], c)

    def dim_title(self, dim: str) -> str:
        return self.dimensions.get(dim, dim)

    def crit_title(self, cid: str) -> str:
        return _title(self.criteria.get(cid, {}).get("title"), self.lang, cid)

    def crit_kind(self, cid: str) -> str | None:
        return self.criteria.get(cid, {}).get("kind")

    def crit_dimension(self, cid: str) -> str | None:
        return self.criteria.get(cid, {}).get("dimension")


def _dim_stats(dim: str, title: str, percents: list[float]) -> DimensionStats:
    return DimensionStats(dim, title, len(percents), stats.mean(percents), stats.stdev(percents),
                          stats.quantile(percents, 0.5), stats.histogram(percents, 0, 100, HIST_BINS))


def _distributions(rows, cur: Currents, rubrics: _Rubrics) -> tuple[DimensionStats, list[DimensionStats]]:
    per_dim: dict[str, list[float]] = defaultdict(list)
    totals = []
    for _drill, score in rows:
        if (p := cur[score.id].percent) is not None:
            totals.append(p)
        for dim, v in cur[score.id].dimensions.items():
            if (p := _pct(v["points"], v["max"])) is not None:
                per_dim[dim].append(p)
    order = list(rubrics.dimensions) + sorted(set(per_dim) - set(rubrics.dimensions))
    return (_dim_stats("total", _("Total"), totals),
            [_dim_stats(d, rubrics.dim_title(d), per_dim[d]) for d in order if per_dim.get(d)])


def _knowledge_texts(drill: Drill) -> dict[str, str]:
    data = (drill.scenario_version.data if drill.scenario_version else None) or {}
    return {kp["id"]: kp.get("text", kp["id"]) for kp in data.get("knowledge_points", [])}


def _missed(rows, cur: Currents, rubrics: _Rubrics) -> tuple[list[Missed], list[Missed]]:
    """Per rubric criterion (expanded items summed per drill) and per knowledge point of
    a scenario: in how many drills it scored below MISSED_BELOW of its points."""
    crit: dict[str, Missed] = {}
    kps: dict[tuple, Missed] = {}
    for drill, score in rows:
        sums: dict[str, list[float]] = {}
        texts = None
        points = cur[score.id].criteria  # after the trainer's review
        for c in (score.report or {}).get("criteria", []):
            if c.get("applicable") is False:
                continue
            got = points.get(c["id"], c.get("score", 0))
            base, _dot, item = c["id"].partition(".")
            acc = sums.setdefault(base, [0.0, 0.0])
            acc[0] += got
            acc[1] += c.get("max", 0)
            if item and (c.get("kind") or rubrics.crit_kind(base)) == "knowledge_points" and c.get("max"):
                texts = texts if texts is not None else _knowledge_texts(drill)
                version = drill.scenario_version
                key = (version.scenario_id, version.language, item)
                m = kps.setdefault(key, Missed(f"{version.scenario_id}/{item}", texts.get(item, item), 0, 0, version.title))
                m.n += 1
                m.missed += got < MISSED_BELOW * c["max"]
        for base, (got, maximum) in sums.items():
            if maximum <= 0:
                continue
            m = crit.setdefault(base, Missed(base, rubrics.crit_title(base), 0, 0))
            m.n += 1
            m.missed += got < MISSED_BELOW * maximum

    def order(items):
        return sorted((m for m in items if m.missed), key=lambda m: (-m.share, -m.n, m.title))[:TOP_MISSED]

    return order(crit.values()), order(kps.values())


def _week(moment: datetime) -> date:
    d = moment.date()
    return d - timedelta(days=d.weekday())


def _progress(rows, cur: Currents, rubrics: _Rubrics) -> tuple[list[str], dict[str, list[float | None]]]:
    """Mean percentage per ISO week (labelled by its Monday), total and per dimension;
    weeks without drills in between are shown as gaps."""
    buckets: dict[date, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for drill, score in rows:
        b = buckets[_week(drill.started_at)]
        if (p := cur[score.id].percent) is not None:
            b["total"].append(p)
        for dim, v in cur[score.id].dimensions.items():
            if (p := _pct(v["points"], v["max"])) is not None:
                b[dim].append(p)
    if not buckets:
        return [], {}
    first, last = min(buckets), max(buckets)
    weeks = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    dims = ["total"] + [d for d in rubrics.dimensions if any(d in b for b in buckets.values())]
    series = {}
    for d in dims:
        title = _("Total") if d == "total" else rubrics.dim_title(d)
        series[title] = [stats.mean(buckets[w][d]) if w in buckets and buckets[w].get(d) else None for w in weeks]
    return [w.isoformat() for w in weeks], series


def _difficulty(rows, cur: Currents) -> list[Difficulty]:
    groups: dict[tuple, list[float]] = defaultdict(list)
    titles: dict[tuple, str] = {}
    for drill, score in rows:
        v = drill.scenario_version
        key = (v.scenario_id, v.language)
        titles.setdefault(key, v.title)
        if (p := cur[score.id].percent) is not None:
            groups[key].append(p)
    out = [Difficulty(k[0], titles[k], k[1], len(vals), stats.mean(vals), stats.stdev(vals))
           for k, vals in groups.items()]
    return sorted(out, key=lambda d: (d.mean if d.mean is not None else 101, d.title))  # hardest first


def adjusted_dimensions(score: Score, adjustments: list[ScoreAdjustment], rubrics: _Rubrics) -> dict[str, float]:
    """The trainer's score per dimension: the dimension's own adjusted value where one was
    set, else the machine score plus the changes the trainer made to its criteria. The
    latest adjustment of each target counts (`adjustments` in creation order)."""
    latest: dict[tuple[str, str], ScoreAdjustment] = {}
    for a in adjustments:
        latest[(a.target_kind, a.target_id)] = a
    crit_dim = {c["id"]: c.get("dimension") for c in (score.report or {}).get("criteria", [])}
    deltas: dict[str, float] = defaultdict(float)
    for (kind, target), a in latest.items():
        if kind == "criterion":
            dim = crit_dim.get(target) or rubrics.crit_dimension(target.partition(".")[0])
            if dim:
                deltas[dim] += a.adjusted_points - a.machine_points
    out = {}
    for dim, v in (score.dimensions or {}).items():
        a = latest.get(("dimension", dim))
        out[dim] = a.adjusted_points if a is not None else v.get("score", 0) + deltas[dim]
    return out


def _agreement(rows, trainer, rubrics: _Rubrics) -> tuple[list[Agreement], int]:
    by_score = {score.id: score for _drill, score in rows}
    if not by_score:
        return [], 0
    adjustments = db.session.scalars(
        select(ScoreAdjustment).where(ScoreAdjustment.score_id.in_(by_score), ScoreAdjustment.reviewer_id == trainer.id)
        .order_by(ScoreAdjustment.created_at, ScoreAdjustment.id)).all()
    per_score: dict[int, list[ScoreAdjustment]] = defaultdict(list)
    for a in adjustments:
        per_score[a.score_id].append(a)
    pairs: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for sid, adjs in per_score.items():
        score = by_score[sid]
        trainer_dims = adjusted_dimensions(score, adjs, rubrics)
        for dim, value in trainer_dims.items():
            pairs[dim][0].append(score.dimensions[dim].get("score", 0))
            pairs[dim][1].append(value)
        pairs["total"][0].append(score.total)
        pairs["total"][1].append(sum(trainer_dims.values()))
    order = [d for d in rubrics.dimensions if d in pairs] + sorted(set(pairs) - set(rubrics.dimensions) - {"total"})
    out = []
    for d in order + ["total"]:
        machine, human = pairs[d]
        out.append(Agreement(d, _("Total") if d == "total" else rubrics.dim_title(d), len(machine),
                             stats.mean_abs_diff(machine, human), stats.spearman(machine, human),
                             stats.mean(machine), stats.mean(human)))
    return out, len(per_score)


def cohort_analytics(trainer, cohort_id: int | None = None, start: date | None = None,
                     end: date | None = None, lang: str = "zh-CN") -> Analytics:
    """Everything the analytics page shows, for the trainer's cohorts (or one of them:
    a cohort the trainer does not lead yields no drills, like an empty one)."""
    rows = _scored_drills(trainer, cohort_id, start, end)
    rubrics = _Rubrics(lang)
    for _drill, score in rows:
        rubrics.add(score)
    if not rows:
        return Analytics(0, None)
    # Every figure but the machine-vs-trainer agreement reads the drills' current scores.
    cur = {score.id: current_score(drill, score) for drill, score in rows}
    total, dims = _distributions(rows, cur, rubrics)
    crits, kps = _missed(rows, cur, rubrics)
    weeks, series = _progress(rows, cur, rubrics)
    agreement, n_adjusted = _agreement(rows, trainer, rubrics)
    return Analytics(len(rows), total, dims, crits, kps, weeks, series, _difficulty(rows, cur), agreement, n_adjusted)


def render_charts(a: Analytics) -> dict[str, Markup]:
    """The page's charts as inline SVG (escaped by `app.core.charts`, hence Markup)."""
    none = _("No data")
    out = {}
    for d in ([a.total] if a.total else []) + a.dimensions:
        out[f"dist_{d.id}"] = charts.bar_chart(
            [(b.label, b.count) for b in d.bins], _("Score distribution: %(dim)s", dim=d.title),
            x_label=_("% of the maximum"), y_label=_("Drills"), empty=none)
    out["missed_criteria"] = charts.hbar_chart(
        [(m.title, round(100 * m.share)) for m in a.missed_criteria], _("Most missed criteria"),
        max_value=100, x_label=_("% of drills below half the points"), empty=none, unit="%")
    out["missed_knowledge"] = charts.hbar_chart(
        [(m.title, round(100 * m.share)) for m in a.missed_knowledge], _("Most missed knowledge points"),
        max_value=100, x_label=_("% of drills below half the points"), empty=none, unit="%")
    out["progress"] = charts.line_chart(a.weeks, list(a.progress.items()), _("Weekly mean score"), y_max=100,
                                        x_label=_("Week starting"), y_label=_("% of the maximum"), empty=none)
    out["difficulty"] = charts.range_chart(
        [(d.title, d.mean, d.sd, d.n) for d in a.difficulty if d.mean is not None],
        _("Scenario difficulty (mean ± standard deviation)"), x_label=_("Total, % of the maximum"), empty=none)
    out["agreement"] = charts.hbar_chart(
        [(g.title, round(g.mad, 1)) for g in a.agreement if g.mad is not None],
        _("Mean absolute difference, machine vs trainer"), x_label=_("Points"), empty=none)
    return {k: Markup(v) for k, v in out.items()}
