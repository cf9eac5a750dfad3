import pytest

from bot.intents.urgency import find_emergency, is_urgent

EMERGENCIES = [
    # gas
    ("厨房有很重的煤气味", "gas"),
    ("家裏燃氣洩漏了，快來人", "gas"),  # traditional
    ("闻到一股燃汽味", "gas"),  # typo 汽
    ("I smell gas in my kitchen", "gas"),
    ("strong gass smel near the meter", "gas"),  # typos
    # fire / smoke
    ("楼道里着火了！", "fire"),
    ("樓下電動車著火了", "fire"),
    ("smoke coming out of the socket", "fire"),
    ("There is a fire in the bin room", "fire"),
    # flooding / sewage
    ("卫生间水管爆了，水漫到客厅", "flood"),
    ("下水道返水，粪水冒出来了", "flood"),
    ("樓上水管爆了，水從我家天花板嘩嘩往下流", "flood"),
    ("water is pouring through the ceiling", "flood"),
    ("sewage is backing up into my bathroom", "flood"),
    # lift
    ("電梯困人了，快來", "lift"),
    ("我被困在电梯里了", "lift"),
    ("My son is stuck in the lift", "lift"),
    ("The elevater is stuck and we are trapped inside", "lift"),
    # electrical
    ("电线裸露在外面", "electric"),
    ("配电箱进水了还在冒火花", "electric"),
    ("exposed live wires in the lobby", "electric"),
    ("water in the meter box", "electric"),
    # injured person
    ("老人在大堂摔倒了起不来", "injury"),
    ("an old man fell down and can't get up", "injury"),
]

NOT_EMERGENCIES = [
    "the fire alarm test is tomorrow, will it be loud?",
    "明天消防演习",
    "燃气费怎么交",
    "请问燃气什么时候开通",
    "卫生间漏水了",
    "Unit 1203 sink leaking",
    "燃气灶打不着火",
    "没有煤气味",
    "如果燃气泄漏应该怎么办",
    "what should I do if I smell gas?",
    "the lift is broken",
    "The lift is stuck on floor 5",
    "小区喷水池不喷水了",
    "my neighbour is smoking in the corridor",
    "rubbish bins overflowing",
    "the fire drill is next week",
    "刚才闻到一股煤气味，原来是邻居在炖东西，没事了",
    "What is this extra $120 on my bill?",
]


@pytest.mark.parametrize(("text", "kind"), EMERGENCIES)
def test_emergencies_are_found(text: str, kind: str) -> None:
    hit = find_emergency(text)
    assert hit is not None
    assert hit.kind == kind
    assert is_urgent(text)


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_drills_questions_and_negations_are_not_emergencies(text: str) -> None:
    assert not is_urgent(text)


def test_cue_deep_in_a_long_letter_is_still_found() -> None:
    assert is_urgent("我家的情况是这样的。" * 500 + "现在煤气味很重")


def test_empty_text_is_not_urgent() -> None:
    assert not is_urgent("")


def test_anchored_scan_finds_what_a_full_scan_finds() -> None:
    from bot.intents.data import load_training_examples
    from bot.intents.normalize import normalize
    from bot.intents.urgency import emergency_in

    texts = [e.text for e in load_training_examples()] + [t for t, _ in EMERGENCIES]
    texts += NOT_EMERGENCIES + [" ".join(texts[i : i + 12]) for i in range(0, len(texts), 12)]
    for text in texts:
        folded = normalize(text)
        assert emergency_in(folded) == emergency_in(folded, anchored=False), text
