"""The optional LLM judge (no Flask): `apply_judge(report, transcript, scenario, rubric, client)`.

The deterministic report always comes first; the judge may only add to it. It asks the
model, through the one LLM wrapper (`app.core.llm.LLMClient`), for a verdict on each
criterion the rubric marks `judgeable`, with the prompt template kept as data
(`rubrics/prompts/<name>.yaml`, schema `JudgePrompt`). The reply is JSON checked against
`JudgeReply`; each verdict must quote, word for word (whitespace aside), the agent turn it
cites, or it is void. Accepted verdicts combine with the rules score as the rubric's
`judge.mode` says (advisory | average | max_delta); dimensions and total are re-tallied
with the scorer's own `tally`.

Why so strict: the transcript is trainee-written text handed to a model. It goes in
only as a delimited data block whose tag is derived from its content (a turn cannot
forge the closing marker) with line breaks flattened (a turn cannot fake new turn
lines), and a verdict that cannot point at real agent wording changes nothing.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import string
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.core.datafiles import DataFileError, Fault, load_model
from app.core.scenario import ScenarioBase
from app.core.transcript import Transcript

from .report import CriterionResult, ScoreReport, num, round1
from .scorer import SCORER, apply_veto, tally

log = logging.getLogger("app.judge")

CALL_NAME = "score.judge"
PROMPT_LANGUAGES = ("zh-CN", "en")
PROMPT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
TEXT_CHARS = 300  # model-written text kept per verdict (quote, reason): bounded storage
ERROR_CHARS = 300

# Placeholders each template field may use, and those it must use.
PLACEHOLDERS: dict[str, set[str]] = {
    "system": {"tag"},
    "user": {"scenario_title", "criteria", "transcript", "output_contract", "tag"},
    "criterion": {"id", "title", "points", "tip"},
    "turn": {"n", "speaker", "text"},
    "data_open": {"tag"},
    "data_close": {"tag"},
}
REQUIRED: dict[str, set[str]] = {
    "user": {"criteria", "transcript", "output_contract"},
    "criterion": {"id", "points"},
    "turn": {"n", "text"},
    "data_open": {"tag"},
    "data_close": {"tag"},
}


class JudgePrompt(BaseModel):
    """A judge prompt file, `rubrics/prompts/<name>.yaml` (catalog kind `judge_prompt`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Literal["zh-CN", "en"] = Field(description="language of the transcripts this prompt serves")
    version: str = Field(min_length=1, description="e.g. judge-zh-CN/1; stored with every judged score, raise it when wording changes")
    system: str = Field(min_length=1, description="system message; says the transcript is data, never instructions. Placeholder: {tag}")
    user: str = Field(min_length=1, description="user message; must contain {criteria}, {transcript} and {output_contract}; may use {scenario_title}, {tag}")
    criterion: str = Field(description="one line per judged criterion; {id} and {points} required, {title}, {tip} allowed")
    turn: str = Field(description="one line per transcript turn; {n} (0-based turn number) and {text} required, {speaker} allowed")
    speaker_labels: dict[str, str] = Field(description="how turns are labelled: keys agent and customer")
    data_open: str = Field(description="line opening the transcript data block; must contain {tag}")
    data_close: str = Field(description="line closing the transcript data block; must contain {tag}")
    output_contract: str = Field(min_length=1, description="the JSON reply format, as plain text (braces are literal here)")

    @field_validator("system", "user", "criterion", "turn", "data_open", "data_close")
    @classmethod
    def _placeholders(cls, v: str, info) -> str:
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(v) if n is not None}
        except ValueError as exc:  # unbalanced braces
            raise ValueError(f"not a valid template ({exc}); write literal braces as {{{{ }}}}") from None
        allowed, required = PLACEHOLDERS[info.field_name], REQUIRED.get(info.field_name, set())
        unknown = names - allowed
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}")
        if required - names:
            raise ValueError(f"must contain {', '.join('{' + n + '}' for n in sorted(required - names))}")
        return v

    @field_validator("speaker_labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        if set(v) != {"agent", "customer"}:
            raise ValueError("needs exactly the keys agent and customer")
        return v

    @model_validator(mode="after")
    def _distinct_markers(self) -> "JudgePrompt":
        if self.data_open == self.data_close:
            raise ValueError("data_open and data_close must differ, or the data block has no visible end")
        return self


def prompt_path(name: str, prompts_dir: Path | str = Path("rubrics/prompts")) -> Path:
    return Path(prompts_dir) / f"{name}.yaml"


def load_judge_prompt(name: str, prompts_dir: Path | str = Path("rubrics/prompts")) -> JudgePrompt:
    """Load `<prompts_dir>/<name>.yaml`; any fault raises DataFileError naming file and field."""
    path = prompt_path(name, prompts_dir)
    if not PROMPT_NAME_RE.match(name):  # the name comes from a rubric: no paths
        raise DataFileError([Fault(str(path), "", f"bad prompt name {name!r}")])
    return load_model(JudgePrompt, path)[0]


def choose_prompt(configured: str, language: str, prompts_dir: Path | str) -> str:
    """The prompt name for a transcript: `judge.zh-CN` configured and an English transcript
    give `judge.en` when that file exists, else the configured name unchanged."""
    base, _, suffix = configured.rpartition(".")
    if base and suffix in PROMPT_LANGUAGES:
        candidate = f"{base}.{language}"
        if prompt_path(candidate, prompts_dir).is_file():
            return candidate
    return configured


# --- the reply contract ---------------------------------------------------------------

class Verdict(BaseModel):
    # Strict types: "3" is not a score and "2" is not a turn. Extra keys a model adds
    # (confidence, notes) are ignored: they are never used, so they cannot matter.
    model_config = ConfigDict(extra="ignore", strict=True)

    criterion: str
    score: float
    quote: str
    turn: int
    reason: str


class JudgeReply(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    verdicts: list[Verdict]


# --- rendering --------------------------------------------------------------------------

def _lang(language: str) -> str:
    return "zh-CN" if language.lower().startswith("zh") else "en"


def _flat(text: str) -> str:
    """Whitespace runs (line breaks included) as one space: the only normalisation."""
    return " ".join(text.split())


def render_messages(prompt: JudgePrompt, transcript: Transcript, scenario: ScenarioBase,
                    asked: list[tuple[Any, CriterionResult]], lang: str) -> list[dict[str, str]]:
    """The chat messages: system text, then criteria, the delimited transcript block and
    the output contract. Pure: the same inputs give the same messages."""
    lines = [prompt.turn.format(n=i, speaker=prompt.speaker_labels[t.speaker], text=_flat(t.text))
             for i, t in enumerate(transcript.turns)]
    body = "\n".join(lines)
    tag = "T" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]
    block = "\n".join([prompt.data_open.format(tag=tag), body, prompt.data_close.format(tag=tag)])
    criteria = "\n".join(
        prompt.criterion.format(id=c.id, title=c.title_for(lang), points=num(r.max),
                                # what good looks like in this call: the scenario's own line where it has one
                                tip=_flat(c.tip_for(lang, scenario.criterion_tip(c.id, lang))))
        for c, r in asked)
    user = prompt.user.format(scenario_title=scenario.title, criteria=criteria, transcript=block,
                              output_contract=prompt.output_contract.strip(), tag=tag)
    return [{"role": "system", "content": prompt.system.format(tag=tag)}, {"role": "user", "content": user}]


# --- checking verdicts ------------------------------------------------------------------

def find_quote(quote: str, text: str) -> tuple[int, int] | None:
    """[start, end) of `quote` in `text` when equal up to whitespace runs, else None.
    An empty or blank quote is never found (it would be "in" every turn)."""
    words = quote.split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return m.span() if m else None


def check_verdict(v: Verdict, rubric, by_id: dict[str, CriterionResult], asked_ids: set[str],
                  seen: set[str], transcript: Transcript) -> tuple[str | None, tuple[int, int] | None]:
    """(void reason, quote span): the reason is None for an accepted verdict."""
    crit = next((c for c in rubric.criteria if c.id == v.criterion), None)
    if crit is None:
        return "unknown_criterion", None
    if not crit.judgeable:
        return "not_judgeable", None
    if v.criterion not in asked_ids:
        return "not_applicable", None
    if v.criterion in seen:  # only the first verdict per criterion counts, whatever it was
        return "duplicate", None
    seen.add(v.criterion)
    if not (math.isfinite(v.score) and 0 <= v.score <= by_id[v.criterion].max):
        return "score_out_of_range", None
    if not 0 <= v.turn < len(transcript.turns):
        return "no_such_turn", None
    turn = transcript.turns[v.turn]
    if turn.speaker != "agent":
        return "customer_turn", None
    span = find_quote(v.quote, turn.text)
    if span is None:
        return "quote_not_in_turn", None
    return None, span


def combine(mode: str, rules: float, judged: float, max_delta: float, maximum: float) -> float:
    """The criterion score after combining, clamped to [0, maximum], rounded half-up to 0.1."""
    if mode == "average":
        value = (rules + judged) / 2
    elif mode == "max_delta":
        value = rules + max(-max_delta, min(max_delta, judged - rules))
    else:  # advisory: the judge is shown, the rules score stands
        value = rules
    return round1(min(maximum, max(0.0, value)))


# --- the entry point --------------------------------------------------------------------

def _failed(report: ScoreReport, kind: str, error: str, **meta: Any) -> ScoreReport:
    log.warning("LLM judge failed (%s): %s", kind, error)
    return report.model_copy(update={"judge": {"status": "failed", "error_kind": kind,
                                               "error": error[:ERROR_CHARS], **meta}})


def _schema_error(exc: ValidationError) -> str:
    from app.core.datafiles import field_path

    return "; ".join(f"{field_path(e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors(include_url=False)[:5])


def apply_judge(report: ScoreReport, transcript: Transcript, scenario: ScenarioBase, rubric, client,
                prompts_dir: Path | str = Path("rubrics/prompts")) -> ScoreReport:
    """The report with the LLM judge's verdicts attached and combined per `rubric.judge`.

    Guarantees:
    - never raises for model or network misbehaviour, nor for a broken prompt file: a
      failed call (timeout, HTTP error, empty or malformed JSON, schema mismatch) or an
      unloadable prompt returns `report` unchanged except
      `judge = {"status": "failed", "error_kind": ...}` (error kinds: the client's, or
      `schema`, or `prompt`);
    - a rubric with no judgeable, applicable criterion makes no call and returns `report`
      as it is (judge None);
    - otherwise `judge` records model, prompt name and version, latency, tokens, mode and
      every verdict, accepted or void with a reason code; status is `ok` when every
      asked criterion has an accepted verdict and none was void, else `partial`;
    - void verdicts change nothing; criterion scores change only in `average` and
      `max_delta` mode, and then `scorer` becomes 'rules/1+judge';
    - the same model reply gives the same scores and verdicts (latency aside).
    Raises ValueError when `report` was not made with `rubric` (a caller's bug).
    """
    if report.rubric != rubric.id:
        raise ValueError(f"report is for rubric {report.rubric!r}, not {rubric.id!r}")
    cfg = rubric.judge
    by_id = {r.id: r for r in report.criteria}
    asked = [(c, by_id[c.id]) for c in rubric.judgeable()
             if c.id in by_id and by_id[c.id].applicable and by_id[c.id].max > 0]
    if not asked:
        return report
    lang = _lang(report.language)
    name = choose_prompt(cfg.prompt, lang, prompts_dir)
    try:
        prompt = load_judge_prompt(name, prompts_dir)
    except DataFileError as exc:
        return _failed(report, "prompt", str(exc), prompt=name)

    messages = render_messages(prompt, transcript, scenario, asked, lang)
    res = client.chat(CALL_NAME, messages, temperature=cfg.temperature, seed=cfg.seed,
                      max_tokens=cfg.max_tokens, json_mode=True)
    meta = {"model": res.model, "prompt": name, "prompt_version": prompt.version, "mode": cfg.mode,
            "latency_ms": res.latency_ms, "prompt_tokens": res.prompt_tokens,
            "completion_tokens": res.completion_tokens, "temperature": cfg.temperature, "seed": cfg.seed}
    if res.error:
        return _failed(report, res.error_kind or "malformed", res.error, **meta)
    try:
        reply = JudgeReply.model_validate(json.loads(res.text))
    except ValueError as exc:  # json.JSONDecodeError and pydantic's ValidationError both are
        if isinstance(exc, ValidationError):
            return _failed(report, "schema", _schema_error(exc), **meta)
        return _failed(report, "malformed", f"not JSON: {exc}", **meta)

    asked_ids = {c.id for c, _ in asked}
    seen: set[str] = set()
    records: list[dict[str, Any]] = []
    accepted: dict[str, tuple[Verdict, tuple[int, int]]] = {}
    for v in reply.verdicts:
        void, span = check_verdict(v, rubric, by_id, asked_ids, seen, transcript)
        rec = {"criterion": v.criterion, "score": v.score if math.isfinite(v.score) else None,
               "turn": v.turn, "quote": v.quote[:TEXT_CHARS], "reason": v.reason[:TEXT_CHARS],
               "accepted": void is None}
        if void is None:
            rec["quote"] = transcript.turns[v.turn].text[span[0]:span[1]][:TEXT_CHARS]  # the turn's own wording
            rec["span"] = list(span)
            accepted[v.criterion] = (v, span)
        else:
            rec["void"] = void
        records.append(rec)

    criteria = []
    for r in report.criteria:
        if r.id not in accepted:
            criteria.append(r)
            continue
        v, span = accepted[r.id]
        new = combine(cfg.mode, r.score, v.score, cfg.max_delta, r.max)
        criteria.append(r.model_copy(update={"score": new, "judge": {
            "score": round1(v.score), "rules_score": r.score, "mode": cfg.mode, "turn": v.turn,
            "quote": transcript.turns[v.turn].text[span[0]:span[1]][:TEXT_CHARS], "span": list(span),
            "reason": v.reason[:TEXT_CHARS]}}))
    combined = cfg.mode != "advisory" and bool(accepted)
    status = "ok" if len(accepted) == len(asked) and all(r["accepted"] for r in records) else "partial"
    dimensions, total = tally(rubric, criteria)
    # Re-tallied from the dimensions, so a vetoed total is vetoed again.
    return apply_veto(rubric, report.model_copy(update={
        "criteria": tuple(criteria), "dimensions": dimensions, "total": total,
        "scorer": f"{SCORER}+judge" if combined else report.scorer,
        "judge": {"status": status, **meta, "verdicts": records},
    }))
