"""The scenario file schema (`scenarios/<id>.yaml`; a file's other languages are
`translations` overlays merged by app/core/scenario_files.py before validation).

A scenario holds what the trainee is told, who the customer is, the back-office facts,
the knowledge points the scorer checks, the red-line facts, the call's state machine and
the personas. Field descriptions double as the format's documentation
(`flask scenarios schema` prints them).

Contract shared by the simulator and the scorer: `customer.personal_data`,
`hidden_facts`, `knowledge_points`, `impossible_promises`, `resolution_items`.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from app.core.matching import Matcher
from app.core.operators import fill_for_validation

LANGUAGES = ("zh-CN", "en")
# digits may lead: the fixed scenario id `5g_plan_launch` starts with one
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


# Words that hand the trainee the conclusion instead of the facts to reach it ("最合适：89
# 元档", "本案属第三种", "Best fit: ..."). The practice background is what the agent's
# system and knowledge base would show: account facts, prices, rules, steps; deciding
# what fits this caller is the drill.
GIVEAWAY_RE = re.compile(
    r"最合适|最佳(?:方案|选择)|推荐[：:]|本案(?:属|应|就是)|真正想要的|正确(?:答案|做法|处理)|答案是|合计退"
    r"|(?i:\bbest fit\b|\bwe recommend\b|\brecommended:|\bthis case is\b|\bthe (?:right )?answer is\b"
    r"|\bwhat (?:she|he|they) really wants?\b)")


def background_giveaways(text: str) -> list[str]:
    """The phrases of `text` that give the drill's answer away (empty when it states facts only)."""
    return [m.group(0) for m in GIVEAWAY_RE.finditer(text or "")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_id(value: str) -> str:
    if not ID_RE.match(value):
        raise ValueError("must be lower-case letters, digits and '_' (not starting with '_')")
    return value


class CustomerProfile(Strict):
    name: str = Field(description="how the customer is addressed, e.g. 王女士")
    age: int = Field(ge=10, le=110)
    profile: str = Field(description="who the customer is: situation, temperament, history")
    goal: str = Field(description="what the customer wants out of the call")
    personal_data: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "stored personal data (phone, id_number, id_last4, address, ...). The customer"
            " may say these; an agent reading them back to the customer is a red line."
        ),
    )
    identity_answer: str = Field(
        description="what the customer says when asked to verify identity (the verification items)"
    )


class HiddenFact(Strict):
    id: str
    text: str = Field(description="the back-office fact as the agent's system shows it")
    requires_verification: bool = Field(
        True, description="account facts: stating them before identity verification is a red line"
    )
    disclosed_by: Matcher = Field(
        default_factory=Matcher, description="when an agent turn counts as stating this fact"
    )
    _id = field_validator("id")(classmethod(lambda cls, v: _check_id(v)))


class WrongStatement(Strict):
    pattern: str = Field(description="regex for a wrong figure, step or claim")
    reason: str = Field(description="why it is wrong (shown as feedback)")

    @field_validator("pattern")
    @classmethod
    def _compile(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return v


class KnowledgePoint(Strict):
    id: str
    text: str = Field(description="what the agent should get right, as a trainer reads it")
    weight: float = Field(1.0, gt=0, description="share of the rubric's knowledge points, relative")
    stated_by: Matcher = Field(description="when an agent turn states this point correctly")
    wrong: list[WrongStatement] = Field(
        default_factory=list, description="wrong versions; each occurrence costs points"
    )
    tip: dict[str, str] = Field(default_factory=dict, description="tip per language when missed")
    steps: bool = Field(False, description=(
        "a procedure taught one step per turn (open this menu, then that item, then move the slider): its "
        "regexes may be met across consecutive agent turns; how many, the rubric's step_turns says"))
    _id = field_validator("id")(classmethod(lambda cls, v: _check_id(v)))


class CriterionTip(Strict):
    """The scenario's own tip and/or model line for one rubric criterion, in the file's
    language, for where the rubric's generic ones do not fit this call (an apology
    model in a sales call, a billing line in a how-to call). Either may be left out:
    the rubric's own is used for it."""

    tip: str | None = Field(None, description="what to do better in this scenario (replaces the rubric's tip)")
    model: str | None = Field(None, description="a model line from this scenario (replaces the rubric's model)")

    @model_validator(mode="after")
    def _something(self) -> "CriterionTip":
        for name in ("tip", "model"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                raise ValueError(f"{name} is blank: leave it out to use the rubric's")
        if self.tip is None and self.model is None:
            raise ValueError("give a tip, a model or both")
        return self


class ImpossiblePromise(Strict):
    pattern: str = Field(description="regex for a promise the case facts say cannot be kept")
    reason: str

    _compile = field_validator("pattern")(classmethod(lambda cls, v: WrongStatement._compile(v)))


class ResolutionItem(Strict):
    id: str
    text: str = Field(description="a step the resolved call must contain")
    done_by: Matcher = Field(description="when an agent turn does this step")
    required: bool = Field(True, description="the customer is not satisfied until it is done")
    steps: bool = Field(False, description=(
        "a procedure taught one step per turn (open this menu, then that item, then move the slider): its "
        "regexes may be met across consecutive agent turns; how many, the rubric's step_turns says"))
    _id = field_validator("id")(classmethod(lambda cls, v: _check_id(v)))


class ScenarioBase(Strict):
    """Identity, trainee-facing text and the scorer's contract fields.

    The simulator issue extends this with `states`, `personas` and end conditions in
    `Scenario` (see app/core/simulation/).
    """

    id: str = Field(description="stable id; file name is <id>.yaml; transcripts refer to it")
    language: Literal["zh-CN", "en"]
    title: str
    summary: str = Field(description="one line for lists")
    difficulty: int = Field(ge=1, le=3, description="1 easy, 2 medium, 3 hard")
    category: str = Field(description="business area tag, e.g. billing, network, sales")
    time_limit_minutes: int = Field(15, ge=1, le=120)
    briefing: str = Field(description="what the trainee is told before the call (shown in test mode too)")
    background: str = Field("", description="extra notes, practice mode only")
    customer: CustomerProfile
    direction: Literal["inbound", "outbound"] = Field(
        "inbound", description=("who places the call: `inbound` (default) the customer calls the hotline and speaks"
                                " first; `outbound` the agent calls the customer (a callback) and speaks first, so"
                                " a drill opens with no customer line and the start state has no `say` lines"))
    verification_required: bool = Field(
        True, description=("the briefing asks the trainee to verify the caller's identity; when false (a how-to call)"
                           " no account fact or change is gated by verification, so nothing is disclosed"
                           " 'before verification' and the rubric's verification-order criterion does not apply"))
    hidden_facts: list[HiddenFact] = Field(default_factory=list)
    knowledge_points: list[KnowledgePoint] = Field(min_length=1)
    impossible_promises: list[ImpossiblePromise] = Field(default_factory=list)
    resolution_items: list[ResolutionItem] = Field(min_length=1)
    objects: dict[str, list[str]] = Field(
        default_factory=dict,
        description=("things the call is about (object id -> words that name it, e.g. ringback: [视频彩铃, 彩铃]);"
                     " `meaning` matchers refer to them, and once named they stay the topic, so"
                     " \"帮您退订\" counts as cancelling the ringback tone while it is being discussed"))

    criterion_tips: dict[str, CriterionTip] = Field(
        default_factory=dict,
        description=("rubric criterion id -> this scenario's own tip and/or model line (in the file's language),"
                     " shown instead of the rubric's generic ones in the report of a call on this scenario;"
                     " an id no rubric has is an error"))

    _id = field_validator("id")(classmethod(lambda cls, v: _check_id(v)))

    @field_validator("background")
    @classmethod
    def _facts_not_the_answer(cls, v: str) -> str:
        found = background_giveaways(v)
        if found:
            raise ValueError(f"gives the answer away ({', '.join(map(repr, found))}): state the facts the agent's"
                             " system shows (prices, rules, account records) and leave the conclusion to the trainee")
        return v

    @field_validator("criterion_tips")
    @classmethod
    def _tip_ids(cls, v: dict[str, CriterionTip]) -> dict[str, CriterionTip]:
        for key in v:
            if not ID_RE.match(key):
                raise ValueError(f"{key!r} is not a criterion id (lower-case letters, digits and '_')")
        return v

    def criterion_tip(self, criterion_id: str, lang: str) -> CriterionTip | None:
        """The scenario's own tip for a rubric criterion, when it has one in `lang`
        ('zh-CN' or 'en'; a file serves only its own language)."""
        if self.language.split("-")[0] != lang.split("-")[0]:
            return None
        return self.criterion_tips.get(criterion_id)

    @model_validator(mode="before")
    @classmethod
    def _operator_placeholders(cls, data, info: ValidationInfo):
        # The centre's operator (validation context "operator"; the default profile
        # otherwise) fills {operator.…} in every text and pattern, so the schema below
        # only ever sees one operator's numbers and codes.
        return fill_for_validation(cls.__name__, data, info.context)

    @model_validator(mode="after")
    def _meaning_objects(self) -> "ScenarioBase":
        # A meaning matcher naming an object the file never declares would silently never match.
        faults = []
        for field_name, items, attr in (("hidden_facts", self.hidden_facts, "disclosed_by"),
                                        ("knowledge_points", self.knowledge_points, "stated_by"),
                                        ("resolution_items", self.resolution_items, "done_by")):
            for i, item in enumerate(items):
                for j, spec in enumerate(getattr(item, attr).meaning):
                    if spec.object and spec.object not in self.objects:
                        faults.append(InitErrorDetails(
                            type=PydanticCustomError(
                                "scenario", f"unknown object {spec.object!r}; declare it under `objects`"
                                            f" (known: {', '.join(self.objects) or 'none'})"),
                            loc=(field_name, i, attr, "meaning", j, "object"), input=spec.object))
        for oid, names in self.objects.items():
            if not names or not all(n.strip() for n in names):
                faults.append(InitErrorDetails(type=PydanticCustomError("scenario", "needs at least one non-blank word"),
                                               loc=("objects", oid), input=names))
        if faults:
            raise ValidationError.from_exception_data(type(self).__name__, faults)
        return self
