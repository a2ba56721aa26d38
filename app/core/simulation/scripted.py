"""The scripted customer: a state machine driven by recognised speech acts and case facts.

`decide()` is the whole brain: it updates mood, verification, released facts and the
call state, then picks line keys to say. The LLM engine reuses it and only rephrases
the chosen line, so both engines behave the same.
"""
from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from app.core.simulation.engine import Reply
from app.core.simulation.schema import Condition, Persona, Scenario, known_acts
from app.core.simulation.state import CallState, dump_state, load_state
from app.core.meaning import span_in_negated_clause
from app.core.understanding import (
    MIN_VERIFICATION_ITEMS, TurnContext, Understanding, understand,
)

Analyse = Callable[[str], Any]  # text -> object (or mapping) with `acts`
ScenarioLookup = Callable[[str, str], Scenario]  # (id, language) -> Scenario

MOOD_MIN, MOOD_MAX = 0, 10
# One turn moves mood at most this much, so a single polished sentence cannot turn a
# furious caller calm, and one slip is not always fatal.
TURN_DELTA_MIN, TURN_DELTA_MAX = -2, 4
MAX_HOPS = 5  # transitions followed in one turn (a long agent turn can do several steps)
MAX_PARTS = 2  # lines joined into one reply; callers rarely say more in one breath
CALMED_BY = 3  # mood points below the persona's start that open a hear_me_first gate
BAD_ACTS = {"blame_customer", "rude", "forbidden_word", "jargon", "upsell"}

# Reply parts in the order they are said; lower first.
P_DEMAND, P_REACT, P_IDENTITY, P_ITEM, P_ENTER, P_DETAIL, P_NOT_DONE, P_NUDGE, P_SOOTHED = range(9)


@dataclass
class Decision:
    """What the customer does this turn: the scripted reply and why."""

    text: str
    state: CallState
    events: list[dict]
    line_keys: list[str] = field(default_factory=list)


class _Turn:
    """One agent turn being processed; collects events and reply parts."""

    def __init__(self, sc: Scenario, persona: Persona, st: CallState, u: Understanding):
        self.sc, self.p, self.st, self.text, self.u = sc, persona, st, u.text, u
        self.acts = frozenset(u.acts) & set(known_acts())
        self.events: list[dict] = []
        self.parts: list[tuple[int, str]] = []
        self.causes: list[tuple[str, int]] = []
        self.progress = False

    def say(self, prio: int, key: str) -> None:
        if all(k != key for _, k in self.parts):
            self.parts.append((prio, key))

    def holds(self, cond: Condition) -> bool:
        st, p = self.st, self.p
        if cond.acts and not set(cond.acts) <= self.acts:
            return False
        if cond.acts_any and not set(cond.acts_any) & self.acts:
            return False
        if cond.text is not None and not cond.text.matches(self.text, self.acts, self.u):
            return False
        if cond.verified is not None and cond.verified != st.verified:
            return False
        for name in ("facts", "details", "knowledge", "resolution"):
            if not set(getattr(cond, name)) <= set(getattr(st, name)):
                return False
        if cond.resolution_required_done is not None and cond.resolution_required_done != required_done(self.sc, st):
            return False
        if cond.escalation_demanded is not None and cond.escalation_demanded != st.escalation_demanded:
            return False
        if cond.mood_at_least is not None and st.mood < level(p, cond.mood_at_least):
            return False
        if cond.mood_below is not None and st.mood >= level(p, cond.mood_below):
            return False
        return True


def level(p: Persona, value: int | str) -> int:
    return {"escalate": p.escalate_at, "hang_up": p.hang_up_at}.get(value, value)  # type: ignore[arg-type]


def required_done(sc: Scenario, st: CallState) -> bool:
    """Every required item done and nothing the customer still disputes."""
    return not st.disputed and all(r.id in st.resolution for r in sc.resolution_items if r.required)


class ScriptedEngine:
    """Deterministic customer: same scenario, persona, seed and agent turns, same call."""

    kind = "scripted"

    def __init__(self, analyse: Analyse | None = None, *,
                 analyser_for_language: Callable[[str], Any] | None = None,
                 scenarios: ScenarioLookup | Mapping | None = None, understanding_llm: Any = None):
        """`understanding_llm` (an `LLMUnderstanding`, None unless configured) gives each
        turn's understanding the model's second opinion on its acts."""
        if analyse is None and analyser_for_language is None:
            raise ValueError("ScriptedEngine needs `analyse` or `analyser_for_language`")
        self._analyse, self._for_language = analyse, analyser_for_language
        self._lookup = scenarios
        self._understanding_llm = understanding_llm
        self._seen: dict[tuple[str, str], Scenario] = {}

    # -- public interface -------------------------------------------------------
    def start(self, scenario: Scenario, persona_id: str, seed: int) -> tuple[str, dict]:
        """Open the call: the customer states the problem (an empty text in an outbound
        call, where the agent speaks first). Returns (text, JSON state)."""
        text, state, _ = self.start_turn(scenario, persona_id, seed)
        return text, state

    def start_turn(self, scenario: Scenario, persona_id: str, seed: int) -> tuple[str, dict, list[dict]]:
        d = self.decide_start(scenario, persona_id, seed)
        return d.text, dump_state(d.state), d.events

    def next_turn(self, agent_text: str, state: dict | CallState, scenario: Scenario | None = None,
                  understanding: Understanding | None = None) -> tuple[str, dict, list[dict]]:
        """Play one agent turn. Raises ValueError if the call has already ended."""
        d = self.decide(agent_text, state, scenario, understanding)
        return d.text, dump_state(d.state), d.events

    def reply_stream(self, agent_text: str, state: dict | CallState, scenario: Scenario | None = None,
                     understanding: Understanding | None = None) -> Iterator[str | Reply]:
        """The reply as one chunk, then the Reply (the scripted line is ready at once)."""
        d = self.decide(agent_text, state, scenario, understanding)
        yield d.text
        yield Reply(d.text, dump_state(d.state), d.events)

    # -- the brain -------------------------------------------------------------
    def decide_start(self, sc: Scenario, persona_id: str, seed: int) -> Decision:
        persona = sc.persona(persona_id)
        self._seen[(sc.id, sc.language)] = sc
        st = CallState(scenario=sc.id, language=sc.language, persona=persona.id, seed=int(seed),
                       engine=self.kind, state=sc.start_state, mood=persona.mood)
        started = [{"type": "started", "state": st.state, "mood": st.mood}]
        if sc.direction == "outbound":
            # The agent places the call and speaks first: no customer line, nothing rendered,
            # so the opening state is a function of scenario, persona and seed alone.
            return Decision("", st, started, [])
        keys = list(sc.state(sc.start_state).say)
        text = self._render(sc, persona, st, keys)
        st.remember("customer", text)
        _note_told(st, sc, text)
        _update_topic(st, sc, text)
        return Decision(text, st, started, keys)

    def decide(self, agent_text: str, state: dict | CallState, scenario: Scenario | None = None,
               understanding: Understanding | None = None) -> Decision:
        """Play one agent turn. `understanding` is the turn's, if the caller already has it
        (it must have been made with `context_of(state)`); otherwise it is made here."""
        st = load_state(state)
        if st.outcome:
            raise ValueError(f"the call has ended ({st.outcome}); no further turns")
        sc = scenario or self.scenario_for(st.scenario, st.language)
        persona = sc.persona(st.persona)
        u = understanding or self.understand(agent_text, st, sc)
        st.turn += 1
        st.turns_in_state += 1
        st.remember("agent", agent_text)
        t = _Turn(sc, persona, st, u)
        was_verified = st.verified
        self._verification(t)
        if u.token_list:
            # A list of keywords is not something a person says: the customer is lost.
            t.say(P_REACT, "confused")
            t.events.append({"type": "not_understood", "why": "keyword_list"})
        if self._heard(t):
            self._items(t, was_verified)
            self._clarify(t)
        self._detail(t)
        self._mood(t)
        ended = self._transitions(t)
        if not ended:
            self._escalation(t)
            if st.turn >= sc.max_turns:
                st.outcome = "unfinished"
                t.events.append({"type": "ended", "outcome": "unfinished", "why": "turn_limit"})
        keys = self._choose_parts(t, ended)
        text = self._render(sc, persona, st, keys)
        st.remember("customer", text)
        _note_told(st, sc, text)
        _update_topic(st, sc, agent_text, text)
        return Decision(text, st, t.events, keys)

    def model(self, language: str) -> Any:
        """The act model (or a `text -> analysis` callable) for `language`."""
        if self._analyse is not None:
            return self._analyse
        return self._for_language(language)

    def understand(self, text: str, state: dict | CallState, scenario: Scenario | None = None) -> Understanding:
        """The agent turn understood in the context of the call so far."""
        st = state if isinstance(state, CallState) else load_state(state)
        sc = scenario or self.scenario_for(st.scenario, st.language)
        return understand(text, self.model(st.language), context_of(st, sc), language=st.language,
                          llm=self._understanding_llm)

    def scenario_for(self, scenario_id: str, language: str) -> Scenario:
        if (scenario_id, language) in self._seen:
            return self._seen[(scenario_id, language)]
        if self._lookup is None:
            raise LookupError(f"scenario {scenario_id!r} ({language}) is unknown to this engine; pass scenario=")
        sc = self._lookup[(scenario_id, language)] if isinstance(self._lookup, Mapping) else self._lookup(scenario_id, language)
        self._seen[(scenario_id, language)] = sc
        return sc

    # -- steps of one turn -------------------------------------------------------
    def _heard(self, t: _Turn) -> bool:
        """The persona's gate: a caller who must be heard first lets no step count until
        the agent has shown those acts (in this turn or before)."""
        need = t.p.hear_me_first
        if not need:
            return True
        t.st.heard = sorted(set(t.st.heard) | (set(need) & t.acts))
        # Heard means the acts were shown, or the caller has clearly calmed down anyway
        # (a misread act must not keep a well-handled caller locked for the whole call).
        if set(need) <= set(t.st.heard) or t.st.mood <= t.p.mood - CALMED_BY:
            return True
        t.events.append({"type": "not_heard", "missing": sorted(set(need) - set(t.st.heard))})
        t.say(P_REACT, "not_heard")
        return False

    def _verification(self, t: _Turn) -> None:
        # Personal data is given only when verification items are actually asked for:
        # a usage question or a scam warning ("别把验证码告诉别人") is no request.
        items = t.u.verification_items
        st = t.st
        if st.asked_why and st.why_items and not st.verified and _gives_reason(t.u):
            # The reason came after she asked why: now she answers what was asked before.
            items = frozenset(items) | set(st.why_items)
        if not items:
            return
        if t.p.why_before_id and not t.st.asked_why and not t.st.verified and not _gives_reason(t.u):
            t.st.why_items = sorted(items)
            # The privacy-wary caller wants to know why before saying any ID digits.
            t.st.asked_why = True
            t.events.append({"type": "asked_why_id"})
            t.say(P_IDENTITY, "why_id")
            return
        t.say(P_IDENTITY, "identity")
        st.asked_items = sorted(set(st.asked_items) | set(items))
        if not st.verified and len(st.asked_items) >= MIN_VERIFICATION_ITEMS:
            st.verified = True
            t.progress = True
            t.events.append({"type": "verified", "items": st.asked_items})

    def _items(self, t: _Turn, was_verified: bool) -> None:
        sc, st = t.sc, t.st
        for fact in sc.hidden_facts:
            if fact.id not in st.facts and fact.disclosed_by.matches(t.text, t.acts, t.u):
                st.facts.append(fact.id)
                t.progress = True
                t.events.append({"type": "fact_released", "id": fact.id})
                # Repeating back what the caller said herself ("您每个月用25个G左右，对吗？")
                # tells her nothing from the account (the scorer's rule too).
                if fact.requires_verification and not was_verified and fact.id not in st.told:
                    t.events.append({"type": "disclosed_before_verification", "id": fact.id})
                    t.causes.append(("disclosed_before_verification", 1))
                    t.say(P_REACT, "suspicious")
                if fact.id in t.p.contests:
                    st.disputed.append(fact.id)
                    t.events.append({"type": "disputed", "id": fact.id})
                    t.say(P_REACT, "contest")
                elif fact.id in sc.fact_lines:
                    t.say(P_ITEM, sc.fact_lines[fact.id])
        for kp in sc.knowledge_points:
            if kp.id not in st.knowledge and kp.stated_by.matches(t.text, t.acts, t.u):
                st.knowledge.append(kp.id)
                settled = [f for f in st.disputed if t.p.contests.get(f) == kp.id]
                for f in settled:
                    st.disputed.remove(f)
                    t.events.append({"type": "dispute_settled", "id": f})
                t.progress = True
                t.events.append({"type": "knowledge_stated", "id": kp.id})
                if kp.id in sc.knowledge_lines:
                    t.say(P_ITEM, sc.knowledge_lines[kp.id])
            for wrong in kp.wrong:
                if _search(wrong.pattern, t.text, t.u):
                    t.events.append({"type": "wrong_statement", "id": kp.id, "reason": wrong.reason})
                    t.causes.append(("wrong_fact", 1))
                    t.say(P_REACT, "wrong_fact")
                    break
        for item in sc.resolution_items:
            if item.id not in st.resolution and item.done_by.matches(t.text, t.acts, t.u):
                st.resolution.append(item.id)
                t.progress = True
                t.events.append({"type": "resolution_done", "id": item.id})
                if item.id in sc.resolution_lines:
                    t.say(P_ITEM, sc.resolution_lines[item.id])
        for promise in sc.impossible_promises:
            if _search(promise.pattern, t.text, t.u):
                t.events.append({"type": "impossible_promise", "reason": promise.reason})

    def _clarify(self, t: _Turn) -> None:
        """React to a required step the turn touches but does not complete: a refusal
        ("我不会给您退订") is a refusal, and an action the customer cannot place ("帮您退了"
        with nothing named) gets one specific question instead of the old demand."""
        sc, st = t.sc, t.st
        for item in sc.resolution_items:
            if not item.required or item.id in st.resolution:
                continue
            kinds = {m.action for m in item.done_by.meaning if m.action}
            touched = [a for a in t.u.actions if a.kinds & kinds]
            if not touched:
                continue
            objects = {m.object for m in item.done_by.meaning if m.object}
            if any(a.negated and (not objects or objects & {*a.objects, *a.implied[:1]}) for a in touched):
                t.causes.append(("refused", 1))
                t.events.append({"type": "refused", "id": item.id})
                t.say(P_NOT_DONE, "not_done")
                return
            key = sc.clarify_lines.get(item.id)
            if key and not t.parts:
                t.events.append({"type": "clarify", "id": item.id})
                t.say(P_ITEM, key)
                return

    def _detail(self, t: _Turn) -> None:
        """Answer what is asked: a detail asked for by name, else the next one on an open question."""
        open_q = "open_question" in t.acts
        asking = open_q or "closed_question" in t.acts or any(c in t.text for c in "？?吗")
        if not asking:  # a statement that mentions a topic is not a question about it
            return
        pending = [d for d in t.sc.details if d.id not in t.st.details and (d.when is None or t.holds(d.when))]
        chosen = next((d for d in pending if d.asked_by.matches(t.text, t.acts, t.u)), None)
        if chosen is None and open_q:
            chosen = next((d for d in pending if d.on_open_question), None)
        if chosen:
            t.st.details.append(chosen.id)
            t.progress = True
            t.say(P_DETAIL, chosen.say)
            t.events.append({"type": "detail_told", "id": chosen.id})

    def _mood(self, t: _Turn) -> None:
        p, st = t.p, t.st
        for act in sorted(t.acts):
            if p.reactions.get(act):
                t.causes.append((act, p.reactions[act]))
        if "jargon" in t.acts and p.jargon == "confusion":
            t.say(P_REACT, "confused")
        if p.max_heard_chars and len(t.text) > p.max_heard_chars:
            t.causes.append(("too_long", 1))
            t.say(P_REACT, "too_long")
        if "closing" in t.acts and not required_done(t.sc, st):
            t.causes.append(("premature_close", 1))
            t.say(P_NOT_DONE, "not_done")
        if t.progress:
            st.stall = 0
            if p.on_progress:
                t.causes.append(("progress", p.on_progress))
        else:
            st.stall += 1
            if st.stall > p.patience:
                t.say(P_NUDGE, "nudge")
                if p.on_stall:
                    t.causes.append(("stall", p.on_stall))
        delta = max(TURN_DELTA_MIN, min(TURN_DELTA_MAX, sum(d for _, d in t.causes)))
        before = st.mood
        st.mood = max(MOOD_MIN, min(MOOD_MAX, before + delta))
        if st.mood != before:
            why = "+".join(c for c, d in t.causes if d)
            t.events.append({"type": "mood", "from": before, "to": st.mood, "why": why})
        bad = any(c in BAD_ACTS and d > 0 for c, d in t.causes)
        if st.mood > before and bad and not (p.jargon == "confusion" and {c for c, _ in t.causes} & BAD_ACTS == {"jargon"}):
            t.say(P_REACT, "angry")
        elif st.mood < before and not t.parts:
            t.say(P_SOOTHED, "soothed")

    def _transitions(self, t: _Turn) -> bool:
        sc, st = t.sc, t.st
        entered = None
        for _ in range(MAX_HOPS):
            current = sc.state(st.state)
            if current.end:
                break
            nxt = next((tr.to for tr in [*sc.global_transitions, *current.transitions] if t.holds(tr.when)), None)
            if nxt is None or nxt == st.state:
                break
            t.events.append({"type": "state_change", "from": st.state, "to": nxt})
            st.state, st.turns_in_state, entered = nxt, 0, nxt
        if entered is None:
            return False
        target = sc.state(entered)
        if target.end:
            st.outcome = target.end
            t.events.append({"type": "ended", "outcome": target.end})
            t.parts = [(P_ENTER, k) for k in target.say]
            return True
        for key in target.say:
            t.say(P_ENTER, key)
        return False

    def _escalation(self, t: _Turn) -> None:
        st, p = t.st, t.p
        if st.mood >= p.escalate_at and not st.escalation_demanded:
            st.escalation_demanded = True
            t.events.append({"type": "escalation_demanded", "mood": st.mood})
            t.say(P_DEMAND, "demand_supervisor")
        elif st.escalation_demanded and st.mood < p.escalate_at:
            st.escalation_demanded = False
            t.events.append({"type": "calmed", "mood": st.mood})

    def _choose_parts(self, t: _Turn, ended: bool) -> list[str]:
        if ended:
            return [k for _, k in t.parts]
        parts = sorted(t.parts, key=lambda pk: pk[0])[:MAX_PARTS]
        if not parts:
            idle = t.sc.state(t.st.state).idle
            key = idle[random.Random(f"{t.st.seed}:{t.st.turn}:idle").randrange(len(idle))] if idle else "filler"
            parts = [(P_SOOTHED, key)]
        return [k for _, k in parts]

    def _render(self, sc: Scenario, persona: Persona, st: CallState, keys: list[str]) -> str:
        """Pick one variant per key, seeded by seed and turn, never one already said in
        this drill: a key whose variants are used up gives way to a fresh line of a
        fallback key (nudge, filler, the state's idle lines); only when every one of
        those is used up too does a line repeat."""
        rng = random.Random(f"{st.seed}:{st.turn}")
        values = {"name": sc.customer.name, "identity_answer": sc.customer.identity_answer,
                  **sc.customer.personal_data}
        out: list[str] = []
        for n, key in enumerate(keys):
            chain = [key] if key in _NO_FALLBACK else [key, *sc.state(st.state).idle, "nudge", "filler"]
            picked = None
            for k in dict.fromkeys(chain):
                variants = [v.format_map(values).strip() for v in sc.variants(persona, k)]
                fresh = [i for i, v in enumerate(variants) if _line_id(v) not in st.said and v not in out]
                if fresh:
                    i = rng.choice(fresh)
                    picked, st.last_variant[k] = variants[i], i
                    break
            if picked is None:
                if out and n:
                    continue  # the turn already says something new
                variants = [v.format_map(values).strip() for v in sc.variants(persona, key)]
                choices = [i for i in range(len(variants)) if i != st.last_variant.get(key)] or [0]
                i = rng.choice(choices)
                picked, st.last_variant[key] = variants[i], i
            st.said.append(_line_id(picked))
            out.append(picked)
        return (" " if sc.language == "en" else "").join(out)


def _note_told(st: CallState, sc: Scenario, text: str) -> None:
    """Record the hidden facts the customer's line states ("一个月大概二十五个 G"): spoken
    lines put spaces between numbers and units, so the facts' patterns also see them without."""
    bare = re.sub(r"\s+", "", text)
    for fact in sc.hidden_facts:
        if fact.id not in st.told and (fact.disclosed_by.match_span(text) or fact.disclosed_by.match_span(bare)):
            st.told.append(fact.id)


def _search(pattern: str, text: str, u: Understanding | None = None) -> bool:
    """A hit of `pattern` outside any negated clause ("千万不要拔光纤" is advice, "15元不能退"
    no refund promise)."""
    from app.core.matching import compile_pattern

    return any(not span_in_negated_clause(u, m.span(), pattern) for m in compile_pattern(pattern).finditer(text))


_REASON = {
    "zh-CN": ("为了", "安全", "保护", "确认是", "本人", "保障", "规定", "防止", "隐私"),
    "en": ("security", "protect", "make sure", "verify it's you", "confirm it's you", "safety", "policy"),
}


def _gives_reason(u: Understanding) -> bool:
    """Does the turn say why it asks for ID ("为了保障您的账户安全")?"""
    text = u.text.lower()
    return any(w in text for w in _REASON.get(u.language, ())) or bool(
        u.language == "zh-CN" and re.search(r"(?:核实|核对|确认|验证)(?:一下|下)?(?:您的)?身份(?!证)", text))


# Lines whose words matter (the identity answer, the goodbye) are never swapped for another key.
_NO_FALLBACK = frozenset({"identity", "bye_resolved", "bye_escalated", "bye_hung_up"})


def _line_id(text: str) -> str:
    return hashlib.blake2s(text.encode(), digest_size=5).hexdigest()


def context_of(st: CallState, sc: Scenario) -> TurnContext:
    """What the customer remembers of the call for understanding the next agent turn."""
    return TurnContext(objects={k: tuple(v) for k, v in sc.objects.items()}, topic=tuple(st.topic),
                       amounts=tuple(st.amounts))


def _update_topic(st: CallState, sc: Scenario, *texts: str) -> None:
    ctx = context_of(st, sc)
    for text in texts:
        ctx = ctx.after(text, st.language)
    st.topic, st.amounts = list(ctx.topic), list(ctx.amounts)
