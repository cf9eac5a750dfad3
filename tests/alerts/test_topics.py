"""The complaint topic classifier: Chinese, English, traditional characters, tie-breaks."""

from __future__ import annotations

import pytest

from backend.topics import OTHER, TOPICS, classify, fold

CASES = [
    ("楼上装修从早上七点就开始电钻", "renovation"),
    ("樓上裝修電鑽聲太大", "renovation"),
    ("the neighbours have been drilling since 7am, renovation every day", "renovation"),
    ("晚上广场舞音响太吵，严重扰民", "noise"),
    ("loud music every night, the noise is unbearable", "noise"),
    ("地库车位被别人占了，乱停车", "parking"),
    ("someone keeps parking in my parking space", "parking"),
    ("垃圾两天没人清运了，臭气熏天", "rubbish"),
    ("垃圾兩天沒有清運", "rubbish"),
    ("the rubbish bins have not been emptied for days", "rubbish"),
    ("隔壁的狗整晚叫，狗屎也不清理", "pets"),
    ("dogs barking all night and poop everywhere", "pets"),
    ("小区最近有小偷，车棚电动车被偷了", "security"),
    ("my bike was stolen from the lobby, where is security?", "security"),
    ("保安态度很差，还骂人", "staff_service"),
    ("the security guard was rude to my mother", "staff_service"),
    ("物业费涨价没有通知业主", "fees"),
    ("物業費漲價", "fees"),
    ("I was overcharged on the management fee bill", "fees"),
    ("停车费太贵", "fees"),
    ("楼下邻居私搭乱建占用公共走廊", "neighbours"),
    ("the downstairs neighbour blocks the corridor", "neighbours"),
    ("整栋楼停水一天了也没有通知", "water_power"),
    ("no water since this morning in block 3", "water_power"),
    ("电梯又坏了，三天没人修", "lift"),
    ("電梯又壞了", "lift"),
    ("the lift has been out of order for a week", "lift"),
    ("楼道天花板漏水，墙上都是水渍", "leak"),
    ("water is leaking from the ceiling of the corridor", "leak"),
    ("垃圾房有很大的异味", "smell"),
    ("there is a terrible smell from the drains", "smell"),
    ("路灯不亮", OTHER),
    ("I would like to make a complaint", OTHER),
    ("", OTHER),
]


@pytest.mark.parametrize(("text", "topic"), CASES)
def test_topic(text: str, topic: str) -> None:
    assert classify(text) == topic


def test_every_topic_is_reachable_in_both_languages() -> None:
    zh = {topic for text, topic in CASES if any("\u4e00" <= c <= "\u9fff" for c in text)}
    en = {topic for text, topic in CASES if text.isascii()}
    assert zh == en == set(TOPICS)


def test_fold_keeps_text_and_folds_traditional() -> None:
    assert fold("樓上裝修 NOISE") == "楼上装修 noise"


def test_english_keywords_match_whole_words_only() -> None:
    assert classify("cabinet door is loose") == OTHER  # "bin" inside "cabinet"
    assert classify("the tenants' staffing agency") == OTHER  # not "staff"
