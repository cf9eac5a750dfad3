"""TF-IDF over the feature blocks, written out so one small code path serves
both training and the shipped model. Only the head and tail of a long
message are read (``normalize.model_text``).

Each block (see ``features.BLOCKS``) is weighted with sublinear tf × smoothed
idf (the same formula as scikit-learn's ``TfidfVectorizer``), L2-normalised on
its own so a long letter's thousands of character grams cannot drown its few
cue features, then scaled by the block's weight.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np

from bot.intents.features import ANALYZERS, BLOCKS
from bot.intents.normalize import model_text

if TYPE_CHECKING:  # scipy is needed for training and tests only, not to serve
    from scipy import sparse


@dataclass(frozen=True)
class Block:
    """One bag of features: its vocabulary, idf values and weight."""

    name: str
    vocabulary: dict[str, int]
    idf: np.ndarray
    weight: float


class BlockVectorizer:
    """Folded text → one sparse row of concatenated, per-block normalised TF-IDF."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks = tuple(blocks)
        offsets, total = [], 0
        for block in self.blocks:
            offsets.append(total)
            total += len(block.vocabulary)
        self.offsets = tuple(offsets)
        self.n_features = total

    @staticmethod
    def analyze(folded_text: str) -> dict[str, list[str]]:
        """Every block's raw tokens for one text (cacheable across training folds)."""
        text = model_text(folded_text)
        return {name: ANALYZERS[name](text) for name in BLOCKS}

    @classmethod
    def fit(
        cls,
        analyzed: Sequence[dict[str, list[str]]],
        weights: dict[str, float],
        min_df: dict[str, int],
    ) -> BlockVectorizer:
        """Learn vocabularies (sorted, so training is reproducible) and idf values."""
        n_docs = len(analyzed)
        blocks = []
        for name in BLOCKS:
            if weights.get(name, 0.0) <= 0.0:
                continue
            df: Counter[str] = Counter()
            for tokens in analyzed:
                df.update(set(tokens[name]))
            kept = sorted(tok for tok, count in df.items() if count >= min_df.get(name, 1))
            idf = np.array(
                [math.log((1 + n_docs) / (1 + df[tok])) + 1.0 for tok in kept], dtype=np.float64
            )
            vocabulary = {tok: i for i, tok in enumerate(kept)}
            blocks.append(Block(name, vocabulary, idf, float(weights[name])))
        return cls(blocks)

    def features(self, folded_text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and values of one text's row: the serving path, which
        skips building a sparse matrix (most of the cost for one short text)."""
        return self._row(self._analyze_own(folded_text))

    def _row(self, tokens: dict[str, list[str]]) -> tuple[np.ndarray, np.ndarray]:
        # Vocabulary look-ups run inside map() and numpy: a letter has ~2,000
        # distinct character grams, and a Python loop over them cost 2 ms.
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for block, offset in zip(self.blocks, self.offsets, strict=True):
            counts = Counter(tokens[block.name])
            size = len(counts)
            ids = np.fromiter(map(block.vocabulary.get, counts, repeat(-1)), np.int64, size)
            known = ids >= 0
            if not known.any():
                continue
            ids = ids[known]
            tf = np.fromiter(counts.values(), np.float64, size)[known]
            weights = (1.0 + np.log(tf)) * block.idf[ids]
            weights *= block.weight / math.sqrt(float(weights @ weights))
            cols.append(ids + offset)
            vals.append(weights)
        if not cols:
            return np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(cols), np.concatenate(vals)

    def transform(self, folded_texts: Iterable[str]) -> sparse.csr_matrix:
        """Rows of TF-IDF features, one per text."""
        return self.transform_analyzed(self._analyze_own(text) for text in folded_texts)

    def _analyze_own(self, folded_text: str) -> dict[str, list[str]]:
        text = model_text(folded_text)
        return {block.name: ANALYZERS[block.name](text) for block in self.blocks}

    def transform_analyzed(self, analyzed: Iterable[dict[str, list[str]]]) -> sparse.csr_matrix:
        """``transform`` for texts already passed through ``analyze``."""
        from scipy import sparse

        rows = [self._row(tokens) for tokens in analyzed]
        indptr = np.cumsum([0] + [len(cols) for cols, _ in rows])
        indices = np.concatenate([cols for cols, _ in rows]) if rows else np.zeros(0, np.int64)
        values = np.concatenate([vals for _, vals in rows]) if rows else np.zeros(0)
        return sparse.csr_matrix(
            (values, indices.astype(np.int32), indptr), shape=(len(rows), self.n_features)
        )
