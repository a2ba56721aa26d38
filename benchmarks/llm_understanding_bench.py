"""The optional LLM understanding on the local model of the llm tier, against the local act model.

    bash scripts/llm-tier.sh        # once: runtime and model, cached
    python benchmarks/llm_understanding_bench.py [--dev 40,24] [--eval 60,40] [--seed 7]
    python benchmarks/llm_understanding_bench.py --base-url http://127.0.0.1:8081/v1 --model NAME

Two sets, used in this order:
1. development: a seeded sample of the held-out split of `rubrics/acts/<language>.yaml`
   (`split_examples`; the local model never trained on it). Every combination rule of
   `app.core.llm_understanding.RULES` is scored here, and the acts the model may add
   under the rule "add" are chosen here: an act is added when, on this set, the model's
   additions of it (named by the model, missed by the local model) were right at least
   ADD_PRECISION of the time, over at least ADD_MIN of them.
2. evaluation: a seeded sample of the independent set `tests/data/acts_eval/<language>.yaml`,
   reported once with what was chosen on the development set; nothing is chosen here.

Every model answer is kept in instance/cache/llm_understanding_bench.jsonl (keyed by
prompt version, model and text), so a run cut short resumes without asking again.
Writes the `llm-understanding` section of benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchmarks.common import command_line, machine_line, now_utc, write_section  # noqa: E402

from app.core.acts import load_intent_model, score_predictions  # noqa: E402
from app.core.acts_data import LANGUAGES, load_examples, split_examples  # noqa: E402
from app.core.acts_eval import load_eval_set  # noqa: E402
from app.core.llm import LLMClient  # noqa: E402
from app.core.llm_understanding import (MODEL_ACTS, RULES, LLMActs, LLMUnderstanding, combine,  # noqa: E402
                                        load_understanding_prompt)
from app.core.understanding import understand  # noqa: E402

CACHE = ROOT / "instance" / "cache" / "llm_understanding_bench.jsonl"
PROMPTS = ROOT / "rubrics" / "understanding"
ADD_PRECISION = 0.6
ADD_MIN = 2


def sample(examples: list, n: int, seed: int, language: str) -> list:
    """The first `n` of a seeded shuffle: a smaller sample is a prefix of a larger one, so
    a run cut short can be reported from the cache at a smaller size."""
    order = list(examples)
    random.Random(f"{seed}-{language}").shuffle(order)
    return order[:n]


def load_cache() -> dict[tuple, dict]:
    out = {}
    if CACHE.exists():
        for line in CACHE.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            out[(row["version"], row["model"], row["language"], row["text"])] = row
    return out


def ask_all(llm: LLMUnderstanding, model_name: str, language: str, texts: list[str], cache: dict) -> list[dict]:
    version = load_understanding_prompt(language, PROMPTS).version
    rows = []
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    if any((version, model_name, language, t) not in cache for t in texts):
        # Unmeasured: the first call of a language processes the whole fixed prompt, which
        # the server then keeps and reuses; it is not what a turn costs afterwards.
        llm.ask("您好" if language == "zh-CN" else "Hello", language)
    for i, text in enumerate(texts):
        key = (version, model_name, language, text)
        if key not in cache:
            r = llm.ask(text, language)
            cache[key] = {"version": version, "model": model_name, "language": language, "text": text,
                          "acts": dict(r.acts), "void": len(r.void), "error_kind": r.error_kind,
                          "latency_ms": r.latency_ms}
            with CACHE.open("a", encoding="utf-8") as f:
                f.write(json.dumps(cache[key], ensure_ascii=False) + "\n")
            print(f"  {language} {i + 1}/{len(texts)} {r.latency_ms} ms {r.error_kind or ''} {sorted(r.acts)}",
                  flush=True)
        rows.append(cache[key])
    return rows


def as_llm_acts(row: dict) -> LLMActs:
    return LLMActs(acts=row["acts"], void=({},) * row["void"], error_kind=row["error_kind"])


def choose_adds(gold, local, llm_rows) -> tuple[frozenset[str], dict]:
    """Acts whose additions over the local result were right often enough on this set."""
    tally: dict[str, list[int]] = {a: [0, 0] for a in MODEL_ACTS}  # right, all
    for g, loc, row in zip(gold, local, llm_rows):
        if row["error_kind"]:
            continue
        for a in set(row["acts"]) - set(loc):
            tally[a][1] += 1
            tally[a][0] += a in g
    chosen = frozenset(a for a, (right, n) in tally.items() if n >= ADD_MIN and right / n >= ADD_PRECISION)
    return chosen, {a: t for a, t in tally.items() if t[1]}


def figures(gold, local, llm_rows, adds) -> dict:
    out = {}
    for rule in RULES:
        pred = [combine(frozenset(loc), as_llm_acts(row), rule, adds) for loc, row in zip(local, llm_rows)]
        out[rule] = score_predictions(gold, pred)["macro_f1"]
    return out


def run(args) -> str:
    server = None
    if args.base_url:
        base_url, model_name = args.base_url, args.model
    else:
        import llm_server

        reason = llm_server.missing()
        if reason:
            sys.exit(f"llm_understanding_bench: {reason}")
        server = llm_server.LlamaServer(llm_server.model_file(), n_ctx=4096).start()
        base_url, model_name = server.base_url, server.model_id
    try:
        client = LLMClient(base_url, None, model_name, timeout=args.timeout)
        llm = LLMUnderstanding(client, lambda lang: load_understanding_prompt(lang, PROMPTS), rule="union")
        cache = load_cache()
        dev_n = dict(zip(LANGUAGES, map(int, args.dev.split(","))))
        eval_n = dict(zip(LANGUAGES, map(int, args.eval.split(","))))
        rows, chosen, tallies, lat = [], {}, {}, []
        models, sets = {}, {}
        for language in LANGUAGES:
            models[language] = load_intent_model(language, ROOT / "rubrics" / "acts", ROOT / "instance" / "cache")
            data, _ = load_examples(language, ROOT / "rubrics" / "acts")
            sets[language] = {
                "dev": sample(split_examples(data.examples)[1], dev_n[language], args.seed, language),
                "eval": sample(load_eval_set(language, ROOT / "tests" / "data" / "acts_eval"),
                               eval_n[language], args.seed, language)}
        # Every development figure and choice is made before the evaluation set is looked at.
        for name in ("dev", "eval"):
            for language in LANGUAGES:
                exs = sets[language][name]
                gold = [frozenset(ex.acts) for ex in exs]
                local = [understand(ex.text, models[language], language=language).acts for ex in exs]
                print(f"{language} {name}: {len(exs)} turns", flush=True)
                llm_rows = ask_all(llm, model_name, language, [ex.text for ex in exs], cache)
                if name == "dev":
                    chosen[language], tallies[language] = choose_adds(gold, local, llm_rows)
                f = figures(gold, local, llm_rows, chosen[language])
                errs = Counter(r["error_kind"] for r in llm_rows if r["error_kind"])
                voids = sum(r["void"] for r in llm_rows)
                ms = [r["latency_ms"] for r in llm_rows if not r["error_kind"]]
                lat += ms
                rows.append((language, name, len(exs), f, dict(errs), voids,
                             sum(len(r["acts"]) for r in llm_rows), statistics.median(ms) if ms else 0))
    finally:
        if server is not None:
            server.stop()
    return report(args, model_name, rows, chosen, tallies, lat)


def report(args, model_name, rows, chosen, tallies, lat) -> str:
    head = "| language | set | n | " + " | ".join(RULES) + " | failed calls | void items (of all) | median latency |"
    table = [head, "|" + "---|" * (head.count("|") - 1)]
    for language, name, n, f, errs, voids, kept, ms in rows:
        err = ", ".join(f"{k} {v}" for k, v in sorted(errs.items())) or "0"
        table.append(f"| {language} | {name} | {n} | " + " | ".join(f"{f[r]:.3f}" for r in RULES) +
                     f" | {err} | {voids} ({voids + kept}) | {ms / 1000:.1f} s |")
    dev = [f for _, name, _, f, *_ in rows if name == "dev"]
    best = max(RULES, key=lambda r: (sum(f[r] for f in dev), r == "local"))  # a tie keeps the model out
    verdict = ("so with this model the LLM understanding should stay off (`LLM_UNDERSTANDING=0`, the default): "
               "no rule beats the local act model, and every turn would wait for a call that changes nothing"
               if best in ("local", "add") and not any(chosen.values()) else
               f"so the rule `{best}` is the one to configure with this model")
    adds = "\n".join(f"- {lang}: {', '.join(sorted(chosen[lang])) or '(none)'}; additions right/all on dev: " +
                     ", ".join(f"{a} {r}/{n}" for a, (r, n) in sorted(tallies[lang].items()))
                     for lang in chosen)
    return f"""## Optional LLM understanding (`benchmarks/llm_understanding_bench.py`)

Measured {now_utc()} with `{command_line('llm_understanding_bench.py', None)}`, model
`{model_name}` (llama.cpp, the llm tier's local model, one thread), prompt
`rubrics/understanding/<language>.yaml`. Machine: {machine_line()}.

Macro-F1 over the classifier acts of the local act model alone (`local`), the model's
quoted acts alone (`llm`), their union, the local acts the model agrees with (`agree`,
a veto) and the local acts plus the model's acts it was precise on (`add`). The acts `add`
may add were chosen on the development set (a seeded sample of the held-out split of
`rubrics/acts/`, which the local model never trained on): an act qualifies when its
additions over the local result were right at least {ADD_PRECISION:.0%} of the time, over at
least {ADD_MIN}. The evaluation set (a seeded sample of the independent `tests/data/acts_eval/`)
was scored once with those choices. Subsampled because the model answers in seconds per
turn on 2 shared cores. A failed call (timeout, bad JSON, server error) leaves the local
acts, whatever the rule; a void item is an act the model named with a quote that is not in
the agent's words (or an unknown act name), and it counts for nothing.

{chr(10).join(table)}

Acts chosen for `add` on the development set:
{adds}

Median latency of a successful call over the whole run: {statistics.median(lat) / 1000 if lat else 0:.1f} s
(the bench allows {args.timeout:.0f} s; the app's default `LLM_UNDERSTANDING_TIMEOUT` of 5 s would time most
of these calls out on this machine, leaving the local acts).

Best rule on the development set (summed over languages): `{best}`; {verdict}. The quote
check voids invented text, not a wrong label: the small model mostly quotes a real part of
the turn (often all of it) under an act it does not carry.
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dev", default="24,16", help="development sample sizes zh-CN,en")
    ap.add_argument("--eval", default="40,30", help="evaluation sample sizes zh-CN,en")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--base-url", help="an OpenAI-compatible server already running (else the llm tier's is started)")
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    started = time.monotonic()
    body = run(args)
    print(body)
    print(f"({time.monotonic() - started:.0f} s)")
    if not args.no_write:
        write_section("llm-understanding", body)


if __name__ == "__main__":
    main()
