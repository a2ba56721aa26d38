"""Labelled speech-act examples: the canonical act list, the file schema and the split.

The data files live in ``rubrics/acts/<language>.yaml`` and are loaded through
`app.core.datafiles.load_model`, so a broken file fails as a list of faults such as
``rubrics/acts/en.yaml: examples[12].acts[1]: unknown act 'gretting'``.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Literal

from pydantic_core import PydanticCustomError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.datafiles import load_model

ACTS: tuple[str, ...] = (
    "greeting", "self_id", "identity_request", "restate", "open_question", "closed_question",
    "empathy", "apology", "explanation", "solution_offer", "time_commitment", "confirm_result",
    "closing", "upsell", "blame_customer", "rude", "jargon", "forbidden_word",
)
LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
MIN_EXAMPLES_PER_ACT = 40
HELDOUT_FRACTION = 0.2
SPLIT_SEED = "hotline-acts-split-1"


def _fault(message: str) -> PydanticCustomError:
    # A custom error keeps the message as written; a plain ValueError would reach the
    # fault list prefixed with "Value error, ".
    return PydanticCustomError("acts_data", message)


def _known_act(name: str) -> str:
    if name not in ACTS:
        raise _fault(f"unknown act {name!r} (known acts: {', '.join(ACTS)})")
    return name


ActName = Annotated[str, AfterValidator(_known_act)]


class ActExample(BaseModel):
    """One agent utterance and the speech acts it performs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, description="The agent's words, one turn, as spoken.")
    acts: list[ActName] = Field(
        description="Acts the utterance performs, first the main one; [] for filler.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise _fault("text is blank")
        return value.strip()

    @field_validator("acts")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        repeated = sorted({a for a in value if value.count(a) > 1})
        if repeated:
            raise _fault(f"act listed twice: {', '.join(repeated)}")
        return value


def _unique_texts(value: list[ActExample]) -> list[ActExample]:
    seen: dict[str, int] = {}
    for i, ex in enumerate(value):
        if ex.text in seen:
            raise _fault(f"examples[{i}] repeats the text of examples[{seen[ex.text]}]")
        seen[ex.text] = i
    return value


class ActsFile(BaseModel):
    """A ``rubrics/acts/<language>.yaml`` file."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["zh-CN", "en"] = Field(description="Language of every example in the file.")
    acts: dict[ActName, str] = Field(
        description="Every canonical act with a one-line description (documentation).")
    examples: list[ActExample] = Field(description="Labelled utterances.")

    @field_validator("acts")
    @classmethod
    def _all_acts_described(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [a for a in ACTS if a not in value]
        if missing:
            raise _fault(f"no description for: {', '.join(missing)}")
        return value

    @field_validator("examples")
    @classmethod
    def _no_duplicate_texts(cls, value: list[ActExample]) -> list[ActExample]:
        # A sentence in the file twice could land on both sides of the split and
        # flatter the held-out figures.
        return _unique_texts(value)

    @field_validator("examples")
    @classmethod
    def _enough_per_act(cls, value: list[ActExample]) -> list[ActExample]:
        counts = Counter(a for ex in value for a in ex.acts)
        short = [f"{a} has {counts[a]}" for a in ACTS if counts[a] < MIN_EXAMPLES_PER_ACT]
        if short:
            raise _fault(
                f"too few examples (need at least {MIN_EXAMPLES_PER_ACT} per act): {'; '.join(short)}")
        return value

    @model_validator(mode="after")
    def _language_matches(self, info) -> "ActsFile":
        expected = (info.context or {}).get("language")
        if expected and expected != self.language:
            raise _fault(f"file says language {self.language!r}, expected {expected!r}")
        return self


def acts_path(language: str, acts_dir: Path | str) -> Path:
    """Where the examples for `language` live."""
    return Path(acts_dir) / f"{language}.yaml"


def load_examples(language: str, acts_dir: Path | str = Path("rubrics/acts")) -> tuple[ActsFile, str]:
    """Load and validate one language's file; returns (file, sha256 of its bytes).

    Raises DataFileError naming the file and field on any fault.
    """
    return load_model(ActsFile, acts_path(language, acts_dir), context={"language": language})


class ActsBatch(BaseModel):
    """A ``rubrics/acts/<language>.d/<batch>.yaml`` file: more training utterances, written
    by another hand than the main file (the way trainees really talk: long several-act
    turns, speech-to-text without punctuation, 你-register, typos). Every example of a
    batch is trained on; none is held out, so the main file's held-out figure stays
    comparable across batches."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["zh-CN", "en"] = Field(description="Language of every example in the file.")
    batch: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="The batch id: the file's name.")
    written_by: str = Field(min_length=1, description="Who wrote and labelled it, from what brief.")
    examples: list[ActExample] = Field(min_length=1, description="Labelled utterances.")

    @field_validator("examples")
    @classmethod
    def _no_duplicate_texts(cls, value: list[ActExample]) -> list[ActExample]:
        return _unique_texts(value)

    @model_validator(mode="after")
    def _language_matches(self, info) -> "ActsBatch":
        expected = (info.context or {}).get("language")
        if expected and expected != self.language:
            raise _fault(f"file says language {self.language!r}, expected {expected!r}")
        return self


def batch_paths(language: str, acts_dir: Path | str) -> list[Path]:
    """The language's extra training batches, in name order."""
    folder = Path(acts_dir) / f"{language}.d"
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def load_batches(language: str, acts_dir: Path | str = Path("rubrics/acts"),
                 exclude: set[str] | frozenset[str] = frozenset()) -> list[ActExample]:
    """Every example of the language's batches, in file order, without texts in `exclude`
    (the main file's: a batch must not put a held-out sentence into training) or seen in
    an earlier batch. Raises DataFileError naming the file and field on any fault, or a
    batch id that differs from its file name."""
    from app.core.datafiles import DataFileError, Fault

    out: list[ActExample] = []
    seen = set(exclude)
    for path in batch_paths(language, acts_dir):
        batch, _ = load_model(ActsBatch, path, context={"language": language})
        if batch.batch != path.stem:
            raise DataFileError([Fault(str(path), "batch", f"batch {batch.batch!r} differs from the file name {path.stem!r}")])
        for ex in batch.examples:
            if ex.text not in seen:
                seen.add(ex.text)
                out.append(ex)
    return out


def _stratum(example: ActExample) -> str:
    return example.acts[0] if example.acts else "none"


def _rank(example: ActExample) -> str:
    return hashlib.sha256(f"{SPLIT_SEED}\n{example.text}".encode("utf-8")).hexdigest()


def split_examples(examples: list[ActExample]) -> tuple[list[ActExample], list[ActExample]]:
    """Deterministic ~80/20 split, stratified by each example's first act (or "none").

    Within a stratum, examples are ordered by a seeded hash of their text and the first
    20 % (rounded, at least one when the stratum has 5 or more) are held out. Keying on
    the text rather than the position means adding an example elsewhere in the file
    never reshuffles the rest. Both lists keep the file order.

    The production model is trained on the first list only: the held-out figures that
    `evaluate` and the benchmark report are then measured on sentences the model has
    never seen, which is the only honest estimate of how it does on a trainee's words.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        groups[_stratum(ex)].append(i)
    held: set[int] = set()
    for indices in groups.values():
        n_held = round(len(indices) * HELDOUT_FRACTION)
        if n_held == 0 and len(indices) >= 5:
            n_held = 1
        held.update(sorted(indices, key=lambda i: _rank(examples[i]))[:n_held])
    train = [ex for i, ex in enumerate(examples) if i not in held]
    heldout = [ex for i, ex in enumerate(examples) if i in held]
    return train, heldout
