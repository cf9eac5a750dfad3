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

import numpy as np
from scipy import sparse

from bot.intents.features import ANALYZERS, BLOCKS
from bot.intents.normalize import model_text


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
        # Plain lists: indexing one float from a list is 10× cheaper than from an array.
        self._idf_lists = tuple(block.idf.tolist() for block in self.blocks)

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

    def features(self, folded_text: str) -> tuple[list[int], list[float]]:
        """Column indices and values of one text's row: the serving path, which
        skips building a sparse matrix (most of the cost for one short text)."""
        return self._row(self._analyze_own(folded_text))

    def _row(self, tokens: dict[str, list[str]]) -> tuple[list[int], list[float]]:
        cols: list[int] = []
        vals: list[float] = []
        for block, offset, idf in zip(self.blocks, self.offsets, self._idf_lists, strict=True):
            get = block.vocabulary.get
            block_cols: list[int] = []
            block_vals: list[float] = []
            for token, count in Counter(tokens[block.name]).items():
                col = get(token)
                if col is not None:
                    block_cols.append(col + offset)
                    block_vals.append(
                        idf[col] if count == 1 else (1.0 + math.log(count)) * idf[col]
                    )
            if block_cols:
                scale = block.weight / math.sqrt(sum(v * v for v in block_vals))
                cols.extend(block_cols)
                vals.extend(v * scale for v in block_vals)
        return cols, vals

    def transform(self, folded_texts: Iterable[str]) -> sparse.csr_matrix:
        """Rows of TF-IDF features, one per text."""
        return self.transform_analyzed(self._analyze_own(text) for text in folded_texts)

    def _analyze_own(self, folded_text: str) -> dict[str, list[str]]:
        text = model_text(folded_text)
        return {block.name: ANALYZERS[block.name](text) for block in self.blocks}

    def transform_analyzed(self, analyzed: Iterable[dict[str, list[str]]]) -> sparse.csr_matrix:
        """``transform`` for texts already passed through ``analyze``."""
        indptr: list[int] = [0]
        indices: list[int] = []
        values: list[float] = []
        for tokens in analyzed:
            cols, vals = self._row(tokens)
            indices.extend(cols)
            values.extend(vals)
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(values, dtype=np.float64), np.asarray(indices, dtype=np.int32), indptr),
            shape=(len(indptr) - 1, self.n_features),
        )
