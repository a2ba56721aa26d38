"""Concurrency: N simulated trainees playing full scripted drills against gunicorn and
PostgreSQL on 127.0.0.1, N doubling from 1, to find the largest N with no error and a
mid-call turn p95 at most 5× the single-user p95 (the baseline, measured in the same run).

Each N is one bounded `locust --headless` run (benchmarks/locustfile.py: N users, all
started at once, for --seconds), every request's time recorded by the locustfile itself.
The search stops at the first N that fails (any error, or p95 over the bound) or at --max-users.
Throughput is completed turns (mid-call and call-ending) per second of the run.

Usage: python benchmarks/load_bench.py [--max-users 32] [--seconds 30] [--workers 4]
                                       [--plot PATH] [--results PATH] [--no-write]
Writes the section between <!-- load:start --> and <!-- load:end --> of RESULTS.md and the
latency curve benchmarks/load_curve.png.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import (BENCH_PASSWORD, PYTHON, RESULTS, bench_env, command_line,  # noqa: E402
                               fresh_database, gunicorn, machine_line, now_utc, percentile, prepare_database,
                               write_section)

SCENARIO = "billing_complaint"
SCRIPT = ROOT / "tests" / "data" / "agent_scripts" / f"{SCENARIO}.good.txt"
LOCUSTFILE = ROOT / "benchmarks" / "locustfile.py"
PLOT = ROOT / "benchmarks" / "load_curve.png"
P95_BOUND = 5.0


def run_locust(base: str, users: list[str], seconds: int, workdir: Path) -> dict:
    """One bounded locust run with len(users) users; the per-request samples, summarised."""
    samples_path = workdir / f"samples-{len(users)}.jsonl"
    env = {"BENCH_USERS": ",".join(users), "BENCH_PASSWORD": BENCH_PASSWORD, "BENCH_SCENARIO": SCENARIO,
           "BENCH_SCRIPT": str(SCRIPT), "BENCH_SAMPLES": str(samples_path)}
    cmd = [PYTHON, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base,
           "--users", str(len(users)), "--spawn-rate", str(len(users)), "--run-time", f"{seconds}s",
           "--stop-timeout", "30", "--only-summary", "--loglevel", "WARNING"]
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=seconds + 180)
    if not samples_path.exists():
        raise RuntimeError(f"locust wrote no samples (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    samples = [json.loads(line) for line in samples_path.read_text(encoding="utf-8").splitlines() if line]
    return summarise(samples, len(users))


def summarise(samples: list[dict], users: int) -> dict:
    mid = [s["ms"] for s in samples if s["name"] == "turn" and not s["error"]]
    final = [s["ms"] for s in samples if s["name"] == "final turn" and not s["error"]]
    turns = [s for s in samples if s["name"] in ("turn", "final turn") and not s["error"]]
    errors = [s for s in samples if s["error"]]
    if not mid:
        raise RuntimeError(f"no successful turn with {users} users; errors: {errors[:3]}")
    # Throughput over the span in which turns were being answered.
    span = max(s["start"] + s["ms"] / 1000 for s in turns) - min(s["start"] for s in turns)
    return {"users": users, "turns": len(turns), "requests": len(samples), "errors": len(errors),
            "error_examples": sorted({e["error"] for e in errors})[:3],
            "p50": percentile(mid, 50), "p95": percentile(mid, 95),
            "final_p95": percentile(final, 95) if final else float("nan"),
            "turns_per_s": len(turns) / span if span > 0 else float("nan")}


def search(base: str, names: list[str], seconds: int, workdir: Path) -> list[dict]:
    rows, n = [], 1
    while n <= len(names):
        r = run_locust(base, names[:n], seconds, workdir)
        single = rows[0]["p95"] if rows else r["p95"]
        r["ratio"] = r["p95"] / single
        r["passed"] = r["errors"] == 0 and r["ratio"] <= P95_BOUND
        print(f"N={n:>3}: {r['turns']} turns, {r['turns_per_s']:.1f} turns/s, p50 {r['p50']:.1f} ms, "
              f"p95 {r['p95']:.1f} ms ({r['ratio']:.2f}× single), errors {r['errors']}", flush=True)
        rows.append(r)
        if not r["passed"]:
            break
        n *= 2
    return rows


def plot(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    users = [r["users"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot(users, [r["p50"] for r in rows], "o-", label="turn p50 (ms)")
    ax.plot(users, [r["p95"] for r in rows], "s-", label="turn p95 (ms)")
    ax.axhline(rows[0]["p95"] * P95_BOUND, color="grey", linestyle="--", linewidth=1,
               label=f"bound: {P95_BOUND:g}× single-user p95")
    ax.set_xscale("log", base=2)
    ax.set_xticks(users, [str(u) for u in users])
    ax.set_xlabel("simulated trainees (no think time)")
    ax.set_ylabel("mid-call turn latency (ms)")
    tx = ax.twinx()
    tx.plot(users, [r["turns_per_s"] for r in rows], "^:", color="tab:green", label="throughput (turns/s)")
    tx.set_ylabel("turns/s")
    ax.set_ylim(bottom=0)
    tx.set_ylim(bottom=0)  # from zero: a flat throughput must look flat
    lines = ax.get_legend_handles_labels()
    more = tx.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def render(rows: list[dict], command: str, machine: str, date: str, workers: int, seconds: int,
           plot_path: Path) -> str:
    passed = [r for r in rows if r["passed"]]
    best = passed[-1] if passed else None
    stop = rows[-1]
    table = ["| N | turns | turns/s | p50 | p95 | p95 ÷ single-user p95 | call-ending turn p95 | errors | within bound |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        table.append(f"| {r['users']} | {r['turns']} | {r['turns_per_s']:.1f} | {r['p50']:.1f} ms | {r['p95']:.1f} ms "
                     f"| {r['ratio']:.2f} | {r['final_p95']:.1f} ms | {r['errors']} | {'yes' if r['passed'] else 'no'} |")
    if best is None:
        verdict = "No N passed: even a single user saw errors."
    else:
        verdict = (f"**Largest N within the bound: {best['users']}** simulated trainees, {best['turns_per_s']:.1f} turns/s "
                   f"({best['turns_per_s'] / rows[0]['turns_per_s']:.1f}× the single-user throughput), turn p95 "
                   f"{best['ratio']:.2f}× the single-user p95, no errors.")
        if not stop["passed"]:
            why = (f"{stop['errors']} errors ({'; '.join(stop['error_examples'])})" if stop["errors"]
                   else f"p95 {stop['ratio']:.2f}× the single-user p95")
            verdict += f" The next step, N={stop['users']}, fails: {why}."
        else:
            verdict += f" The search stopped at --max-users {stop['users']} without a failure."
    rel = plot_path.relative_to(ROOT / "benchmarks") if plot_path.is_relative_to(ROOT / "benchmarks") else plot_path
    return "\n".join([
        "## Concurrency (`benchmarks/load_bench.py`)",
        "",
        f"- Command: `{command}`",
        f"- Date: {date}",
        f"- Machine: {machine}; the load generator (locust, one process) runs on the same machine.",
        f"- Stack: gunicorn, {workers} sync workers, PostgreSQL (throwaway cluster, fsync off), development config.",
        f"- Each simulated trainee logs in through the form with its own account and plays full scripted drills",
        f"  ({SCENARIO}, agent lines of `tests/data/agent_scripts/{SCENARIO}.good.txt`) back to back, with no think",
        f"  time. One bounded locust run of {seconds} s per N; N doubles from 1 and stops at the first failure.",
        f"- Baseline: the N=1 run of the same session; bound: no error and mid-call turn p95 ≤ {P95_BOUND:g}× its p95.",
        "",
        *table,
        "",
        verdict,
        "",
        f"![turn latency and throughput against N]({rel})",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-users", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    machine, date = machine_line(), now_utc()
    with tempfile.TemporaryDirectory(prefix="hc-load-") as tmp, fresh_database("postgres") as url:
        env = bench_env(url, Path(tmp))
        names = prepare_database(env, trainees=args.max_users)
        with gunicorn(env, args.workers, Path(tmp) / "gunicorn.log") as base:
            rows = search(base, names, args.seconds, Path(tmp))
    plot(rows, args.plot, f"Drill turns vs concurrent trainees ({args.workers} gunicorn workers, {date})")
    section = render(rows, command_line("load_bench.py", argv), machine, date, args.workers, args.seconds, args.plot)
    print(section)
    if not args.no_write:
        write_section("load", section, args.results)
        print(f"wrote {args.results} and {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
