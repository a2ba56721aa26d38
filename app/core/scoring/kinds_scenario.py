"""Criterion kinds that read the scenario file or the call's outcome: knowledge points,
resolution items, end state, customer mood trajectory. Registered into `KINDS`."""
from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from app.core.matching import _check_patterns, compile_pattern
from app.core.meaning import span_in_negated_clause

from .context import Context, evidence, search
from .kinds import Params, _result, apportion, kind
from .messages import mood_words, msg, state_words, where
from .report import CriterionResult, Evidence


def _span(span: tuple[int, int] | None) -> tuple[int, int] | None:
    return None if span in (None, (0, 0)) else span


def _scenario_tip(ctx: Context, crit: Any, tips: dict[str, str]) -> str:
    return tips.get(ctx.lang) or tips.get("zh-CN") or tips.get("en") or ctx.tip_for(crit)


STEP_TURNS_DOC = (
    "a scenario item marked `steps` (a procedure) whose regexes are met across up to this many consecutive "
    "agent turns counts (1: one turn must say it all): teaching step by step names the menu in one turn and "
    "the slider in the next")


class KnowledgeParams(Params):
    wrong_penalty: float = Field(2.0, ge=0, description="points lost per wrong statement of a point")
    step_turns: int = Field(1, ge=1, le=5, description=STEP_TURNS_DOC)


def _done_in(ctx: Context, matcher: Any, step_turns: int) -> list[Evidence]:
    """Evidence of the turns where `matcher` is met: each agent turn that meets it alone;
    failing that, the first shortest run of up to `step_turns` consecutive agent turns that
    meets it together (`Matcher.match_spread`), one evidence item per turn holding a hit.
    Only procedures spread (items marked `steps`): "89" in one turn and "划算" said of the
    129 plan in the next recommend nothing."""
    single = [evidence(t.index, t.text, _span(s)) for t in ctx.agent
              if (s := matcher.match_span(t.text, t.acts, t.understanding)) is not None]
    if single or step_turns < 2:
        return single
    for n in range(2, step_turns + 1):
        for i in range(len(ctx.agent) - n + 1):
            run = ctx.agent[i:i + n]
            hits = matcher.match_spread([(t.text, t.acts, t.understanding) for t in run])
            if hits:
                return [evidence(run[j].index, run[j].text, span) for j, span in hits]
    return []


@kind("knowledge_points", KnowledgeParams, expands=True)
def knowledge_points(ctx: Context, crit: Any, p: KnowledgeParams) -> list[CriterionResult]:
    """The scenario's knowledge points share the criterion's points by `weight`.

    A point stated correctly (and never wrongly) earns its share. Each wrong statement
    costs `wrong_penalty` and voids the share, so a wrong figure scores below silence;
    one point's result never goes below minus its share. Results: `<criterion>.<point id>`.
    """
    kps = ctx.scenario.knowledge_points
    shares = apportion(crit.points, [kp.weight for kp in kps])
    out = []
    for kp, share in zip(kps, shares):
        ok = _done_in(ctx, kp.stated_by, p.step_turns if kp.steps else 1)
        # A wrong figure inside a negated clause ("不能马上到账") is not a wrong statement.
        bad = [(t, m.span(), w.reason) for t in ctx.agent for w in kp.wrong
               for m in compile_pattern(w.pattern).finditer(t.text)
               if not span_in_negated_clause(t.understanding, m.span(), w.pattern)]
        rid, tip = f"{crit.id}.{kp.id}", _scenario_tip(ctx, crit, kp.tip)
        if bad:
            score = max(-share, -p.wrong_penalty * len(bad))
            ev = [evidence(t.index, t.text, s) for t, s, _ in bad]
            reasons = "; ".join(dict.fromkeys(r for *_, r in bad))
            fb = msg(ctx.lang, "kp.wrong", where=where(ctx.lang, [e.turn for e in ev]), reason=reasons, lost=f"{share - score:g}")
        elif ok:
            score, ev, fb = share, ok, msg(ctx.lang, "kp.ok", text=kp.text)
        else:
            score, ev, fb = 0.0, [], msg(ctx.lang, "kp.missing", text=kp.text)
        out.append(_result(ctx, crit, score, share, ev, fb, id=rid, tip=tip))
    return out


class ResolutionParams(Params):
    optional_weight: float = Field(0.5, ge=0, description="weight of a non-required item (required = 1)")
    step_turns: int = Field(1, ge=1, le=5, description=STEP_TURNS_DOC)


@kind("resolution_items", ResolutionParams, expands=True)
def resolution_items(ctx: Context, crit: Any, p: ResolutionParams) -> list[CriterionResult]:
    """The scenario's resolution items share the criterion's points (required 1, optional
    `optional_weight`); an item done in any agent turn earns its share."""
    items = [i for i in ctx.scenario.resolution_items if i.required or p.optional_weight > 0]
    shares = apportion(crit.points, [1.0 if i.required else p.optional_weight for i in items])
    out = []
    for item, share in zip(items, shares):
        done = _done_in(ctx, item.done_by, p.step_turns if item.steps else 1)
        fb = msg(ctx.lang, "res.ok" if done else "res.missing", text=item.text)
        out.append(_result(ctx, crit, share if done else 0.0, share, done, fb, id=f"{crit.id}.{item.id}"))
    return out


class EndStateParams(Params):
    key: str = Field("state", description="the turn `meta` key holding the simulator state")
    good: list[str] = Field(description="regexes of good end states")
    partial: list[str] = Field(default_factory=list, description="regexes of end states worth half")

    _pats = field_validator("good", "partial")(classmethod(lambda cls, v: _check_patterns(v)))


@kind("end_state", EndStateParams)
def end_state(ctx: Context, crit: Any, p: EndStateParams) -> list[CriterionResult]:
    """The last turn whose `meta` carries `key`: good state full, partial half, other 0.

    Not applicable when no turn carries it (imported real calls): the points go to the
    other criteria of the dimension.
    """
    last = next(((i, t) for i, t in reversed(list(enumerate(ctx.transcript.turns)))
                 if t.meta and isinstance(t.meta.get(p.key), str)), None)
    if last is None:
        return [_result(ctx, crit, 0.0, crit.points, [], msg(ctx.lang, "end.na"), applicable=False)]
    i, turn = last
    state = turn.meta[p.key]
    ev = [Evidence(turn=i, quote=turn.text[:80])]
    if search(p.good, state):
        return [_result(ctx, crit, crit.points, crit.points, ev, msg(ctx.lang, "end.ok", state=state_words(ctx.lang, state)))]
    share = 0.5 if search(p.partial, state) else 0.0
    return [_result(ctx, crit, crit.points * share, crit.points, ev, msg(ctx.lang, "end.bad", state=state_words(ctx.lang, state)))]


class MoodParams(Params):
    key: str = Field("mood", description="customer-turn `meta` key holding the mood")
    labels: dict[str, float] = Field(
        default_factory=lambda: {"angry": -1.0, "upset": -0.5, "anxious": -0.5, "impatient": -0.5,
                                 "confused": -0.25, "neutral": 0.0, "calm": 0.5, "relieved": 0.5,
                                 "satisfied": 1.0, "happy": 1.0},
        description="mood label -> value in [-1, 1] (1 = content)")
    number_range: tuple[float, float] = Field(
        (0.0, 10.0), description="range of numeric moods; the simulator's is 0 calm ... 10 furious")
    higher_is_worse: bool = Field(True, description="numeric moods: a higher number is an angrier customer")
    positive: list[str] = Field(default_factory=list, description="customer wording read as content (inference)")
    negative: list[str] = Field(default_factory=list, description="customer wording read as upset (inference)")

    _pats = field_validator("positive", "negative")(classmethod(lambda cls, v: _check_patterns(v)))


def _mood_value(p: MoodParams, raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        lo, hi = p.number_range
        if hi <= lo:
            return None
        x = 2 * (min(hi, max(lo, float(raw))) - lo) / (hi - lo) - 1  # -> [-1, 1]
        return -x if p.higher_is_worse else x
    if isinstance(raw, str):
        return p.labels.get(raw.strip().lower())
    return None


@kind("mood_trajectory", MoodParams)
def mood_trajectory(ctx: Context, crit: Any, p: MoodParams) -> list[CriterionResult]:
    """Customer mood first vs last: ends content or rises by ≥0.5 full; not worse half; worse 0.

    Moods come from customer-turn `meta[key]` when any turn has one. Otherwise they are
    inferred from the customer's wording (`positive` +1 / `negative` -1 per turn, the
    first and last customer turns with a signal); with no signal at all the criterion
    is not applicable and its points go to the other criteria of the dimension.
    """
    series: list[tuple[int, float, str]] = []
    for i, t in ctx.customer_turns():
        v = _mood_value(p, (t.meta or {}).get(p.key))
        if v is not None:
            raw = t.meta[p.key]
            # A numeric simulator mood reads as a word ("有些不满"), never as "2".
            series.append((i, v, mood_words(ctx.lang, v) if isinstance(raw, (int, float)) else str(raw)))
    if not series:
        for i, t in ctx.customer_turns():
            pos, neg = search(p.positive, t.text), search(p.negative, t.text)
            if pos or neg:
                v = (1.0 if pos else 0.0) - (1.0 if neg else 0.0)
                series.append((i, v, t.text[:20]))
    if not series:
        return [_result(ctx, crit, 0.0, crit.points, [], msg(ctx.lang, "mood.na"), applicable=False)]
    (i0, v0, l0), (i1, v1, l1) = series[0], series[-1]
    text = {i: t.text for i, t in enumerate(ctx.transcript.turns)}
    ev = [evidence(i0, text[i0])] + ([evidence(i1, text[i1])] if i1 != i0 else [])
    if v1 >= 0.5 or v1 - v0 >= 0.5:
        share, key = 1.0, "mood.up"
    elif v1 >= v0:
        share, key = 0.5, "mood.flat"
    else:
        share, key = 0.0, "mood.down"
    return [_result(ctx, crit, crit.points * share, crit.points, ev, msg(ctx.lang, key, first=l0, last=l1))]

