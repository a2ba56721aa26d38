"""Write reliability figures into benchmarks/RESULTS.md, only when HOTLINE_RECORD_RESULTS=1.

The file's `<!-- reliability:start -->` … `<!-- reliability:end -->` section belongs to
these tests; inside it each test owns a part between `<!-- reliability/PART:start -->`
and `<!-- reliability/PART:end -->`, replaced in place so that recording the PostgreSQL
soak does not erase the SQLite one. Nothing outside the section is touched.
"""
from __future__ import annotations

import os
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "RESULTS.md"
SECTION = "reliability"
HEADER = ("## Reliability (`tests/reliability/`)\n\n"
          "Counts, not timings: what the crash, LLM-fault and concurrent-edit tests saw on their "
          "last recorded run. Each part names the command that reproduces it.\n")


def recording() -> bool:
    return os.environ.get("HOTLINE_RECORD_RESULTS") == "1"


def machine() -> str:
    try:
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:"))
        memory = f"{mem_kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, StopIteration, ValueError):
        memory = "memory unknown"
    return f"{os.cpu_count()} CPUs, {memory}, {platform.platform()}, Python {platform.python_version()}"


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _block(name: str, body: str) -> str:
    return f"<!-- {name}:start -->\n{body.rstrip()}\n<!-- {name}:end -->"


def record(part: str, body: str, path: Path = RESULTS) -> None:
    """Put `body` (markdown) as part `part` of the reliability section, in place."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    section = re.search(rf"<!-- {SECTION}:start -->\n(.*?)<!-- {SECTION}:end -->", text, re.S)
    inner = section.group(1) if section else HEADER
    name = f"{SECTION}/{part}"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    new_part = _block(name, body)
    if pattern.search(inner):
        inner = pattern.sub(lambda _: new_part, inner)
    else:
        inner = inner.rstrip() + "\n\n" + new_part + "\n"
    new_section = _block(SECTION, inner)
    if section:
        text = text[:section.start()] + new_section + text[section.end():]
    else:
        text = text.rstrip() + "\n\n" + new_section + "\n"
    path.write_text(text, encoding="utf-8")
