"""The interface every customer engine offers (scripted and llm), as a typed Protocol.

One turn goes through `reply_stream`: text chunks as they are ready, then one `Reply`.
The plain and the streamed drill responses both consume it, and the turn's
understanding is made once (`understand`) and handed in, so the words the agent said are
analysed once for the stored turn and the customer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol, runtime_checkable

from app.core.simulation.schema import Scenario
from app.core.understanding import Understanding


@dataclass
class Reply:
    """The last item of `reply_stream`: what the customer said and why."""

    text: str
    state: dict
    events: list[dict] = field(default_factory=list)
    replaced: bool = False  # True: discard the streamed chunks and show `text`
    fallback_reason: str | None = None


@runtime_checkable
class CustomerEngine(Protocol):
    kind: str

    def start_turn(self, scenario: Scenario, persona_id: str, seed: int) -> tuple[str, dict, list[dict]]:
        """Open the call: (customer text, JSON state, events)."""

    def understand(self, text: str, state: dict, scenario: Scenario | None = None) -> Understanding:
        """The agent's turn understood in the context of the call so far (`state`)."""

    def reply_stream(self, agent_text: str, state: dict, scenario: Scenario | None = None,
                     understanding: Understanding | None = None) -> Iterator[str | Reply]:
        """Text chunks of the customer's reply, then one `Reply`. Raises ValueError once the call has ended."""

    def next_turn(self, agent_text: str, state: dict, scenario: Scenario | None = None,
                  understanding: Understanding | None = None) -> tuple[str, dict, list[dict]]:
        """The whole reply at once: (customer text, JSON state, events)."""


def final_reply(stream: Iterator[str | Reply]) -> Reply:
    """Drain a reply stream and return its `Reply`."""
    reply = None
    for item in stream:
        if isinstance(item, Reply):
            reply = item
    if reply is None:
        raise RuntimeError("the customer engine ended its reply stream without a Reply")
    return reply
