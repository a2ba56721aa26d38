"""Capacity: how many trainees, thinking between turns, one server holds with the LLM
customer answering after a provider's latency.

Simulated trainees (benchmarks/capacity_locustfile.py) each log in, start drills with the
LLM customer and send a scripted agent's lines as the drill page does (streamed), thinking
--think seconds before every turn. The customer is tests/fakes/openai_server.py, an
OpenAI-compatible server on 127.0.0.1 in this process that answers every call after
--latency seconds. For each database (SQLite file, PostgreSQL) and each server
configuration, N steps through --steps; each step is one bounded locust run of --seconds
(trainees arrive over the first tenth of it, whose turns are not timed). A step passes
with no error at all (logins, starts, turns) and a mid-call turn p95 at most --latency + 1 s;
the search stops at the first step that fails.

Configurations: `production` is `gunicorn -c gunicorn.conf.py` (the README's command);
`sync4` is the command the README had before (4 sync workers), the baseline of the same
run; `sync4warm` is 4 sync workers with the production file's warm-up (the worker model alone);
`gevent` is the production file with gevent workers, for the choice of worker class.

Usage: python benchmarks/capacity_bench.py [--steps 16,32,64,96,128,200] [--baseline-steps 4,8,16,32]
           [--seconds 75] [--latency 1.5] [--think 5] [--databases sqlite,postgres]
           [--configs production,sync4] [--section capacity] [--results PATH] [--no-write]
Writes the section between <!-- SECTION:start --> and <!-- SECTION:end --> of RESULTS.md
(--section, default capacity). --baseline-steps are the steps of sync4, which fails early.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import (BENCH_PASSWORD, PYTHON, RESULTS, bench_env, command_line,  # noqa: E402
                               fresh_database, gunicorn, machine_line, now_utc, percentile, prepare_database,
                               write_section)
from tests.fakes.openai_server import GOOD_REPLY, FakeOpenAI  # noqa: E402

SCENARIO = "billing_complaint"
SCRIPT = ROOT / "tests" / "data" / "agent_scripts" / f"{SCENARIO}.good.txt"
LOCUSTFILE = ROOT / "benchmarks" / "capacity_locustfile.py"
CONFIGS = {
    "production": (["-c", "gunicorn.conf.py"], "`gunicorn -c gunicorn.conf.py` ({workers} gthread workers × {threads} threads)"),
    # `-c /dev/null`: run from the checkout, gunicorn would read ./gunicorn.conf.py on its own.
    "sync4": (["-c", os.devnull, "--workers", "4"], "`gunicorn --workers 4` (4 sync workers, the README's command before)"),
    # The worker model alone: the production file's warm-up, but 4 sync workers.
    "sync4warm": (["-c", "gunicorn.conf.py", "--worker-class", "sync", "--workers", "4", "--threads", "1"],
                  "`gunicorn -c gunicorn.conf.py --worker-class sync --workers 4 --threads 1` (4 sync workers, warmed)"),
    "gevent": (["-c", "gunicorn.conf.py", "--worker-class", "gevent", "--worker-connections", "1000"],
               "`gunicorn -c gunicorn.conf.py --worker-class gevent` ({workers} gevent workers)"),
}
DATABASES = {"sqlite": "SQLite file (WAL)", "postgres": "PostgreSQL (throwaway cluster, fsync off)"}



# The fake model server accepts any key; a random one keeps literal secrets out of the code.
FAKE_SERVER_KEY = __import__("secrets").token_hex(8)

def run_step(base: str, users: list[str], args, workdir: Path) -> dict:
    """One bounded locust run with len(users) trainees; the timed samples, summarised."""
    n = len(users)
    samples_path = workdir / f"samples-{n}-{time.monotonic_ns()}.jsonl"
    ramp = max(1.0, args.seconds / 10)
    env = {"BENCH_USERS": ",".join(users), "BENCH_PASSWORD": BENCH_PASSWORD, "BENCH_SCENARIO": SCENARIO,
           "BENCH_SCRIPT": str(SCRIPT), "BENCH_SAMPLES": str(samples_path), "BENCH_THINK": str(args.think)}
    cmd = [PYTHON, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base,
           "--users", str(n), "--spawn-rate", f"{n / ramp:.2f}", "--run-time", f"{args.seconds}s",
           "--stop-timeout", "3", "--only-summary", "--loglevel", "WARNING"]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=args.seconds + 180)
    if not samples_path.exists():
        raise RuntimeError(f"locust wrote no samples (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    samples = [json.loads(line) for line in samples_path.read_text(encoding="utf-8").splitlines() if line]
    return summarise(samples, n, ramp, args.latency, load)


def summarise(samples: list[dict], users: int, ramp: float, latency: float, load: float) -> dict:
    errors = [s for s in samples if s["error"]]
    t0 = min((s["start"] for s in samples), default=0)
    timed = [s for s in samples if not s["error"] and s["start"] >= t0 + ramp]
    mid = [s["ms"] for s in timed if s["name"] == "turn"]
    final = [s["ms"] for s in timed if s["name"] == "final turn"]
    starts = [s["ms"] for s in timed if s["name"] == "start"]
    turns = [s for s in timed if s["name"] in ("turn", "final turn")]
    span = (max(s["start"] + s["ms"] / 1000 for s in turns) - min(s["start"] for s in turns)) if turns else 0
    row = {"users": users, "turns": len(turns), "errors": len(errors), "load": load,
           "error_examples": sorted({f"{e['name']}: {e['error']}" for e in errors})[:3],
           "p50": percentile(mid, 50) if mid else float("nan"), "p95": percentile(mid, 95) if mid else float("nan"),
           "final_p95": percentile(final, 95) if final else float("nan"),
           "start_p95": percentile(starts, 95) if starts else float("nan"),
           "turns_per_s": len(turns) / span if span > 0 else float("nan")}
    row["passed"] = bool(mid) and row["errors"] == 0 and row["p95"] <= (latency + 1) * 1000
    return row


def ramp_up(base: str, names: list[str], steps: list[int], args, workdir: Path, label: str) -> list[dict]:
    rows = []
    for n in steps:
        r = run_step(base, names[:n], args, workdir)
        print(f"{label} N={n:>3}: {r['turns']} turns, {r['turns_per_s']:.1f} turns/s, p50 {r['p50']:.0f} ms, "
              f"p95 {r['p95']:.0f} ms, final p95 {r['final_p95']:.0f} ms, errors {r['errors']} "
              f"{r['error_examples'][:1]}, load {r['load']:.1f}", flush=True)
        rows.append(r)
        if not r["passed"]:
            break
        time.sleep(3)  # let the last step's requests drain
    return rows


def describe(config: str) -> str:
    from importlib import util

    spec = util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    return CONFIGS[config][1].format(workers=conf.workers, threads=conf.threads)


def render(results: dict, args, command: str, machine: str, date: str) -> str:
    bound = (args.latency + 1) * 1000
    out = ["## Capacity with think time (`benchmarks/capacity_bench.py`)", "",
           f"- Command: `{command}`", f"- Date: {date}",
           f"- Machine: {machine}; the load generator (locust, one process) and the fake model server run on the "
           "same machine, which other sessions were sharing during the run (the load average is per step).",
           f"- Each simulated trainee logs in with its own account and plays drills of {SCENARIO} with the LLM "
           f"customer, sending the agent lines of `tests/data/agent_scripts/{SCENARIO}.good.txt` streamed, as the "
           f"drill page does, after {args.think:g} s of thinking before each; the model (tests/fakes/openai_server.py "
           f"on 127.0.0.1) answers every call after {args.latency:g} s. APP_ENV=production.",
           f"- One locust run of {args.seconds} s per step; trainees arrive over its first tenth, whose turns are "
           f"not timed. A step passes with no error of any request and a mid-call turn p95 ≤ {bound:.0f} ms "
           f"(the model's latency + 1 s); the search stops at the first failing step.", ""]
    verdicts = []
    for (database, config), rows in results.items():
        out += [f"**{DATABASES[database]}, {describe(config)}**", "",
                "| N | turns | turns/s | turn p50 | turn p95 | call-ending turn p95 | start p95 | errors | load | passes |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in rows:
            out.append(f"| {r['users']} | {r['turns']} | {r['turns_per_s']:.1f} | {r['p50']:.0f} ms | {r['p95']:.0f} ms "
                       f"| {r['final_p95']:.0f} ms | {r['start_p95']:.0f} ms | {r['errors']} | {r['load']:.1f} "
                       f"| {'yes' if r['passed'] else 'no'} |")
        failed = [r for r in rows if not r["passed"]]
        if failed and failed[0]["errors"]:
            out += ["", f"Errors at N={failed[0]['users']}: " + "; ".join(f"`{e}`" for e in failed[0]["error_examples"])]
        out.append("")
        best = max((r["users"] for r in rows if r["passed"]), default=0)
        verdicts.append((database, config, best, bool(failed)))
    out.append("**Largest N that passes:**")
    out.append("")
    by_db: dict[str, dict[str, tuple[int, bool]]] = {}
    for database, config, best, failed in verdicts:
        by_db.setdefault(database, {})[config] = (best, failed)
        out.append(f"- {DATABASES[database]}, {config}: **{best}** trainees"
                   + ("" if failed else " (no step failed: the search ran out of steps)"))
    for database, found in by_db.items():
        if "production" in found and "sync4" in found:
            if found["sync4"][0]:
                ratio = found["production"][0] / found["sync4"][0]
                out.append(f"- {DATABASES[database]}: production holds {ratio:.1f}× the trainees of the old command"
                           + ("" if found["production"][1] else " (at least)"))
            else:
                out.append(f"- {DATABASES[database]}: the old command fails at its first step")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="16,32,64,96,128,200")
    parser.add_argument("--baseline-steps", default="4,8,16,32", help="the steps of the sync4 configuration")
    parser.add_argument("--section", default="capacity", help="the RESULTS.md section to write")
    parser.add_argument("--seconds", type=int, default=75)
    parser.add_argument("--latency", type=float, default=1.5)
    parser.add_argument("--think", type=float, default=5.0)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--configs", default="production,sync4")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    steps = sorted(int(s) for s in args.steps.split(","))
    baseline_steps = sorted(int(s) for s in args.baseline_steps.split(","))
    databases, configs = args.databases.split(","), args.configs.split(",")
    unknown = (set(databases) - set(DATABASES)) | (set(configs) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown database or configuration: {', '.join(sorted(unknown))}")
    machine, date = machine_line(), now_utc()
    results: dict[tuple[str, str], list[dict]] = {}
    with FakeOpenAI(default_text=GOOD_REPLY, default_delay=args.latency) as fake:
        for database in databases:
            with tempfile.TemporaryDirectory(prefix="hc-capacity-") as tmp, fresh_database(database) as url:
                env = bench_env(url, Path(tmp), APP_ENV="production", SESSION_COOKIE_SECURE="0",
                                OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY=FAKE_SERVER_KEY, OPENAI_MODEL=fake.model)
                env.pop("WEB_CONCURRENCY", None)
                names = prepare_database(env, trainees=max(steps + baseline_steps))
                for config in configs:
                    log = Path(tmp) / f"gunicorn-{config}.log"
                    with gunicorn(env, 0, log, options=CONFIGS[config][0]) as base:
                        results[(database, config)] = ramp_up(base, names,
                                                              baseline_steps if config.startswith("sync4") else steps,
                                                              args, Path(tmp), f"{database}/{config}")
                    fake.reset()
                    server_errors = [line for line in log.read_text(errors="replace").splitlines()
                                     if "Traceback" in line or "Error" in line]
                    if server_errors:
                        print(f"{database}/{config}: server log has {len(server_errors)} error lines, e.g. "
                              f"{server_errors[:3]}", flush=True)
    section = render(results, args, command_line("capacity_bench.py", argv), machine, date)
    print(section)
    if not args.no_write:
        write_section(args.section, section, args.results)
        print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
