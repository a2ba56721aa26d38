"""The transcript interchange format, version 1 (`../shared/formats/TRANSCRIPT.md`).

One conversation per UTF-8 JSON file: a drill export, an imported real call, the input
of `flask score`. Other tools rely on the format exactly, so the schema is strict:
unknown top-level keys, unknown turn keys, unknown speakers and empty texts are faults,
and a file is either read whole or rejected whole (never half-imported).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Collection, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.core.datafiles import DataFileError, Fault, field_path, parse_model

FORMAT = "transcript/1"
# BCP 47 in the shape the product uses (zh-CN, en, en-GB, yue-Hant-HK); not a full parser.
LANG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _iso8601(value: str | None) -> str | None:
    # Kept as the original string so that read -> write round-trips byte for byte.
    if value is not None:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 date-time, e.g. 2026-11-22T09:30:00+08:00") from None
        try:
            # Stored in UTC: 9999-12-31T23:00-14:00 parses but has no UTC equivalent.
            moment.astimezone(timezone.utc) if moment.tzinfo else moment
        except OverflowError:
            raise ValueError("date-time out of range once converted to UTC") from None
    return value


def _unstorable_text(data: Any, path: list, file: str) -> list[Fault]:
    """Faults for strings (keys too) that no database text column holds: NUL characters
    and lone surrogates (a JSON "\\ud800"). Checked before the schema, meta included."""
    out = []
    stack = [(data, path)]
    while stack:  # iterative: the JSON parser already allowed the nesting, the walk must too
        value, where = stack.pop()
        if isinstance(value, str):
            if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
                out.append(Fault(file, field_path(where), "contains a NUL character or a lone surrogate"))
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, where))
                stack.append((item, [*where, key]))
        elif isinstance(value, list):
            stack.extend((item, [*where, i]) for i, item in enumerate(value))
    return sorted(set(out), key=lambda f: f.field)


class AgentInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="trainee login or external agent id")
    name: str | None = Field(None, description="display name, optional")


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    speaker: Literal["agent", "customer"]
    text: str = Field(description="what was said; non-empty")
    at: str | None = Field(None, description="ISO 8601 time of the turn")
    meta: dict[str, Any] | None = Field(
        None, description="free object kept as is (simulator state, mood, STT confidence)"
    )

    @field_validator("text")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text must not be empty")
        return v

    _at = field_validator("at")(classmethod(lambda cls, v: _iso8601(v)))


class Transcript(BaseModel):
    """A validated transcript/1 document. Turn numbers are 0-based positions in `turns`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    format: Literal["transcript/1"]
    scenario: str = Field(description="id of a scenario in scenarios/")
    language: str | None = Field(None, description="BCP 47; defaults to the scenario's")
    persona: str | None = None
    agent: AgentInfo | None = None
    started_at: str | None = None
    turns: list[Turn] = Field(min_length=1)

    @field_validator("scenario")
    @classmethod
    def _known(cls, v: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("known_scenarios")
        if known is not None and v not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ValueError(f"unknown scenario {v!r} (known: {listed})")
        return v

    @field_validator("language")
    @classmethod
    def _lang(cls, v: str | None) -> str | None:
        if v is not None and not LANG_RE.match(v):
            raise ValueError("not a BCP 47 language tag, e.g. zh-CN or en")
        return v

    _started = field_validator("started_at")(classmethod(lambda cls, v: _iso8601(v)))

    def agent_turns(self) -> list[tuple[int, Turn]]:
        return [(i, t) for i, t in enumerate(self.turns) if t.speaker == "agent"]

    def effective_language(self, scenario_language: str) -> str:
        return self.language or scenario_language


@dataclass(frozen=True)
class Bounds:
    """Size limits of one file: bytes, turns, characters in one turn's text (0: none)."""

    max_bytes: int = 0
    max_turns: int = 0
    max_turn_chars: int = 0


class TooLarge(DataFileError):
    """A file over one of its `Bounds`: `what` is "bytes", "turns" or "turn_chars",
    `limit` the bound and `actual` what the file has (None when it was not read whole)."""

    def __init__(self, file: str, field: str, what: str, limit: int, actual: int | None, turn: int | None = None):
        self.file, self.field, self.what, self.limit, self.actual = file, field, what, limit, actual
        self.turn = turn  # the turn's number, for "turn_chars"
        noun = {"bytes": "bytes", "turns": "turns", "turn_chars": "characters in one turn"}[what]
        has = f"has {actual:,} {noun}" if actual is not None else f"has more than {limit:,} {noun}"
        super().__init__([Fault(file, field, f"too large: {has}; at most {limit:,} are accepted")])


def _check_bounds(data: Any, file: str, bounds: Bounds) -> None:
    """TooLarge for too many turns or too long a turn, checked on the parsed JSON before
    the schema builds a model of every turn."""
    turns = data.get("turns") if isinstance(data, dict) else None
    if not isinstance(turns, list):
        return
    if bounds.max_turns and len(turns) > bounds.max_turns:
        raise TooLarge(file, "turns", "turns", bounds.max_turns, len(turns))
    if bounds.max_turn_chars:
        for i, turn in enumerate(turns):
            text = turn.get("text") if isinstance(turn, dict) else None
            if isinstance(text, str) and len(text) > bounds.max_turn_chars:
                raise TooLarge(file, f"turns[{i}].text", "turn_chars", bounds.max_turn_chars, len(text), i)


def read_transcript(
    source: Path | str | bytes,
    known_scenarios: Collection[str] | None,
    name: str | None = None,
    bounds: Bounds | None = None,
) -> Transcript:
    """Read one transcript/1 file (a path, or the raw bytes of an upload).

    Guarantees: returns a fully validated `Transcript` or raises `DataFileError` whose
    faults name the file (`name`, else the path, else ``<upload>``) and the JSON path of
    each fault (``turns[3].speaker``). `known_scenarios=None` skips the scenario-id check
    (only for tools that have no scenario directory). With `bounds`, a file over a limit
    raises `TooLarge`: the byte count is checked before anything is decoded (a path is
    read no further than the limit), turns and turn lengths before the schema runs.
    """
    bounds = bounds or Bounds()
    if isinstance(source, bytes):
        raw, file = source, name or "<upload>"
        if bounds.max_bytes and len(raw) > bounds.max_bytes:
            raise TooLarge(file, "", "bytes", bounds.max_bytes, len(raw))
    else:
        path = Path(source)
        file = name or str(path)
        try:
            with path.open("rb") as fh:
                raw = fh.read(bounds.max_bytes + 1) if bounds.max_bytes else fh.read()
        except OSError as exc:
            raise DataFileError([Fault(file, "", f"cannot read file: {exc.strerror or exc}")]) from None
        if bounds.max_bytes and len(raw) > bounds.max_bytes:
            raise TooLarge(file, "", "bytes", bounds.max_bytes, None)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError([Fault(file, "", f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(
            [Fault(file, "", f"bad JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")]
        ) from None
    except (RecursionError, ValueError) as exc:
        # RecursionError: nesting deeper than the parser's stack; ValueError: an integer
        # literal longer than Python's digit limit. Neither is a transcript.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise DataFileError([Fault(file, "", f"bad JSON: {reason}")]) from None
    if isinstance(data, dict) and data.get("format", FORMAT) != FORMAT:
        # Say this first: a newer format version would otherwise produce a pile of faults.
        raise DataFileError([Fault(file, "format", f"unsupported format {data['format']!r}; expected {FORMAT!r}")])
    _check_bounds(data, file, bounds)
    unstorable = _unstorable_text(data, [], file)
    if unstorable:
        raise DataFileError(unstorable)
    context = {"known_scenarios": frozenset(known_scenarios) if known_scenarios is not None else None}
    return parse_model(Transcript, data, file, context=context)


def transcript_to_dict(transcript: Transcript) -> dict[str, Any]:
    """The JSON object of the format: optional fields that are unset are left out."""
    out: dict[str, Any] = {"format": FORMAT, "scenario": transcript.scenario}
    for key in ("language", "persona"):
        value = getattr(transcript, key)
        if value is not None:
            out[key] = value
    if transcript.agent is not None:
        out["agent"] = transcript.agent.model_dump(exclude_none=True)
    if transcript.started_at is not None:
        out["started_at"] = transcript.started_at
    out["turns"] = [t.model_dump(exclude_none=True) for t in transcript.turns]
    return out


def write_transcript(transcript: Transcript, path: Path | str | None = None) -> str:
    """Serialise as transcript/1 JSON (UTF-8, 2-space indent, trailing newline).

    Deterministic: the same transcript always gives the same text. Writes it to `path`
    when given; returns the text either way. `read_transcript` accepts the output.
    """
    text = json.dumps(transcript_to_dict(transcript), ensure_ascii=False, indent=2) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def make_transcript(
    scenario: str,
    turns: list[tuple[str, str] | dict[str, Any]],
    *,
    file: str = "<drill>",
    **fields: Any,
) -> Transcript:
    """Build a validated transcript from (speaker, text) pairs or turn dicts (drill exports).

    Raises `DataFileError` (file ``<drill>``) on the same faults as `read_transcript`.
    """
    items = [t if isinstance(t, dict) else {"speaker": t[0], "text": t[1]} for t in turns]
    data = {"format": FORMAT, "scenario": scenario, **fields, "turns": items}
    return parse_model(Transcript, data, file)


LABELS = {
    "zh-CN": {"agent": "客服", "customer": "客户", "scenario": "场景", "language": "语言",
              "persona": "客户类型", "trainee": "坐席", "started": "开始时间"},
    "en": {"agent": "Agent", "customer": "Customer", "scenario": "Scenario", "language": "Language",
           "persona": "Persona", "trainee": "Agent id", "started": "Started"},
}


LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}


def render_text(transcript: Transcript, language: str | None = None, title: str | None = None,
                persona: str | None = None) -> str:
    """A plain-text rendering for download and review: a header, then ``[n] Speaker: text``.

    Turn numbers are the same 0-based numbers the score evidence refers to. `title` and
    `persona` are the scenario's title and the persona's display name, shown instead of
    their ids when given; the call's language is shown by name.
    """
    lang = language or transcript.language or "zh-CN"
    labels = LABELS["zh-CN" if lang.startswith("zh") else "en"]
    lines = [f"{labels['scenario']}: {title or transcript.scenario}"]
    if transcript.language:
        lines.append(f"{labels['language']}: {LANGUAGE_NAMES.get(transcript.language, transcript.language)}")
    if transcript.persona:
        lines.append(f"{labels['persona']}: {persona or transcript.persona}")
    if transcript.agent:
        who = transcript.agent.id + (f" ({transcript.agent.name})" if transcript.agent.name else "")
        lines.append(f"{labels['trainee']}: {who}")
    if transcript.started_at:
        lines.append(f"{labels['started']}: {transcript.started_at}")
    lines.append("")
    for i, turn in enumerate(transcript.turns):
        stamp = f" {turn.at}" if turn.at else ""
        lines.append(f"[{i}]{stamp} {labels[turn.speaker]}: {turn.text}")
    return "\n".join(lines) + "\n"
