"""The rubric file schema (`rubrics/<id>.yaml`) and its loader.

A rubric holds weighted dimensions (weights are data: standard-100 is 30/30/30/10, the
quality-inspection form 20/30/25/25), criteria with points, a kind from the criterion
registry (`app/core/scoring/kinds.py`) and the kind's params, titles, tips and model
phrasings per language, the identity-verification rule, the red-line wording and the
LLM-judge combination rule. Field descriptions double as docs (docs/rubric-format.md).

Loading validates beyond the field types, each fault naming file and field: unknown
dimension, duplicate ids, unknown kind, params the kind rejects (unknown act, bad regex),
criteria points that do not sum to their dimension's max, judgeable expanding kinds,
unknown or empty applicability cases.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from app.core.datafiles import DataFileError, Fault, field_path, parse_model, read_raw, content_hash
from app.core.matching import _check_patterns

LANGUAGES = ("zh-CN", "en")
RUBRIC_ID_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
POINTS_TOLERANCE = 1e-6


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _i18n(v: dict[str, str]) -> dict[str, str]:
    missing = [lang for lang in LANGUAGES if not (v.get(lang) or "").strip()]
    unknown = sorted(set(v) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"unknown language(s) {', '.join(unknown)} (known: {', '.join(LANGUAGES)})")
    if missing:
        raise ValueError(f"needs a non-empty text for {', '.join(missing)}")
    return v


def _ident(pattern: re.Pattern[str]):
    def check(cls, v: str) -> str:
        if not pattern.match(v):
            raise ValueError(f"must match {pattern.pattern}")
        return v
    return classmethod(check)


class Dimension(Strict):
    id: str = Field(description="e.g. knowledge, communication, resolution, attitude")
    max: float = Field(gt=0, description="the dimension's weight in points; its criteria's points sum to it")
    title: dict[str, str] = Field(description="label per language (zh-CN and en)")

    _id = field_validator("id")(_ident(ID_RE))
    _t = field_validator("title")(classmethod(lambda cls, v: _i18n(v)))


class AppliesWhen(Strict):
    """One case in which a criterion applies; every field it gives must hold."""

    categories: list[str] = Field(default_factory=list, description="the scenario's `category` is one of these")
    except_categories: list[str] = Field(default_factory=list, description="... and not one of these")
    scenarios: list[str] = Field(default_factory=list, description="the scenario id is one of these")
    except_scenarios: list[str] = Field(default_factory=list, description="... and not one of these")
    personas: list[str] = Field(default_factory=list, description="the transcript's persona is one of these")
    except_personas: list[str] = Field(default_factory=list, description="... and not one of these")
    conditions: list[str] = Field(
        default_factory=list,
        description="named call conditions (app/core/scoring/applicability.py), all must hold: "
                    "verification_required, follow_up_due, something_went_wrong")

    def is_empty(self) -> bool:
        return not any(getattr(self, f) for f in type(self).model_fields)


class Criterion(Strict):
    id: str = Field(description="stable id; score rows and reports refer to it")
    dimension: str = Field(description="id of one of the rubric's dimensions")
    points: float = Field(gt=0, description="maximum points; an expanding kind shares them among scenario items")
    kind: str = Field(description="a criterion kind from the registry (see docs/rubric-format.md)")
    params: dict[str, Any] = Field(default_factory=dict, description="the kind's parameters, checked by its schema")
    judgeable: bool = Field(False, description="the optional LLM judge may give a verdict on it")
    title: dict[str, str] = Field(description="short label per language")
    tip: dict[str, str] = Field(description="what to do better, per language")
    model: dict[str, str] | None = Field(None, description="a model phrasing per language, e.g. 您的意思是……，对吗？")
    applies_when: list[AppliesWhen] = Field(
        default_factory=list,
        description=("when the criterion applies: any one case holding is enough; left out, always. A criterion"
                     " that does not apply shows as N/A and its points go to the rest of its dimension"))

    _params: Any = PrivateAttr(None)
    _id = field_validator("id")(_ident(ID_RE))
    _t = field_validator("title", "tip")(classmethod(lambda cls, v: _i18n(v)))
    _m = field_validator("model")(classmethod(lambda cls, v: v if v is None else _i18n(v)))

    @property
    def parsed_params(self) -> Any:
        """The params validated by the kind's schema (set by the loader)."""
        return self._params

    def title_for(self, lang: str) -> str:
        return self.title.get(lang) or self.title["zh-CN"]

    def tip_for(self, lang: str, own: Any = None) -> str:
        """The tip in `lang` with its model line. `own` (a scenario's `CriterionTip`)
        replaces the tip and/or the model line where it gives one."""
        from app.core.scoring.messages import msg  # messages are shared with the kinds

        tip = (own.tip if own is not None and own.tip else None) or self.tip.get(lang) or self.tip["zh-CN"]
        model = (own.model if own is not None and own.model else None) or (
            (self.model.get(lang) or self.model["zh-CN"]) if self.model else None)
        if model:
            return msg(lang if lang in LANGUAGES else "zh-CN", "tip.model", tip=tip, model=model)
        return tip


class Verification(Strict):
    request_patterns: list[str] = Field(description="regexes of an agent turn asking the caller to verify identity")
    items: dict[str, str] = Field(description="identity item -> regex naming it (phone, name, id digits, SMS code ...)")
    min_items: int = Field(2, ge=1, description="distinct items that must be asked before identity counts as verified")

    _p = field_validator("request_patterns")(classmethod(lambda cls, v: _check_patterns(v)))

    @field_validator("items")
    @classmethod
    def _items(cls, v: dict[str, str]) -> dict[str, str]:
        _check_patterns(list(v.values()))
        return v


class RedLines(Strict):
    insult_acts: list[str] = Field(default_factory=lambda: ["rude"], description="acts that count as insulting")
    insult_patterns: list[str] = Field(default_factory=list, description="regexes of insults (agent turns)")
    change_patterns: list[str] = Field(default_factory=list, description="regexes of an agent making an account change")
    veto: bool = Field(False, description="一票否决: any red line sets the total to 0 (the QA form); the dimensions keep their scores")
    personal_data_min_digits: int = Field(
        4, ge=1, description="numeric personal data (phone, ID digits) with fewer digits is not checked")
    contempt: Literal["red_line", "attitude_zero"] = Field(
        "red_line", description=("contempt, sarcasm and abuse (the act layer's rule plus insult_patterns/acts):"
                                 " red_line raises the insulted_customer flag; attitude_zero sets every criterion"
                                 " of the dimension `contempt_dimension` to 0 instead"))
    contempt_dimension: str = Field("attitude", description="the dimension attitude_zero empties")
    credit_exempt: list[str] = Field(default_factory=lambda: ["disclosed_before_verification"], description=(
        "red lines whose turns still earn credit in other criteria; a turn with any other red line earns none "
        "(a slip in order is already charged by its own criterion)"))

    _p = field_validator("insult_patterns", "change_patterns")(classmethod(lambda cls, v: _check_patterns(v)))


class JudgeConfig(Strict):
    mode: Literal["advisory", "average", "max_delta"] = Field(
        "advisory", description="advisory: stored beside, no effect; average: mean of both; max_delta: judge moves a criterion by at most max_delta")
    max_delta: float = Field(2.0, ge=0)
    prompt: str = Field("judge.zh-CN", description="prompt template file rubrics/prompts/<prompt>.yaml")
    temperature: float = Field(0.0, ge=0, le=2)
    seed: int | None = 7
    max_tokens: int = Field(800, ge=16)


class AbsentCredit(Strict):
    """Credit for not doing something (kind act_absent: no jargon, no forbidden words, no
    blame, patience) is earned by doing the call: a trainer gives no marks for "no rude
    word" to an agent who said nothing useful."""

    full_at: float = Field(0.85, gt=0, le=1, description=(
        "share of the call's other applicable points at which act_absent criteria earn in full; "
        "below it they earn in proportion (share / full_at)"))


class RefusalCap(Strict):
    """A call that refuses what the case requires (a required resolution item refused and
    never done) cannot communicate well or show a good attitude, however courteous its
    wording: a trainer marks the courteous refusal down with the rude one."""

    share: float = Field(0.5, ge=0, le=1, description="the most a capped dimension can score, as a share of its max")
    dimensions: list[str] = Field(default_factory=lambda: ["communication", "attitude"],
                                  description="the dimensions capped (resolution already loses its other items)")


class Rubric(Strict):
    id: str = Field(description="equals the file name without .yaml, e.g. standard-100")
    version: int = Field(ge=1, description="raise it whenever scoring changes; stored with every score")
    title: dict[str, str]
    description: str = ""
    dimensions: list[Dimension] = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1)
    verification: Verification
    red_lines: RedLines = Field(default_factory=RedLines)
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
    absent_credit: AbsentCredit | None = Field(
        None, description="earn act_absent credit in proportion to the rest of the call (None: always in full)")
    refusal_cap: RefusalCap | None = Field(
        None, description="cap these dimensions when the agent refuses a required resolution item (None: no cap)")

    _sha256: str = PrivateAttr("")
    _id = field_validator("id")(_ident(RUBRIC_ID_RE))
    _t = field_validator("title")(classmethod(lambda cls, v: _i18n(v)))

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> "Rubric":
        # Loaders other than load_rubric (the content catalog's generic load_model) get the
        # same checks and parsed params; load_rubric defers them to report each fault
        # with its own field path instead of one combined message.
        if not (info.context or {}).get("defer_checks"):
            faults = check_rubric(self, "")
            if faults:
                raise ValueError("; ".join(f"{f.field}: {f.reason}" for f in faults))
        return self

    @property
    def sha256(self) -> str:
        """sha256 of the file's bytes when loaded with load_rubric, else empty."""
        return self._sha256

    @property
    def max(self) -> float:
        return sum(d.max for d in self.dimensions)

    def dimension(self, dim_id: str) -> Dimension:
        return next(d for d in self.dimensions if d.id == dim_id)

    def judgeable(self) -> list[Criterion]:
        return [c for c in self.criteria if c.judgeable]


def check_rubric(rubric: Rubric, file: str) -> list[Fault]:
    """Cross-field checks; also parses each criterion's params into its kind's schema."""
    from app.core.scoring.applicability import CONDITIONS
    from app.core.scoring.kinds import KNOWN_ACTS, lookup_kind  # kinds live with the scorer
    import app.core.scoring.kinds_scenario  # noqa: F401  (registers the scenario kinds)

    faults: list[Fault] = []
    dims = {}
    for j, d in enumerate(rubric.dimensions):
        if d.id in dims:
            faults.append(Fault(file, f"dimensions[{j}].id", f"duplicate dimension {d.id!r}"))
        dims[d.id] = j
    seen: set[str] = set()
    totals = {d: 0.0 for d in dims}
    for i, c in enumerate(rubric.criteria):
        where = f"criteria[{i}]"
        if c.id in seen:
            faults.append(Fault(file, f"{where}.id", f"duplicate criterion {c.id!r}"))
        seen.add(c.id)
        if c.dimension not in dims:
            faults.append(Fault(file, f"{where}.dimension", f"unknown dimension {c.dimension!r} (known: {', '.join(dims)})"))
        else:
            totals[c.dimension] += c.points
        try:
            k = lookup_kind(c.kind)
        except KeyError as exc:
            faults.append(Fault(file, f"{where}.kind", str(exc)))
            continue
        for j, case in enumerate(c.applies_when):
            at = f"{where}.applies_when[{j}]"
            if case.is_empty():
                faults.append(Fault(file, at, "an empty case always holds; leave applies_when out instead"))
            for n, name in enumerate(case.conditions):
                if name not in CONDITIONS:
                    faults.append(Fault(file, f"{at}.conditions[{n}]",
                                        f"unknown condition {name!r} (known: {', '.join(CONDITIONS.names())})"))
        if c.judgeable and k.expands:
            faults.append(Fault(file, f"{where}.judgeable", f"kind {c.kind!r} gives one result per scenario item and cannot be judged"))
        try:
            c._params = k.params.model_validate(c.params)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                reason = "unknown field (check the spelling)" if err["type"] == "extra_forbidden" else err["msg"]
                faults.append(Fault(file, field_path([where, "params", *err["loc"]]), reason))
    for j, d in enumerate(rubric.dimensions):
        if d.id in totals and abs(totals[d.id] - d.max) > POINTS_TOLERANCE:
            faults.append(Fault(file, f"dimensions[{j}].max",
                                f"criteria of {d.id!r} sum to {totals[d.id]:g} points, not {d.max:g}"))
    if rubric.red_lines.contempt == "attitude_zero" and rubric.red_lines.contempt_dimension not in dims:
        faults.append(Fault(file, "red_lines.contempt_dimension",
                            f"unknown dimension {rubric.red_lines.contempt_dimension!r} (known: {', '.join(dims)})"))
    for i, dim in enumerate(rubric.refusal_cap.dimensions if rubric.refusal_cap else ()):
        if dim not in dims:
            faults.append(Fault(file, f"refusal_cap.dimensions[{i}]", f"unknown dimension {dim!r} (known: {', '.join(dims)})"))
    for i, act in enumerate(rubric.red_lines.insult_acts):
        if act not in KNOWN_ACTS:
            faults.append(Fault(file, f"red_lines.insult_acts[{i}]", f"unknown act {act!r}"))
    return faults


def parse_rubric(data: Any, file: str, raw: bytes | None = None) -> Rubric:
    """Validate parsed rubric data; raise DataFileError listing every fault (file + field)."""
    rubric = parse_model(Rubric, data, file, context={"defer_checks": True})
    faults = check_rubric(rubric, file)
    if faults:
        raise DataFileError(faults)
    rubric._sha256 = content_hash(raw) if raw is not None else ""
    return rubric


def load_rubric(path: Path | str) -> Rubric:
    """Load `rubrics/<id>.yaml`; the id inside must equal the file name."""
    path = Path(path)
    data, raw = read_raw(path)
    rubric = parse_rubric(data, str(path), raw)
    if rubric.id != path.stem:
        raise DataFileError([Fault(str(path), "id", f"id {rubric.id!r} differs from the file name {path.stem!r}")])
    return rubric


def rubric_ids(rubrics_dir: Path | str = Path("rubrics")) -> list[str]:
    return sorted(p.stem for p in Path(rubrics_dir).glob("*.yaml"))


def load_rubric_by_id(rubric_id: str, rubrics_dir: Path | str = Path("rubrics")) -> Rubric:
    """Load a rubric by id; an unknown id raises DataFileError listing the known ones."""
    path = Path(rubrics_dir) / f"{rubric_id}.yaml"
    if not RUBRIC_ID_RE.match(rubric_id) or not path.is_file():
        known = ", ".join(rubric_ids(rubrics_dir)) or "none"
        raise DataFileError([Fault(str(path), "", f"no rubric {rubric_id!r} (known: {known})")])
    return load_rubric(path)
