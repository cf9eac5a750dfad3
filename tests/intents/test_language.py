import pytest

from bot.intents.language import DEFAULT_LANG, detect_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("卫生间漏水了", "zh"),
        ("The lift is broken again", "en"),
        ("我家toilet堵了，快来修", "zh"),
        ("电梯坏了 lift broken", "zh"),
        ("My 卫生间 is leaking, please send someone tomorrow", "en"),
        ("OK", DEFAULT_LANG),
        ("ok thanks", "en"),
        ("衛生間漏水", "zh"),
        ("ＨＥＬＬＯ there", "en"),
    ],
)
def test_dominant_script_decides(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_no_letters_gives_the_default() -> None:
    assert detect_language("12345 !!! 👍") == DEFAULT_LANG
    assert detect_language("", default="en") == "en"
