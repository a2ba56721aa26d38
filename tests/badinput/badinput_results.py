"""Writes the bad-input counts to the `badinput` section of benchmarks/RESULTS.md.

Called by tests/badinput/test_http.py when HOTLINE_RECORD_RESULTS=1; the section is
replaced in place (or appended), the other sections are left as they are.
"""
from __future__ import annotations

import os
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "RESULTS.md"
START, END = "<!-- badinput:start -->", "<!-- badinput:end -->"
OUTCOMES = ("4xx", "handled", "5xx")


def _memory() -> str:
    try:
        kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        return "unknown memory"
    return f"{kb / 2**20:.1f} GiB RAM"


def render(tally: dict, categories: dict[str, str]) -> str:
    lines = [START, "## Bad input over HTTP (`tests/badinput/test_http.py`)", "",
             "- Command: `HOTLINE_RECORD_RESULTS=1 TEST_DATABASE_URL=... python -m pytest tests/badinput/test_http.py`",
             f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
             f"- Machine: {os.cpu_count()} CPUs, {_memory()}, Python {platform.python_version()}",
             "- Counts are requests sent (markup: pages × payloads checked for escaping). 4xx: refused with",
             "  a message; handled: 2xx/3xx where the suite allows it (an unknown query parameter ignored,",
             "  a turn accepted once its control characters are stripped, a free-text field that may hold",
             "  `<script>` because it is escaped when shown); 5xx: server errors (the suite fails on any).", ""]
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


def write_section(tally: dict, categories: dict[str, str]) -> None:
    section = render(tally, categories)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")
