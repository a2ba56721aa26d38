"""Text matchers shared by scenario and rubric files.

A `Matcher` says when an utterance counts as doing something: every regex in
``all`` matches, at least one in ``any`` matches (if given), none in ``none`` matches,
and the recognised speech acts include every act in ``acts``. Regexes are compiled
once at load; an invalid regex is a validation fault naming the field.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _check_patterns(patterns: list[str]) -> list[str]:
    for i, pattern in enumerate(patterns):
        try:
            compile_pattern(pattern)
        except re.error as exc:
            raise ValueError(f"item {i}: invalid regular expression {pattern!r}: {exc}") from None
    return patterns


class Matcher(BaseModel):
    """When an utterance counts: all of `all`, one of `any`, none of `none`, every act in `acts`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    any: list[str] = Field(default_factory=list, description="regexes; at least one must match")
    all: list[str] = Field(default_factory=list, description="regexes; every one must match")
    none: list[str] = Field(default_factory=list, description="regexes; none may match")
    acts: list[str] = Field(default_factory=list, description="speech acts that must all be recognised")

    _check = field_validator("any", "all", "none")(classmethod(lambda cls, v: _check_patterns(v)))

    def is_empty(self) -> bool:
        return not (self.any or self.all or self.acts)

    def matches(self, text: str, acts: Iterable[str] = ()) -> bool:
        if self.is_empty():
            return False
        if self.acts and not set(self.acts) <= set(acts):
            return False
        if self.any and not any(compile_pattern(p).search(text) for p in self.any):
            return False
        if not all(compile_pattern(p).search(text) for p in self.all):
            return False
        return not any(compile_pattern(p).search(text) for p in self.none)

    def first_span(self, text: str) -> tuple[int, int] | None:
        """The span of the first regex hit, for highlighting evidence; None if none."""
        for pattern in [*self.all, *self.any]:
            m = compile_pattern(pattern).search(text)
            if m:
                return m.span()
        return None
