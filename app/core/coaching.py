"""What a trainee should fix first after a drill: the coaching loop's opening lines.

`fix_first` picks the criteria that lost the most points, weighted by how fixable they
are, and says for each where in the call it went wrong (turn and quote) and what to say
instead in this scenario. Plain data in, plain data out: the report service passes the
scored criteria (after the trainer's review), the rubric and scenario data and the
transcript.

The rule, stated once (the report's footnote says the same in the reader's language):

    priority = points lost × fixability of the criterion's kind

Fixability (`FIXABILITY`) is how directly one call's advice changes the next call: a
missing or a wrong sentence (act criteria) is fixed by saying one line differently (1.0);
the order of steps or a resolution step is a little more work (0.8); a habit across all
turns (courtesy share) 0.7; a fact the trainee did not know has to be learnt first (0.6);
the customer's end state and mood follow from everything else and cannot be fixed on
their own (0.2). A "never did it wrong" criterion (act_absent) without any evidence lost
its points only through the credit rule, not through a fault, so it is not a thing to
fix (0). Ties go to a fault with a quote over an omission, then to the bigger loss,
then to rubric order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

FIXABILITY: dict[str, float] = {
    "act_present": 1.0,
    "act_absent": 1.0,
    "order": 0.8,
    "resolution_items": 0.8,
    "turn_share": 0.7,
    "knowledge_points": 0.6,
    "end_state": 0.2,
    "mood_trajectory": 0.2,
}
DEFAULT_FIXABILITY = 0.5  # a kind added later without a weight here
HOW_MANY = 3


@dataclass(frozen=True)
class FixItem:
    """One thing to fix first."""

    criterion_id: str  # the report's id (`knowledge_points.refund_days` for an expanded kind)
    title: str
    lost: float  # points lost (max − score after review; a negative score loses more than max)
    priority: float  # lost × fixability
    turn: int | None  # transcript turn (0-based, as the report numbers them); None: never said
    quote: str  # what the trainee said there ("" when nothing: an omission anywhere in the call)
    line: str  # the whole agent turn the quote is from ("" when no turn)
    better: str  # a better line for this scenario: its own model line, else the rubric's
    tip: str  # what to do: the scenario's own tip, else the rubric's (an expanded item's own)


def _text(texts: Any, lang: str) -> str:
    if isinstance(texts, dict):
        return texts.get(lang) or texts.get("zh-CN") or next(iter(texts.values()), "")
    return str(texts or "")


def _lost(c: dict) -> float:
    return round(float(c.get("max") or 0) - float(c.get("score") or 0), 1)


def _fixability(c: dict) -> float:
    kind = c.get("kind", "")
    if kind == "act_absent" and not c.get("evidence"):
        return 0.0
    return FIXABILITY.get(kind, DEFAULT_FIXABILITY)


def _where(c: dict, rubric_crit: dict, turns: list[tuple[str, str]]) -> tuple[int | None, str, str]:
    """(turn, quote, whole line) for a lost criterion: its first evidence in an agent turn;
    for a missing act with a window, the agent turn where it belonged (first or last)."""
    for ev in c.get("evidence") or []:
        n = ev.get("turn")
        if isinstance(n, int) and 0 <= n < len(turns) and turns[n][0] == "agent":
            return n, ev.get("quote") or turns[n][1], turns[n][1]
    window = (rubric_crit.get("params") or {}).get("window")
    agent = [i for i, (speaker, _) in enumerate(turns) if speaker == "agent"]
    if agent and window in ("first_agent_turns", "last_agent_turns"):
        n = agent[0] if window == "first_agent_turns" else agent[-1]
        return n, turns[n][1], turns[n][1]
    return None, "", ""


def fix_first(criteria: Iterable[dict], rubric: dict, scenario: dict, turns: list[tuple[str, str]],
              call_language: str, reader_language: str, how_many: int = HOW_MANY) -> list[FixItem]:
    """The `how_many` criteria to fix first, highest priority first (rule in the module
    docstring). `criteria` are the report's criterion dicts with `score` after the
    trainer's review; N/A criteria and those at full marks are never picked. `turns`
    are (speaker, text) of the transcript. The better line is in the call's language
    (it is said to the customer): the scenario's `criterion_tips` model line, else the
    rubric's model line, else the tip. Fewer than `how_many` when fewer lost points."""
    by_id = {c["id"]: c for c in rubric.get("criteria", [])}
    order = {cid: i for i, cid in enumerate(by_id)}
    own_tips = scenario.get("criterion_tips") or {}
    candidates = []
    for c in criteria:
        if not c.get("applicable", True) or _lost(c) <= 0:
            continue
        priority = round(_lost(c) * _fixability(c), 2)
        if priority <= 0:
            continue
        base = c["id"].split(".")[0]
        candidates.append((-priority, not c.get("evidence"), -_lost(c), order.get(base, len(order)), c))
    candidates.sort(key=lambda t: t[:4])
    out = []
    for neg_priority, _, _, _, c in candidates[:how_many]:
        base = c["id"].split(".")[0]
        rc = by_id.get(base, {})
        own = own_tips.get(base) or {}
        turn, quote, line = _where(c, rc, turns)
        better = own.get("model") or _text(rc.get("model"), call_language) or ""
        # An expanded item's stored tip is the item's own (a knowledge point's); an act
        # criterion's stored tip already carries the model line shown apart here.
        tip = own.get("tip") or (c.get("tip") if "." in c["id"] else _text(rc.get("tip"), reader_language))
        title = _text(rc.get("title"), reader_language) or base
        if "." in c["id"]:  # an expanded kind: one result per scenario item, named by the item
            item = c["id"].split(".", 1)[1]
            texts = {p["id"]: p.get("text") for key in ("knowledge_points", "resolution_items")
                     for p in scenario.get(key, []) if isinstance(p, dict) and "id" in p}
            title = f"{title}: {texts.get(item) or item}"
        out.append(FixItem(c["id"], title, _lost(c), -neg_priority, turn, quote, line, better, tip))
    return out
