"""Speech-act (intent) recognition for agent turns: classifier plus rules, Flask-free.

`load_intent_model(language)` returns a fitted `IntentModel`, trained once on the
train split of ``rubrics/acts/<language>.yaml`` and cached on disk and in memory;
`IntentModel.analyse(text)` returns an `Analysis` (acts, per-act scores, forbidden
words and the numbers, IDs and times the scorer checks). Nothing trains per request.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MultiLabelBinarizer

from app.core import numbers
from app.core.acts_data import (
    ACTS, LANGUAGES, ActExample, acts_path, batch_paths, load_batches, load_examples, split_examples,
)
from app.core.acts_rules import forbidden_words, has_time_commitment
from app.core.acts_features import AUGMENT, augmented, char_text, features, variants, word_text  # noqa: F401
from app.core.fast_features import LinearScorer

__all__ = [
    "ACTS", "CLASSIFIER_ACTS", "RULE_ACTS", "Analysis", "IntentModel", "evaluate",
    "fit_intent_model", "forget_loaded_models", "load_intent_model", "split_examples", "train_all",
    "training_bytes", "training_examples",
]

# Bump when features, labels or rules change in a way that makes old pickles wrong.
CODE_VERSION = "acts-7"
RULE_ACTS: tuple[str, ...] = ("forbidden_word",)
CLASSIFIER_ACTS: tuple[str, ...] = tuple(a for a in ACTS if a not in RULE_ACTS)
DEFAULT_THRESHOLD = 0.5
# Up to this many texts per call LinearScorer wins (one text: ~9x faster than the
# vectoriser's transform; at 16 texts they tie, beyond it the batch transform wins).
# A long turn goes through the model with its clauses, 9 texts or more (one line in six
# of the billing script's excellent agent): measured on that script's turn and clause
# texts, 9 texts 1.9 ms against 3.2 ms, 12 texts 2.2 ms against 3.8 ms, 16 texts 3.7 ms
# each way. It was 8, which sent those long turns down the slower path.
_FAST_BATCH = 15
_THRESHOLD_GRID = tuple(round(float(t), 2) for t in np.arange(0.2, 0.71, 0.05))
RANDOM_STATE = 0
# Chosen by 5-fold cross-validation on the whole file (see benchmarks/intent_bench.py --cv).
_C = {"zh-CN": 20.0, "en": 100.0}


@dataclass(frozen=True)
class Analysis:
    """What one agent utterance does and the facts it mentions.

    `acts` is the final decision (classifier ∪ rules; forbidden_word only by rule);
    `scores` are the classifier's probabilities for CLASSIFIER_ACTS, rounded to 4
    decimals. Every tuple keeps the order of appearance in the text.
    """

    acts: frozenset[str]
    scores: dict[str, float] = field(default_factory=dict)
    forbidden: tuple[str, ...] = ()
    staff_ids: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    id_fragments: tuple[str, ...] = ()
    amounts: tuple[float, ...] = ()
    data_gb: tuple[float, ...] = ()
    durations: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready dict; `acts` listed in canonical ACTS order."""
        return {
            "acts": [a for a in ACTS if a in self.acts],
            "scores": dict(self.scores),
            "forbidden": list(self.forbidden),
            "staff_ids": list(self.staff_ids),
            "phones": list(self.phones),
            "id_fragments": list(self.id_fragments),
            "amounts": list(self.amounts),
            "data_gb": list(self.data_gb),
            "durations": list(self.durations),
        }


_NUMBER_RUN = re.compile(r"(?<![\d零〇一幺二三四五六七八九洞两])[\d零〇一幺二三四五六七八九洞两]{3,8}"
                         r"(?![\d零〇一幺二三四五六七八九洞两])")
_NOT_STAFF_BEFORE = re.compile(r"(?:单号|工单|订单|编号|号码|尾号|手机|电话|ticket|order|reference|number ending)"
                               r"[^\d]{0,4}$", re.IGNORECASE)
_NOT_STAFF_AFTER = re.compile(r"^\s*(?:年|元|块|个|G|M|兆|分|秒|天|月|小时|yuan|GB|MB|minutes?|hours?|days?)",
                              re.IGNORECASE)


def _could_be_staff_number(text: str) -> bool:
    """A three-to-eight digit number that is not a hotline (100xx), year, amount,
    volume, duration or ticket: what a staff number the rule missed looks like."""
    if re.search(r"工号|\b(?:staff|agent|badge|operator)\b", text, re.IGNORECASE):
        return True
    for m in _NUMBER_RUN.finditer(text):
        token = m.group()
        if re.fullmatch(r"100\d\d|12345", token):
            continue
        if _NOT_STAFF_BEFORE.search(text[:m.start()]) or _NOT_STAFF_AFTER.match(text[m.end():]):
            continue
        return True
    # "agent one zero zero eight", "double-oh-eight"
    return bool(re.search(r"\b(?:agent|staff|ID|number)\b.{0,12}\b(?:zero|oh|one|two|three|four|five|six|seven|"
                          r"eight|nine|double)\b", text, re.IGNORECASE))


# Per-act thresholds tuned by cross-validation bought nothing on the held-out split
# (0.879 tuned, 0.880 at 0.5) and cost five extra fits; on the development set a
# single threshold of 0.4 or 0.6 did no better than 0.5. So training fits once.
TUNE_THRESHOLDS = False


def build_pipeline(language: str) -> Pipeline:
    """An unfitted, deterministic vectoriser + one-vs-rest logistic regression."""
    clf = LogisticRegression(C=_C[language], class_weight="balanced", solver="liblinear",
                             max_iter=2000, random_state=RANDOM_STATE)
    return Pipeline([("features", features(language)), ("clf", OneVsRestClassifier(clf))])


def _tune_thresholds(language: str, texts: list[str], y: np.ndarray, labels: list[str]) -> dict[str, float]:
    """Per-act threshold maximising F1 on out-of-fold predictions of the training set.

    Ties go to the threshold nearest 0.5 so that a flat F1 curve keeps the default.
    """
    folds = KFold(n_splits=5, shuffle=True, random_state=RANDOM_STATE)
    proba = np.zeros(y.shape, dtype=float)
    for train_idx, test_idx in folds.split(texts):
        # Augment inside the fold only: a variant of a held-out sentence in the
        # training part would flatter its score and push thresholds up.
        fold_texts, fold_y = augmented(language, [texts[i] for i in train_idx], y[train_idx])
        fold = build_pipeline(language).fit(fold_texts, fold_y)
        proba[test_idx] = fold.predict_proba([texts[i] for i in test_idx])
    thresholds = {}
    for j, act in enumerate(labels):
        best = (-1.0, 0.0, DEFAULT_THRESHOLD)
        for t in _THRESHOLD_GRID:
            pred = proba[:, j] >= t
            tp = float(np.sum(pred & (y[:, j] == 1)))
            denom = float(pred.sum() + y[:, j].sum())
            f1 = 2 * tp / denom if denom else 0.0
            best = max(best, (round(f1, 6), -abs(t - DEFAULT_THRESHOLD), t))
        thresholds[act] = float(best[2])
    return thresholds


class IntentModel:
    """A fitted act classifier for one language, plus the rules for that language."""

    def __init__(self, language: str, pipeline: Pipeline, labels: list[str],
                 thresholds: dict[str, float], n_train: int, cache_key: str = ""):
        self.language = language
        self.pipeline = pipeline
        self.labels = list(labels)
        self.thresholds = dict(thresholds)
        self.n_train = n_train
        self.cache_key = cache_key
        self._weights: np.ndarray | None = None
        self._bias: np.ndarray | None = None
        self._scorer: LinearScorer | None = None

    def analyse(self, text: str) -> Analysis:
        """Analyse one utterance; never trains, never touches the disk."""
        return self.analyse_many([text])[0]

    def analyse_many(self, texts: Iterable[str], numbers: bool = True) -> list[Analysis]:
        """Analyse utterances in one vectorised pass; same results as `analyse` one by one.
        With `numbers=False` the analyses hold acts and scores only, and no act by the
        forbidden-word rule: the understanding layer reads a turn's forbidden words and
        numbers itself, and a clause's never (on a drill turn and its clauses, the rule
        ran five or six times for nothing)."""
        texts = [t or "" for t in texts]
        if not texts:
            return []
        return [self._decide(text, row, numbers) for text, row in zip(texts, self._proba(texts))]

    def _proba(self, texts: list[str]) -> np.ndarray:
        # Same numbers as pipeline.predict_proba (one-vs-rest logistic regression is a
        # sigmoid per label), but one sparse matrix product instead of 17 estimator
        # calls, each with its own input validation: ~3x faster for a single turn.
        if getattr(self, "_weights", None) is None:
            estimators = self.pipeline.named_steps["clf"].estimators_
            # C-contiguous: scipy copies (ravels) a transposed dense operand on every product.
            self._weights = np.ascontiguousarray(np.vstack([e.coef_.ravel() for e in estimators]).T)
            self._bias = np.array([e.intercept_[0] for e in estimators])
            # A drill turn is one text: skip the vectoriser's per-call overhead (same numbers).
            self._scorer = LinearScorer.build(self.pipeline.named_steps["features"], self._weights, self._bias)
        if self._scorer is not None and len(texts) <= _FAST_BATCH:
            z = self._scorer.scores(texts)
        else:
            z = self.pipeline.named_steps["features"].transform(texts) @ self._weights + self._bias
        return 1.0 / (1.0 + np.exp(-z))

    def __getstate__(self):
        # The derived arrays and the fast scorer (which holds the vectorisers' analyser
        # closures) are rebuilt on first use; only the fitted parts are pickled.
        state = dict(self.__dict__)
        state.update(_weights=None, _bias=None, _scorer=None)
        return state

    def _decide(self, text: str, row: np.ndarray, with_numbers: bool = True) -> Analysis:
        scores = {act: round(float(p), 4) for act, p in zip(self.labels, row)}
        acts = {act for act, p in zip(self.labels, row) if p >= self.thresholds.get(act, DEFAULT_THRESHOLD)}
        forbidden = forbidden_words(text, self.language) if with_numbers else ()
        staff = numbers.staff_ids(text)
        acts.discard("forbidden_word")
        if not staff and not _could_be_staff_number(text):
            # The classifier reads digits as a staff number; a hotline (10086), a
            # year, a ticket or an amount is not one.
            acts.discard("self_id")
        if not numbers.time_expressions(text):
            # The act is defined by a concrete time; "I'll call you back" without one is
            # a promise the scorer must not credit as a time commitment.
            acts.discard("time_commitment")
        if forbidden:
            acts.add("forbidden_word")
        if staff:
            acts.add("self_id")
        if has_time_commitment(text, self.language):
            acts.add("time_commitment")
        if not with_numbers:
            return Analysis(acts=frozenset(acts), scores=scores, forbidden=forbidden, staff_ids=staff)
        return Analysis(
            acts=frozenset(acts), scores=scores, forbidden=forbidden, staff_ids=staff,
            phones=numbers.phones(text), id_fragments=numbers.id_fragments(text),
            amounts=numbers.amounts(text), data_gb=numbers.data_volumes_gb(text),
            durations=numbers.durations(text),
        )


def fit_intent_model(language: str, examples: list[ActExample], tune: bool | None = None,
                     cache_key: str = "") -> IntentModel:
    """Fit a model on exactly `examples` (deterministic: same examples, same model)."""
    texts = [ex.text for ex in examples]
    binarizer = MultiLabelBinarizer(classes=list(CLASSIFIER_ACTS))
    y = binarizer.fit_transform([[a for a in ex.acts if a in CLASSIFIER_ACTS] for ex in examples])
    labels = list(binarizer.classes_)
    tune = TUNE_THRESHOLDS if tune is None else tune
    thresholds = (_tune_thresholds(language, texts, y, labels) if tune
                  else {a: DEFAULT_THRESHOLD for a in labels})
    pipeline = build_pipeline(language).fit(*augmented(language, texts, y))
    return IntentModel(language, pipeline, labels, thresholds, len(examples), cache_key)


def default_cache_dir() -> Path:
    """$HOTLINE_CACHE_DIR, else instance/cache under the current directory."""
    return Path(os.environ.get("HOTLINE_CACHE_DIR") or Path("instance") / "cache")


def _cache_key(raw: bytes) -> str:
    h = hashlib.sha256(raw)
    h.update(f"\nsklearn={sklearn.__version__}\ncode={CODE_VERSION}".encode())
    return h.hexdigest()


_MEMO: dict[tuple[str, str, str], IntentModel] = {}
_STAMPED: dict[tuple, tuple[str, str, str]] = {}  # (language, file, size, mtime) -> memo key


def forget_loaded_models() -> None:
    """Drop the in-process memo (tests; a long-lived process never needs this)."""
    _MEMO.clear()
    _STAMPED.clear()
    _LISTED.clear()


def _read_cache(path: Path, key: str) -> IntentModel | None:
    # The cache dir is our own instance folder, written only by this function's twin,
    # so unpickling it is as trusted as the code. Any failure means "retrain".
    try:
        with path.open("rb") as fh:
            model = pickle.load(fh)
    except Exception:
        return None
    if isinstance(model, IntentModel) and model.cache_key == key:
        return model
    return None


def _write_cache(path: Path, model: IntentModel) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a concurrent reader never sees half a pickle.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _prune_cache(keep: Path, language: str) -> None:
    # Every edit of the data file makes a new key; drop the older pickles of this
    # language so the cache does not grow without bound. Readers that have one open
    # keep their copy (unlinking does not disturb an open file).
    for old in keep.parent.glob(f"intent-{language}-*.pkl"):
        if old != keep:
            old.unlink(missing_ok=True)


def cache_file(language: str, key: str, cache_dir: Path | str | None = None) -> Path:
    """The pickle that holds the model for this language and cache key."""
    return Path(cache_dir or default_cache_dir()) / f"intent-{language}-{key[:20]}.pkl"


def training_examples(language: str, acts_dir: Path | str = Path("rubrics/acts")) -> list[ActExample]:
    """What the production model learns from: the train split of the main file, then every
    example of the language's batches (`<language>.d/*.yaml`, written by other hands)."""
    data, _ = load_examples(language, acts_dir)
    train, _ = split_examples(data.examples)
    return train + load_batches(language, acts_dir, exclude={ex.text for ex in data.examples})


def training_bytes(language: str, acts_dir: Path | str = Path("rubrics/acts")) -> bytes:
    """The bytes the model is keyed by: the main file and every batch, with their names."""
    try:
        raw = acts_path(language, acts_dir).read_bytes()
        for extra in batch_paths(language, acts_dir):
            raw += b"\n--- " + extra.name.encode() + b"\n" + extra.read_bytes()
    except OSError:
        return b""  # load_examples reports the unreadable file as a DataFileError
    return raw


_LISTED: dict[str, tuple[int, tuple[str, ...]]] = {}  # batch folder -> (its mtime, its files)


def _data_stamp(language: str, acts_dir: Path | str) -> tuple | None:
    """What says the language's data files are unchanged: the main file's absolute path,
    then each file's name, size and mtime. The batch folder is listed again only when its
    own mtime moves (a batch added, removed or renamed); each file is stat'ed once. (It
    was a glob, a path resolution and two stats per file on every drill turn: about a
    quarter of a millisecond.) None when a file cannot be read."""
    folder = os.path.join(acts_dir, f"{language}.d")
    try:
        folder_mtime = os.stat(folder).st_mtime_ns
    except OSError:
        folder_mtime = -1
    listed = _LISTED.get(folder)
    if listed is None or listed[0] != folder_mtime:
        listed = (folder_mtime, tuple(str(p) for p in batch_paths(language, acts_dir)))
        _LISTED[folder] = listed
    main = str(acts_path(language, acts_dir))
    try:
        return (language, os.path.abspath(main),
                *((p, st.st_size, st.st_mtime_ns) for p in (main, *listed[1]) for st in (os.stat(p),)))
    except OSError:
        return None


def load_intent_model(language: str, acts_dir: Path | str = Path("rubrics/acts"),
                      cache_dir: Path | str | None = None) -> IntentModel:
    """The fitted model for `language`, trained on `training_examples` (the train split of
    its data file plus its batches).

    Order of lookup: in-process memo, then the pickle in `cache_dir` (keyed by the
    data files' bytes, the scikit-learn version and CODE_VERSION), then training,
    which validates the file (DataFileError on faults) and writes the pickle. A
    missing, corrupt or stale pickle is retrained and overwritten, never an error.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
    # Every drill turn asks for the model: while the data files' sizes and mtimes are
    # unchanged, skip reading and hashing them (0.5 MB, about a millisecond a turn).
    stamp = _data_stamp(language, acts_dir)
    if stamp is not None and stamp in _STAMPED and _STAMPED[stamp] in _MEMO:
        return _MEMO[_STAMPED[stamp]]
    key = _cache_key(training_bytes(language, acts_dir))
    memo_key = (language, str(Path(acts_dir).resolve()), key)
    if stamp is not None:
        _STAMPED[stamp] = memo_key
    if memo_key in _MEMO:
        return _MEMO[memo_key]
    target = cache_file(language, key, cache_dir)
    model = _read_cache(target, key)
    if model is None:
        train = training_examples(language, acts_dir)
        model = fit_intent_model(language, train, cache_key=key)
        _write_cache(target, model)
        _prune_cache(target, language)
    _MEMO[memo_key] = model
    return model


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def score_predictions(gold: list[frozenset[str] | set[str]], predicted: list[frozenset[str]]) -> dict:
    """Per-act precision/recall/F1/support and macro-F1 (classifier acts, rule acts)."""
    per_act = {}
    for act in ACTS:
        tp = sum(1 for g, p in zip(gold, predicted) if act in g and act in p)
        fp = sum(1 for g, p in zip(gold, predicted) if act not in g and act in p)
        fn = sum(1 for g, p in zip(gold, predicted) if act in g and act not in p)
        per_act[act] = {**_prf(tp, fp, fn), "support": tp + fn}

    def macro(acts: tuple[str, ...]) -> float:
        f1s = [per_act[a]["f1"] for a in acts if per_act[a]["support"]]
        return round(sum(f1s) / len(f1s), 4) if f1s else 0.0

    exact = sum(1 for g, p in zip(gold, predicted) if set(g) == set(p))
    return {"per_act": per_act, "macro_f1": macro(CLASSIFIER_ACTS), "rule_macro_f1": macro(RULE_ACTS),
            "exact_match": round(exact / len(gold), 4) if gold else 0.0}


def evaluate(language: str, acts_dir: Path | str = Path("rubrics/acts"),
             cache_dir: Path | str | None = None) -> dict:
    """Held-out figures of the production model (trained on the train split only).

    `macro_f1` averages F1 over CLASSIFIER_ACTS (the final decision, so the self_id
    and time_commitment rules count too); `rule_macro_f1` over RULE_ACTS.
    """
    data, _ = load_examples(language, acts_dir)
    train, heldout = split_examples(data.examples)
    model = load_intent_model(language, acts_dir, cache_dir)
    predicted = [a.acts for a in model.analyse_many([ex.text for ex in heldout])]
    result = score_predictions([frozenset(ex.acts) for ex in heldout], predicted)
    return {"language": language, "n_train": len(train), "n_heldout": len(heldout),
            "thresholds": dict(model.thresholds), **result}


def train_all(acts_dir: Path | str = Path("rubrics/acts"), cache_dir: Path | str | None = None) -> list[str]:
    """Train (or load from cache) every language's model; one summary line per language."""
    lines = []
    for language in LANGUAGES:
        if not acts_path(language, acts_dir).exists():
            lines.append(f"{language}: no data file at {acts_path(language, acts_dir)}, skipped")
            continue
        model = load_intent_model(language, acts_dir, cache_dir)
        report = evaluate(language, acts_dir, cache_dir)
        lines.append(
            f"{language}: trained on {model.n_train} examples, held-out macro-F1 "
            f"{report['macro_f1']:.3f} on {report['n_heldout']}, "
            f"cache {cache_file(language, model.cache_key, cache_dir)}")
    return lines
