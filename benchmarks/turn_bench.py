"""Drill turn latency through the real HTTP stack (gunicorn, several workers, PostgreSQL)
against a baseline route that does one insert through the same stack, in the same run.

One logged-in trainee plays scripted drills (tests/data/agent_scripts) over HTTP: each
turn is POST /trainee/drills/<id>/turns (store the agent turn, compute and store the
scripted reply, answer JSON). Turn and baseline requests alternate, so the machine's
noise falls on both alike. The turn that ends a call also scores the drill; it is timed
but reported apart, since it is a different operation.

Usage: python benchmarks/turn_bench.py [--turns 600] [--workers 4] [--results PATH] [--no-write]
Writes the section between <!-- turn:start --> and <!-- turn:end --> of RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from benchmarks.common import (BENCH_PASSWORD, RESULTS, bench_env, command_line, fresh_database,  # noqa: E402
                               gunicorn, machine_line, now_utc, percentile, prepare_database, write_section)

SCENARIO = "billing_complaint"
SCRIPT = ROOT / "tests" / "data" / "agent_scripts" / f"{SCENARIO}.good.txt"
_CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Trainee:
    """A browser-like client: logs in through the form, starts drills, posts turns."""

    def __init__(self, base: str, username: str, password: str = BENCH_PASSWORD):
        self.base, self.http = base, requests.Session()
        page = self.http.get(f"{base}/login", timeout=30).text
        r = self.http.post(f"{base}/login", data={"username": username, "password": password,
                                                   "csrf_token": _CSRF_INPUT.search(page).group(1)},
                           allow_redirects=False, timeout=30)
        if r.status_code != 302:
            raise RuntimeError(f"login of {username} failed: {r.status_code}")
        self.token = None

    def start_drill(self, seed: int) -> str:
        url = f"{self.base}/trainee/start/{SCENARIO}"
        token = _CSRF_INPUT.search(self.http.get(url, timeout=30).text).group(1)
        r = self.http.post(url, data={"persona": "calm", "customer": "scripted", "seed": str(seed),
                                      "csrf_token": token}, allow_redirects=False, timeout=30)
        if r.status_code != 302:
            raise RuntimeError(f"starting a drill failed: {r.status_code}")
        drill_url = r.headers["Location"]
        drill_url = drill_url if drill_url.startswith("http") else self.base + drill_url
        self.token = _CSRF_META.search(self.http.get(drill_url, timeout=30).text).group(1)
        return drill_url

    def post_json(self, url: str, body: dict) -> tuple[float, dict]:
        """(seconds, JSON answer) of one POST; raises on anything but 200."""
        t0 = time.perf_counter()
        r = self.http.post(url, json=body, headers={"Accept": "application/json", "X-CSRFToken": self.token},
                           timeout=60)
        elapsed = time.perf_counter() - t0
        if r.status_code != 200:
            raise RuntimeError(f"POST {url} answered {r.status_code}: {r.text[:300]}")
        body = r.json()
        if body.get("turns"):
            body["last_position"] = body["turns"][-1]["position"]
        return elapsed, body

    def post_streamed(self, url: str, body: dict) -> tuple[float, dict]:
        """(seconds to the last NDJSON line, the drill as that line gives it), as drill.js
        reads a streamed turn; raises on an error event or status."""
        t0 = time.perf_counter()
        r = self.http.post(url, json={**body, "stream": True}, timeout=60,
                           headers={"Accept": "application/json", "X-CSRFToken": self.token})
        events = [json.loads(line) for line in r.text.splitlines() if line.strip()]
        elapsed = time.perf_counter() - t0
        if r.status_code != 200 or not events or events[-1].get("type") != "customer":
            raise RuntimeError(f"streamed POST {url} answered {r.status_code}: {r.text[:300]}")
        return elapsed, {"drill": events[-1]["drill"], "last_position": events[-1]["turn"]["position"]}


def agent_lines() -> list[str]:
    return [line.strip() for line in SCRIPT.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(base: str, username: str, turns: int, warmup: int) -> dict:
    """Alternate turns and baseline inserts until `turns` mid-call turns are timed; every
    other drill sends its turns streamed (NDJSON), as the drill page does."""
    client, lines = Trainee(base, username), agent_lines()
    samples = {"mid": [], "mid_stream": [], "final": [], "baseline": []}
    seed, drills_played, done = 0, 0, -warmup
    while done < turns:
        seed += 1
        drill_url = client.start_drill(seed)
        drills_played += 1
        streamed = drills_played % 2 == 0
        after = 0  # the customer's opening line; the drill page sends the last position it shows
        for line in lines:
            post = client.post_streamed if streamed else client.post_json
            t_turn, answer = post(drill_url + "/turns", {"text": line, "after": after})
            after = answer["last_position"]
            t_base, _ = client.post_json(f"{base}/bench/insert", {"text": line})
            ended = answer["drill"]["status"] == "ended"
            if done >= 0:
                samples["final" if ended else "mid_stream" if streamed else "mid"].append(t_turn)
                samples["baseline"].append(t_base)
            done += 0 if ended or streamed else 1
            if ended or done >= turns:
                break
    return {**samples, "drills": drills_played}


def summarise(samples: dict) -> dict:
    stats = {}
    for key in ("mid", "mid_stream", "final", "baseline"):
        values = samples[key]
        stats[key] = {"n": len(values), "p50": percentile(values, 50) * 1000 if values else float("nan"),
                      "p95": percentile(values, 95) * 1000 if values else float("nan"),
                      "mean": statistics.fmean(values) * 1000 if values else float("nan")}
    return stats


def render(stats: dict, command: str, machine: str, workers: int, drills: int, date: str) -> str:
    m, ms, f, b = stats["mid"], stats["mid_stream"], stats["final"], stats["baseline"]
    ratio50, ratio95 = m["p50"] / b["p50"], m["p95"] / b["p95"]
    verdict = "meets" if ratio50 <= 2 else "misses"
    return f"""## Drill turn (`benchmarks/turn_bench.py`)

- Command: `{command}`
- Date: {date}
- Machine: {machine}
- Stack: gunicorn, {workers} sync workers, PostgreSQL (throwaway cluster, fsync off), development config
  with BENCH_ROUTES=1; one trainee logged in through the login form, scripted customer,
  agent lines of `tests/data/agent_scripts/{SCENARIO}.good.txt`, {drills} drills; every other drill
  sends its turns with `"stream": true` (NDJSON, timed to the last line), the others plain JSON;
  each turn carries `after` (the last position shown), as the drill page sends it; the
  per-trainee limits are on, set where the benchmark never reaches them.
- Baseline: `POST /bench/insert` (app/bench.py): same session, user load, role and CSRF checks,
  JSON in and out, one INSERT and one commit. Turn and baseline requests alternate.

| request | n | p50 | p95 | p50 ratio | p95 ratio |
|---|---:|---:|---:|---:|---:|
| baseline: one insert | {b['n']} | {b['p50']:.2f} ms | {b['p95']:.2f} ms | 1.00 | 1.00 |
| drill turn (mid-call) | {m['n']} | {m['p50']:.2f} ms | {m['p95']:.2f} ms | **{ratio50:.2f}** | {ratio95:.2f} |
| drill turn, streamed (mid-call, as the drill page sends it) | {ms['n']} | {ms['p50']:.2f} ms | {ms['p95']:.2f} ms | {ms['p50'] / b['p50']:.2f} | {ms['p95'] / b['p95']:.2f} |
| drill turn that ends the call (+ scoring) | {f['n']} | {f['p50']:.2f} ms | {f['p95']:.2f} ms | {f['p50'] / b['p50']:.2f} | {f['p95'] / b['p95']:.2f} |

A mid-call turn costs {ratio50:.2f}× the one-insert baseline at the median: it {verdict} the target
(p50 ratio ≤ 2). Its SQL, plain or streamed, is pinned by tests/services/test_turn_cost.py.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=600, help="timed mid-call turns")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    machine, date = machine_line(), now_utc()
    with tempfile.TemporaryDirectory(prefix="hc-turn-") as tmp, fresh_database("postgres") as url:
        env = bench_env(url, Path(tmp))
        (username,) = prepare_database(env, trainees=1)
        with gunicorn(env, args.workers, Path(tmp) / "gunicorn.log") as base:
            samples = run(base, username, args.turns, args.warmup)
    stats = summarise(samples)
    section = render(stats, command_line("turn_bench.py", argv), machine, args.workers, samples["drills"], date)
    print(section)
    if not args.no_write:
        write_section("turn", section, args.results)
        print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
