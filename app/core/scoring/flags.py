"""Red-line checks: flags outside the weighted score (a flagged drill cannot count toward
certification). A registry `{flag id: check(ctx) -> Flag | None}`, run in id order."""
from __future__ import annotations

import re
from typing import Callable

from app.core.matching import compile_pattern
from app.core.understanding import span_in_negated_clause

from .context import Context, search
from .messages import msg
from .registry import Registry
from .report import Flag

RED_LINES: Registry[Callable[[Context], Flag | None]] = Registry("red-line check")
DIGIT_RUN = re.compile(r"\d(?:[\d\s\-]*\d)?")


def _flag(ctx: Context, flag_id: str, turns: set[int] | list[int], **values: str) -> Flag | None:
    if not turns:
        return None
    return Flag(id=flag_id, turns=tuple(sorted(set(turns))), reason=msg(ctx.lang, f"flag.{flag_id}", **values))


@RED_LINES.register("disclosed_before_verification")
def disclosed_before_verification(ctx: Context) -> Flag | None:
    """An account fact (scenario hidden fact requiring verification) stated, or a change
    made, before the caller's identity was verified."""
    gated = [t for t, *_ in ctx.account_facts] + [t for t, _ in ctx.changes]
    return _flag(ctx, "disclosed_before_verification", {t for t in gated if not ctx.is_verified_at(t)})


@RED_LINES.register("impossible_promise")
def impossible_promise(ctx: Context) -> Flag | None:
    """An agent turn matching one of the scenario's impossible promises."""
    turns, reasons = set(), []
    for t in ctx.agent:
        for promise in ctx.scenario.impossible_promises:
            # "我没法保证今天修好" negates the promise; it is the honest answer.
            if any(not span_in_negated_clause(t.understanding, m.span(), promise.pattern)
                   for m in compile_pattern(promise.pattern).finditer(t.text)):
                turns.add(t.index)
                reasons.append(promise.reason)
    return _flag(ctx, "impossible_promise", turns, reason="; ".join(dict.fromkeys(reasons)))


def _says(text: str, value: str, min_digits: int) -> bool:
    """Does `text` contain `value`? Numbers compare digit-for-digit within one run of
    digits, spaces and hyphens (so "139-0013-9000" is the phone, but digits of two
    unrelated numbers never join up); other values compare with whitespace removed."""
    value_digits = re.sub(r"\D", "", value)
    if value_digits and len(value_digits) >= len(re.sub(r"[\s\-]", "", value)) * 0.6:
        if len(value_digits) < min_digits:
            return False
        return any(value_digits in re.sub(r"\D", "", m.group()) for m in DIGIT_RUN.finditer(text))
    compact = re.sub(r"\s", "", value)
    return len(compact) >= 2 and compact in re.sub(r"\s", "", text)


@RED_LINES.register("personal_data_read_back")
def personal_data_read_back(ctx: Context) -> Flag | None:
    """An agent turn stating a stored personal-data value the caller has not said earlier
    in the call (repeating what the caller just said, to confirm it, is not a read-back)."""
    min_chars = ctx.rubric.red_lines.personal_data_min_digits
    turns, what = set(), []
    for key, value in sorted(ctx.scenario.customer.personal_data.items()):
        for t in ctx.agent:
            if not _says(t.text, value, min_chars):
                continue
            said_before = any(_says(c.text, value, min_chars) for i, c in ctx.customer_turns() if i < t.index)
            if not said_before:
                turns.add(t.index)
                what.append(key)
    return _flag(ctx, "personal_data_read_back", turns, what=", ".join(dict.fromkeys(what)))


@RED_LINES.register("insulted_customer")
def insulted_customer(ctx: Context) -> Flag | None:
    """An agent turn recognised as rude (rubric `red_lines.insult_acts`) or matching an insult pattern."""
    cfg = ctx.rubric.red_lines
    turns = {t.index for t in ctx.agent
             if set(cfg.insult_acts) & t.acts or search(cfg.insult_patterns, t.text) is not None}
    return _flag(ctx, "insulted_customer", turns)


def red_line_flags(ctx: Context) -> list[Flag]:
    return [f for name in RED_LINES.names() if (f := RED_LINES.get(name)(ctx)) is not None]
