"""Play drills with the LLM customer against a real model and record every customer turn.

Shared by the `llm` tests and benchmarks/llm_bench.py. For each customer turn it keeps
the scripted line the state machine chose (asked of the engine's own `decide`, which is
pure), what the customer finally said, whether the model's words were used or the turn
fell back (and why), and the timings: time to first streamed token and the whole turn.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.core.simulation.guardrails import ReplyContext, check_reply, figures
from app.core.simulation.llm_engine import LLMEngine, TurnResult
from app.core.simulation.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "data" / "agent_scripts"
CORE = ("5g_plan_launch", "billing_complaint", "signal_complaint", "elderly_smartphone")
FALLBACK_REASONS = {"empty", "length", "language", "role_flip", "leak", "contradiction",
                    "timeout", "http_error", "malformed"}


@dataclass
class CustomerTurn:
    n: int  # 0: the opening line; k: the reply to the agent's k-th line
    agent: str
    line: str  # the scripted line the model was asked to rephrase
    text: str  # what the customer said
    used: str  # "llm" | "scripted"
    reason: str | None  # the fallback reason, None when the model's words were used
    detail: str  # the rejected model output (or error), for reading
    latency_ms: int | None
    ttft_ms: float | None  # streamed turns only
    turn_ms: float
    completion_tokens: int | None
    guardrail_recheck: str | None = None  # check_reply on the used text, re-run with the turn's inputs
    leaks: list[str] = field(default_factory=list)  # hidden facts the text gave away


@dataclass
class Drill:
    scenario: str
    persona: str
    script: str
    seed: int
    outcome: str | None
    turns: list[CustomerTurn]

    def transcript_turns(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for t in self.turns:
            if t.n:
                out.append(("agent", t.agent))
            out.append(("customer", t.text))
        return out

    def as_dict(self) -> dict:
        return asdict(self)


def agent_lines(scenario_id: str, script: str) -> list[str]:
    from app.core.operators import fill_text, get_operator

    # scripts name codes and numbers through {operator.…} placeholders, as scenarios do
    text = fill_text((SCRIPTS / f"{scenario_id}.{script}.txt").read_text(encoding="utf-8"), get_operator())
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def leaked_facts(sc: Scenario, d_state, line: str, text: str) -> list[str]:
    """Hidden facts not yet released that `text` gives away beyond what the scripted line,
    the conversation so far and the customer's own profile already said."""
    said = " ".join([line, *(t["text"] for t in d_state.history[:-1])])
    own = figures(said) | figures(sc.customer.profile) | figures(sc.customer.goal)
    own |= {f for h in sc.hidden_facts if h.id in d_state.facts for f in figures(h.text)}
    out = []
    for fact in sc.hidden_facts:
        if fact.id in d_state.facts:
            continue
        if fact.disclosed_by.matches(text) and not fact.disclosed_by.matches(said):
            out.append(f"{fact.id}: names it")
        elif (figures(text) & figures(fact.text)) - own:
            out.append(f"{fact.id}: gives its figures {sorted((figures(text) & figures(fact.text)) - own)}")
    return out


def _record(n: int, agent: str, d, res: TurnResult, sc: Scenario, engine: LLMEngine,
            ttft_ms: float | None, turn_ms: float) -> CustomerTurn:
    llm = next(e for e in res.events if e["type"] == "llm")
    fb = next((e for e in res.events if e["type"] == "llm_fallback"), None)
    recheck = None
    if llm["used"] == "llm":
        recheck = check_reply(res.text, ReplyContext(sc, d.state, d.text, agent, engine.prompt(sc.language)))
    return CustomerTurn(
        n=n, agent=agent, line=d.text, text=res.text, used=llm["used"], reason=fb and fb["reason"],
        detail=(fb or {}).get("detail", ""), latency_ms=llm.get("latency_ms"), ttft_ms=ttft_ms, turn_ms=turn_ms,
        completion_tokens=llm.get("completion_tokens"), guardrail_recheck=recheck,
        leaks=leaked_facts(sc, d.state, d.text, res.text))


def play(engine: LLMEngine, sc: Scenario, persona: str, script: str, seed: int = 7) -> Drill:
    """One drill: the opening line (one chat call), then each agent line streamed."""
    d = engine.scripted.decide_start(sc, persona, seed)
    t0 = time.perf_counter()
    text, state, events = engine.start_turn(sc, persona, seed)
    opening = TurnResult(text, state, events)
    turns = [_record(0, "", d, opening, sc, engine, None, (time.perf_counter() - t0) * 1000)]
    for n, line in enumerate(agent_lines(sc.id, script), start=1):
        if state["outcome"]:
            break
        d = engine.scripted.decide(line, state, sc)
        t0, first, res = time.perf_counter(), None, None
        for item in engine.stream_turn(line, state, sc):
            if isinstance(item, TurnResult):
                res = item
            elif first is None:
                first = (time.perf_counter() - t0) * 1000
        turns.append(_record(n, line, d, res, sc, engine, first, (time.perf_counter() - t0) * 1000))
        state = res.state
    return Drill(sc.id, persona, script, seed, state["outcome"], turns)


def trace(drill: Drill) -> str:
    """A readable transcript for assertion messages."""
    rows = []
    for t in drill.turns:
        if t.n:
            rows.append(f"agent: {t.agent}")
        tag = "llm" if t.used == "llm" else f"fallback {t.reason}: {t.detail!r}"
        rows.append(f"customer [{tag}]: {t.text}   (line: {t.line})")
    return f"{drill.scenario}/{drill.persona}/{drill.script} -> {drill.outcome}\n" + "\n".join(rows)
