"""The bad-input counts, and writing them to the `badinput` section of benchmarks/RESULTS.md.

The HTTP and schemathesis suites add to TALLY as they send; at the end of the session
(tests/badinput/conftest.py), with HOTLINE_RECORD_RESULTS=1, the section is replaced in
place (or appended); the other sections are left as they are.
"""
from __future__ import annotations

import os
import platform
import re
from datetime import datetime, timezone
from collections import Counter, defaultdict
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "RESULTS.md"
START, END = "<!-- badinput:start -->", "<!-- badinput:end -->"
OUTCOMES = ("4xx", "handled", "5xx")

# {database: Counter((category, outcome))}
TALLY: dict[str, Counter] = defaultdict(Counter)
CATEGORIES = {
    "ids": "invalid ids in URLs (0, non-numeric, 2**31, 2**63, 10**30, ids of nothing)",
    "path_strings": "hostile strings as path parts (scenario, track, rubric ids ...)",
    "query": "hostile and huge query parameters (?page=10**30, ?answer=, filters)",
    "forms": "malformed form posts (missing, wrong-typed, duplicated fields; JSON to forms)",
    "turns": "broken drill turns (oversized, empty, control characters, invalid UTF-8, wrong JSON)",
    "size": "bodies over the request-size cap",
    "uploads": "broken transcript uploads",
    "markup": "HTML/script payloads stored, then every page showing them checked for escaping",
    "schemathesis": "schemathesis cases from docs/openapi.yaml (positive and negative) on the drill endpoints",
}


def _memory() -> str:
    try:
        kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        return "unknown memory"
    return f"{kb / 2**20:.1f} GiB RAM"


def render(tally: dict, categories: dict[str, str]) -> str:
    lines = [START, "## Bad input over HTTP (`tests/badinput/`)", "",
             "- Command: `HOTLINE_RECORD_RESULTS=1 TEST_DATABASE_URL=... python -m pytest tests/badinput`",
             f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
             f"- Machine: {os.cpu_count()} CPUs, {_memory()}, Python {platform.python_version()}",
             "- Counts are requests sent (markup: pages × payloads checked for escaping). 4xx: refused with",
             "  a message; handled: 2xx/3xx where the suite allows it (an unknown query parameter ignored,",
             "  a turn accepted once its control characters are stripped, a free-text field that may hold",
             "  `<script>` because it is escaped when shown; a schemathesis case valid by the description);",
             "  5xx: server errors (the suites fail on any).",
             "- turns: every body has one expected answer, asserted: a status, or the cleaned text stored once",
             "  and its resend (the same words again, as a stream request) answered 200 with the stored exchange",
             "  and nothing stored; 8 of the 16 handled are such resends. The 7 per database that moved from 4xx",
             "  to handled in the 2026-12-07 10:10 figures were checked one by one: each was a resend answered",
             "  with the stored exchange (before resends were recognised each was stored as a new turn; the",
             "  counts suggest the longer call then ended sooner and later turns got 409).", ""]
    for database in sorted(tally):
        counts = tally[database]
        lines += [f"### {database}", "", "| category | sent | 4xx | handled | 5xx |", "|---|---|---|---|---|"]
        total = {o: 0 for o in OUTCOMES}
        for cat, what in categories.items():
            row = {o: counts.get((cat, o), 0) for o in OUTCOMES}
            checked = counts.get((cat, "escaped"), 0)
            sent = sum(row.values())
            if not sent and not checked:
                continue
            for o in OUTCOMES:
                total[o] += row[o]
            extra = f" (+{checked} page×payload escaping checks)" if checked else ""
            lines.append(f"| {cat}: {what}{extra} | {sent} | {row['4xx']} | {row['handled']} | {row['5xx']} |")
        lines.append(f"| **all** | {sum(total.values())} | {total['4xx']} | {total['handled']} | {total['5xx']} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_section(tally: dict = TALLY, categories: dict[str, str] = CATEGORIES) -> None:
    section = render(tally, categories)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")
