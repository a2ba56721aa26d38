"""Playing a whole drill from a list of agent lines (terminal, tests, batch checks)."""
from __future__ import annotations

from typing import Callable, Iterable

from app.core.simulation.schema import Scenario


def customer_meta(state: dict, events: list[dict]) -> dict:
    """The per-customer-turn `meta` stored in transcripts: mood, call state, events."""
    return {"mood": state["mood"], "state": state["state"], "turn": state["turn"], "events": events}


def play_lines(engine, scenario: Scenario, persona_id: str, seed: int, agent_lines: Iterable[str],
               on_turn: Callable[[str, str, dict], None] | None = None) -> dict:
    """Play agent lines in order until the customer ends the call or the lines run out.

    Returns {scenario, persona, customer, seed, outcome, turns, state}; `turns` follow
    the transcript format (speaker, text, meta on customer turns). Blank lines are skipped.
    `on_turn(speaker, text, meta)` is called as each turn happens (for live output).
    """
    text, state, events = engine.start_turn(scenario, persona_id, seed)
    turns = []
    if text:  # an outbound call opens with the agent's first line, not a customer turn
        turns.append({"speaker": "customer", "text": text, "meta": customer_meta(state, events)})
        if on_turn:
            on_turn("customer", text, turns[-1]["meta"])
    for line in agent_lines:
        line = line.strip()
        if not line:
            continue
        turns.append({"speaker": "agent", "text": line})
        if on_turn:
            on_turn("agent", line, {})
        text, state, events = engine.next_turn(line, state, scenario)
        turns.append({"speaker": "customer", "text": text, "meta": customer_meta(state, events)})
        if on_turn:
            on_turn("customer", text, turns[-1]["meta"])
        if state["outcome"]:
            break  # checked before reading another line, so an interactive drill stops at once
    return {"scenario": scenario.id, "persona": persona_id, "customer": engine.kind, "seed": seed,
            "outcome": state["outcome"] or "unfinished", "turns": turns, "state": state}
