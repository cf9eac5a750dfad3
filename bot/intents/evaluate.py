"""Scoring predictions against labels: the figures ``intents eval`` prints.

Plain Python on purpose: the report must not depend on which metrics library
happens to be installed, and the numbers are few.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.intents.data import LABELS, TICKET_LABELS


def classification_report(
    gold: Sequence[str],
    pred: Sequence[str],
    urgent_gold: Sequence[bool | None] | None = None,
    urgent_pred: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1 (all four kinds and the three ticket kinds), per-class
    P/R/F1, confusion matrix, and urgent recall/precision where labels exist."""
    per_class = {}
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        per_class[label] = {**_prf(tp, fp, fn), "support": tp + fn}
    present = [label for label in LABELS if per_class[label]["support"] > 0]
    ticket = [label for label in TICKET_LABELS if per_class[label]["support"] > 0]
    report: dict[str, Any] = {
        "n": len(gold),
        "accuracy": _ratio(sum(g == p for g, p in zip(gold, pred, strict=True)), len(gold)),
        "macro_f1": _mean([per_class[label]["f1"] for label in present]),
        "macro_f1_ticket_kinds": _mean([per_class[label]["f1"] for label in ticket]),
        "per_class": per_class,
        "confusion": {
            g: {p: sum(a == g and b == p for a, b in zip(gold, pred, strict=True)) for p in LABELS}
            for g in LABELS
        },
    }
    if urgent_gold is not None and urgent_pred is not None:
        pairs = [(g, p) for g, p in zip(urgent_gold, urgent_pred, strict=True) if g is not None]
        if pairs:
            tp = sum(g and p for g, p in pairs)
            fp = sum((not g) and p for g, p in pairs)
            fn = sum(g and not p for g, p in pairs)
            scores = _prf(tp, fp, fn)
            report["urgent"] = {
                "recall": scores["recall"],
                "precision": scores["precision"],
                "f1": scores["f1"],
                "positives": tp + fn,
                "predicted": tp + fp,
                "labelled": len(pairs),
            }
    return report


def format_report(report: dict[str, Any], title: str = "all") -> str:
    """Human-readable text of one report."""
    lines = [
        f"== {title} (n={report['n']})",
        f"accuracy              {report['accuracy']:.4f}",
        f"macro-F1 (4 kinds)    {report['macro_f1']:.4f}",
        f"macro-F1 (3 tickets)  {report['macro_f1_ticket_kinds']:.4f}",
        f"{'class':<10} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>5}",
    ]
    for label, row in report["per_class"].items():
        lines.append(
            f"{label:<10} {row['precision']:>6.3f} {row['recall']:>6.3f} {row['f1']:>6.3f}"
            f" {row['support']:>5}"
        )
    lines.append("confusion (rows gold, columns predicted)")
    lines.append(" " * 10 + "".join(f"{p[:9]:>10}" for p in LABELS))
    for gold, row in report["confusion"].items():
        lines.append(f"{gold:<10}" + "".join(f"{row[p]:>10}" for p in LABELS))
    urgent = report.get("urgent")
    if urgent:
        lines.append(
            f"urgent recall {urgent['recall']:.4f}  precision {urgent['precision']:.4f}"
            f"  (positives {urgent['positives']}, flagged {urgent['predicted']})"
        )
    return "\n".join(lines)


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": f1}


def _ratio(num: float, den: float) -> float:
    return round(num / den, 4) if den else 0.0


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0
