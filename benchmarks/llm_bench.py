"""The LLM customer and the LLM judge on real local models (llama.cpp on 127.0.0.1).

Per model and per prompt variant (the baseline prompt of benchmarks/llm_prompts_baseline/
and the current one of scenarios/prompts/, run one after the other in the same run on the
same drills), it plays the four core scenarios with the good and the bad agent script and
every persona, and measures:
- the share of customer turns whose model reply passed every guardrail on the first try;
- the fallbacks by reason (role flip, leak, language, length, contradiction, error...);
- time to first streamed token and time per turn (p50, p95);
then runs the LLM judge on the core transcripts of tests/data/transcripts and compares
its accepted verdicts with the deterministic scorer's criterion scores.

Usage (after `bash scripts/llm-tier.sh`, and HOTLINE_LLM_MODEL_SIZE=1.5b for the 1.5B):
    python benchmarks/llm_bench.py --sizes 0.5b,1.5b
    python benchmarks/llm_bench.py --sizes 0.5b --personas first --no-judge --no-write
Writes its section of benchmarks/RESULTS.md between <!-- llm:start --> and <!-- llm:end -->
and every turn of every run to benchmarks/llm_runs.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import llm_model  # noqa: E402
import llm_server  # noqa: E402

from app.core.acts import load_intent_model  # noqa: E402
from app.core.llm import LLMClient  # noqa: E402
from app.core.rubric import load_rubric  # noqa: E402
from app.core.scenario_files import load_scenario  # noqa: E402
from app.core.scoring import load_scenario_for_scoring, score_transcript  # noqa: E402
from app.core.scoring.judge import apply_judge  # noqa: E402
from app.core.simulation import make_engine  # noqa: E402
from app.core.transcript import read_transcript  # noqa: E402
from tests.llm.drills import CORE, play  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
RUNS = ROOT / "benchmarks" / "llm_runs.json"
START, END = "<!-- llm:start -->", "<!-- llm:end -->"
VARIANTS = {"baseline": ROOT / "benchmarks" / "llm_prompts_baseline", "current": ROOT / "scenarios" / "prompts"}
ERRORS = {"timeout", "http_error", "malformed", "empty"}
JUDGED = [f"{sid}.{kind}" for sid in ("billing_complaint", "5g_plan_launch") for kind in ("good", "bad")]
PROBE = [{"role": "user", "content": "请用中文详细介绍一下北京的天气、历史和美食。"}]


NOTES = [
    "What the figures mean: a turn passed on the first try when the model's reply was used as it was "
    "(every guardrail of app/core/simulation/guardrails.py passed, and the reply was not cut off by "
    "max_tokens); every other turn said the scripted line and recorded the reason. 'outcome right' "
    "counts drills that ended as the agent script must (good: resolved; bad: escalated or hung up): "
    "the state machine decides, so it holds whatever the model says.",
]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def memory_gb() -> str:
    kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return f"{kb / 1024 / 1024:.1f} GB"


def run_drills(client: LLMClient, intents, variant_dir: Path, personas: str, seed: int) -> list[dict]:
    engine = make_engine("llm", lambda language: intents, client, prompts_dir=variant_dir)
    out = []
    for sid in CORE:
        sc = load_scenario(ROOT / "scenarios" / f"{sid}.yaml")
        chosen = [p.id for p in sc.personas][: 1 if personas == "first" else None]
        for persona in chosen:
            for script in ("good", "bad"):
                drill = play(engine, sc, persona, script, seed=seed)
                print(f"  {sid}/{persona}/{script}: {drill.outcome}, "
                      f"{sum(t.used == 'llm' for t in drill.turns)}/{len(drill.turns)} model replies", flush=True)
                out.append(drill.as_dict())
    return out


def summarise_drills(drills: list[dict]) -> dict:
    turns = [t for d in drills for t in d["turns"]]
    reasons = Counter(t["reason"] for t in turns if t["reason"])
    ttft = [t["ttft_ms"] for t in turns if t["ttft_ms"] is not None]
    per_turn = [t["turn_ms"] for t in turns]
    return {
        "drills": len(drills), "turns": len(turns),
        "passed": sum(t["used"] == "llm" for t in turns),
        "reasons": dict(reasons),
        "outcomes_ok": sum((d["outcome"] == "resolved") == (d["script"] == "good") for d in drills),
        "leaks": sum(bool(t["leaks"]) for t in turns),
        "ttft_p50": pct(ttft, .5), "ttft_p95": pct(ttft, .95),
        "turn_p50": pct(per_turn, .5), "turn_p95": pct(per_turn, .95),
    }


def run_judge(client: LLMClient, intents) -> list[dict]:
    rubric = load_rubric(ROOT / "rubrics" / "standard-100.yaml")
    out = []
    for name in JUDGED:
        transcript = read_transcript(ROOT / "tests" / "data" / "transcripts" / f"{name}.json", None)
        scenario = load_scenario_for_scoring(ROOT / "scenarios" / f"{transcript.scenario}.yaml")
        rules = score_transcript(transcript, scenario, rubric, intents.analyse)
        t0 = time.perf_counter()
        judged = apply_judge(rules, transcript, scenario, rubric, client, prompts_dir=ROOT / "rubrics" / "prompts")
        seconds = time.perf_counter() - t0
        j = judged.judge or {}
        rules_by = {c.id: c for c in rules.criteria}
        verdicts = []
        for v in j.get("verdicts", []):
            r = rules_by.get(v["criterion"])
            verdicts.append({**v, "rules_score": r.score if r else None, "max": r.max if r else None})
        out.append({"transcript": name, "status": j.get("status"), "error_kind": j.get("error_kind"),
                    "error": j.get("error"), "seconds": round(seconds, 1), "verdicts": verdicts})
        print(f"  judge {name}: {j.get('status')} {j.get('error_kind') or ''} "
              f"{sum(v['accepted'] for v in verdicts)}/{len(verdicts)} verdicts accepted", flush=True)
    return out


def summarise_judge(runs: list[dict]) -> dict:
    verdicts = [v for r in runs for v in r["verdicts"]]
    accepted = [v for v in verdicts if v["accepted"] and v["max"]]
    # Agreement: the judge and the rules put the criterion on the same side of half marks.
    agree = [(v["score"] >= v["max"] / 2) == (v["rules_score"] >= v["max"] / 2) for v in accepted]
    return {
        "calls": len(runs), "status": dict(Counter(r["status"] for r in runs)),
        "errors": dict(Counter(r["error_kind"] for r in runs if r["error_kind"])),
        "verdicts": len(verdicts), "accepted": len(accepted),
        "void": dict(Counter(v.get("void") for v in verdicts if not v["accepted"])),
        "agreement": (sum(agree) / len(agree)) if agree else None,
        "mean_abs_diff": statistics.mean(abs(v["score"] - v["rules_score"]) for v in accepted) if accepted else None,
        "seconds_p50": pct([r["seconds"] for r in runs], .5),
    }


def section(meta: dict, results: list[dict]) -> str:
    lines = [
        START, "## LLM customer and judge on local models (`benchmarks/llm_bench.py`)", "",
        f"- Command: `{meta['command']}` (after `bash scripts/llm-tier.sh`)",
        f"- Date: {meta['date']}",
        f"- Machine: {meta['machine']}",
        f"- Server: llama-cpp-python[server] 0.3.36 on 127.0.0.1, n_ctx 4096, n_threads {meta['threads']}; "
        f"drills: the 4 core scenarios x {meta['personas']} persona(s) x good and bad agent script, seed {meta['seed']}.",
        "- Baseline = the prompt before this work (benchmarks/llm_prompts_baseline/), current = scenarios/prompts/,",
        "  run on the same drills in the same run. Raw turns: benchmarks/llm_runs.json.", "",
        "| model | prompt | turns | passed first try | ratio to baseline | role_flip | leak | language | length "
        "| contradiction | error | outcome right | TTFT p50 / p95 | turn p50 / p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        base = next((r["drills_summary"] for r in results if r["size"] == res["size"] and r["variant"] == "baseline"
                     and r.get("run") == res.get("run")), None)
        s = res["drills_summary"]
        share = s["passed"] / s["turns"]
        ratio = f"{share / (base['passed'] / base['turns']):.2f}" if base and base["passed"] else "- (no baseline in its run)"
        r = s["reasons"]
        n = s["turns"]
        errors = sum(v for k, v in r.items() if k in ERRORS)

        def p(k, count=None):
            c = r.get(k, 0) if count is None else count
            return f"{c} ({c / n:.0%})"
        lines.append(
            f"| {res['model']} | {res['variant']} | {n} | {s['passed']} ({share:.1%}) | {ratio} | {p('role_flip')} "
            f"| {p('leak')} | {p('language')} | {p('length')} | {p('contradiction')} | {p('', errors)} "
            f"| {s['outcomes_ok']}/{s['drills']} | {s['ttft_p50']:.0f} / {s['ttft_p95']:.0f} ms "
            f"| {s['turn_p50']:.0f} / {s['turn_p95']:.0f} ms |")
    lines += ["", "Share of turns in parentheses; error = timeout, http_error, malformed or empty. TTFT: the "
              "opening line is one non-streamed call, every other turn is streamed as in the browser.", "",
              "Judge (rubric standard-100, 4 judgeable criteria, on the good and bad core transcripts of "
              "tests/data/transcripts; agreement = judge and rules on the same side of half marks, accepted "
              "verdicts only):", "",
              "| model | calls | status | verdicts accepted | void reasons | agreement with rules | mean abs diff "
              "| time per call p50 |", "|---|---|---|---|---|---|---|---|"]
    for res in results:
        j = res.get("judge_summary")
        if not j:
            continue
        agreement = "not measurable: no accepted verdict" if j["agreement"] is None else f"{j['agreement']:.0%}"
        diff = "-" if j["mean_abs_diff"] is None else f"{j['mean_abs_diff']:.2f}"
        status = ", ".join(f"{k} {v}" for k, v in sorted(j["status"].items(), key=lambda kv: str(kv[0])))
        if j["errors"]:
            status += " (" + ", ".join(f"{k} {v}" for k, v in j["errors"].items()) + ")"
        void = ", ".join(f"{k} {v}" for k, v in j["void"].items()) or "-"
        lines.append(f"| {res['model']} | {j['calls']} | {status} | {j['accepted']}/{j['verdicts']} | {void} "
                     f"| {agreement} | {diff} | {j['seconds_p50']:.0f} s |")
    if meta.get("probe"):
        lines += ["", "llama.cpp threads on this machine (`--threads-probe`: the same 48-token generation, "
                  "temperature 0, twice per setting, 0.5B model; n_threads = n_threads_batch):", "",
                  "| threads | wall time per request | generation tokens/s | ratio to 1 thread |", "|---|---|---|---|"]
        one = meta["probe"][0]["tok_s"]
        for row in meta["probe"]:
            lines.append(f"| {row['threads']} | {row['seconds']:.1f} s | {row['tok_s']:.1f} | {row['tok_s'] / one:.2f} |")
    lines += ["", *("- " + n for n in meta.get("notes", [])), END]
    return "\n".join(lines)


def threads_probe(size: str) -> list[dict]:
    """Generation speed with 1 and 2 llama.cpp threads (the default is the faster here)."""
    rows = []
    for n in (1, 2):
        with llm_server.LlamaServer(llm_server.model_file(size), n_threads=n) as server:
            client = LLMClient(server.base_url, None, server.model_id, timeout=600)
            client.chat("probe", PROBE, temperature=0, max_tokens=8)  # warm-up
            times, tokens = [], 0
            for _ in range(2):
                r = client.chat("probe", PROBE, temperature=0, max_tokens=48)
                times.append(r.latency_ms / 1000)
                tokens += r.completion_tokens or 0
            rows.append({"threads": n, "seconds": statistics.mean(times), "tok_s": tokens / sum(times)})
            print(f"  threads {n}: {rows[-1]}", flush=True)
    return rows


def write_section(text: str) -> None:
    body = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if START in body and END in body:
        head, rest = body.split(START, 1)
        body = head + text + rest.split(END, 1)[1]
    else:
        body = body.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(body, "utf-8")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="0.5b")
    ap.add_argument("--variants", default="baseline,current")
    ap.add_argument("--personas", choices=["all", "first"], default="all")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=llm_server.threads())
    ap.add_argument("--no-judge", action="store_true")
    ap.add_argument("--threads-probe", action="store_true", help="also time 1 vs 2 llama.cpp threads")
    ap.add_argument("--note", action="append", default=[], help="a line for the section (e.g. what else ran)")
    ap.add_argument("--append", action="store_true",
                    help="keep the other models' results of benchmarks/llm_runs.json (each keeps its own run's meta)")
    ap.add_argument("--render", action="store_true",
                    help="only rewrite the RESULTS.md section from benchmarks/llm_runs.json (no model run)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    if args.render:
        saved = json.loads(RUNS.read_text("utf-8"))
        saved["meta"]["notes"] = NOTES + saved["meta"].get("notes", []) + args.note
        write_section(section(saved["meta"], saved["results"]))
        return 0
    intents = load_intent_model("zh-CN", acts_dir=ROOT / "rubrics" / "acts")
    results = []
    probe = threads_probe(args.sizes.split(",")[0]) if args.threads_probe else None
    for size in args.sizes.split(","):
        reason = llm_server.missing(size)
        if reason:
            print(f"llm_bench: {reason}", file=sys.stderr)
            return 1
        spec = llm_model.MODELS[size]
        with llm_server.LlamaServer(llm_server.model_file(size), n_threads=args.threads) as server:
            client = LLMClient(server.base_url, None, server.model_id, timeout=300)
            for variant in args.variants.split(","):
                print(f"{spec.name}, prompt {variant}", flush=True)
                t0 = time.perf_counter()
                drills = run_drills(client, intents, VARIANTS[variant], args.personas, args.seed)
                results.append({"size": size, "model": spec.name, "variant": variant, "drills": drills,
                                "seconds": round(time.perf_counter() - t0, 1),
                                "drills_summary": summarise_drills(drills)})
            if not args.no_judge:
                judge = run_judge(client, intents)
                results[-1]["judge"] = judge
                results[-1]["judge_summary"] = summarise_judge(judge)

    meta = {
        "command": "python benchmarks/llm_bench.py " + " ".join(sys.argv[1:]),
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs (nproc), {memory_gb()} RAM, {platform.platform()}, "
                   f"Python {platform.python_version()}",
        "threads": args.threads, "personas": "3" if args.personas == "all" else "1", "seed": args.seed,
        "probe": probe, "notes": args.note,
    }
    for res in results:
        res["run"] = meta["date"]
    if args.append and RUNS.exists():
        saved = json.loads(RUNS.read_text("utf-8"))
        sizes = {r["size"] for r in results}
        for r in saved["results"]:
            r.setdefault("run", saved["meta"]["date"])
            r.setdefault("run_command", saved["meta"]["command"])
        results = [r for r in saved["results"] if r["size"] not in sizes] + results
        meta["command"] = saved["meta"].get("command", "") + "`, then `" + meta["command"]
        meta["probe"] = meta["probe"] or saved["meta"].get("probe")
    text = section({**meta, "notes": NOTES + args.note}, results)
    print(text)
    if not args.no_write:
        write_section(text)
        RUNS.write_text(json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
