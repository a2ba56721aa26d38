"""Linear scores of a fitted TF-IDF model for a handful of texts, without scikit-learn's
per-call overhead.

A drill turn analyses one utterance. `TfidfVectorizer.transform` then spends most of its
time on input validation and sparse-matrix assembly, not on the arithmetic, so a turn
paid about 2 ms for what is a few dictionary lookups and a weighted sum of weight rows.
`LinearScorer` does that arithmetic directly from the fitted vectoriser's own analyser,
vocabulary and idf, so it gives the same numbers (a test compares it with the
scikit-learn product on every training example). Vectorisers it does not know how to
mirror make `LinearScorer.build` return None, and the caller keeps the scikit-learn path.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Callable, Iterable

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

__all__ = ["LinearScorer"]


class _Part:
    """One fitted TfidfVectorizer: its analyser and how its columns are weighted."""

    def __init__(self, vectorizer: TfidfVectorizer, offset: int):
        self.analyse: Callable[[str], list[str]] = vectorizer.build_analyzer()
        self.columns = {term: offset + j for term, j in vectorizer.vocabulary_.items()}
        self.idf = np.concatenate([np.zeros(offset), np.asarray(vectorizer.idf_, dtype=float)])
        self.sublinear = bool(vectorizer.sublinear_tf)
        self.binary = bool(vectorizer.binary)
        self.norm = vectorizer.norm

    @staticmethod
    def supported(vectorizer) -> bool:
        return (isinstance(vectorizer, TfidfVectorizer) and vectorizer.use_idf
                and vectorizer.norm in ("l2", "l1", None) and vectorizer.dtype in (np.float64, float)
                and hasattr(vectorizer, "idf_"))

    def weights(self, text: str) -> tuple[list[int], np.ndarray]:
        """The text's non-zero columns and their TF-IDF values, normalised."""
        # Counted by column, with the unknown n-grams under None: the map and the count run
        # in C (a Python loop over the n-grams was a third of the scorer's time). Columns
        # are distinct per term, so the counts and their order are the terms'.
        counts = Counter(map(self.columns.get, self.analyse(text)))
        counts.pop(None, None)
        if not counts:
            return [], np.empty(0)
        cols = list(counts)
        tf = np.ones(len(cols)) if self.binary else np.fromiter(counts.values(), float, len(cols))
        if self.sublinear:
            tf = 1.0 + np.log(tf)
        vals = tf * self.idf[cols]
        scale = (np.sqrt(vals @ vals) if self.norm == "l2" else
                 np.abs(vals).sum() if self.norm == "l1" else 0.0)
        return cols, (vals / scale if scale > 0 else vals)


class LinearScorer:
    """`features.transform(texts) @ weights + bias`, computed one text at a time."""

    def __init__(self, parts: list[_Part], weights: np.ndarray, bias: np.ndarray):
        self.parts, self.weights, self.bias = parts, weights, bias

    @classmethod
    def build(cls, features, weights: np.ndarray, bias: np.ndarray) -> "LinearScorer | None":
        """A scorer mirroring `features` (a TfidfVectorizer or a FeatureUnion of them with
        default weights), or None when it cannot be mirrored exactly."""
        vectorizers = ([features] if isinstance(features, TfidfVectorizer) else
                       [step for _, step in features.transformer_list]
                       if isinstance(features, FeatureUnion) and not features.transformer_weights else None)
        if not vectorizers or not all(_Part.supported(v) for v in vectorizers):
            return None
        parts, offset = [], 0
        for v in vectorizers:
            parts.append(_Part(v, offset))
            offset += len(v.vocabulary_)
        if offset != weights.shape[0]:
            return None
        return cls(parts, weights, bias)

    def scores(self, texts: Iterable[str]) -> np.ndarray:
        rows = []
        for text in texts:
            cols: list[int] = []
            vals = []
            for part in self.parts:
                c, v = part.weights(text)
                cols += c
                vals.append(v)
            row = self.bias.copy()
            if cols:
                row += np.concatenate(vals) @ self.weights[cols]
            rows.append(row)
        return np.vstack(rows) if rows else np.empty((0, len(self.bias)))
