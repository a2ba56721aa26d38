"""Score report types and the "Score output" JSON of TRANSCRIPT.md.

`ScoreReport.to_output()` is the contract: scenario, rubric, total, max, dimensions,
criteria[{id, dimension, score, max, evidence, feedback}], flags[{id, turns, reason}].
Documented extra keys (consumers must ignore keys they do not know):
top level ``rubric_version``, ``rubric_sha256``, ``scorer``, ``language``, ``judge``, ``veto``
(present only when a red line set the total to 0: then the total is 0, not the sum of the
dimensions, and ``veto`` says why);
per criterion ``kind``, ``tip``, ``applicable``, ``judge``; per flag ``evidence`` (the
clause of each turn that raised it, same shape as a criterion's); per evidence item ``span``
([start, end) character offsets into the turn's text).
"""
from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def round1(x: float) -> float:
    """Round half-up to one decimal place (never banker's rounding, so 7.25 -> 7.3)."""
    return float(Decimal(repr(x)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) + 0.0


def num(x: float) -> float | int:
    """A maximum as the contract shows it: 30, not 30.0; fractional maxima stay floats."""
    r = round1(x)
    return int(r) if r == int(r) else r


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evidence(Frozen):
    turn: int = Field(description="0-based turn number in the transcript")
    quote: str = Field(description="text literally in that turn")
    span: tuple[int, int] | None = Field(None, description="[start, end) of the quote in the turn text")

    def out(self) -> dict[str, Any]:
        d: dict[str, Any] = {"turn": self.turn, "quote": self.quote}
        if self.span is not None:
            d["span"] = list(self.span)
        return d


class CriterionResult(Frozen):
    id: str
    dimension: str
    kind: str
    score: float
    max: float
    evidence: tuple[Evidence, ...] = ()
    feedback: str = ""
    tip: str = ""
    applicable: bool = True
    judge: dict[str, Any] | None = Field(None, description="the judge's verdict on this criterion, if any")

    def out(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id, "dimension": self.dimension, "score": round1(self.score), "max": num(self.max),
            "evidence": [e.out() for e in self.evidence], "feedback": self.feedback,
            "tip": self.tip, "kind": self.kind, "applicable": self.applicable,
        }
        if self.judge is not None:
            d["judge"] = self.judge
        return d


class DimensionScore(Frozen):
    score: float
    max: float


class Flag(Frozen):
    id: str
    turns: tuple[int, ...]
    reason: str
    evidence: tuple[Evidence, ...] = Field(
        (), description="the clause of each turn that raised the flag (turn, quote, span); a reviewer "
                        "overturning a false flag refers to these")

    def out(self) -> dict[str, Any]:
        return {"id": self.id, "turns": list(self.turns), "reason": self.reason,
                "evidence": [e.out() for e in self.evidence]}


class ScoreReport(Frozen):
    scenario: str
    rubric: str
    rubric_version: int
    rubric_sha256: str
    scorer: str = Field(description="'rules/1', or 'rules/1+judge' when a judge verdict was combined")
    language: str
    total: float
    max: float
    dimensions: dict[str, DimensionScore]
    criteria: tuple[CriterionResult, ...]
    flags: tuple[Flag, ...]
    judge: dict[str, Any] | None = None
    veto: str | None = Field(None, description="why the total is 0 whatever the dimensions (一票否决 of a red line)")

    @property
    def flagged(self) -> bool:
        """A flagged score cannot count toward certification whatever its total."""
        return bool(self.flags)

    def to_output(self) -> dict[str, Any]:
        """The "Score output" object of TRANSCRIPT.md plus the documented extras."""
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "rubric": self.rubric,
            "total": round1(self.total),
            "max": num(self.max),
            "dimensions": {k: {"score": round1(v.score), "max": num(v.max)} for k, v in self.dimensions.items()},
            "criteria": [c.out() for c in self.criteria],
            "flags": [f.out() for f in self.flags],
            "rubric_version": self.rubric_version,
            "rubric_sha256": self.rubric_sha256,
            "scorer": self.scorer,
            "language": self.language,
        }
        if self.judge is not None:
            out["judge"] = self.judge
        if self.veto is not None:
            out["veto"] = self.veto
        return out

    def to_json(self) -> str:
        """Deterministic JSON text: same report, same bytes (fixed key order, no ASCII escaping)."""
        return json.dumps(self.to_output(), ensure_ascii=False, indent=2) + "\n"
