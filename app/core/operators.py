"""Operator profiles (`operators/<id>.yaml`) and the `{operator.…}` placeholders scenarios use.

A centre trains for one operator (China Mobile 10086, China Telecom 10000, China Unicom
10010); its hotline, number prefixes and forwarding codes differ. A scenario names them
through placeholders, filled in when the file is loaded, so one scenario serves every
operator and a trainee never meets another operator's codes:

- ``{operator.hotline}``, ``{operator.codes.cfu_off}``: the value as text (a list is
  joined with "、"; ``{operator.number_prefixes.0}`` picks one item);
- ``{operator.codes.cfu_off|re}``: the value as a regular expression for pattern fields
  (spaces allowed between the symbols and the digits, as people type "## 21 #"); for a
  code that takes a number ("**61*号码#") it is the part dialled before the number;
- ``{operator.codes.cfnry_on|prefix}``: that part as text ("**61*"), and ``|suffix`` what
  is dialled after the number ("#", nothing for China Telecom's "*92号码");
- ``{operator.other_codes}``: the forwarding codes of the other operators' code family,
  which do not work on this operator's numbers (with ``|re`` for a `wrong` pattern).

An unknown placeholder, or one the profile has no value for, is an error naming the
file, the field and the placeholder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.core.datafiles import DataFileError, Fault, field_path, load_model

OPERATORS_DIR = Path(__file__).resolve().parents[2] / "operators"
DEFAULT_OPERATOR = "china_mobile"
NUMBER_SLOT = "号码"  # where the dialled number goes in a code such as "**61*号码#"

PLACEHOLDER_RE = re.compile(r"\{operator\.([^{}|\s]+)(?:\|([a-z]+))?\}")
FILTERS = ("re", "prefix", "suffix")


class Codes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cfu_on: str = Field(description="unconditional forwarding on, with 号码 where the number goes")
    cfu_off: str = Field(description="unconditional forwarding off")
    cfb_on: str = Field(description="forwarding when busy on")
    cfb_off: str
    cfnry_on: str = Field(description="forwarding on no answer on")
    cfnry_off: str
    cfnrc_on: str = Field(description="forwarding when not reachable (off, no signal) on")
    cfnrc_off: str
    cf_all_off: str = Field(description="cancel every forwarding")
    dnd_on: str | None = Field(None, description="do-not-disturb on, where the network has a code")
    dnd_off: str | None = None


class OperatorProfile(BaseModel):
    """One operator's facts as scenarios need them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="the file name without .yaml; the centre's OPERATOR setting")
    name: str = Field(description="the operator's name as agents say it, e.g. 中国移动")
    hotline: str = Field(pattern=r"^\d{5}$", description="the service hotline, e.g. 10086")
    brands: list[str] = Field(min_length=1, description="customer brands, e.g. 全球通")
    app: str = Field(description="the self-service app's name")
    number_prefixes: list[str] = Field(min_length=2, description="mobile number prefixes; the first ones serve as sample numbers")
    code_family: Literal["gsm", "cdma"] = Field(description="which supplementary-service codes its phones use")
    codes: Codes

    @field_validator("number_prefixes")
    @classmethod
    def _prefixes(cls, v: list[str]) -> list[str]:
        bad = [p for p in v if not re.fullmatch(r"1\d{2}", p)]
        if bad:
            raise ValueError(f"a prefix is three digits starting with 1: {', '.join(bad)}")
        return v


@dataclass(frozen=True)
class Operator:
    """A profile plus what depends on the other profiles (their codes are wrong here)."""

    profile: OperatorProfile
    other_codes: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.profile.id


def _codes(profile: OperatorProfile) -> set[str]:
    return {v for v in profile.codes.model_dump().values() if v}


@lru_cache(maxsize=8)
def load_operators(operators_dir: str | Path = OPERATORS_DIR) -> dict[str, Operator]:
    """Every profile in the folder, validated. Raises DataFileError naming file and field."""
    folder = Path(operators_dir)
    profiles: dict[str, OperatorProfile] = {}
    faults: list[Fault] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            profile, _ = load_model(OperatorProfile, path)
        except DataFileError as exc:
            faults.extend(exc.faults)
            continue
        if profile.id != path.stem:
            faults.append(Fault(str(path), "id", f"id {profile.id!r} differs from the file name {path.stem!r}"))
            continue
        profiles[profile.id] = profile
    if faults:
        raise DataFileError(faults)
    if not profiles:
        raise DataFileError([Fault(str(folder), "", "no operator profile (<id>.yaml) in this folder")])
    out = {}
    for pid, profile in profiles.items():
        own = _codes(profile)
        # Codes the other family uses and this one does not (China Mobile and China Unicom
        # share theirs, so each of them lists only China Telecom's).
        others = sorted({c for p in profiles.values() if p.code_family != profile.code_family for c in _codes(p)} - own)
        out[pid] = Operator(profile, tuple(others))
    return out


def get_operator(operator_id: str | None = None, operators_dir: str | Path = OPERATORS_DIR) -> Operator:
    """The named profile (the default one when None); a clear error for an unknown id."""
    operator_id = operator_id or DEFAULT_OPERATOR
    known = load_operators(str(operators_dir))
    try:
        return known[operator_id]
    except KeyError:
        raise DataFileError([Fault(str(Path(operators_dir) / f"{operator_id}.yaml"), "",
                                   f"unknown operator {operator_id!r}; known: {', '.join(sorted(known))}")]) from None


def _code_regex(code: str) -> str:
    """A pattern for a code as dialled: runs of digits and of symbols may be spaced apart."""
    code = code.split(NUMBER_SLOT)[0]
    runs = re.findall(r"\d+|[^\d\s]+", code)
    return r"\s*".join(re.escape(r) for r in runs)


def _lookup(op: Operator, path: str) -> Any:
    if path == "other_codes":
        return list(op.other_codes)
    value: Any = op.profile.model_dump()
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(path)
    if value is None:
        raise KeyError(path)
    return value


def render(placeholder_path: str, filt: str | None, op: Operator) -> str:
    """The text for one placeholder. KeyError/ValueError carry the reason."""
    if filt is not None and filt not in FILTERS:
        raise ValueError(f"unknown filter {filt!r} (known: {', '.join(FILTERS)})")
    try:
        value = _lookup(op, placeholder_path)
    except KeyError:
        raise KeyError(f"operator {op.id!r} has no value for it") from None
    if isinstance(value, dict):
        raise ValueError("names a group, not a value; name one of its fields")
    items = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if filt == "re":
        # Longest first so "*720" is tried before "*72".
        pats = sorted((_code_regex(i) for i in items), key=len, reverse=True)
        return pats[0] if len(pats) == 1 else "(?:" + "|".join(pats) + ")"
    if filt == "prefix":
        items = [i.split(NUMBER_SLOT)[0] for i in items]
    elif filt == "suffix":
        items = [i.split(NUMBER_SLOT, 1)[1] if NUMBER_SLOT in i else "" for i in items]
    return "、".join(items)


def fill_text(text: str, op: Operator) -> str:
    """Replace every `{operator.…}` placeholder in one string. Raises ValueError naming it."""
    def one(m: re.Match) -> str:
        try:
            return render(m.group(1), m.group(2), op)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"placeholder {m.group(0)}: {exc.args[0]}") from None

    return PLACEHOLDER_RE.sub(one, text)


def fill_data(data: Any, op: Operator) -> tuple[Any, list[tuple[tuple, str]]]:
    """A copy of parsed file data with every placeholder filled in, and the problems.

    Each problem is (location of the field, reason naming the placeholder). A
    ``{operator`` the placeholder grammar does not match is a problem too, so a typo
    never reaches a trainee as raw braces."""
    problems: list[tuple[tuple, str]] = []

    def walk(node: Any, loc: tuple) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, loc + (k,)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, loc + (i,)) for i, v in enumerate(node)]
        if isinstance(node, str) and "{operator" in node:
            try:
                out = fill_text(node, op)
            except ValueError as exc:
                problems.append((loc, str(exc)))
                return node
            if "{operator" in out:
                problems.append((loc, "malformed placeholder: write it as {operator.hotline}"
                                      " or {operator.codes.cfu_off|re}"))
            return out
        return node

    return walk(data, ()), problems


def fill_for_validation(model_name: str, data: Any, context: dict | None) -> Any:
    """For a schema's `mode="before"` validator: the data with placeholders filled by the
    context's "operator" (an Operator or its id; the default profile when absent).

    Raises pydantic's ValidationError with one error per bad placeholder at its field."""
    if not isinstance(data, dict):
        return data
    op = (context or {}).get("operator")
    op = op if isinstance(op, Operator) else get_operator(op)
    out, problems = fill_data(data, op)
    if problems:
        raise ValidationError.from_exception_data(model_name, [
            InitErrorDetails(type=PydanticCustomError("operator_placeholder", "{reason}", {"reason": reason}),
                             loc=loc, input="") for loc, reason in problems])
    return out


def uses_placeholders(raw: bytes) -> bool:
    return b"{operator" in raw
