"""The public API on the shipped model: behaviour, not exact scores."""

import pytest

from bot.intents import (
    CLARIFY_THRESHOLD,
    Classifier,
    Understanding,
    needs_clarification,
    understand,
)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("卫生间漏水了", "repair"),
        ("The kitchen tap keeps dripping, can someone fix it?", "repair"),
        ("楼上天天装修到半夜，吵得没法睡，投诉多次没人管", "complaint"),
        ("The guard at the gate was extremely rude to my mother.", "complaint"),
        ("请问物业费怎么交？", "enquiry"),
        ("How do I apply for a parking permit?", "enquiry"),
        ("谢谢师傅，修得很好", "other"),
        ("Happy new year to all the staff!", "other"),
    ],
)
def test_clear_messages_get_their_kind(classifier: Classifier, text: str, kind: str) -> None:
    assert classifier.understand(text).kind == kind


def test_result_shape(classifier: Classifier) -> None:
    result = classifier.understand("3栋2单元1101 卫生间漏水了，电话13812345678")
    assert isinstance(result, Understanding)
    assert 0.0 <= result.confidence <= 1.0
    assert set(result.scores) == {"repair", "complaint", "enquiry", "other"}
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-3)
    assert result.confidence == max(result.scores.values())
    assert result.category == "water_leak"
    assert result.entities["unit"] == "3栋2单元1101"
    payload = result.to_json()
    assert {"label", "confidence", "urgent", "lang", "entities"} <= set(payload)
    assert payload["label"] == result.kind


def test_category_only_for_repairs(classifier: Classifier) -> None:
    assert classifier.understand("请问物业费怎么交？").category is None


def test_urgent_messages_are_flagged(classifier: Classifier) -> None:
    assert classifier.understand("救命，电梯困人了！").urgent
    assert not classifier.understand("明天消防演习吗？").urgent


def test_mixed_language_message(classifier: Classifier) -> None:
    result = classifier.understand("我家的toilet堵了，明天上午能来吗")
    assert result.lang == "zh"
    assert result.kind == "repair"
    assert classifier.understand("My 卫生间 is leaking badly, please send someone").lang == "en"


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "<p></p>", "\x00\x01"])
def test_empty_input_is_confident_other(classifier: Classifier, text: str) -> None:
    result = classifier.understand(text)
    assert (result.kind, result.confidence, result.urgent) == ("other", 1.0, False)


def test_very_long_input_does_not_crash(classifier: Classifier) -> None:
    letter = "尊敬的物业：我家卫生间漏水已经三个月了，报修多次没人管。" * 400  # > 10,000 chars
    assert len(letter) > 10_000
    result = classifier.understand(letter)
    assert result.kind in {"repair", "complaint"}
    huge = "the lift is broken " * 6000  # ~100 KB
    assert classifier.understand(huge).kind == "repair"


def test_odd_characters_do_not_break_anything(classifier: Classifier) -> None:
    for text in [
        "电梯坏了😡😡😡",
        "<b>lift</b> &amp; <script>x</script> broken",
        "\x1b[31m漏水\x07",
    ]:
        assert classifier.understand(text).kind in {"repair", "complaint", "enquiry", "other"}


def test_batch_matches_one_at_a_time(classifier: Classifier) -> None:
    texts = ["卫生间漏水了", "", "请问物业费怎么交", "lift broken", "谢谢"]
    batch = classifier.understand_many(texts)
    assert batch == [classifier.understand(t) for t in texts]


def test_module_level_understand_uses_the_cached_model() -> None:
    assert understand("电梯坏了").kind == "repair"


def test_clarification_threshold() -> None:
    unsure = Understanding("repair", CLARIFY_THRESHOLD - 0.1, False, "zh")
    sure = Understanding("repair", CLARIFY_THRESHOLD + 0.1, False, "zh")
    emergency = Understanding("repair", 0.3, True, "zh")
    assert needs_clarification(unsure)
    assert not needs_clarification(sure)
    assert not needs_clarification(emergency)


def test_an_emergency_is_never_small_talk(classifier: Classifier) -> None:
    result = classifier.understand("燃气味很重！")
    assert result.urgent
    assert result.kind != "other"
