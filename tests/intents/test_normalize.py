from bot.intents.normalize import MAX_SCAN_CHARS, clean, fold, normalize


def test_traditional_characters_fold_to_simplified() -> None:
    assert normalize("衛生間漏水，電梯壞了") == "卫生间漏水,电梯坏了"


def test_full_width_letters_and_digits_fold_to_ascii_lower_case() -> None:
    assert normalize("Ｕｎｉｔ　１２０３ ＬＩＦＴ") == "unit 1203 lift"


def test_fold_keeps_length_so_spans_map_back() -> None:
    text = "３棟２單元１１０１ Kitchen İ"
    assert len(fold(text)) == len(text)


def test_html_entities_and_control_characters_are_removed() -> None:
    text = "<p>卫生间&amp;厨房</p>\x00\x07漏水\u200b了"
    assert normalize(text) == "卫生间&厨房 漏水了"


def test_emoji_survive() -> None:
    assert "😡" in normalize("电梯又坏了😡")


def test_long_input_is_bounded() -> None:
    assert len(normalize("漏" * 200_000)) == MAX_SCAN_CHARS
    assert len(clean("a" * 1_000_000)) < 100_000
