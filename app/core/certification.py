"""The certification track file schema (`rubrics/tracks/<id>.yaml`) and its loader.

A track is the brief's 200-point scheme as data: a theory exam drawn from a question
bank (100 points, pass mark 80), scenario drills drawn from a pool and scaled to 20
points each (60), trainer-marked case analyses (2 × 20 = 40) and grade bands. Field
descriptions double as docs (docs/certification-format.md).

Loading validates beyond the field types; every fault names the file and the field:
a correct key that is not an option, a single-choice question without exactly one
correct key, a multiple-choice question with fewer than two, duplicate ids, a bank
smaller than the draw, points that do not sum to the section (or track) totals, grade
bands that overlap or leave a gap. Scenario ids in the drill pool are checked against
the known scenarios by `check_track_scenarios` (it needs the other files).

The exam is a gate: a candidate below the exam's pass mark is graded with
`exam.gate_grade` (retake) whatever the total, because the material sets a theory pass
mark of 80 and a total that hides a failed theory test would certify someone who does
not know the rules. Marking lives in `app/core/certification_marking.py`.
"""
from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from app.core.datafiles import DataFileError, Fault, parse_model, read_raw
from app.core.operators import fill_for_validation

LANGUAGES = ("zh-CN", "en")
GRADES = ("excellent", "good", "pass", "retake")  # the values CertificationAttempt.grade stores
TRACK_ID_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
ITEM_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
OPTION_KEYS = tuple(string.ascii_uppercase[:5])  # A-E
TOLERANCE = 1e-6  # points are decimals such as 1.6; sums are compared with a tolerance


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _i18n(v: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(v) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"unknown language(s) {', '.join(unknown)} (known: {', '.join(LANGUAGES)})")
    missing = [lang for lang in LANGUAGES if not (v.get(lang) or "").strip()]
    if missing:
        raise ValueError(f"needs a non-empty text for {', '.join(missing)}")
    return v


def _item_id(v: str) -> str:
    if not ITEM_ID_RE.match(v):
        raise ValueError(f"must match {ITEM_ID_RE.pattern}")
    return v


Norm = Literal["material", "seed-001", "seed-002", "seed-002-2025", "seed-003", "regulation", "general",
               "operator", "case"]


class Question(Strict):
    id: str = Field(description="stable id, e.g. q_open_01; attempts store the drawn ids and the answers by id")
    kind: Literal["single", "multiple"] = Field(description="single: exactly one correct key; multiple: two or more")
    topic: str = Field(description="topic tag for analytics, e.g. opening, verification, red_lines")
    language: Literal["zh-CN", "en"] = Field("zh-CN", description="must equal exam.language")
    stem: str = Field(min_length=1, description="the question text")
    options: dict[str, str] = Field(description="option key (A, B, C ... consecutive from A, at most E) -> option text")
    answer: list[str] = Field(min_length=1, description="the correct option key(s)")
    explanation: str = Field(min_length=1, description="one line shown after marking: why the answer is right")
    norm: Norm = Field(description=(
        "which norm the answer follows, where the material disagrees (complaint tiers, 2025 targets):"
        " material (the training material, no seed disagrees), seed-001, seed-002, seed-002-2025"
        " (seed 002's 2025 raised standards), seed-003, regulation (law, telecom regulations),"
        " general (telecom knowledge outside the seeds), operator (the centre's operator profile,"
        " through {operator.…} placeholders), case (facts given in the question itself)"))

    _id = field_validator("id")(classmethod(lambda cls, v: _item_id(v)))
    _topic = field_validator("topic")(classmethod(lambda cls, v: _item_id(v)))


class DrawRule(Strict):
    count: int = Field(ge=1, description="questions of this kind drawn per attempt")
    points_each: float = Field(gt=0, description="points per question of this kind")


class ExamDraw(Strict):
    single: DrawRule = Field(description="single-choice draw, e.g. 50 × 1.6")
    multiple: DrawRule = Field(description="multiple-choice draw, e.g. 10 × 2.0")


class Exam(Strict):
    points: float = Field(gt=0, description="the section's total; the draw's counts × points_each sum to it")
    pass_mark: float = Field(gt=0, description="exam points needed to pass (inclusive), e.g. 80")
    gate_grade: Literal["excellent", "good", "pass", "retake"] | None = Field(
        "retake", description="grade forced when the exam is failed, whatever the total; null: no gate")
    language: Literal["zh-CN", "en"] = Field("zh-CN", description="the language of every question in the bank")
    multiple_marking: Literal["all_or_nothing"] = Field(
        "all_or_nothing", description="a multiple-choice answer scores only if it is exactly the correct set")
    shuffle_options: bool = Field(False, description="show options in a per-attempt order (keys never change)")
    time_limit_minutes: int | None = Field(
        None, ge=1, le=600, description="minutes from opening the exam to its automatic submission; null: untimed")
    page_size: int = Field(10, ge=1, le=100, description="questions shown per page of the exam")
    draw: ExamDraw
    questions: list[Question] = Field(min_length=1, description="the question bank")


class Drills(Strict):
    points: float = Field(gt=0, description="the section's total: count × points_each, e.g. 60")
    count: int = Field(ge=1, description="scenarios drawn per attempt, e.g. 3")
    points_each: float = Field(gt=0, description="a drill's 0..max score is scaled to this, e.g. 20")
    mode: Literal["test"] = Field("test", description="drills run in test mode: no hints, no notes beyond the brief")
    pool: list[str] = Field(min_length=1, description="scenario ids (files scenarios/<id>.yaml)")


class KeyPoint(Strict):
    id: str = Field(description="stable id within the case; marks are given per key point")
    text: str = Field(min_length=1, description="what a good answer says")
    points: float = Field(gt=0, description="maximum points for this key point")

    _id = field_validator("id")(classmethod(lambda cls, v: _item_id(v)))


class Case(Strict):
    id: str = Field(description="stable id; attempts store the drawn ids")
    title: str = Field(min_length=1, description="short title (in the exam language)")
    text: str = Field(min_length=1, description="the case as the candidate reads it")
    question: str = Field(min_length=1, description="what the candidate must answer in writing")
    model_answer: str = Field(min_length=1, description="a model answer for the marker (never shown to the candidate)")
    key_points: list[KeyPoint] = Field(min_length=1, description="the marking guide; points sum to cases.points_each")

    _id = field_validator("id")(classmethod(lambda cls, v: _item_id(v)))


class Cases(Strict):
    points: float = Field(gt=0, description="the section's total: count × points_each, e.g. 40")
    count: int = Field(ge=1, description="cases drawn per attempt, e.g. 2")
    points_each: float = Field(gt=0, description="maximum marks per case, e.g. 20")
    items: list[Case] = Field(min_length=1, description="the case pool")


class GradeBand(Strict):
    grade: Literal["excellent", "good", "pass", "retake"] = Field(description="stored in CertificationAttempt.grade")
    min: float = Field(ge=0, description="lowest total in the band (inclusive)")
    below: float | None = Field(
        description="the band holds totals < below; null for the top band (up to the track total, inclusive)")
    title: dict[str, str] = Field(description="label per language, e.g. 优秀 / Excellent")

    _t = field_validator("title")(classmethod(lambda cls, v: _i18n(v)))

    @property
    def certified(self) -> bool:
        """Every grade but retake certifies."""
        return self.grade != "retake"


class Retake(Strict):
    """Who may start another attempt, and when (enforced by the service at start)."""

    max_attempts: int | None = Field(
        None, ge=1, le=100,
        description="attempts allowed per certification cycle (since the last certified grade); null: no limit")
    wait_hours: float = Field(0, ge=0, le=24 * 365, description="hours between the end of an attempt and the next start")
    after_pass: Literal["never", "when_expired", "always"] = Field(
        "never", description="another attempt after a certified grade: never, once the certificate "
                                    "has expired (renewal), or always")


class Track(Strict):
    id: str = Field(description="equals the file name without .yaml, e.g. core")
    version: int = Field(ge=1, description="raise it whenever the bank or the marking changes; store it with attempts")
    title: dict[str, str] = Field(description="per language (zh-CN and en)")
    total: float = Field(gt=0, description="exam.points + drills.points + cases.points, e.g. 200")
    exam: Exam
    drills: Drills
    cases: Cases
    grades: list[GradeBand] = Field(min_length=1, description="bands covering 0..total without gaps or overlaps")
    retake: Retake = Field(default_factory=Retake, description="the retake policy; default: no limit, no wait, "
                                                                "no retake after a certified grade")
    valid_months: int | None = Field(None, ge=1, le=240,
                                     description="months a certificate stays valid from its award; null: no expiry")

    _t = field_validator("title")(classmethod(lambda cls, v: _i18n(v)))

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not TRACK_ID_RE.match(v):
            raise ValueError(f"must match {TRACK_ID_RE.pattern}")
        return v

    def question(self, qid: str) -> Question:
        """The bank's question `qid`; KeyError naming the id when there is none."""
        for q in self.exam.questions:
            if q.id == qid:
                return q
        raise KeyError(f"unknown question id {qid!r} in track {self.id!r}")

    def case(self, case_id: str) -> Case:
        """The pool's case `case_id`; KeyError naming the id when there is none."""
        for c in self.cases.items:
            if c.id == case_id:
                return c
        raise KeyError(f"unknown case id {case_id!r} in track {self.id!r}")

    def band(self, grade: str) -> GradeBand:
        return next(b for b in self.grades if b.grade == grade)

    @model_validator(mode="before")
    @classmethod
    def _operator_placeholders(cls, data, info: ValidationInfo):
        # Questions on operator-specific facts (forwarding codes) name them through
        # {operator.…} placeholders, filled by the centre's operator profile.
        return fill_for_validation(cls.__name__, data, info.context)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE


def _check_questions(exam: Exam, file: str) -> list[Fault]:
    faults: list[Fault] = []
    seen: dict[str, int] = {}
    for i, q in enumerate(exam.questions):
        where = f"exam.questions[{i}]"
        if q.id in seen:
            faults.append(Fault(file, f"{where}.id", f"duplicate question id {q.id!r} (first at exam.questions[{seen[q.id]}])"))
        seen.setdefault(q.id, i)
        if q.language != exam.language:
            faults.append(Fault(file, f"{where}.language", f"{q.language!r} differs from exam.language {exam.language!r}"))
        keys = list(q.options)
        expected = list(OPTION_KEYS[: len(keys)])
        if len(keys) < 2 or len(keys) > len(OPTION_KEYS) or keys != expected:
            faults.append(Fault(file, f"{where}.options",
                                f"keys must be 2 to 5 consecutive letters from A in order, got {', '.join(keys) or 'none'}"))
        texts = [t.strip() for t in q.options.values()]
        if any(not t for t in texts):
            faults.append(Fault(file, f"{where}.options", "an option text is empty"))
        elif len(set(texts)) != len(texts):
            faults.append(Fault(file, f"{where}.options", "two options have the same text"))
        for j, key in enumerate(q.answer):
            if key not in q.options:
                faults.append(Fault(file, f"{where}.answer[{j}]", f"correct key {key!r} is not among the options ({', '.join(keys)})"))
        if len(set(q.answer)) != len(q.answer):
            faults.append(Fault(file, f"{where}.answer", "a correct key is listed twice"))
        n = len(set(q.answer))
        if q.kind == "single" and n != 1:
            faults.append(Fault(file, f"{where}.answer", f"a single-choice question needs exactly 1 correct key, has {n}"))
        if q.kind == "multiple":
            if n < 2:
                faults.append(Fault(file, f"{where}.answer", f"a multiple-choice question needs at least 2 correct keys, has {n}"))
            elif n >= len(keys):
                faults.append(Fault(file, f"{where}.answer", "every option is correct; at least one must be wrong"))
    return faults


def _check_exam(exam: Exam, file: str) -> list[Fault]:
    faults = _check_questions(exam, file)
    for kind in ("single", "multiple"):
        rule: DrawRule = getattr(exam.draw, kind)
        have = sum(1 for q in exam.questions if q.kind == kind)
        if have < rule.count:
            faults.append(Fault(file, f"exam.draw.{kind}.count",
                                f"draws {rule.count} {kind}-choice questions but the bank holds {have}"))
    drawn = exam.draw.single.count * exam.draw.single.points_each + exam.draw.multiple.count * exam.draw.multiple.points_each
    if not _close(drawn, exam.points):
        faults.append(Fault(file, "exam.draw", f"drawn questions are worth {drawn:g} points, not exam.points {exam.points:g}"))
    if exam.pass_mark > exam.points + TOLERANCE:
        faults.append(Fault(file, "exam.pass_mark", f"{exam.pass_mark:g} exceeds exam.points {exam.points:g}"))
    return faults


def _check_drills(drills: Drills, file: str) -> list[Fault]:
    faults: list[Fault] = []
    if not _close(drills.count * drills.points_each, drills.points):
        faults.append(Fault(file, "drills.points",
                            f"{drills.count} × {drills.points_each:g} = {drills.count * drills.points_each:g}, not {drills.points:g}"))
    seen: set[str] = set()
    for i, sid in enumerate(drills.pool):
        if sid in seen:
            faults.append(Fault(file, f"drills.pool[{i}]", f"scenario {sid!r} is listed twice"))
        seen.add(sid)
    if len(seen) < drills.count:
        faults.append(Fault(file, "drills.count", f"draws {drills.count} scenarios but the pool holds {len(seen)}"))
    return faults


def _check_cases(cases: Cases, file: str) -> list[Fault]:
    faults: list[Fault] = []
    if not _close(cases.count * cases.points_each, cases.points):
        faults.append(Fault(file, "cases.points",
                            f"{cases.count} × {cases.points_each:g} = {cases.count * cases.points_each:g}, not {cases.points:g}"))
    seen: set[str] = set()
    for i, c in enumerate(cases.items):
        where = f"cases.items[{i}]"
        if c.id in seen:
            faults.append(Fault(file, f"{where}.id", f"duplicate case id {c.id!r}"))
        seen.add(c.id)
        kp_ids = [k.id for k in c.key_points]
        if len(set(kp_ids)) != len(kp_ids):
            faults.append(Fault(file, f"{where}.key_points", "duplicate key point id"))
        got = sum(k.points for k in c.key_points)
        if not _close(got, cases.points_each):
            faults.append(Fault(file, f"{where}.key_points", f"key points sum to {got:g}, not cases.points_each {cases.points_each:g}"))
    if len(seen) < cases.count:
        faults.append(Fault(file, "cases.count", f"draws {cases.count} cases but the pool holds {len(seen)}"))
    return faults


def _check_grades(track: Track, file: str) -> list[Fault]:
    """Bands, sorted by `min`, must tile [0, total]: each band's `below` is the next band's `min`."""
    faults: list[Fault] = []
    order = sorted(range(len(track.grades)), key=lambda i: track.grades[i].min)
    names = [b.grade for b in track.grades]
    for i, b in enumerate(track.grades):
        if names.count(b.grade) > 1 and names.index(b.grade) != i:
            faults.append(Fault(file, f"grades[{i}].grade", f"grade {b.grade!r} has two bands"))
        if b.below is not None and b.below <= b.min:
            faults.append(Fault(file, f"grades[{i}].below", f"{b.below:g} is not above min {b.min:g}"))
    first = order[0]
    if not _close(track.grades[first].min, 0):
        faults.append(Fault(file, f"grades[{first}].min", f"the lowest band starts at {track.grades[first].min:g}; totals from 0 have no grade"))
    for a, b in zip(order, order[1:]):
        lo, hi = track.grades[a], track.grades[b]
        if lo.below is None:
            faults.append(Fault(file, f"grades[{a}].below", f"open-ended band overlaps grades[{b}] starting at {hi.min:g}"))
        elif lo.below > hi.min + TOLERANCE:
            faults.append(Fault(file, f"grades[{b}].min", f"overlaps grades[{a}] ({lo.grade}: {lo.min:g} to below {lo.below:g})"))
        elif lo.below < hi.min - TOLERANCE:
            faults.append(Fault(file, f"grades[{b}].min", f"gap: totals from {lo.below:g} to below {hi.min:g} have no grade"))
    last = order[-1]
    top = track.grades[last]
    if top.below is not None and top.below <= track.total:
        faults.append(Fault(file, f"grades[{last}].below", f"the top band ends below {top.below:g}; the total {track.total:g} has no grade (use null)"))
    if top.min > track.total:
        faults.append(Fault(file, f"grades[{last}].min", f"{top.min:g} exceeds the track total {track.total:g}"))
    gate = track.exam.gate_grade
    if gate is not None and gate not in names:
        faults.append(Fault(file, "exam.gate_grade", f"grade {gate!r} has no band"))
    return faults


def check_track(track: Track, file: str) -> list[Fault]:
    """Cross-field checks of a parsed track; every fault names the file and the field."""
    faults = _check_exam(track.exam, file) + _check_drills(track.drills, file) + _check_cases(track.cases, file)
    sections = track.exam.points + track.drills.points + track.cases.points
    if not _close(sections, track.total):
        faults.append(Fault(file, "total", f"sections sum to {sections:g} (exam + drills + cases), not {track.total:g}"))
    return faults + _check_grades(track, file) + _check_retake(track, file)


def _check_retake(track: Track, file: str) -> list[Fault]:
    if track.retake.after_pass == "when_expired" and track.valid_months is None:
        return [Fault(file, "retake.after_pass",
                      "'when_expired' needs valid_months: certificates of this track never expire")]
    return []


def check_track_scenarios(track: Track, known_ids: Iterable[str], file: str) -> list[Fault]:
    """Faults for drill-pool entries that name no known scenario (`drills.pool[i]`)."""
    known = set(known_ids)
    return [Fault(file, f"drills.pool[{i}]", f"unknown scenario {sid!r} (no scenarios/{sid}.yaml)")
            for i, sid in enumerate(track.drills.pool) if sid not in known]


def catalog_cross_check(catalog, path: Path, track: Track) -> list[Fault]:
    """The catalog's cross-file check for kind `track`: pool ids against loaded scenarios."""
    known = {e.model.id for e in catalog.of_kind("scenario")}
    return check_track_scenarios(track, known, str(path))


def parse_track(data, file: str, operator: str | None = None) -> Track:
    """Validate parsed track data; raise DataFileError listing every fault (file + field).

    `operator` (a profile id, None: the default) fills `{operator.…}` placeholders."""
    track = parse_model(Track, data, file, context={"operator": operator})
    faults = check_track(track, file)
    if faults:
        raise DataFileError(faults)
    return track


def load_track(path: Path | str, operator: str | None = None) -> Track:
    """Load `rubrics/tracks/<id>.yaml`; the id inside must equal the file name."""
    path = Path(path)
    data, _raw = read_raw(path)
    track = parse_track(data, str(path), operator)
    if track.id != path.stem:
        raise DataFileError([Fault(str(path), "id", f"id {track.id!r} differs from the file name {path.stem!r}")])
    return track
