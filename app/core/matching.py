"""Text matchers shared by scenario and rubric files.

A `Matcher` says when an utterance counts as doing something: every regex in
``all`` matches, at least one in ``any`` matches (if given), none in ``none`` matches,
and the recognised speech acts include every act in ``acts``. Regexes are compiled
once at load; an invalid regex is a validation fault naming the field.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Literal, Sequence

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


def span_in_negated(u: Any, span: tuple[int, int], pattern: str) -> bool:
    """`app.core.meaning.span_in_negated_clause` (imported late: meaning builds on this module)."""
    from app.core.meaning import span_in_negated_clause

    return span_in_negated_clause(u, span, pattern)


ACTION_KINDS = ("cancel", "refund", "submit", "enable", "change", "send", "callback", "compensate", "visit",
                "explain")


class MeaningSpec(BaseModel):
    """What a clause must mean: an action of a kind, on an object, with values.

    Matched through the turn's understanding (app/core/understanding.py): the object may
    be left out when it is the topic ("帮您退订" while 彩铃 is being discussed), amounts
    match in figures or words (15元 = 十五块), and a negated action never matches.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal[ACTION_KINDS] | None = Field(  # type: ignore[valid-type]
        None, description="kind of action performed, offered or promised: " + ", ".join(ACTION_KINDS))
    object: str | None = Field(None, description="id of one of the scenario's `objects` the action is about")
    amounts: list[float] = Field(default_factory=list, description="amounts in yuan that must all be stated")
    data_gb: list[float] = Field(default_factory=list, description="data volumes in GB that must all be stated")
    words: list[str] = Field(default_factory=list, description="plain words (not regexes); one must occur")
    all_words: list[str] = Field(default_factory=list, description="plain words (not regexes); all must occur")
    scope: Literal["clause", "turn"] = Field(
        "clause", description="where the values and words must occur: the action's clause, or anywhere in the turn")

    def is_empty(self) -> bool:
        return not (self.action or self.object or self.amounts or self.data_gb or self.words or self.all_words)


class Matcher(BaseModel):
    """When an utterance counts: all of `all`, one of `any`, none of `none`, every act in
    `acts`; or, given the turn's understanding, one of the `meaning` specs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    any: list[str] = Field(default_factory=list, description="regexes; at least one must match")
    all: list[str] = Field(default_factory=list, description="regexes; every one must match")
    none: list[str] = Field(default_factory=list, description="regexes; none may match")
    acts: list[str] = Field(default_factory=list, description="speech acts that must all be recognised")
    meaning: list[MeaningSpec] = Field(
        default_factory=list, description="meaning-based alternatives, matched through the turn's understanding")

    _check = field_validator("any", "all", "none")(classmethod(lambda cls, v: _check_patterns(v)))

    def is_empty(self) -> bool:
        return not (self.any or self.all or self.acts or self.meaning)

    def _patterns_match(self, text: str, acts: Iterable[str], u: Any) -> bool:
        if not (self.any or self.all or self.acts):
            return False
        if self.acts and not set(self.acts) <= set(acts):
            return False
        if self.any and not any(self._hit(p, text, u) for p in self.any):
            return False
        if not all(self._hit(p, text, u) for p in self.all):
            return False
        return not any(compile_pattern(p).search(text) for p in self.none)

    @staticmethod
    def _hit(pattern: str, text: str, u: Any) -> bool:
        # With an understanding, a hit inside a refusal ("我不会给您退订彩铃") does not count.
        return any(not span_in_negated(u, m.span(), pattern) for m in compile_pattern(pattern).finditer(text))

    def matches(self, text: str, acts: Iterable[str] = (), understanding: Any = None) -> bool:
        """True when the turn does what this matcher describes.

        Without an understanding only the regexes and acts are checked (the escape hatch
        for raw patterns). With one, a keyword list never matches, a regex hit inside a
        negated clause does not count, and the `meaning` specs are tried too.
        """
        return self.match_span(text, acts, understanding) is not None

    def match_span(self, text: str, acts: Iterable[str] = (), understanding: Any = None) -> tuple[int, int] | None:
        """Where the match is (the clause for a meaning match, the regex hit otherwise), or
        None when the turn does not match. A match with no locatable span gives (0, 0)."""
        if self.is_empty():
            return None
        u = understanding
        if u is not None and getattr(u, "token_list", False):
            return None
        if u is not None and self.meaning:
            from app.core.meaning import meaning_matches

            for spec in self.meaning:
                span = meaning_matches(spec, u)
                if span is not None and not any(compile_pattern(p).search(text) for p in self.none):
                    return span
        if self._patterns_match(text, acts, u):
            return self.first_span(text) or (0, 0)
        return None

    def match_spread(self, turns: Sequence[tuple[str, Iterable[str], Any]]) -> list[tuple[int, tuple[int, int] | None]] | None:
        """Where a run of consecutive turns, each (text, acts, understanding), does together
        what the matcher's regexes describe, or None. Teaching one step per turn names the
        setting in one turn and the slider in the next ("点'显示和亮度'" ... "找'字体大小'" ...
        "按住小圆点往右边拖"): every `all` regex must hit in some turn of the run, one `any`
        regex in some turn, no `none` regex in any, every act in some turn; a hit inside a
        negated clause never counts and a keyword list takes no part. Returns the turns that
        hold a hit, as (position in `turns`, span). Meaning specs are matched per turn
        (`match_span`), not here."""
        if not (self.any or self.all) or len(turns) < 2:
            return None
        if any(u is not None and getattr(u, "token_list", False) for _, _, u in turns):
            return None
        if any(compile_pattern(p).search(text) for text, _, _ in turns for p in self.none):
            return None
        if self.acts and not set(self.acts) <= {a for _, acts, _ in turns for a in acts}:
            return None

        def first_hit(pattern: str) -> tuple[int, tuple[int, int]] | None:
            for i, (text, _, u) in enumerate(turns):
                for m in compile_pattern(pattern).finditer(text):
                    if not span_in_negated(u, m.span(), pattern):
                        return i, m.span()
            return None

        hits = [first_hit(p) for p in self.all]
        if any(h is None for h in hits):
            return None
        if self.any:
            anyhit = next((h for p in self.any if (h := first_hit(p)) is not None), None)
            if anyhit is None:
                return None
            hits.append(anyhit)
        return sorted(set(hits))  # type: ignore[arg-type]

    def first_span(self, text: str) -> tuple[int, int] | None:
        """The span of the first regex hit, for highlighting evidence; None if none."""
        for pattern in [*self.all, *self.any]:
            m = compile_pattern(pattern).search(text)
            if m:
                return m.span()
        return None
