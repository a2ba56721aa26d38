"""When a criterion applies: the call conditions a rubric's `applies_when` may name.

A registry `{condition name: Condition(check(ctx) -> bool, doc)}`, filled here and only
here; the rubric loader rejects a name it does not hold. `applies(ctx, criterion)` is
what the scorer asks: a criterion with no `applies_when` always applies; otherwise it
applies when any one of its cases holds, a case holding when every field it gives
holds (scenario category, scenario id, persona, and each named condition).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from app.core.numbers import NEXT_MONTH_DAY

from .context import Context
from .registry import Registry


@dataclass(frozen=True)
class Condition:
    name: str
    check: Callable[[Context], bool]
    doc: str


CONDITIONS: Registry[Condition] = Registry("applicability condition")


def condition(name: str):
    def deco(fn: Callable[[Context], bool]):
        CONDITIONS.add(name, Condition(name, fn, (fn.__doc__ or "").strip()))
        return fn
    return deco


@condition("verification_required")
def verification_required(ctx: Context) -> bool:
    """The scenario's briefing asks the trainee to verify identity (scenario field
    `verification_required`, default true)."""
    return ctx.verification_required


# Actions that leave something to happen after the call: money to arrive, a call back, a
# visit. A submission leaves a follow-up only when it is a ticket or a complaint (a plan
# change "提交" in a sales call takes effect by itself).
FOLLOW_UP_ACTIONS = frozenset({"refund", "callback", "visit"})
_TICKET = re.compile(r"工单|报障|报修|投诉|故障|申请|ticket|complaint|fault|claim", re.IGNORECASE)


@condition("follow_up_due")
def follow_up_due(ctx: Context) -> bool:
    """Something is left to follow up after the call: an agent turn arranges a refund, a
    call back or a visit, or submits a ticket, complaint or application (not in a negated
    clause), or the agent gave a time commitment (so a commitment given is always credited),
    counting the day a change takes effect ("下个月1号生效"), which the act leaves to
    explanation as a rule's time."""
    for t in ctx.agent:
        if "time_commitment" in t.acts or NEXT_MONTH_DAY.search(t.text or ""):
            return True
        u = t.understanding
        if u is None or u.token_list:
            continue
        for a in u.actions:
            if a.negated:
                continue
            if a.kinds & FOLLOW_UP_ACTIONS:
                return True
            if "submit" in a.kinds and _TICKET.search(u.clauses[a.clause].text):
                return True
    return False


# The simulator's mood runs 0 calm ... 10 furious; from this the caller is upset.
UPSET_MOOD = 6
UPSET_LABELS = frozenset({"angry", "upset", "furious", "frustrated"})
_UPSET_WORDS = re.compile(
    r"投诉|太差|什么态度|不满意|气死|受够|凭什么|乱扣|多扣|骗人|坑人|急死|生气|火大|烦死|太过分|怎么搞的|搞什么|"
    r"\b(?:ridiculous|complain|complaint|unacceptable|angry|furious|fed up)\b", re.IGNORECASE)


def _upset(meta: dict | None, text: str) -> bool:
    mood = (meta or {}).get("mood")
    if isinstance(mood, (int, float)) and not isinstance(mood, bool) and mood >= UPSET_MOOD:
        return True
    if isinstance(mood, str) and mood.strip().lower() in UPSET_LABELS:
        return True
    return bool(_UPSET_WORDS.search(text))


@condition("something_went_wrong")
def something_went_wrong(ctx: Context) -> bool:
    """Something in the case or the call calls for an apology: the caller complains or is
    upset at some point (wording, or a simulator mood of 6 or more / an upset label), or
    the agent spoke to the caller with contempt."""
    if any(_upset(t.meta, t.text) for _, t in ctx.customer_turns()):
        return True
    return any(t.understanding is not None and t.understanding.contempt for t in ctx.agent)


def _case_holds(ctx: Context, case: Any) -> bool:
    category = getattr(ctx.scenario, "category", "")
    persona = ctx.transcript.persona or ""
    if case.categories and category not in case.categories:
        return False
    if category in case.except_categories:
        return False
    if case.scenarios and ctx.scenario.id not in case.scenarios:
        return False
    if ctx.scenario.id in case.except_scenarios:
        return False
    if case.personas and persona not in case.personas:
        return False
    if persona and persona in case.except_personas:
        return False
    return all(CONDITIONS.get(name).check(ctx) for name in case.conditions)


def applies(ctx: Context, criterion: Any) -> bool:
    """Does `criterion` apply to this call? (No `applies_when`: always.)"""
    cases = getattr(criterion, "applies_when", None) or []
    return not cases or any(_case_holds(ctx, case) for case in cases)
