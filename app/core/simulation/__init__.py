"""Simulated customers: the scenario schema, the scripted and LLM engines, their registry.

Engines share one interface, the `CustomerEngine` Protocol in `engine.py`:
    start_turn(scenario, persona_id, seed) -> (customer_text, state, events)
    understand(agent_text, state, scenario) -> Understanding
    reply_stream(agent_text, state, scenario, understanding) -> chunks..., Reply
    next_turn(agent_text, state, scenario, understanding) -> (customer_text, state, events)
`state` is a JSON-serialisable dict; store it with each turn.
"""
from app.core.simulation.registry import ENGINES, get_engine_factory, make_engine, register_engine

__all__ = ["ENGINES", "get_engine_factory", "make_engine", "register_engine"]
