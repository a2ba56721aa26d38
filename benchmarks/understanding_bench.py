"""Speech acts on utterances written by another hand, through the understanding layer.

    python benchmarks/understanding_bench.py

The evaluation set (`tests/data/acts_eval/<language>.yaml`) was written and labelled by
a writer who saw only the act definitions, never the training file or the system's
output; nothing is trained or tuned on it. The model is the production one (trained on
the train split of `rubrics/acts/<language>.yaml` and the batches of other hands in
`rubrics/acts/<language>.d/`). Reported: macro-F1 with acts decided
on the whole turn (the production rule in both languages since the second development
set), per clause, and their union; the whole act set
on turns with three or more acts; punctuated against unpunctuated turns; and, beside it,
the old figure on the training file's own held-out split. Writes the
`understanding-acts` section of benchmarks/RESULTS.md.
"""
from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_section  # noqa: E402

from app.core.acts import evaluate, load_intent_model, score_predictions  # noqa: E402
from app.core.acts_data import LANGUAGES, batch_paths  # noqa: E402
from app.core.acts_eval import load_eval_set  # noqa: E402
from app.core.understanding import understand  # noqa: E402

PUNCT = re.compile(r"[，,。．.！!？?；;：:…、]")
COMBINE = ("turn", "clauses", "union")


def production(language: str) -> str:
    """The rule drill turns use: the union with clause acts where the language has a clause
    threshold (app.core.understanding.CLAUSE_CONFIDENCE), else the whole turn."""
    from app.core.understanding import CLAUSE_CONFIDENCE

    return "turn" if CLAUSE_CONFIDENCE.get(language) is None else "union"


def label(language: str, combine: str) -> str:
    from app.core.understanding import CLAUSE_CONFIDENCE

    if combine == "union" and CLAUSE_CONFIDENCE.get(language) is None:
        return "union (no clause threshold: the whole turn)"
    return combine + (" (production)" if combine == production(language) else "")


def figures(language: str, combine: str) -> dict:
    model = load_intent_model(language, ROOT / "rubrics" / "acts", ROOT / "instance" / "cache")
    examples = load_eval_set(language, ROOT / "tests" / "data" / "acts_eval")
    gold = [frozenset(ex.acts) for ex in examples]
    pred = [understand(ex.text, model, language=language, combine=combine).acts for ex in examples]
    out = {"all": score_predictions(gold, pred), "n": len(examples)}
    multi = [i for i, g in enumerate(gold) if len(g) >= 3]
    out["multi_n"] = len(multi)
    out["multi_exact"] = sum(1 for i in multi if set(gold[i]) == set(pred[i])) / len(multi) if multi else 0.0
    bare = [i for i, ex in enumerate(examples) if not PUNCT.search(ex.text)]
    punct = [i for i in range(len(examples)) if i not in set(bare)]
    for name, idx in (("unpunctuated", bare), ("punctuated", punct)):
        out[name] = score_predictions([gold[i] for i in idx], [pred[i] for i in idx])["macro_f1"]
        out[name + "_n"] = len(idx)
    return out


def main() -> None:
    rows, weakest = [], []
    for language in LANGUAGES:
        old = evaluate(language, ROOT / "rubrics" / "acts", ROOT / "instance" / "cache")
        for combine in COMBINE:
            f = figures(language, combine)
            a = f["all"]
            rows.append(f"| {language} | {label(language, combine)} | {f['n']} | "
                        f"{a['macro_f1']:.3f} | {f['multi_exact']:.2f} ({f['multi_n']}) | "
                        f"{f['punctuated']:.3f} ({f['punctuated_n']}) | {f['unpunctuated']:.3f} ({f['unpunctuated_n']}) | "
                        f"{old['macro_f1']:.3f} ({old['n_heldout']}) |")
            if combine == production(language):
                low = sorted(((v["f1"], k) for k, v in a["per_act"].items() if v["support"]))[:5]
                weakest.append(f"- {language}: " + ", ".join(f"{k} {v:.2f}" for v, k in low))
    batches = "; ".join(f"{lang}: " + ", ".join(f"{p.stem} {len(yaml.safe_load(p.read_text(encoding='utf-8'))['examples'])}"
                                              for p in batch_paths(lang, ROOT / "rubrics" / "acts"))
                        for lang in LANGUAGES)
    body = f"""## Speech acts on an independent evaluation set (`benchmarks/understanding_bench.py`)

Measured {dt.date.today().isoformat()} with `python benchmarks/understanding_bench.py`. The
evaluation set in `tests/data/acts_eval/` was written and labelled by a helper session that
saw only the act definitions and the domain brief, never `rubrics/acts/` or the system's
output; nothing is trained or tuned on it. The model learns from the train split of
`rubrics/acts/<language>.yaml` and from the batches in `rubrics/acts/<language>.d/`, written
by other hands from the act definitions alone ({batches}). The last column is the old
figure: the same model on the held-out split of its main training file, written by the
same hand as that file. "3+ acts exact" is the share of turns with three or more gold acts whose
whole act set is right.

| language | acts decided on | n | macro-F1 | 3+ acts exact (n) | punctuated (n) | unpunctuated (n) | own-split macro-F1 (n) |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Weakest acts (F1, production rule):
{chr(10).join(weakest)}
"""
    write_section("understanding-acts", body)
    print(body)


if __name__ == "__main__":
    main()
