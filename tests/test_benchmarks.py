"""The benchmark scripts run end to end in a tiny mode and write the figures they promise
(into a temporary RESULTS file, never the real one). Correctness only: no timing is
asserted, only that each figure is there, is a number and agrees with the counts."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_bench(script: str, *args: str, timeout: int = 240) -> str:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout


def section(results: Path, name: str) -> str:
    text = results.read_text(encoding="utf-8")
    assert text.count(f"<!-- {name}:start -->") == 1 and text.count(f"<!-- {name}:end -->") == 1
    return text.split(f"<!-- {name}:start -->")[1].split(f"<!-- {name}:end -->")[0]


def table_rows(text: str, first_cell: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith(f"| {first_cell}")]


@pytest.fixture
def results(tmp_path) -> Path:
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\n<!-- other:start -->\nkept\n<!-- other:end -->\n", encoding="utf-8")
    return path


def test_write_section_replaces_only_its_own_section(results):
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import percentile, write_section

    write_section("mine", "first", results)
    write_section("mine", "second", results)
    assert section(results, "mine").strip() == "second" and section(results, "other").strip() == "kept"
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([5], 95) == 5


@pytest.mark.postgres
def test_turn_bench_tiny(pg_server_url, cache_dir, results):
    run_bench("turn_bench.py", "--turns", "6", "--warmup", "1", "--workers", "1", "--results", str(results))
    text = section(results, "turn")
    assert "Command: `python benchmarks/turn_bench.py --turns 6" in text and "cores (nproc)" in text
    (base,), (mid,), (streamed,) = (table_rows(text, "baseline"), table_rows(text, "drill turn (mid"),
                                    table_rows(text, "drill turn, streamed"))
    assert int(mid[1]) == 6 and int(streamed[1]) > 0
    assert int(base[1]) >= 6 + int(streamed[1])  # every timed turn has its baseline request
    for row in (base, mid, streamed):
        p50, p95 = (float(re.match(r"([\d.]+) ms", cell).group(1)) for cell in row[2:4])
        assert 0 < p50 <= p95
    assert float(mid[4].strip("*")) == pytest.approx(float(mid[2].split()[0]) / float(base[2].split()[0]), rel=0.02)


@pytest.mark.postgres
def test_load_bench_tiny(pg_server_url, cache_dir, results, tmp_path):
    plot = tmp_path / "curve.png"
    run_bench("load_bench.py", "--max-users", "2", "--seconds", "2", "--workers", "2", "--plot", str(plot),
              "--results", str(results))
    text = section(results, "load")
    rows = [r for r in table_rows(text, "") if r[0].isdigit()]
    assert [r[0] for r in rows] == ["1", "2"][:len(rows)] and rows
    assert all(int(r[1]) > 0 and float(r[2]) > 0 for r in rows)
    assert "Largest N within the bound" in text or "fails" in text
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def check_export(text: str, rows: int) -> None:
    lines = [r for r in table_rows(text, f"{rows:,}")]
    assert [r[1] for r in lines] == ["baseline", "csv", "xlsx"]
    # The script itself reads every file back and fails unless it holds exactly `rows` rows.
    assert all(re.fullmatch(r"[\d.]+ s", r[2]) and re.fullmatch(r"[\d.]+ MiB", r[4]) and re.fullmatch(r"[\d.]+ MB", r[5])
               for r in lines), lines
    assert lines[0][3] == "1.00"


def test_export_bench_tiny_sqlite(results):
    out = run_bench("export_bench.py", "--rows", "120", "--repeat", "1", "--db", "sqlite", "--results", str(results))
    assert "sqlite: 120 results" in out
    check_export(section(results, "export"), 120)


@pytest.mark.postgres
def test_export_bench_tiny_postgres(pg_server_url, results):
    run_bench("export_bench.py", "--rows", "120", "--repeat", "1", "--db", "postgres", "--results", str(results))
    text = section(results, "export")
    assert "### PostgreSQL" in text
    check_export(text, 120)


def test_capacity_bench_tiny(cache_dir, results):
    """Two tiny steps against the production config and the old sync workers on SQLite:
    every step's row is there, its turns were answered and the verdict names both."""
    out = run_bench("capacity_bench.py", "--steps", "1,2", "--baseline-steps", "1", "--seconds", "8", "--latency",
                    "0.2", "--think", "0.3", "--databases", "sqlite", "--configs", "production,sync4",
                    "--results", str(results), timeout=400)
    text = section(results, "capacity")
    assert "Command: `python benchmarks/capacity_bench.py --steps 1,2" in text and "cores (nproc)" in text
    assert "gunicorn -c gunicorn.conf.py" in text and "4 sync workers" in text
    rows = [r for r in table_rows(text, "") if r[0].isdigit()]
    assert rows and {r[0] for r in rows} <= {"1", "2"}
    for r in rows:
        turns, errors = int(r[1]), int(r[7])
        assert turns > 0 and errors >= 0
        assert (r[9] == "yes") == (errors == 0 and float(r[4].split()[0]) <= 1200)  # bound: latency + 1 s
    assert "SQLite file (WAL), production: **" in text and "SQLite file (WAL), sync4: **" in text
    assert "sqlite/production N=  1" in out


def test_adversarial_bench(cache_dir, results):
    run_bench("adversarial_bench.py", "--cache-dir", str(cache_dir), "--results", str(results))
    text = section(results, "adversarial")
    assert "Command: `python benchmarks/adversarial_bench.py --cache-dir" in text and "cores (nproc)" in text
    groups, (everything,) = table_rows(text, "zh-CN") + table_rows(text, "en"), table_rows(text, "all")
    assert len(groups) == 6  # two languages x keyword lists, comma lists, refusals
    assert sum(int(g[2]) for g in groups) == int(everything[2]) > 0
    assert max(float(g[3]) for g in groups) == float(everything[3])
    for column in (5, 6):  # above the ceiling, resolved
        assert sum(int(g[column]) for g in groups) == int(everything[column])


def test_batch_bench_tiny(cache_dir, results, redis_available):
    """Two real workers and the SIGKILL run on a handful of files (SQLite): every file is
    scored exactly once in each run, and the section says so with its command."""
    run_bench("batch_bench.py", "--n", "8", "--db", "sqlite", "--results", str(results), timeout=600)
    text = section(results, "batch")
    assert "Command: `python benchmarks/batch_bench.py --n 8 --db sqlite" in text
    (loop,), (workers,) = table_rows(text, "plain loop"), table_rows(text, "Celery, 2 workers")
    assert loop[1:4] == ["8", "8", "0"] and workers[1:4] == ["8", "8", "0"]
    assert float(loop[4]) > 0 and float(workers[4]) > 0
    assert "Every transcript scored exactly once: **yes**" in text
    assert "8 of 8 items finished" in text and "8 drills, 8 scores, 8 import records" in text


@pytest.fixture
def redis_available():
    import os
    import shutil

    if shutil.which("redis-server") is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("CI is set but redis-server is missing: `.ci/run` installs it")
        pytest.skip("redis-server is not installed (`.ci/run` installs it)")
