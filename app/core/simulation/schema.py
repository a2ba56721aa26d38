"""The simulation half of the scenario file: personas, call states, lines.

`Scenario` extends the scorer's `ScenarioBase` with what the simulated customer needs.
Cross-field checks (unknown state, unreachable state, undefined line key, unknown act)
raise faults whose location names the field, e.g. ``states[2].transitions[0].to``, so
`load_model` reports ``file: field: reason`` like any other schema fault.
See docs/scenario-format.md for the format with an example.
"""
from __future__ import annotations

import string
from typing import Literal, Union

from pydantic import Field, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from app.core.matching import Matcher
from app.core.scenario import ScenarioBase, Strict, _check_id

# A copy of app.core.acts.ACTS so scenario files validate before the intent model is
# installed; tests assert the two stay equal.
FALLBACK_ACTS = (
    "greeting", "self_id", "identity_request", "restate", "open_question",
    "closed_question", "empathy", "apology", "explanation", "solution_offer",
    "time_commitment", "confirm_result", "closing", "upsell", "blame_customer",
    "rude", "jargon", "forbidden_word",
)

END_OUTCOMES = ("resolved", "escalated", "hung_up")
OUTCOMES = (*END_OUTCOMES, "unfinished")

# Line keys the engine itself speaks (besides the keys states and details name).
ENGINE_LINE_KEYS = {
    "identity": "answer to an identity request; use {identity_answer}",
    "angry": "reaction when the agent's turn makes the customer clearly angrier",
    "soothed": "reaction when the agent's turn calms the customer down",
    "confused": "a persona that is confused by jargon asks what the words mean",
    "suspicious": "the agent stated an account fact before verifying identity",
    "wrong_fact": "the agent said a wrong figure or step",
    "nudge": "patience ran out: no progress for more turns than the persona's patience",
    "not_done": "the agent tries to close while required items are still open",
    "demand_supervisor": "mood reached the persona's escalate_at: asks for a supervisor",
    "filler": "nothing else to say and the state has no idle line",
}


def known_acts() -> tuple[str, ...]:
    """The speech-act names, from the intent model when it is installed."""
    try:
        from app.core.acts import ACTS
    except ImportError:
        return FALLBACK_ACTS
    return tuple(ACTS)


MoodLevel = Union[int, Literal["escalate", "hang_up"]]


class Condition(Strict):
    """All given parts must hold (an empty condition always holds)."""

    acts: list[str] = Field(default_factory=list, description="speech acts that must all be recognised in the agent's turn")
    acts_any: list[str] = Field(default_factory=list, description="at least one of these acts is recognised")
    text: Matcher | None = Field(None, description="the agent's turn matches this matcher")
    verified: bool | None = Field(None, description="the caller's identity has (not) been verified")
    facts: list[str] = Field(default_factory=list, description="hidden_facts ids the agent has stated")
    details: list[str] = Field(default_factory=list, description="details ids the customer has told")
    knowledge: list[str] = Field(default_factory=list, description="knowledge_points ids stated correctly")
    resolution: list[str] = Field(default_factory=list, description="resolution_items ids done")
    resolution_required_done: bool | None = Field(None, description="every required resolution item is (not) done")
    mood_at_least: MoodLevel | None = Field(None, description="mood >= a number, or the persona's escalate_at / hang_up_at")
    mood_below: MoodLevel | None = Field(None, description="mood < a number, or the persona's escalate_at / hang_up_at")
    escalation_demanded: bool | None = Field(None, description="the customer has (not) demanded a supervisor and not calmed down since")


class Transition(Strict):
    to: str = Field(description="id of the state to move to")
    when: Condition = Field(description="when to move; checked after the agent's turn")


class State(Strict):
    id: str
    say: list[str] = Field(default_factory=list, description="line keys the customer says on entering the state")
    idle: list[str] = Field(default_factory=list, description="line keys for a turn where nothing else is said (one is chosen)")
    end: Literal["resolved", "escalated", "hung_up"] | None = Field(None, description="outcome if the call ends on entering this state")
    transitions: list[Transition] = Field(default_factory=list, description="checked in order; the first that holds is taken")
    _id = field_validator("id")(classmethod(lambda cls, v: _check_id(v)))


class Detail(Strict):
    id: str
    say: str = Field(description="line key of the detail")
    asked_by: Matcher = Field(default_factory=Matcher, description="an agent turn asking for exactly this detail")
    on_open_question: bool = Field(True, description="also told, in list order, when the agent asks any open question")
    when: Condition | None = Field(None, description="only told once this holds (e.g. after a fact is released)")
    _id = field_validator("id")(classmethod(lambda cls, v: _check_id(v)))


class Persona(Strict):
    """A behaviour profile: every field is required so no persona silently inherits."""

    id: str
    label: str = Field(description="short name shown to the trainee, e.g. 激动型")
    description: str = Field(description="voice and temperament, shown to the trainer and given to the LLM")
    mood: int = Field(ge=0, le=10, description="starting mood: 0 calm ... 10 furious")
    patience: int = Field(ge=0, le=20, description="turns without progress tolerated before on_stall applies")
    escalate_at: int = Field(ge=1, le=10, description="mood at which the customer demands a supervisor")
    hang_up_at: int = Field(ge=1, le=10, description="mood at which the customer hangs up")
    reactions: dict[str, int] = Field(description="mood change per recognised speech act (negative calms)")
    on_stall: int = Field(ge=0, le=5, description="mood change per turn once patience has run out")
    on_progress: int = Field(ge=-5, le=0, description="mood change for a turn that makes progress")
    jargon: Literal["anger", "confusion"] = Field(description="whether jargon annoys or confuses (says the `confused` line)")
    lines: dict[str, list[str]] = Field(description="this persona's wording per line key; overrides the scenario's `lines`")
    max_heard_chars: int | None = Field(
        None, ge=10, description="optional: agent turns longer than this lose the customer (says `too_long`, mood +1)"
    )
    hear_me_first: list[str] = Field(
        default_factory=list,
        description=("optional gate: speech acts the agent must have shown (over the call so far) before any step"
                     " counts; until then the customer says `not_heard` (a furious caller: [apology, empathy])"))
    why_before_id: bool = Field(
        False, description="optional gate: asked for ID with no reason given, the customer asks why (`why_id`) first")
    contests: dict[str, str] = Field(
        default_factory=dict,
        description=("optional gate: hidden fact id -> knowledge point id; once the fact is stated the customer"
                     " disputes it (`contest`) and the call cannot be resolved until the point is explained"))
    _id = field_validator("id")(classmethod(lambda cls, v: _check_id(v)))


class Scenario(ScenarioBase):
    """A scenario the simulated customer can play. See docs/scenario-format.md."""

    max_turns: int = Field(ge=2, le=200, description="agent turns before the call ends as `unfinished`")
    start_state: str = Field(description=("id of the state the call starts in; its `say` lines open the call"
                                         " (none in an outbound call: the agent speaks first)"))
    lines: dict[str, list[str]] = Field(description="default wording per line key (list of variants, one is picked at random)")
    personas: list[Persona] = Field(min_length=3, description="at least three behaviourally different customers")
    details: list[Detail] = Field(default_factory=list, description="what the customer knows and tells when asked")
    fact_lines: dict[str, str] = Field(default_factory=dict, description="hidden fact id -> line key said when the agent states it")
    knowledge_lines: dict[str, str] = Field(default_factory=dict, description="knowledge point id -> line key said when stated")
    resolution_lines: dict[str, str] = Field(default_factory=dict, description="resolution item id -> line key said when done")
    clarify_lines: dict[str, str] = Field(
        default_factory=dict,
        description=("resolution item id -> line key asked when a turn performs the item's action but the customer"
                     " cannot tell on what (\"你是说彩铃那15块会退给我？\")"))
    states: list[State] = Field(min_length=2, description="the call's state machine")
    global_transitions: list[Transition] = Field(default_factory=list, description="checked from every non-end state before its own transitions")

    def persona(self, persona_id: str) -> Persona:
        for p in self.personas:
            if p.id == persona_id:
                return p
        raise KeyError(f"scenario {self.id!r} has no persona {persona_id!r}; known: {', '.join(p.id for p in self.personas)}")

    def state(self, state_id: str) -> State:
        return next(s for s in self.states if s.id == state_id)

    def variants(self, persona: Persona, key: str) -> list[str]:
        """The persona's variants for a line key, else the scenario default (validated to exist)."""
        return persona.lines.get(key) or self.lines[key]

    @model_validator(mode="after")
    def _cross_check(self) -> "Scenario":
        errors = _Faults()
        _check_ids(self, errors)
        _check_states(self, errors)
        _check_lines(self, errors)
        _check_personas(self, errors)
        errors.raise_if_any(type(self).__name__)
        return self


class _Faults:
    def __init__(self) -> None:
        self.items: list[InitErrorDetails] = []

    def add(self, loc: tuple, reason: str) -> None:
        self.items.append(InitErrorDetails(type=PydanticCustomError("scenario", reason), loc=loc, input=None))

    def raise_if_any(self, title: str) -> None:
        # A ValidationError raised here keeps each location, so faults name the field.
        if self.items:
            raise ValidationError.from_exception_data(title, self.items)


def _conditions(sc: Scenario):
    """Every condition in the file with its location."""
    for i, t in enumerate(sc.global_transitions):
        yield ("global_transitions", i, "when"), t.when
    for i, s in enumerate(sc.states):
        for j, t in enumerate(s.transitions):
            yield ("states", i, "transitions", j, "when"), t.when
    for i, d in enumerate(sc.details):
        if d.when:
            yield ("details", i, "when"), d.when


def _check_ids(sc: Scenario, f: _Faults) -> None:
    acts = set(known_acts())
    ids = {
        "facts": {x.id for x in sc.hidden_facts},
        "details": {x.id for x in sc.details},
        "knowledge": {x.id for x in sc.knowledge_points},
        "resolution": {x.id for x in sc.resolution_items},
    }
    for loc, cond in _conditions(sc):
        for name in ("acts", "acts_any"):
            for k, act in enumerate(getattr(cond, name)):
                if act not in acts:
                    f.add((*loc, name, k), f"unknown speech act {act!r}; known: {', '.join(sorted(acts))}")
        if cond.text:
            for k, act in enumerate(cond.text.acts):
                if act not in acts:
                    f.add((*loc, "text", "acts", k), f"unknown speech act {act!r}")
        for name, known in ids.items():
            for k, ref in enumerate(getattr(cond, name)):
                if ref not in known:
                    f.add((*loc, name, k), f"unknown {name} id {ref!r}")
    matchers = [(("hidden_facts", i, "disclosed_by"), h.disclosed_by) for i, h in enumerate(sc.hidden_facts)]
    matchers += [(("knowledge_points", i, "stated_by"), k.stated_by) for i, k in enumerate(sc.knowledge_points)]
    matchers += [(("resolution_items", i, "done_by"), r.done_by) for i, r in enumerate(sc.resolution_items)]
    matchers += [(("details", i, "asked_by"), d.asked_by) for i, d in enumerate(sc.details)]
    for loc, m in matchers:
        for k, act in enumerate(m.acts):
            if act not in acts:
                f.add((*loc, "acts", k), f"unknown speech act {act!r}")
    for field, known in (("fact_lines", ids["facts"]), ("knowledge_lines", ids["knowledge"]),
                         ("resolution_lines", ids["resolution"]), ("clarify_lines", ids["resolution"])):
        for ref in getattr(sc, field):
            if ref not in known:
                f.add((field, ref), f"no such id {ref!r}")
    for field, items in (("hidden_facts", sc.hidden_facts), ("knowledge_points", sc.knowledge_points),
                         ("resolution_items", sc.resolution_items), ("details", sc.details),
                         ("personas", sc.personas), ("states", sc.states)):
        seen = set()
        for i, item in enumerate(items):
            if item.id in seen:
                f.add((field, i, "id"), f"duplicate id {item.id!r}")
            seen.add(item.id)


def _check_states(sc: Scenario, f: _Faults) -> None:
    by_id = {s.id: s for s in sc.states}
    if sc.start_state not in by_id:
        f.add(("start_state",), f"unknown state {sc.start_state!r}")
        return
    if by_id[sc.start_state].end:
        f.add(("start_state",), "the start state must not be an end state")
    # Who speaks first follows the call's direction (docs/scenario-format.md, `direction`).
    start_index = next(i for i, s in enumerate(sc.states) if s.id == sc.start_state)
    if sc.direction == "outbound" and by_id[sc.start_state].say:
        f.add(("states", start_index, "say"), "in an outbound call the agent speaks first: the start state"
                                               " says nothing (move the customer's first words to the state"
                                               " the agent's opening leads to)")
    if sc.direction == "inbound" and not by_id[sc.start_state].say:
        f.add(("states", start_index, "say"), "in an inbound call the customer speaks first: the start state"
                                               " needs the line keys of the customer's opening")
    for i, t in enumerate(sc.global_transitions):
        if t.to not in by_id:
            f.add(("global_transitions", i, "to"), f"unknown state {t.to!r}")
    for i, s in enumerate(sc.states):
        for j, t in enumerate(s.transitions):
            if t.to not in by_id:
                f.add(("states", i, "transitions", j, "to"), f"unknown state {t.to!r}")
        if s.end and s.transitions:
            f.add(("states", i, "transitions"), "an end state has no transitions")
        if s.end and not s.say:
            f.add(("states", i, "say"), "an end state needs a closing line key")
    outcomes = {s.end for s in sc.states if s.end}
    for outcome in END_OUTCOMES:
        if outcome not in outcomes:
            f.add(("states",), f"no end state with end: {outcome}")
    # Reachability over the graph the engine can actually walk.
    reached, todo = {sc.start_state}, [sc.start_state]
    while todo:
        s = by_id[todo.pop()]
        if s.end:
            continue
        for t in [*s.transitions, *sc.global_transitions]:
            if t.to in by_id and t.to not in reached:
                reached.add(t.to)
                todo.append(t.to)
    for i, s in enumerate(sc.states):
        if s.id not in reached:
            kind = "end state" if s.end else "state"
            f.add(("states", i, "id"), f"{kind} {s.id!r} is unreachable from start_state {sc.start_state!r}")


def _used_keys(sc: Scenario):
    yield from ((("lines",), k) for k in ENGINE_LINE_KEYS)
    if any(p.max_heard_chars for p in sc.personas):
        yield ("lines",), "too_long"
    for field, key in (("hear_me_first", "not_heard"), ("why_before_id", "why_id"), ("contests", "contest")):
        if any(getattr(p, field) for p in sc.personas):
            yield ("lines",), key
    for i, s in enumerate(sc.states):
        for name in ("say", "idle"):
            for j, key in enumerate(getattr(s, name)):
                yield ("states", i, name, j), key
    for i, d in enumerate(sc.details):
        yield ("details", i, "say"), d.say
    for field in ("fact_lines", "knowledge_lines", "resolution_lines", "clarify_lines"):
        for ref, key in getattr(sc, field).items():
            yield (field, ref), key


def _check_lines(sc: Scenario, f: _Faults) -> None:
    for loc, key in _used_keys(sc):
        for pi, p in enumerate(sc.personas):
            if not p.lines.get(key) and not sc.lines.get(key):
                f.add(loc, f"line key {key!r} is defined neither in personas[{pi}].lines ({p.id}) nor in lines")
                break
    allowed = {"name", "identity_answer", *sc.customer.personal_data}
    sources = [(("lines", k), v) for k, v in sc.lines.items()]
    sources += [(("personas", i, "lines", k), v) for i, p in enumerate(sc.personas) for k, v in p.lines.items()]
    for loc, variants in sources:
        if not variants:
            f.add(loc, "needs at least one variant")
        for j, text in enumerate(variants):
            try:
                names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
            except ValueError as exc:
                f.add((*loc, j), f"bad placeholder: {exc}")
                continue
            for n in names - allowed:
                f.add((*loc, j), f"unknown placeholder {{{n}}}; allowed: {', '.join(sorted(allowed))}")


def _check_personas(sc: Scenario, f: _Faults) -> None:
    acts = set(known_acts())
    facts, points = {x.id for x in sc.hidden_facts}, {x.id for x in sc.knowledge_points}
    for i, p in enumerate(sc.personas):
        for k, act in enumerate(p.hear_me_first):
            if act not in acts:
                f.add(("personas", i, "hear_me_first", k), f"unknown speech act {act!r}")
        for fact, point in p.contests.items():
            if fact not in facts:
                f.add(("personas", i, "contests", fact), f"unknown hidden fact {fact!r}")
            if point not in points:
                f.add(("personas", i, "contests", fact), f"unknown knowledge point {point!r}")
        for act in p.reactions:
            if act not in acts:
                f.add(("personas", i, "reactions", act), f"unknown speech act {act!r}")
        if not p.mood < p.escalate_at < p.hang_up_at:
            f.add(("personas", i, "escalate_at"), "needs mood < escalate_at < hang_up_at")


class ScenarioDefaults(Strict):
    """`scenarios/_defaults/<language>.yaml`: what every scenario version in that language
    inherits unless it defines it itself (app/core/scenario_files.py has the merge rule)."""

    language: Literal["zh-CN", "en"] = Field(description="the language of the versions that inherit this file")
    states: list[State] = Field(default_factory=list, description="states every scenario has (the end states); a scenario state with the same id overrides one")
    global_transitions: list[Transition] = Field(default_factory=list, description="used by a scenario that gives no `global_transitions` of its own")
    lines: dict[str, list[str]] = Field(default_factory=dict, description="wording of line keys every scenario may use; a scenario's own key overrides one")
