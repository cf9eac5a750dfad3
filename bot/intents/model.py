"""The shipped intent model: a linear classifier over ``BlockVectorizer``
features, with a softmax temperature fitted on cross-validated scores so that
the confidence means what it says.

Stored as a plain ``.npz`` (arrays + JSON vocabularies), written with fixed zip
timestamps so the same training data gives a byte-identical file. Loading it
needs numpy and scipy only, not scikit-learn, and no pickle.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.intents.vectorizer import Block, BlockVectorizer

FORMAT_VERSION = 1


@dataclass
class IntentModel:
    """Vectorizer + weights: ``kinds = softmax((X·Wᵀ + b) / T)``, plus an urgency head."""

    labels: tuple[str, ...]
    vectorizer: BlockVectorizer
    coef: np.ndarray  # (n_labels, n_features)
    intercept: np.ndarray  # (n_labels,)
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)
    # Urgency head: P(urgent) = sigmoid(X·u + c); flagged at or above the threshold.
    urgent_coef: np.ndarray | None = None
    urgent_intercept: float = 0.0
    urgent_threshold: float = 1.1  # above 1: head disabled

    def __post_init__(self) -> None:
        # Feature-major copy: one text's weights are a gather of a few hundred rows;
        # the urgency head rides along as one more column.
        weights, offsets = self.coef, self.intercept
        if self.urgent_coef is not None:
            weights = np.vstack([weights, self.urgent_coef])
            offsets = np.append(offsets, self.urgent_intercept)
        self._weights_by_feature = np.ascontiguousarray(weights.T)
        self._offsets = offsets

    def scores(self, folded_texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated kind probabilities (columns in ``labels`` order) and P(urgent)."""
        raw = np.tile(self._offsets, (len(folded_texts), 1))
        for row, text in enumerate(folded_texts):
            cols, vals = self.vectorizer.features(text)
            if len(cols):
                raw[row] += vals @ self._weights_by_feature[cols]
        n = len(self.labels)
        kinds = softmax(raw[:, :n] / self.temperature)
        urgent = 1.0 / (1.0 + np.exp(-raw[:, n])) if raw.shape[1] > n else np.zeros(len(raw))
        return kinds, urgent

    def predict_proba(self, folded_texts: Sequence[str]) -> np.ndarray:
        """Calibrated class probabilities, one row per text, columns in ``labels`` order."""
        return self.scores(folded_texts)[0]

    def save(self, path: Path) -> None:
        """Write the model; same model → same bytes."""
        arrays: dict[str, np.ndarray] = {
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float64),
        }
        if self.urgent_coef is not None:
            arrays["urgent_coef"] = self.urgent_coef.astype(np.float32)
        blocks_meta = []
        for block in self.vectorizer.blocks:
            tokens = sorted(block.vocabulary, key=block.vocabulary.__getitem__)
            arrays[f"vocab_{block.name}"] = _text_array(json.dumps(tokens, ensure_ascii=False))
            arrays[f"idf_{block.name}"] = block.idf.astype(np.float64)
            blocks_meta.append({"name": block.name, "weight": block.weight})
        header = {
            "format": FORMAT_VERSION,
            "labels": list(self.labels),
            "temperature": self.temperature,
            "urgent_intercept": self.urgent_intercept,
            "urgent_threshold": self.urgent_threshold,
            "blocks": blocks_meta,
            "meta": self.meta,
        }
        arrays["header"] = _text_array(json.dumps(header, ensure_ascii=False, sort_keys=True))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(arrays):
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, arrays[name], allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, buffer.getvalue())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        """Read a model written by ``save``; raises ``ValueError`` on a foreign file."""
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(_array_text(data["header"]))
            if header.get("format") != FORMAT_VERSION:
                raise ValueError(f"{path}: unsupported model format {header.get('format')!r}")
            blocks = []
            for spec in header["blocks"]:
                name = spec["name"]
                tokens = json.loads(_array_text(data[f"vocab_{name}"]))
                vocabulary = {tok: i for i, tok in enumerate(tokens)}
                blocks.append(Block(name, vocabulary, data[f"idf_{name}"], float(spec["weight"])))
            return cls(
                labels=tuple(header["labels"]),
                vectorizer=BlockVectorizer(blocks),
                coef=np.ascontiguousarray(data["coef"], dtype=np.float64),
                intercept=np.asarray(data["intercept"], dtype=np.float64),
                temperature=float(header["temperature"]),
                meta=header.get("meta", {}),
                urgent_coef=(
                    np.asarray(data["urgent_coef"], dtype=np.float64)
                    if "urgent_coef" in data.files
                    else None
                ),
                urgent_intercept=float(header.get("urgent_intercept", 0.0)),
                urgent_threshold=float(header.get("urgent_threshold", 1.1)),
            )


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def _text_array(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _array_text(array: np.ndarray) -> str:
    return bytes(array.tobytes()).decode("utf-8")
