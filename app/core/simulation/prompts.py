"""The LLM customer's prompt template, kept as data (`scenarios/prompts/customer.<lang>.yaml`).

The LLM never decides what happens: it gets the scripted line the state machine chose,
the persona and the last few turns, and is asked to say that line in its own words.
"""
from __future__ import annotations

import string
from pathlib import Path

from pydantic import Field, field_validator

from app.core.datafiles import load_model
from app.core.scenario import Strict

PLACEHOLDERS = {
    "scenario_title", "customer_name", "customer_age", "customer_profile", "customer_goal",
    "persona_label", "persona_description", "mood_word", "history", "line",
}


class PromptExample(Strict):
    """One worked example shown to the model before the real request (few-shot)."""

    agent: str = Field("", description="what the agent just said (shown as the conversation so far; may be empty)")
    line: str = Field(min_length=1, description="the scripted line to rephrase")
    reply: str = Field(min_length=1, description="a good rephrasing: what the model should answer")


class CustomerPrompt(Strict):
    language: str = Field(description="language of the scenarios this prompt serves (zh-CN, en)")
    system: str = Field(description="system message template; placeholders: " + ", ".join(sorted(PLACEHOLDERS)))
    user: str = Field(description="user message template; must contain {line}, the scripted line to rephrase")
    speaker_labels: dict[str, str] = Field(description="how history turns are labelled: keys agent, customer")
    mood_words: list[str] = Field(min_length=3, description="words for mood from calm to furious (mood 0-10 is spread over them)")
    temperature: float = Field(0.7, ge=0, le=2)
    max_tokens: int = Field(120, ge=8, le=2000, description="a reply cut off at this many tokens falls back (reason length)")
    stop: list[str] = Field(default_factory=list, max_length=4,
                            description="strings that end the reply where the model writes them (e.g. a line break, "
                                        "after which small models go on writing both sides of the call)")
    history_turns: int = Field(4, ge=0, le=8, description="how many recent turns the model sees")
    max_chars: int = Field(description="a reply longer than this falls back to the scripted line")
    length_factor: float = Field(3.0, gt=1, description="a reply longer than factor x the scripted line (+10) falls back")
    role_flip_patterns: list[str] = Field(description="regexes that mean the model spoke as the agent")
    strip_prefixes: list[str] = Field(default_factory=list, description="speaker labels removed from the start of a reply")
    examples: list[PromptExample] = Field(
        default_factory=list, max_length=8,
        description="worked examples sent before the request as user/assistant turns, rendered with the user template")

    @field_validator("system", "user")
    @classmethod
    def _placeholders(cls, v: str, info) -> str:
        names = {n for _, n, _, _ in string.Formatter().parse(v) if n}
        unknown = names - PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {', '.join(sorted(PLACEHOLDERS))}")
        if info.field_name == "user" and "line" not in names:
            raise ValueError("the user template must contain {line}")
        return v

    @field_validator("role_flip_patterns")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        from app.core.matching import _check_patterns

        return _check_patterns(v)

    @field_validator("speaker_labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        if set(v) != {"agent", "customer"}:
            raise ValueError("needs exactly the keys agent and customer")
        return v

    def mood_word(self, mood: int) -> str:
        i = min(len(self.mood_words) - 1, max(0, mood) * len(self.mood_words) // 11)
        return self.mood_words[i]


def prompt_path(language: str, prompts_dir: Path | str = Path("scenarios/prompts")) -> Path:
    return Path(prompts_dir) / f"customer.{language}.yaml"


def load_prompt(language: str, prompts_dir: Path | str = Path("scenarios/prompts")) -> CustomerPrompt:
    """Load and validate one prompt file; DataFileError names file and field."""
    prompt, _ = load_model(CustomerPrompt, prompt_path(language, prompts_dir))
    return prompt
