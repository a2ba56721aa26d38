"""What the criterion kinds look at: agent turns with their speech acts, and the call's
events (identity verified, first account fact stated, first change made).

Built once per scoring run. Only agent turns are analysed; customer turns are read
solely for the verification answer and the mood trajectory.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

from app.core.matching import compile_pattern
from app.core.scenario import ScenarioBase
from app.core.transcript import Transcript, Turn
from app.core.understanding import TurnContext, Understanding, understand

from .report import Evidence

QUOTE_CHARS = 80


class AnalysisLike(Protocol):
    acts: frozenset[str]
    forbidden: tuple[str, ...]


Analyse = Callable[[str], AnalysisLike]


@dataclass(frozen=True)
class AgentTurn:
    index: int
    text: str
    acts: frozenset[str]
    forbidden: tuple[str, ...]
    understanding: Understanding | None = None
    # (start, end) of each clause holding a slip the rubric's act_absent patterns name (a
    # rhetorical reproach, jargon, "价格是公司定的"): the good acts of such a clause earn nothing.
    slips: tuple[tuple[int, int], ...] = ()


def search(patterns: Iterable[str], text: str) -> tuple[int, int] | None:
    """Span of the earliest hit of any pattern (ties: the first pattern), else None."""
    best = None
    for p in patterns:
        m = compile_pattern(p).search(text)
        if m and (best is None or m.start() < best[0]):
            best = m.span()
    return best


def evidence(turn: int, text: str, span: tuple[int, int] | None = None) -> Evidence:
    """Evidence quoting the matched span, or the start of the turn when no span is known.

    The quote is always a literal substring of the turn text.
    """
    if span is not None and span[1] > span[0]:
        return Evidence(turn=turn, quote=text[span[0]:span[1]], span=span)
    return Evidence(turn=turn, quote=text[:QUOTE_CHARS])


@dataclass
class Context:
    transcript: Transcript
    scenario: ScenarioBase
    rubric: Any  # app.core.rubric.Rubric (not imported: rubric imports the kinds lazily)
    language: str
    agent: list[AgentTurn]
    verification_request: int | None = None  # agent turn completing the ≥ N-item request
    verified_at: int | None = None  # customer turn answering it; later turns are verified
    account_facts: list[tuple[int, str, tuple[int, int] | None]] = field(default_factory=list)
    changes: list[tuple[int, tuple[int, int] | None]] = field(default_factory=list)
    # (turn, item id, span): the agent refused a required resolution item of the case
    # ("我不会给您退订彩铃", "I can't refund the 15 yuan") and never did it afterwards.
    refusals: list[tuple[int, str, tuple[int, int] | None]] = field(default_factory=list)

    @property
    def lang(self) -> str:
        """'zh-CN' or 'en': the language of feedback and tips."""
        return "zh-CN" if self.language.lower().startswith("zh") else "en"

    def tip_for(self, crit: Any) -> str:
        """The criterion's tip and model line for this call: the scenario's own where it
        gives one (`criterion_tips`), else the rubric's generic ones."""
        return crit.tip_for(self.lang, self.scenario.criterion_tip(crit.id, self.lang))

    @property
    def verification_required(self) -> bool:
        """Does the scenario ask the trainee to verify identity? (The elderly how-to call's
        briefing does not: nothing is gated there and the order criterion does not apply.)"""
        return getattr(self.scenario, "verification_required", True)

    def customer_turns(self) -> list[tuple[int, Turn]]:
        return [(i, t) for i, t in enumerate(self.transcript.turns) if t.speaker == "customer"]

    def is_verified_at(self, turn: int) -> bool:
        return self.verified_at is not None and turn > self.verified_at

    def event(self, name: str) -> int | None:
        """Turn number of a named event, None when it never happens."""
        if name == "verification":
            return self.verified_at
        if name == "first_account_fact":
            return self.account_facts[0][0] if self.account_facts else None
        if name == "first_change":
            return self.changes[0][0] if self.changes else None
        if name == "first_gated":
            gated = [t for t, *_ in self.account_facts] + [t for t, _ in self.changes]
            return min(gated) if gated else None
        raise ValueError(f"unknown event {name!r}")


def build_context(transcript: Transcript, scenario: ScenarioBase, rubric: Any, analyse: Analyse) -> Context:
    """Analyse every agent turn once and locate the events the kinds and red lines use."""
    language = transcript.effective_language(scenario.language)
    lang = "zh-CN" if language.lower().startswith("zh") else "en"
    # Each agent turn is understood as the customer understood it: in the context of the
    # call so far (objects named by either speaker stay the topic), by the same function.
    talk = TurnContext(objects={k: tuple(v) for k, v in getattr(scenario, "objects", {}).items()})
    agent = []
    for i, t in enumerate(transcript.turns):
        if t.speaker == "agent":
            u = understand(t.text, analyse, talk, language=lang)
            agent.append(AgentTurn(i, t.text, u.acts, u.forbidden, u, _slip_clauses(rubric, t.text, u)))
        talk = talk.after(t.text, lang)
    ctx = Context(transcript, scenario, rubric, language, agent)
    _locate_verification(ctx)
    for turn in agent:
        for fact in scenario.hidden_facts if ctx.verification_required else ():
            span = fact.disclosed_by.match_span(turn.text, turn.acts, turn.understanding) if fact.requires_verification else None
            # Repeating back what the caller has just said ("您每个月用25GB左右，对吗？") tells
            # them nothing from the account: only facts the caller has not stated are gated.
            if span is not None and not _customer_said(ctx, fact, turn.index):
                ctx.account_facts.append((turn.index, fact.id, span if span != (0, 0) else None))
        span = search(rubric.red_lines.change_patterns, turn.text)
        if span is not None:
            ctx.changes.append((turn.index, span))
    ctx.account_facts.sort(key=lambda x: (x[0], x[1]))
    _locate_refusals(ctx)
    return ctx


def _slip_clauses(rubric: Any, text: str, u: Understanding) -> tuple[tuple[int, int], ...]:
    """The clauses of `text` in which a pattern of one of the rubric's act_absent criteria
    matches (what the rubric deducts for), as (start, end), in order."""
    out: set[tuple[int, int]] = set()
    for crit in getattr(rubric, "criteria", ()):
        if crit.kind != "act_absent":
            continue
        for pat in crit.parsed_params.patterns:
            for m in compile_pattern(pat).finditer(text):
                c = u.clause_of(m.start())
                out.add((c.start, c.end) if c is not None else m.span())
    return tuple(sorted(out))


def _values_in(spec: Any, text: str) -> bool:
    """The amounts and data volumes a meaning spec names are all in `text` ("不能退" refuses
    no 15 yuan; "这15元退不了" does)."""
    from app.core import numbers

    said = numbers.amounts(text)
    volumes = numbers.data_volumes_gb(text)
    return all(any(abs(v - a) < 1e-6 for v in said) for a in spec.amounts) and all(
        any(abs(v - g) < 1e-6 for v in volumes) for g in spec.data_gb)


def _locate_refusals(ctx: Context) -> None:
    """A required resolution item the agent refuses: its patterns, read without the
    negation guard, hit inside a clause that refuses or negates, or a negated action of
    the item's meaning spec; and no later turn does the item."""
    from app.core.meaning import clause_refuses, span_in_negated_clause

    for item in getattr(ctx.scenario, "resolution_items", ()):
        if not getattr(item, "required", True):
            continue
        refused = None
        if any(item.done_by.match_span(t.text, t.acts, t.understanding) is not None for t in ctx.agent):
            continue  # done in some turn: a refusal elsewhere (of something else, or taken back) is no refusal of it
        for turn in ctx.agent:
            u = turn.understanding
            if u is None or u.token_list:
                continue
            raw = item.done_by.match_span(turn.text, turn.acts, None)
            hit = raw is not None and raw != (0, 0) and (
                span_in_negated_clause(u, raw) or (
                    (c := u.clause_of(raw[0])) is not None and clause_refuses(c.text, u.language)))
            if not hit:
                refusing = [c for c in u.clauses if clause_refuses(c.text, u.language)]
                for spec in item.done_by.meaning:
                    if spec.action and any(a.negated and spec.action in a.kinds and (
                            not spec.object or spec.object in a.objects) and _values_in(spec, u.clauses[a.clause].text)
                            for a in u.actions):
                        hit, raw = True, None
                        break
                    # a refusing clause that names what the item is about ("24小时也恢复不了")
                    if any((spec.words or spec.all_words or spec.object) and _values_in(spec, c.text)
                           and (not spec.words or any(w in c.text for w in spec.words))
                           and all(w in c.text for w in spec.all_words)
                           and (not spec.object or spec.object in c.objects) for c in refusing):
                        hit, raw = True, None
                        break
            if hit and refused is None:
                refused = (turn.index, item.id, raw)
        if refused is not None:
            ctx.refusals.append(refused)
    ctx.refusals.sort()


def _customer_said(ctx: Context, fact: Any, before: int) -> bool:
    # Spoken lines put spaces between a number and its unit ("二十五个 G"); the facts'
    # patterns are written without, so each line is also read with its spaces removed.
    return any(fact.disclosed_by.match_span(t.text) is not None
               or fact.disclosed_by.match_span(re.sub(r"\s+", "", t.text)) is not None
               for i, t in ctx.customer_turns() if i < before)


def _locate_verification(ctx: Context) -> None:
    # Verification = the agent has asked for at least `min_items` distinct identity items
    # (phone, name, ID digits, SMS code ...) and the customer has answered after that.
    cfg = ctx.rubric.verification
    asked: set[str] = set()
    # The items come from the turn's understanding (the customer's own rule: a scam warning
    # naming 验证码 is no request), plus any the rubric's item patterns add on a request turn.
    for turn in ctx.agent:
        u = turn.understanding
        understood = set(u.verification_items) if u is not None else set()
        requested = bool(understood) or "identity_request" in turn.acts or search(cfg.request_patterns, turn.text) is not None
        if not requested or (u is not None and u.token_list):
            continue
        asked |= understood
        asked |= {name for name, pat in sorted(cfg.items.items()) if compile_pattern(pat).search(turn.text)}
        if len(asked) >= cfg.min_items:
            # Verified once the customer gives an item in one of her next two turns (she may
            # ask why first); a customer who refuses or never answers is not verified.
            replies = [i for i, t in enumerate(ctx.transcript.turns) if i > turn.index and t.speaker == "customer"][:2]
            answer = next((i for i in replies if _gives_identity(ctx, ctx.transcript.turns[i].text)), None)
            if answer is not None:
                ctx.verification_request, ctx.verified_at = turn.index, answer
            return


_ZH_DIGIT_CHARS = "零〇一幺二三四五六七八九"


def _gives_identity(ctx: Context, text: str) -> bool:
    """The customer states an identity item: a run of four or more digits (in figures or
    spoken Chinese digits, with spaces or dashes between), or her name as the scenario
    stores it."""
    spoken = "".join(str(_ZH_DIGIT_CHARS.index(c) if c not in "〇幺" else ("0" if c == "〇" else "1"))
                     if c in _ZH_DIGIT_CHARS else c for c in text)
    if re.search(r"\d(?:[\s\-]?\d){3,}", spoken):
        return True
    data = getattr(getattr(ctx.scenario, "customer", None), "personal_data", None) or {}
    name = data.get("full_name") or data.get("name")
    return bool(name) and re.sub(r"\s", "", str(name)) in re.sub(r"\s", "", text)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)
