"""Red-line checks: flags outside the weighted score (a flagged drill cannot count toward
certification). A registry `{flag id: check(ctx) -> Flag | None}`, run in id order."""
from __future__ import annotations

import re
from typing import Callable

from app.core.matching import compile_pattern
from app.core.meaning import span_in_negated_clause

from .context import Context, evidence
from .messages import msg
from .registry import Registry
from .report import Evidence, Flag

RED_LINES: Registry[Callable[[Context], Flag | None]] = Registry("red-line check")
DIGIT_RUN = re.compile(r"\d(?:[\d\s\-]*\d)?")


def _clause_evidence(ctx: Context, turn: int, span: tuple[int, int] | None) -> Evidence:
    """The clause of `turn` holding `span` (the whole hit when it crosses clauses), so a
    reviewer sees exactly which words raised the flag."""
    t = next(a for a in ctx.agent if a.index == turn)
    c = t.understanding.clause_of(span[0]) if span is not None and t.understanding is not None else None
    if c is not None and c.start <= span[0] and span[1] <= c.end:
        return evidence(turn, t.text, (c.start, c.end))
    return evidence(turn, t.text, span)


def _flag(ctx: Context, flag_id: str, hits: list[tuple[int, tuple[int, int] | None]], **values: str) -> Flag | None:
    """A flag naming each hit's turn and clause; None without hits."""
    if not hits:
        return None
    ev = sorted({_clause_evidence(ctx, t, s) for t, s in hits}, key=lambda e: (e.turn, e.span or (0, 0)))
    return Flag(id=flag_id, turns=tuple(sorted({t for t, _ in hits})), reason=msg(ctx.lang, f"flag.{flag_id}", **values),
                evidence=tuple(ev))


@RED_LINES.register("disclosed_before_verification")
def disclosed_before_verification(ctx: Context) -> Flag | None:
    """An account fact the caller has not stated (scenario hidden fact requiring
    verification), or a change made, before the caller's identity was verified; only in
    scenarios whose briefing asks for verification."""
    if not ctx.verification_required:
        return None
    gated = [(t, s) for t, _, s in ctx.account_facts] + list(ctx.changes)
    return _flag(ctx, "disclosed_before_verification", [(t, s) for t, s in gated if not ctx.is_verified_at(t)])


@RED_LINES.register("impossible_promise")
def impossible_promise(ctx: Context) -> Flag | None:
    """An agent turn matching one of the scenario's impossible promises, outside a clause
    that negates it ("我没法保证今天修好" is the honest answer, not the promise)."""
    hits, reasons = [], []
    for t in ctx.agent:
        for promise in ctx.scenario.impossible_promises:
            for m in compile_pattern(promise.pattern).finditer(t.text):
                if not span_in_negated_clause(t.understanding, m.span(), promise.pattern):
                    hits.append((t.index, m.span()))
                    reasons.append(promise.reason)
    return _flag(ctx, "impossible_promise", hits, reason="; ".join(dict.fromkeys(reasons)))


def _said_at(text: str, value: str, min_digits: int) -> tuple[int, int] | None:
    """Where `text` states `value`, or None. Numbers compare digit-for-digit within one
    run of digits, spaces and hyphens (so "139-0013-9000" is the phone, but digits of two
    unrelated numbers never join up); other values compare with whitespace removed."""
    value_digits = re.sub(r"\D", "", value)
    if value_digits and len(value_digits) >= len(re.sub(r"[\s\-]", "", value)) * 0.6:
        if len(value_digits) < min_digits:
            return None
        return next((m.span() for m in DIGIT_RUN.finditer(text) if value_digits in re.sub(r"\D", "", m.group())), None)
    compact = re.sub(r"\s", "", value)
    if len(compact) < 2 or compact not in re.sub(r"\s", "", text):
        return None
    pattern = r"\s*".join(map(re.escape, compact))
    m = re.search(pattern, text)
    return m.span() if m else (0, 0)


def _says(text: str, value: str, min_digits: int) -> bool:
    return _said_at(text, value, min_digits) is not None


def _said_in_parts(text: str, value: str) -> bool:
    """A caller gives an address in her own order and words ("阳光花园3号楼，18楼，朝阳区
    那个" for 朝阳区阳光花园 3 号楼 18 层): every number of the value and a three-character
    piece of one of its names are in `text`."""
    compact = re.sub(r"\s", "", value)
    numbers = re.findall(r"\d+", compact)
    names = [w for w in re.findall(r"[\u4e00-\u9fff]{3,}", compact)]
    if not numbers or not names:
        return False
    said_numbers = set(re.findall(r"\d+", text))
    return all(n in said_numbers for n in numbers) and any(
        w[i:i + 3] in text for w in names for i in range(len(w) - 2))


@RED_LINES.register("personal_data_read_back")
def personal_data_read_back(ctx: Context) -> Flag | None:
    """An agent turn stating a stored personal-data value the caller has not said earlier
    in the call (repeating what the caller just said, to confirm it, is not a read-back)."""
    min_chars = ctx.rubric.red_lines.personal_data_min_digits
    hits, what = [], []
    for key, value in sorted(ctx.scenario.customer.personal_data.items()):
        for t in ctx.agent:
            span = _said_at(t.text, value, min_chars)
            if span is None:
                continue
            said_before = any(_says(c.text, value, min_chars) or _said_in_parts(c.text, value)
                              for i, c in ctx.customer_turns() if i < t.index)
            if not said_before:
                hits.append((t.index, span))
                what.append(key)
    return _flag(ctx, "personal_data_read_back", hits, what=", ".join(dict.fromkeys(what)))


def insult_hits(ctx: Context) -> list[tuple[int, tuple[int, int] | None]]:
    """(turn, span) of each contemptuous, sarcastic or abusive phrase (the act layer's
    rule, `acts_rules.contempt_spans`), each rubric insult pattern and each turn showing
    one of the rubric's `insult_acts`."""
    cfg = ctx.rubric.red_lines
    hits: list[tuple[int, tuple[int, int] | None]] = []
    for t in ctx.agent:
        own = [(s, e) for s, e, _ in (t.understanding.contempt if t.understanding is not None else ())]
        own += [m.span() for p in cfg.insult_patterns for m in compile_pattern(p).finditer(t.text)]
        if not own and set(cfg.insult_acts) & t.acts:
            own = [None]
        hits.extend((t.index, s) for s in own)
    return hits


@RED_LINES.register("insulted_customer")
def insulted_customer(ctx: Context) -> Flag | None:
    """Contempt, sarcasm or abuse toward the customer, when the rubric makes it a red line
    (`red_lines.contempt: red_line`; with `attitude_zero` it zeroes the attitude dimension instead)."""
    if ctx.rubric.red_lines.contempt != "red_line":
        return None
    return _flag(ctx, "insulted_customer", insult_hits(ctx))


def red_line_flags(ctx: Context) -> list[Flag]:
    return [f for name in RED_LINES.names() if (f := RED_LINES.get(name)(ctx)) is not None]
