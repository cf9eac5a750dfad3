import pytest

from bot.intents.evaluate import classification_report, format_report


def test_perfect_predictions() -> None:
    gold = ["repair", "complaint", "enquiry", "other"]
    report = classification_report(
        gold, gold, [True, False, None, False], [True, False, False, False]
    )
    assert report["accuracy"] == 1.0
    assert report["macro_f1"] == 1.0 and report["macro_f1_ticket_kinds"] == 1.0
    assert report["urgent"] == {
        "recall": 1.0,
        "precision": 1.0,
        "f1": 1.0,
        "positives": 1,
        "predicted": 1,
        "labelled": 3,
    }


def test_known_figures() -> None:
    gold = ["repair", "repair", "complaint", "enquiry"]
    pred = ["repair", "complaint", "complaint", "enquiry"]
    report = classification_report(gold, pred)
    assert report["per_class"]["repair"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    )
    assert report["per_class"]["complaint"]["precision"] == 0.5
    assert report["confusion"]["repair"]["complaint"] == 1
    assert report["macro_f1_ticket_kinds"] == pytest.approx((0.6667 + 0.6667 + 1.0) / 3, abs=1e-4)
    assert "urgent" not in report
    assert "repair" in format_report(report)
