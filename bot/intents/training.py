"""Training and cross-validation of the intent model.

Everything is seeded and ordered (sorted vocabularies, fixed fold seeds, a
deterministic solver), so the same data always gives the same model. The
softmax temperature is fitted on out-of-fold scores, never on the data the
weights were fitted on, so the reported confidence is honest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from bot.intents.data import LABELS, Example
from bot.intents.model import IntentModel, softmax
from bot.intents.normalize import normalize
from bot.intents.vectorizer import BlockVectorizer

SEED = 20240601


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters, chosen by cross-validation on the training files."""

    classifier: str = "ensemble"  # "logreg", "svm" or "ensemble" (sum of both, still linear)
    C: float = 10.0  # logistic regression's C; the SVM's hinge loss uses C / 10
    weights: dict[str, float] = field(
        default_factory=lambda: {"char": 1.0, "word": 1.0, "cue": 0.15}
    )
    min_df: dict[str, int] = field(default_factory=lambda: {"char": 2, "word": 2, "cue": 1})
    class_weight: str | None = "balanced"
    folds: int = 5
    # The learned urgency head adds to the rules (see urgency.py) above this probability;
    # low, because a missed emergency costs more than a false alarm.
    urgent_threshold: float = 0.35


def train(examples: Sequence[Example], config: TrainConfig | None = None) -> IntentModel:
    """Fit the model on all ``examples`` and calibrate it with out-of-fold scores."""
    config = config or TrainConfig()
    analyzed = analyze(examples)
    labels = np.array([LABELS.index(e.label) for e in examples])
    urgent = np.array([bool(e.urgent) for e in examples])
    oof, urgent_oof = out_of_fold(examples, config, analyzed=analyzed)
    temperature = fit_temperature(oof, labels)
    fitted = _fit_fold(analyzed, labels, urgent, config)
    flagged = urgent_oof >= config.urgent_threshold
    corpus = "\n".join(f"{e.label}\t{e.text}" for e in examples)
    digest = hashlib.sha256(corpus.encode()).hexdigest()
    meta = {
        "config": asdict(config),
        "examples": len(examples),
        "per_label": {label: int((labels == i).sum()) for i, label in enumerate(LABELS)},
        "data_sha256": digest,
        "urgent_head_cv": {
            "positives": int(urgent.sum()),
            "recall": round(float((flagged & urgent).sum() / max(1, urgent.sum())), 4),
            "precision": round(float((flagged & urgent).sum() / max(1, flagged.sum())), 4),
        },
    }
    return IntentModel(
        LABELS,
        fitted.vectorizer,
        fitted.coef,
        fitted.intercept,
        temperature,
        meta,
        urgent_coef=fitted.urgent_coef,
        urgent_intercept=fitted.urgent_intercept,
        urgent_threshold=config.urgent_threshold if fitted.urgent_coef is not None else 1.1,
    )


def analyze(examples: Sequence[Example]) -> list[dict[str, list[str]]]:
    """Tokens of every example, computed once and shared by all folds."""
    return [BlockVectorizer.analyze(normalize(e.text)) for e in examples]


def out_of_fold_decisions(
    examples: Sequence[Example],
    config: TrainConfig,
    analyzed: Sequence[dict[str, list[str]]] | None = None,
) -> np.ndarray:
    """Kind decision scores for every example from a model that did not see it."""
    return out_of_fold(examples, config, analyzed)[0]


def out_of_fold(
    examples: Sequence[Example],
    config: TrainConfig,
    analyzed: Sequence[dict[str, list[str]]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold kind scores and urgency probabilities (stratified by kind and language)."""
    analyzed = analyzed if analyzed is not None else analyze(examples)
    labels = np.array([LABELS.index(e.label) for e in examples])
    urgent = np.array([bool(e.urgent) for e in examples])
    strata = np.array([f"{e.label}/{e.lang}" for e in examples])
    scores = np.zeros((len(examples), len(LABELS)))
    urgent_probs = np.zeros(len(examples))
    splitter = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=SEED)
    for train_idx, test_idx in splitter.split(np.zeros(len(labels)), strata):
        fitted = _fit_fold(
            [analyzed[i] for i in train_idx], labels[train_idx], urgent[train_idx], config
        )
        features = fitted.vectorizer.transform_analyzed(analyzed[i] for i in test_idx)
        scores[test_idx] = features @ fitted.coef.T + fitted.intercept
        if fitted.urgent_coef is not None:
            logits = features @ fitted.urgent_coef + fitted.urgent_intercept
            urgent_probs[test_idx] = 1.0 / (1.0 + np.exp(-logits))
    return scores, urgent_probs


def fit_temperature(scores: np.ndarray, labels: np.ndarray) -> float:
    """The T minimising the log-loss of ``softmax(scores / T)`` (golden-section on log T)."""

    def nll(log_t: float) -> float:
        probs = softmax(scores / np.exp(log_t))
        return float(-np.log(probs[np.arange(len(labels)), labels] + 1e-12).mean())

    low, high = np.log(0.02), np.log(50.0)
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if nll(a) < nll(b):
            high = b
        else:
            low = a
    return round(float(np.exp((low + high) / 2)), 6)


@dataclass
class _Fitted:
    vectorizer: BlockVectorizer
    coef: np.ndarray
    intercept: np.ndarray
    urgent_coef: np.ndarray | None
    urgent_intercept: float


def _fit_fold(
    analyzed: Sequence[dict[str, list[str]]],
    labels: np.ndarray,
    urgent: np.ndarray,
    config: TrainConfig,
) -> _Fitted:
    """Vectorizer, kind weights and urgency head; weights are rounded to float32 as stored.

    One BLAS thread: faster for a problem this small, and the same sums every run."""
    vectorizer = BlockVectorizer.fit(analyzed, config.weights, config.min_df)
    features = vectorizer.transform_analyzed(analyzed)
    urgent_coef, urgent_intercept = None, 0.0
    with threadpool_limits(1):
        coef, intercept = _fit_weights(features, labels, config)
        if urgent.sum() >= 5 and (~urgent).sum() >= 5:
            head = LogisticRegression(C=10.0, max_iter=1000, class_weight="balanced")
            head.fit(features, urgent)
            urgent_coef = _as_stored(head.coef_[0])
            urgent_intercept = float(head.intercept_[0])
    return _Fitted(vectorizer, _as_stored(coef), intercept, urgent_coef, urgent_intercept)


def _as_stored(weights: np.ndarray) -> np.ndarray:
    """Weights as the model file keeps them (float32), so saved and fitted models agree."""
    return np.asarray(weights.astype(np.float32), dtype=np.float64)


def _fit_weights(
    features: sparse.csr_matrix, labels: np.ndarray, config: TrainConfig
) -> tuple[np.ndarray, np.ndarray]:
    coef = np.zeros((len(LABELS), features.shape[1]))
    intercept = np.zeros(len(LABELS))
    if config.classifier in ("logreg", "ensemble"):
        logreg = LogisticRegression(C=config.C, max_iter=1000, class_weight=config.class_weight)
        logreg.fit(features, labels)
        coef += _expand(logreg.coef_, logreg.classes_)
        intercept += _expand(logreg.intercept_[None, :], logreg.classes_)[0]
    if config.classifier in ("svm", "ensemble"):
        svm = LinearSVC(C=config.C / 10, class_weight=config.class_weight, random_state=SEED)
        svm.fit(features, labels)
        # SVM margins are about a tenth of log-odds; scale so both halves weigh alike.
        coef += 4.0 * _expand(svm.coef_, svm.classes_)
        intercept += 4.0 * _expand(svm.intercept_[None, :], svm.classes_)[0]
    if config.classifier not in ("logreg", "svm", "ensemble"):
        raise ValueError(f"unknown classifier {config.classifier!r}")
    return coef, intercept


def _expand(weights: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Place per-class rows at their label index (a class may be absent in a tiny set)."""
    full = np.zeros((len(LABELS), weights.shape[1]))
    if len(classes) == 2 and weights.shape[0] == 1:  # binary case: one row for class 1
        full[classes[1]] = weights[0]
        full[classes[0]] = -weights[0]
    else:
        full[classes] = weights
    return full
