"""Optional second opinion on a turn's speech acts from a language model.

When configured, `understand` asks the model (through the one wrapper, `LLMClient`) for
the turn's acts as JSON, each with a quote copied from the agent's words. An act whose
quote does not occur in the text, or whose name is not an act, is void. The model's acts
are then combined with the local act model's by a rule (`RULES`): the rule is chosen on
a development split and reported in benchmarks/RESULTS.md (`llm-understanding`).

Any failure (timeout, server down, HTTP error, bad JSON, wrong shape) leaves the local
result as it was: `combine` only ever sees valid, quoted acts. Flask-free: the client
and the prompt are passed in as values.
"""
from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from pydantic import Field, field_validator

from app.core.acts_data import ACTS
from app.core.datafiles import load_model
from app.core.scenario import Strict

# forbidden_word is decided by rules (app/core/acts_rules.py), never by a model.
MODEL_ACTS: tuple[str, ...] = tuple(a for a in ACTS if a != "forbidden_word")


class ExampleAct(Strict):
    act: str
    quote: str = Field(min_length=1)


class PromptExample(Strict):
    """One worked example: an agent turn and the answer the model should give."""

    text: str = Field(min_length=1)
    acts: list[ExampleAct] = Field(default_factory=list)

    @field_validator("acts")
    @classmethod
    def _quotes_in_text(cls, v: list[ExampleAct], info) -> list[ExampleAct]:
        text = info.data.get("text", "")
        for a in v:
            if a.act not in MODEL_ACTS:
                raise ValueError(f"unknown act {a.act!r}")
            if a.quote not in text:
                raise ValueError(f"quote {a.quote!r} is not in the example's text")
        return v


class UnderstandingPrompt(Strict):
    """`rubrics/understanding/<language>.yaml`: the prompt of the LLM understanding."""

    language: str = Field(description="zh-CN or en")
    version: str = Field(min_length=1, description="stored with each turn's LLM record; raise it when wording changes")
    system: str = Field(description="system message; placeholder {definitions} (the act list)")
    user: str = Field(description="user message; must contain {text}, the agent's words")
    definition: str = Field(description="one line of the act list; placeholders {act} and {description}")
    definitions: dict[str, str] = Field(description="act name -> short description; names must be acts")
    examples: list[PromptExample] = Field(
        default_factory=list, max_length=6,
        description="worked examples sent before the request as user/assistant turns (few-shot)")
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int = Field(160, ge=16, le=2000)

    @field_validator("definitions")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = set(v) - set(MODEL_ACTS)
        if unknown:
            raise ValueError(f"unknown act(s) {sorted(unknown)}; known: {', '.join(MODEL_ACTS)}")
        return v

    @field_validator("user")
    @classmethod
    def _has_text(cls, v: str) -> str:
        if "text" not in {n for _, n, _, _ in string.Formatter().parse(v) if n}:
            raise ValueError("the user template must contain {text}")
        return v

    def messages(self, text: str) -> list[dict]:
        # The fixed system message comes first so a local server reuses its cached prefix.
        listing = "\n".join(self.definition.format(act=a, description=d) for a, d in self.definitions.items())
        messages = [{"role": "system", "content": self.system.format(definitions=listing)}]
        for ex in self.examples:
            answer = {"acts": [{"act": a.act, "quote": a.quote} for a in ex.acts]}
            messages += [{"role": "user", "content": self.user.format(text=ex.text)},
                         {"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)}]
        return messages + [{"role": "user", "content": self.user.format(text=" ".join(text.split()))}]


def load_understanding_prompt(language: str, prompts_dir: Path | str = Path("rubrics/understanding")) -> UnderstandingPrompt:
    """Load `<prompts_dir>/<language>.yaml`; a fault raises DataFileError naming file and field."""
    prompt, _ = load_model(UnderstandingPrompt, Path(prompts_dir) / f"{language}.yaml")
    if prompt.language != language:
        raise ValueError(f"{prompts_dir}/{language}.yaml: language: says {prompt.language!r}")
    return prompt


@dataclass(frozen=True)
class LLMActs:
    """What the model said about one turn: valid acts with their quotes, the items it
    named that were void (act unknown or quote not in the text), and the call record."""

    acts: Mapping[str, str] = field(default_factory=dict)  # act -> quote
    void: tuple[dict, ...] = ()
    error_kind: str | None = None  # the client's kinds, or "shape" for JSON of the wrong form
    latency_ms: int = 0
    model: str = ""
    version: str = ""

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    def meta(self) -> dict:
        """JSON-ready record for a turn's meta."""
        return {"acts": dict(self.acts), "void": len(self.void), "error_kind": self.error_kind,
                "latency_ms": self.latency_ms, "model": self.model, "version": self.version}


def _quoted(quote: str, text: str) -> bool:
    q = quote.strip().strip("，,。.！!？?；;：:、\"'“”‘’ ")
    return bool(q) and " ".join(q.split()).lower() in " ".join(text.split()).lower()


def parse_acts(reply: str, text: str) -> tuple[dict[str, str], list[dict]] | None:
    """The valid acts (act -> first good quote) and the void items of a model reply, or
    None when the reply is not a JSON object with an `acts` list of objects."""
    try:
        data = json.loads(reply)
    except ValueError:
        return None
    items = data.get("acts") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return None
    acts: dict[str, str] = {}
    void: list[dict] = []
    for item in items:
        act, quote = item.get("act"), item.get("quote")
        if act in MODEL_ACTS and isinstance(quote, str) and _quoted(quote, text):
            acts.setdefault(act, quote.strip())
        else:
            void.append(item)
    return acts, void


@dataclass(frozen=True)
class LLMUnderstanding:
    """The configured LLM understanding: the client (anything with `LLMClient.chat`), the
    prompt of each language, and the combination rule with the acts it lets the model add.

    `adds` maps a language to the acts the model may add to the local result under the
    rule "add" (chosen where its precision on the development split was high)."""

    client: Any
    prompt_for: Callable[[str], UnderstandingPrompt]
    rule: str = "add"
    adds: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def ask(self, text: str, language: str) -> LLMActs:
        """The model's acts for `text`; never raises (a failure is an LLMActs with error_kind)."""
        try:
            prompt = self.prompt_for(language)
        except Exception as exc:  # noqa: BLE001 - a missing prompt must not fail the turn
            return LLMActs(error_kind=f"prompt: {type(exc).__name__}")
        if not text.strip():
            return LLMActs(version=prompt.version)
        r = self.client.chat("understanding", prompt.messages(text), temperature=prompt.temperature,
                             max_tokens=prompt.max_tokens, json_mode=True)
        base = dict(latency_ms=r.latency_ms, model=r.model, version=prompt.version)
        if not r.ok:
            return LLMActs(error_kind=r.error_kind or "error", **base)
        parsed = parse_acts(r.text, text)
        if parsed is None:
            return LLMActs(error_kind="shape", **base)
        acts, void = parsed
        return LLMActs(acts=acts, void=tuple(void), **base)

    def combine(self, local: frozenset[str], llm: LLMActs, language: str) -> frozenset[str]:
        return combine(local, llm, self.rule, self.adds.get(language, frozenset()))


def _local(local, llm, adds):
    return local


def _model(local, llm, adds):
    # The model's acts, but the rule-decided forbidden_word stays the local one's.
    return frozenset(llm.acts) | (local & {"forbidden_word"})


def _union(local, llm, adds):
    return local | frozenset(llm.acts)


def _add(local, llm, adds):
    return local | (frozenset(llm.acts) & adds)


def _agree(local, llm, adds):
    # The model vetoes: a local act stays only when the model names it too.
    return (local & (frozenset(llm.acts) | {"forbidden_word"}))


RULES: dict[str, Callable[[frozenset, LLMActs, frozenset], frozenset]] = {
    "local": _local, "llm": _model, "union": _union, "add": _add, "agree": _agree,
}


def combine(local: frozenset[str], llm: LLMActs, rule: str, adds: frozenset[str] = frozenset()) -> frozenset[str]:
    """The turn's acts from the local result and the model's. A failed call leaves the
    local result unchanged whatever the rule."""
    if rule not in RULES:
        raise ValueError(f"unknown combination rule {rule!r}; known: {', '.join(RULES)}")
    if not llm.ok:
        return frozenset(local)
    return frozenset(RULES[rule](frozenset(local), llm, frozenset(adds)))


# The acts the model may add under the rule "add", per language: chosen on the
# development split by benchmarks/llm_understanding_bench.py. For the llm tier's 0.5B model
# none qualified (its additions over the local acts were right 0 of 26 times in zh-CN and
# 1 of 26 in en; RESULTS.md, `llm-understanding`), so "add" leaves the local acts as they
# are; LLM_UNDERSTANDING_ADDS names the acts for another model once measured.
DEFAULT_ADDS: dict[str, frozenset[str]] = {"zh-CN": frozenset(), "en": frozenset()}
