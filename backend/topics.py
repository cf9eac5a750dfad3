"""What a complaint is about (noise, parking, …): a small keyword classifier.

Group-complaint warnings need "the same problem" to be a stable label, and reports count
complaints by it. Keywords are enough: owners name the thing they complain about
("楼上装修太吵", "dogs barking all night"). The longest keyword wins each stretch of
text; ties go to the more specific topic (``TOPICS`` order), so "楼上装修太吵" is
renovation rather than neighbours or noise. Traditional characters are folded to
simplified first (only the characters the keywords use, so this needs no bot package).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

OTHER = "other"

# Most specific first: this order breaks ties.
TOPICS: tuple[str, ...] = (
    "leak",
    "lift",
    "water_power",
    "smell",
    "renovation",
    "pets",
    "parking",
    "rubbish",
    "fees",
    "staff_service",
    "security",
    "noise",
    "neighbours",
    OTHER,
)

_ZH: dict[str, tuple[str, ...]] = {
    "leak": (
        "漏水",
        "渗水",
        "渗漏",
        "滴水",
        "爆管",
        "水管爆",
        "水管破",
        "漏雨",
        "返水",
        "泡水",
        "水渍",
    ),
    "lift": ("电梯", "困梯", "关人", "轿厢", "扶梯"),
    "water_power": (
        "停水",
        "停电",
        "没水",
        "没电",
        "断水",
        "断电",
        "水压",
        "跳闸",
        "水质",
        "黄水",
        "自来水",
        "供水",
        "供电",
    ),
    "smell": ("臭", "异味", "气味", "味道", "油烟", "烟味", "焚烧", "熏"),
    "renovation": ("装修", "电钻", "冲击钻", "砸墙", "打孔", "敲墙", "施工", "切割"),
    "pets": ("狗", "猫", "宠物", "犬", "狗屎", "狗叫", "遛狗", "猫叫"),
    "parking": ("停车", "车位", "乱停", "占道", "挡道", "车库", "道闸", "充电桩", "堵车", "占车位"),
    "rubbish": ("垃圾", "清运", "乱扔", "保洁", "卫生差", "脏乱", "建筑垃圾", "堆放"),
    "fees": (
        "物业费",
        "收费",
        "费用",
        "乱收费",
        "水费",
        "电费",
        "停车费",
        "账单",
        "涨价",
        "退款",
        "押金",
        "缴费",
        "多收",
    ),
    "staff_service": (
        "态度",
        "服务差",
        "不理",
        "没人管",
        "推诿",
        "不回复",
        "不作为",
        "客服",
        "管家",
        "没人来",
        "不处理",
        "保安态度",
        "保安骂",
        "维修慢",
        "太慢",
        "敷衍",
        "工作人员",
    ),
    "security": (
        "保安",
        "门禁",
        "小偷",
        "被盗",
        "被偷",
        "偷",
        "陌生人",
        "监控",
        "安全隐患",
        "治安",
    ),
    "noise": ("噪音", "噪声", "吵", "扰民", "响声", "声音大", "广场舞", "音响", "喇叭", "唱歌"),
    "neighbours": (
        "邻居",
        "楼上",
        "楼下",
        "隔壁",
        "对门",
        "私搭乱建",
        "占用公共",
        "晾衣",
        "高空抛物",
    ),
}

_EN: dict[str, tuple[str, ...]] = {
    "leak": (
        "leak",
        "leaks",
        "leaking",
        "seepage",
        "seeping",
        "dripping",
        "burst pipe",
        "water damage",
    ),
    "lift": ("lift", "lifts", "elevator", "elevators", "escalator"),
    "water_power": (
        "power cut",
        "power outage",
        "blackout",
        "no water",
        "no power",
        "no electricity",
        "water pressure",
        "water supply",
        "outage",
        "tripped",
    ),
    "smell": ("smell", "smells", "smelly", "stink", "stinks", "stench", "odour", "odor", "fumes"),
    "renovation": ("renovation", "renovating", "drilling", "drill", "hammering", "construction"),
    "pets": ("dog", "dogs", "cat", "cats", "pet", "pets", "barking", "poop", "leash"),
    "parking": ("parking", "car park", "carpark", "parked", "garage", "parking space", "charger"),
    "rubbish": ("rubbish", "garbage", "trash", "litter", "bins", "bin", "cleaning", "dirty"),
    "fees": (
        "fee",
        "fees",
        "charge",
        "charges",
        "charged",
        "overcharged",
        "bill",
        "billing",
        "refund",
        "deposit",
        "price",
        "management fee",
    ),
    "staff_service": (
        "rude",
        "attitude",
        "unprofessional",
        "ignored",
        "ignore",
        "no response",
        "no reply",
        "nobody came",
        "too slow",
        "slow",
        "staff",
        "customer service",
        "rude guard",
        "guard was rude",
    ),
    "security": ("security", "guard", "guards", "theft", "stolen", "burglary", "stranger", "cctv"),
    "noise": ("noise", "noisy", "loud", "music", "shouting", "karaoke"),
    "neighbours": (
        "neighbour",
        "neighbours",
        "neighbor",
        "neighbors",
        "upstairs",
        "downstairs",
        "next door",
    ),
}

# Traditional → simplified for the characters the Chinese keywords use (generated from
# bot/intents/resources/t2s_chars.txt; backend does not import the bot package).
_TRADITIONAL = (
    "亂乱佔占來来俬私傢家價价務务員员單单場场墻墙壓压寵宠對对庫库廂厢廣广復复態态拋抛擊击擋挡擾扰斷断業业樁桩樓楼氣气沒没沖冲"
    "滲渗漬渍漲涨潔洁為为煙烟燒烧燻熏爲为牆墙異异盜盗監监睏困築筑維维繳缴罵骂聲声脩修臟脏菸烟處处衛卫衝冲裝装複复諉诿譟噪貓猫"
    "費费質质賬账車车轎轿迴回運运鄰邻鉆钻鑽钻門门閘闸關关隱隐電电響响駡骂髒脏黃黄"
)
_FOLD = {ord(_TRADITIONAL[i]): _TRADITIONAL[i + 1] for i in range(0, len(_TRADITIONAL), 2)}
_CJK = re.compile(r"[\u4e00-\u9fff]")


@cache
def _matcher() -> tuple[re.Pattern[str], dict[str, str], dict[str, int]]:
    """One alternation of every keyword, longest first, with each keyword's topic and weight.

    Chinese keywords match anywhere; English ones as whole words. A keyword listed under
    two topics (none is) would go to the first.
    """
    topic_of: dict[str, str] = {}
    weight: dict[str, int] = {}
    for topic in TOPICS:
        for word in _ZH.get(topic, ()):
            topic_of.setdefault(word, topic)
            weight[word] = len(word)
        for word in _EN.get(topic, ()):
            topic_of.setdefault(word, topic)
            weight[word] = 2 * len(word.split())  # one English word ≈ two characters
    words = sorted(topic_of, key=len, reverse=True)
    parts = [re.escape(w) if _CJK.search(w) else rf"\b{re.escape(w)}\b" for w in words]
    return re.compile("|".join(parts)), topic_of, weight


def fold(text: str) -> str:
    """Lower case, traditional characters folded to simplified ones."""
    return text.lower().translate(_FOLD)


def scores(text: str) -> Counter[str]:
    """Each topic's weight of keywords found (non-overlapping, longest first)."""
    pattern, topic_of, weight = _matcher()
    found: Counter[str] = Counter()
    for match in pattern.finditer(fold(text)):
        word = match.group(0)
        found[topic_of[word]] += weight[word]
    return found


def classify(text: str) -> str:
    """The topic of a complaint's text; ``other`` when no keyword says."""
    found = scores(text)
    if not found:
        return OTHER
    best = max(found.values())
    return next(topic for topic in TOPICS if found.get(topic) == best)
