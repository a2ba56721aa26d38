"""The call state: everything a drill needs to continue, as plain JSON.

The state is stored with every turn, so a drill survives restarts and runs on any
worker. It holds no RNG object: turn N's randomness is `random.Random(f"{seed}:{N}")`.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

STATE_VERSION = 1
HISTORY_KEPT = 8  # the LLM sees the last few turns; older ones live in the drill's transcript


class CallState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    v: int = STATE_VERSION
    scenario: str
    language: str
    persona: str
    seed: int
    engine: str = Field("scripted", description="engine kind that produced this state")
    turn: int = Field(0, description="agent turns processed so far; also the RNG position")
    state: str = Field(description="current call-state id")
    turns_in_state: int = 0
    mood: int
    verified: bool = False
    escalation_demanded: bool = False
    stall: int = Field(0, description="consecutive agent turns without progress")
    facts: list[str] = Field(default_factory=list, description="hidden facts the agent has stated")
    details: list[str] = Field(default_factory=list, description="details the customer has told")
    knowledge: list[str] = Field(default_factory=list, description="knowledge points stated correctly")
    resolution: list[str] = Field(default_factory=list, description="resolution items done")
    outcome: str | None = Field(None, description="resolved | escalated | hung_up | unfinished once ended")
    last_variant: dict[str, int] = Field(default_factory=dict, description="last variant index per line key, to avoid repeats")
    history: list[dict] = Field(default_factory=list, description="last turns as {speaker, text}")
    topic: list[str] = Field(default_factory=list, description="scenario object ids named recently, most recent first")
    amounts: list[float] = Field(default_factory=list, description="amounts named recently, most recent first")
    asked_items: list[str] = Field(default_factory=list, description="verification items the agent has asked for")
    said: list[str] = Field(default_factory=list, description="ids of every customer line said, so none repeats")
    heard: list[str] = Field(default_factory=list, description="acts of the persona's hear_me_first the agent has shown")
    asked_why: bool = Field(False, description="the customer has asked why her ID is needed")
    why_items: list[str] = Field(default_factory=list, description="the items asked for when she asked why")
    disputed: list[str] = Field(default_factory=list, description="hidden facts the customer disputes until explained")
    told: list[str] = Field(
        default_factory=list,
        description="hidden facts the customer has said herself; repeating them back discloses nothing")

    def remember(self, speaker: str, text: str) -> None:
        self.history.append({"speaker": speaker, "text": text})
        del self.history[:-HISTORY_KEPT]


def load_state(state: "CallState | dict") -> CallState:
    """A private, validated copy: engines never mutate the caller's state."""
    if isinstance(state, CallState):
        return state.model_copy(deep=True)
    return CallState.model_validate(state)


def dump_state(state: CallState) -> dict:
    return state.model_dump(mode="json")
