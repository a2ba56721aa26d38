"""Checks every LLM customer reply must pass before it replaces the scripted line.

`check_reply` returns None for a usable reply or the fallback reason:
empty | length | language | role_flip | leak | contradiction.
(`contradiction`: a figure that is not in the case, or a number of the scripted line left
out: a phone number or ID digits the state machine counts as told must be said.)
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from app.core.matching import compile_pattern
from app.core.numbers import amounts, data_volumes_gb
from app.core.simulation.prompts import CustomerPrompt
from app.core.simulation.schema import Scenario
from app.core.simulation.state import CallState

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_QUOTES = "\"'“”‘’「」『』 \n\t"
ECHO_RATIO = 0.75  # a reply this similar to the agent's last turn is the model speaking as the agent
ECHO_SPAN = 12  # ... or one that copies this many consecutive characters of it


@dataclass
class ReplyContext:
    scenario: Scenario
    state: CallState  # after the scripted decision (released facts are current)
    line: str  # the scripted line the reply stands in for
    last_agent: str
    prompt: CustomerPrompt


def clean_reply(text: str, ctx: ReplyContext) -> str:
    """Strip quotes and speaker labels a model tends to add."""
    text = (text or "").strip().strip(_QUOTES)
    for prefix in ctx.prompt.strip_prefixes:
        prefix = prefix.replace("{customer_name}", ctx.scenario.customer.name)
        if text.startswith(prefix):
            text = text[len(prefix):].strip().strip(_QUOTES)
    return text


def figures(text: str) -> set[tuple[str, float]]:
    return {("yuan", a) for a in amounts(text)} | {("gb", g) for g in data_volumes_gb(text)}


def _scenario_figures(sc: Scenario) -> set[tuple[str, float]]:
    texts = [sc.briefing, sc.background, sc.customer.profile, sc.customer.goal,
             *(h.text for h in sc.hidden_facts), *(k.text for k in sc.knowledge_points),
             *(r.text for r in sc.resolution_items)]
    texts += [v for vs in sc.lines.values() for v in vs]
    texts += [v for p in sc.personas for vs in p.lines.values() for v in vs]
    out: set[tuple[str, float]] = set()
    for t in texts:
        out |= figures(t)
    return out


def _language(text: str, language: str) -> bool:
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    if language == "zh-CN":
        # Latin letters appear in "Wi-Fi", "5G", "APP"; the reply must still be Chinese.
        return cjk >= 2 and cjk / max(1, cjk + latin) >= 0.6
    return latin >= 2 and latin / max(1, cjk + latin) >= 0.9


_DIGITS = re.compile(r"\d(?:[\d\s-]*\d)?")


def _numbers(text: str) -> set[str]:
    """Digit runs of two or more digits, spaces and dashes inside them dropped ("139 0013 9000")."""
    return {n for n in (re.sub(r"[\s-]", "", m) for m in _DIGITS.findall(text)) if len(n) >= 2}


def _drops_numbers(reply: str, line: str) -> bool:
    said = "".join(re.sub(r"[\s-]", "", reply).split())
    return any(n not in said for n in _numbers(line))


def _echoes(reply: str, agent: str) -> bool:
    if not agent.strip():
        return False
    m = difflib.SequenceMatcher(None, reply, agent)
    if m.ratio() >= ECHO_RATIO:
        return True
    block = m.find_longest_match(0, len(reply), 0, len(agent))
    return block.size >= ECHO_SPAN


def check_reply(reply: str, ctx: ReplyContext) -> str | None:
    """None if `reply` may be said instead of the scripted line; else the fallback reason."""
    sc, st, p = ctx.scenario, ctx.state, ctx.prompt
    if not reply.strip():
        return "empty"
    if len(reply) > p.max_chars or len(reply) > p.length_factor * len(ctx.line) + 10:
        return "length"
    if not _language(reply, sc.language):
        return "language"
    if any(compile_pattern(rx).search(reply) for rx in p.role_flip_patterns) or _echoes(reply, ctx.last_agent):
        return "role_flip"
    said = " ".join([ctx.line, *(t["text"] for t in st.history)])
    known = figures(said) | figures(sc.customer.profile) | figures(sc.customer.goal)
    known |= {f for h in sc.hidden_facts if h.id in st.facts for f in figures(h.text)}
    for fact in sc.hidden_facts:
        if fact.id in st.facts:
            continue
        if fact.disclosed_by.matches(reply) and not fact.disclosed_by.matches(said):
            return "leak"
        if (figures(reply) & figures(fact.text)) - known:
            return "leak"
    if figures(reply) - known - _scenario_figures(sc) or _drops_numbers(reply, ctx.line):
        return "contradiction"
    return None
