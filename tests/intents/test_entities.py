import pytest

from bot.intents.entities import extract_entities


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("卫生间漏水了", "bathroom"),
        ("主卫的花洒坏了", "master_bathroom"),
        ("厨房水龙头滴水", "kitchen"),
        ("陽台的門關不上", "balcony"),
        ("客厅的灯不亮", "living_room"),
        ("The master bathroom shower is broken", "master_bathroom"),
        ("water on the balcony floor", "balcony"),
        ("corridor light is out", "corridor"),
        ("马桶堵了", "bathroom"),  # implied by the item
    ],
)
def test_location_is_a_normalised_code(text: str, location: str) -> None:
    assert extract_entities(text).get("location") == location


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("水管爆了", "pipe"),
        ("窗户关不上", "window"),
        ("门锁坏了", "lock"),
        ("電梯壞了", "lift"),
        ("空调不制冷", "air_conditioner"),
        ("the elevator is out of order", "lift"),
        ("kitchen tap is dripping", "tap"),
        ("the lock on block 7 door", "lock"),  # "lock" is not found inside "block"
    ],
)
def test_item_is_an_english_noun(text: str, item: str) -> None:
    assert extract_entities(text).get("item") == item


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("我是3栋2单元1101的业主", "3栋2单元1101"),
        ("5號樓1單元502室的門鎖壞了", "5號樓1單元502室"),
        ("A-1-101 马桶堵了", "A-1-101"),
        ("B座1203漏水", "B座1203"),
        ("Unit 1203, the kitchen tap is leaking", "Unit 1203"),
        ("Block 3 #12-05 balcony window broken", "Block 3 #12-05"),
        ("ｕｎｉｔ １２０３ aircon", "ｕｎｉｔ １２０３"),
        ("corridor light outside 15-03 not working", "15-03"),
    ],
)
def test_unit_is_returned_as_written(text: str, unit: str) -> None:
    assert extract_entities(text).get("unit") == unit


@pytest.mark.parametrize(
    ("text", "time"),
    [
        ("明天上午10点来修", "明天上午10点"),
        ("今天下午有人在家", "今天下午"),
        ("請後天下午3點半過來", "後天下午3點半"),
        ("下午两点到五点家里有人", "下午两点到五点"),
        ("please come tomorrow morning", "tomorrow morning"),
        ("any time after 6pm is fine", "any time after 6pm"),
        ("come on Saturday", "on Saturday"),
    ],
)
def test_visit_time_is_returned_as_written(text: str, time: str) -> None:
    assert extract_entities(text).get("time") == time


@pytest.mark.parametrize(
    "text",
    ["昨天晚上11点还在装修", "快一点来修吧", "3号楼电梯坏了", "last night at 11pm they drilled"],
)
def test_past_times_and_false_friends_are_not_visit_times(text: str) -> None:
    assert "time" not in extract_entities(text)


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("电话13812345678", "13812345678"),
        ("電話：139-1234-5678", "139-1234-5678"),
        ("手机 138 1234 5678", "138 1234 5678"),
        ("my phone is +86 138 1234 5678", "+86 138 1234 5678"),
        ("座机 021-62345678", "021-62345678"),
        ("call me on +65 9123 4567", "+65 9123 4567"),
        ("+852 9123 4567 lift broken", "+852 9123 4567"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("call me 9123 4567", "9123 4567"),
    ],
)
def test_phone_numbers(text: str, phone: str) -> None:
    assert extract_entities(text).get("phone") == phone


def test_unit_and_phone_do_not_swallow_each_other() -> None:
    found = extract_entities("我是3栋2单元1101的业主，明天上午10点来修，电话13812345678")
    assert found == {
        "unit": "3栋2单元1101",
        "time": "明天上午10点",
        "phone": "13812345678",
    }


def test_nothing_found_gives_an_empty_dict() -> None:
    assert extract_entities("你好") == {}
    assert extract_entities("") == {}


def test_long_letter_entities_come_from_its_head_and_its_signature() -> None:
    letter = "我是3栋2单元1101的业主，卫生间漏水。" + "情况说明。" * 600 + "联系电话：13812345678"
    found = extract_entities(letter)
    assert found["unit"] == "3栋2单元1101"
    assert found["phone"] == "13812345678"
    assert found["location"] == "bathroom"
