"""Criterion kinds: the registry `KINDS = {name: Kind(params schema, check)}`.

A rubric criterion names a kind and gives its `params`; the rubric loader validates the
params against the kind's schema, the scorer calls `check(ctx, criterion, params)`.
Every check is a pure function of the analysed agent turns (plus, for the mood kind,
the customer turns), so scores are deterministic. Kinds that *expand* (knowledge points,
resolution items) return one result per scenario item, sharing the criterion's points.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.acts_rules import forbidden_spans
from app.core.matching import _check_patterns, compile_pattern

from .context import AgentTurn, Context, evidence, search
from .messages import msg, where
from .registry import Registry
from .report import CriterionResult, Evidence

# The speech acts of app/core/acts.py (ACTS). Kept here so rubric validation does not
# depend on the trained model being importable; a test keeps the two lists equal.
KNOWN_ACTS = (
    "greeting", "self_id", "identity_request", "restate", "open_question", "closed_question",
    "empathy", "apology", "explanation", "solution_offer", "time_commitment", "confirm_result",
    "closing", "upsell", "blame_customer", "rude", "jargon", "forbidden_word",
)
EVENTS = Literal["verification", "first_account_fact", "first_change", "first_gated"]
MAX_EVIDENCE = 5  # enough to find the turns; the rest adds noise to the report


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchParams(Params):
    acts: list[str] = Field(default_factory=list, description="a turn counts if ANY of these acts is recognised")
    patterns: list[str] = Field(default_factory=list, description="... or ANY of these regexes matches")

    @field_validator("acts")
    @classmethod
    def _acts(cls, v: list[str]) -> list[str]:
        for i, act in enumerate(v):
            if act not in KNOWN_ACTS:
                raise ValueError(f"item {i}: unknown act {act!r} (known: {', '.join(KNOWN_ACTS)})")
        return v

    _pats = field_validator("patterns")(classmethod(lambda cls, v: _check_patterns(v)))

    def hit(self, turn: AgentTurn) -> tuple[bool, tuple[int, int] | None]:
        """Does the turn show the behaviour, and where? A clause spoken with contempt earns
        nothing: the rhetorical "你找我有什么用？" is no open question, and a sneering turn
        gets no credit from the acts the model saw in it. A keyword list shows nothing:
        "您的意思是 因为 15元 24小时内 是不是？" restates, explains and commits to nothing."""
        if turn.understanding is not None and turn.understanding.token_list:
            return False, None
        if _sure_rude(turn):
            return False, None
        scorn = _scornful_clauses(turn)
        # A forbidden word is never the good behaviour: the bare "什么？" asks nothing open;
        # nor is a clause the rubric deducts for: "您刚才不是说要了解5G套餐吗？" reproaches,
        # it asks no closed question, and a cause told in jargon explains nothing.
        void = scorn + _forbidden_word_spans(turn) + list(turn.slips)
        best = None
        for pat in self.patterns:
            for m in compile_pattern(pat).finditer(turn.text):
                if not any(lo <= m.start() < hi for lo, hi in void):
                    if best is None or m.start() < best[0]:
                        best = m.span()
                    break
        if best is not None:
            return True, best
        return bool(set(self.acts) & turn.acts) and not scorn and not _rude_turn(turn), None


def _forbidden_word_spans(turn: AgentTurn) -> list[tuple[int, int]]:
    u = turn.understanding
    return [(a, b) for a, b, _w in forbidden_spans(turn.text, u.language)] if u is not None else []


# From this probability the classifier's rude verdict alone says the turn is rude: on the
# development set of calibration calls every turn at 0.9 or above was curt or belittling
# ("5G都不懂啊？现在谁还用4G呀", "确定，我说了算"), and warm colloquial turns stayed below.
SURE_RUDE = 0.9


def _sure_rude(turn: AgentTurn) -> bool:
    """A turn spoken rudely, by rule (contempt) or by a sure classifier: the questions,
    explanations and courtesies in it earn nothing ("什么手续都不用，这么简单的事。您办89还是129？"
    asks no closed question a trainer would credit)."""
    u = turn.understanding
    if u is None:
        return False
    return bool(u.contempt) or ("rude" in turn.acts and u.scores.get("rude", 0.0) >= SURE_RUDE)


def _rude_turn(turn: AgentTurn) -> bool:
    """The model hears rudeness and the turn carries a forbidden word or blames the caller
    ("喂，客服，说吧。"): the acts the model also saw in it (a greeting, empathy) earn nothing."""
    return "rude" in turn.acts and bool({"forbidden_word", "blame_customer"} & turn.acts)


def _scornful_clauses(turn: AgentTurn) -> list[tuple[int, int]]:
    u = turn.understanding
    if u is None or not u.contempt:
        return []
    out = []
    for start, end, _label in u.contempt:
        c = u.clause_of(start)
        out.append((c.start, c.end) if c is not None else (start, end))
    return out


@dataclass(frozen=True)
class Kind:
    name: str
    params: type[Params]
    check: Callable[[Context, Any, Any], list[CriterionResult]]
    expands: bool = False  # one result per scenario item; such criteria cannot be judgeable
    doc: str = ""


KINDS: Registry[Kind] = Registry("criterion kind")


def kind(name: str, params: type[Params], expands: bool = False):
    def deco(fn):
        KINDS.add(name, Kind(name, params, fn, expands, (fn.__doc__ or "").strip()))
        return fn
    return deco


def lookup_kind(name: str) -> Kind:
    return KINDS.get(name)


def _result(ctx: Context, crit: Any, score: float, maximum: float, ev: list[Evidence], feedback: str,
            *, id: str | None = None, tip: str | None = None, applicable: bool = True) -> CriterionResult:
    ev = sorted(ev, key=lambda e: (e.turn, e.span or (0, 0)))[:MAX_EVIDENCE]
    return CriterionResult(
        id=id or crit.id, dimension=crit.dimension, kind=crit.kind, score=score, max=maximum,
        evidence=tuple(ev), feedback=feedback, tip=tip if tip is not None else ctx.tip_for(crit),
        applicable=applicable,
    )


def apportion(total: float, weights: list[float]) -> list[float]:
    """Split `total` by `weights` in tenths (largest remainder) so the parts sum exactly."""
    tenths = round(total * 10)
    exact = [tenths * w / sum(weights) for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: tenths - sum(parts)]:
        parts[i] += 1
    return [p / 10 for p in parts]


# --- act present ----------------------------------------------------------------------


class PresentParams(MatchParams):
    window: Literal["first_agent_turns", "last_agent_turns", "before", "after", "anywhere"] = "anywhere"
    n: int = Field(1, ge=1, description="how many first (last) agent turns (window first_agent_turns / last_agent_turns)")
    event: EVENTS | None = Field(None, description="the event of window before/after")
    min_count: int = Field(1, ge=1, description="turns needed for full points; fewer give a share")
    scale_by_required: bool = Field(False, description=(
        "when the simulated customer ended the call unresolved (its state is none of `delivered_states`) "
        "and fewer than half of the scenario's required resolution items were done, earn in proportion "
        "to them: confirming a result the call never delivered confirms nothing"))
    delivered_states: list[str] = Field(default_factory=list, description=(
        "regexes of the customer's end states (turn meta `state`) in which a result was delivered"))

    _states = field_validator("delivered_states")(classmethod(lambda cls, v: _check_patterns(v)))


def _in_window(ctx: Context, p: PresentParams) -> list[AgentTurn]:
    if p.window == "first_agent_turns":
        return ctx.agent[: p.n]
    if p.window == "last_agent_turns":
        return ctx.agent[-p.n:]
    if p.window in ("before", "after"):
        at = ctx.event(p.event or "verification")
        if at is None:  # the event never happens: the whole call is "before" it
            return ctx.agent if p.window == "before" else []
        return [t for t in ctx.agent if (t.index < at if p.window == "before" else t.index > at)]
    return ctx.agent


def _undelivered(ctx: Context, delivered: list[str]) -> bool:
    """Did the simulated customer end the call without a result (the last turn `meta`
    state matches none of `delivered`)? An imported call carries no state: False, since the
    scorer's reading of the steps alone may miss natural wording and is not trusted to
    withhold the credit."""
    state = next((t.meta["state"] for t in reversed(ctx.transcript.turns)
                  if t.meta and isinstance(t.meta.get("state"), str)), None)
    return state is not None and search(delivered, state) is None


@kind("act_present", PresentParams)
def act_present(ctx: Context, crit: Any, p: PresentParams) -> list[CriterionResult]:
    """Full points when `min_count` agent turns in the window show one of `acts` or match one of `patterns`."""
    hits = [(t, span) for t in _in_window(ctx, p) for ok, span in [p.hit(t)] if ok]
    ev = [evidence(t.index, t.text, span) for t, span in hits]
    title = crit.title_for(ctx.lang)
    count = len(hits)
    if count:
        done = min(1.0, count / p.min_count)
        key = "present.ok" if done >= 1 else "present.partial"
        fb = msg(ctx.lang, key, title=title, count=count, need=p.min_count, where=where(ctx.lang, [e.turn for e in ev]))
        if p.scale_by_required and _undelivered(ctx, p.delivered_states):
            required = [i for i in getattr(ctx.scenario, "resolution_items", ()) if i.required]
            got = [i for i in required if any(i.done_by.match_span(t.text, t.acts, t.understanding) is not None
                                              for t in ctx.agent)]
            # Below half: the scorer may miss one step said in natural words, never most of them.
            if required and len(got) < len(required) / 2:
                done *= len(got) / len(required)
                fb = f"{fb} {msg(ctx.lang, 'present.required_share', done=len(got), total=len(required))}"
        return [_result(ctx, crit, crit.points * done, crit.points, ev, fb)]
    window = msg(ctx.lang, f"window.{p.window}", n=p.n, event=msg(ctx.lang, f"event.{p.event or 'verification'}"))
    return [_result(ctx, crit, 0.0, crit.points, [], msg(ctx.lang, "present.missing", title=title, window=window))]


# --- turn share: a habit shown in most turns --------------------------------------------


class ShareParams(MatchParams):
    share: float = Field(0.7, gt=0, le=1, description="share of agent turns that must show it for full points")


@kind("turn_share", ShareParams)
def turn_share(ctx: Context, crit: Any, p: ShareParams) -> list[CriterionResult]:
    """A habit, not a moment (courtesy words, the honorific 您): full points when at least
    `share` of the agent's turns show one of `acts` or match one of `patterns`, fewer
    give a proportional part. A keyword list shows nothing."""
    turns = ctx.agent
    hits = [(t, span) for t in turns for ok, span in [p.hit(t)]
            if ok and not (t.understanding is not None and t.understanding.token_list)]
    title = crit.title_for(ctx.lang)
    if not turns:
        return [_result(ctx, crit, 0.0, crit.points, [], msg(ctx.lang, "present.missing_share", title=title))]
    done = len(hits) / len(turns)
    score = crit.points * min(1.0, done / p.share)
    ev = [evidence(t.index, t.text, span) for t, span in hits]
    missed = [t.index for t in turns if t.index not in {h.index for h, _ in hits}]
    key = "share.ok" if score >= crit.points else "share.partial"
    fb = msg(ctx.lang, key, title=title, done=len(hits), total=len(turns), need=f"{p.share * 100:.0f}",
             where=where(ctx.lang, missed) if missed else "")
    return [_result(ctx, crit, score, crit.points, ev, fb)]


# --- act absent / penalty per occurrence -----------------------------------------------


class AbsentParams(MatchParams):
    per_occurrence: float = Field(gt=0, description="points lost per occurrence")
    floor: float = Field(0.0, ge=0, description="the score never goes below this")
    model_confidence: float | None = Field(None, gt=0, le=1, description=(
        "an act the classifier alone heard (no pattern matched, no rule decided it) costs points only when "
        "the classifier gives it at least this probability on the turn; None: at its own threshold"))


def occurrences(p: MatchParams, turn: AgentTurn) -> list[tuple[int, int] | None]:
    """Each regex match is one occurrence; a recognised act with no regex match counts once
    (with `model_confidence`, only when the classifier is that sure of it or a rule decided it).

    With `forbidden_word` listed, each forbidden word the act layer's rule finds
    (`acts_rules.forbidden_spans`, courtesy exemptions included) counts once.
    """
    spans: list[tuple[int, int] | None] = sorted(
        {m.span() for pat in p.patterns for m in compile_pattern(pat).finditer(turn.text)})
    if "forbidden_word" in p.acts:
        language = turn.understanding.language if turn.understanding is not None else "zh-CN"
        for start, end, _word in forbidden_spans(turn.text, language):
            if not any(s and s[0] <= start < s[1] for s in spans):
                spans.append((start, end))
    elif not spans and any(_sure(p, turn, act) for act in set(p.acts) & turn.acts):
        spans.append(None)
    return spans


def _sure(p: MatchParams, turn: AgentTurn, act: str) -> bool:
    """Is the act in the turn for a reason a trainer could be shown? A rule decided it
    (contempt makes a turn rude), or the classifier is at least `model_confidence` sure.
    A deduction from a lukewarm guess and nothing in the words ("还有啊，谁打电话找您要
    验证码千万别给" heard as rude at 0.85) is a deduction nobody can point to."""
    threshold = getattr(p, "model_confidence", None)
    u = turn.understanding
    if threshold is None or u is None:
        return True
    if act == "rude" and u.contempt:
        return True
    return u.scores.get(act, 1.0) >= threshold


@kind("act_absent", AbsentParams)
def act_absent(ctx: Context, crit: Any, p: AbsentParams) -> list[CriterionResult]:
    """Starts from full points and loses `per_occurrence` for each occurrence, down to `floor`."""
    ev = [evidence(t.index, t.text, span) for t in ctx.agent for span in occurrences(p, t)]
    title = crit.title_for(ctx.lang)
    if not ev:
        return [_result(ctx, crit, crit.points, crit.points, [], msg(ctx.lang, "absent.ok", title=title))]
    score = max(p.floor, crit.points - p.per_occurrence * len(ev))
    fb = msg(ctx.lang, "absent.hit", title=title, count=len(ev), where=where(ctx.lang, [e.turn for e in ev]),
             lost=f"{crit.points - score:g}")
    return [_result(ctx, crit, score, crit.points, ev, fb)]


# --- order: verification before account facts and changes ------------------------------


class OrderParams(Params):
    gated: list[Literal["account_fact", "change"]] = Field(
        default_factory=lambda: ["account_fact", "change"], description="what must wait for verification")
    unverified_share: float = Field(0.0, ge=0, le=1, description="share given when nothing was gated and nobody verified")


@kind("order", OrderParams)
def order(ctx: Context, crit: Any, p: OrderParams) -> list[CriterionResult]:
    """Identity verified (rubric `verification`) before every account fact / change the call contains."""
    gated = ([(t, s) for t, _, s in ctx.account_facts] if "account_fact" in p.gated else []) + (
        ctx.changes if "change" in p.gated else [])
    text = {t.index: t.text for t in ctx.agent}
    early = sorted({t for t, _ in gated if not ctx.is_verified_at(t)})
    if early:
        ev = [evidence(t, text[t], s) for t, s in gated if t in early]
        return [_result(ctx, crit, 0.0, crit.points, ev, msg(ctx.lang, "order.bad", where=where(ctx.lang, early)))]
    if ctx.verification_request is None:
        n = ctx.rubric.verification.min_items
        return [_result(ctx, crit, crit.points * p.unverified_share, crit.points, [], msg(ctx.lang, "order.unverified", n=n))]
    req = ctx.verification_request
    ev = [evidence(req, text[req], search(ctx.rubric.verification.request_patterns, text[req]))]
    key = "order.ok" if gated else "order.ok_nogate"
    return [_result(ctx, crit, crit.points, crit.points, ev, msg(ctx.lang, key, where=where(ctx.lang, [req])))]
