"""Entities a ticket needs: where in the home, what item, which unit, when to
visit, and a phone number to call back.

Locations and items come back as normalised codes (``bathroom``, ``pipe``) so
tickets can be counted by spot and kind; unit, time and phone come back as the
owner wrote them, since staff read them back to the owner. Matching runs on the
same-length folded text, so traditional characters and full-width digits are
found while the returned span is the original spelling.
"""

from __future__ import annotations

import re

from bot.intents.normalize import MAX_SCAN_CHARS, clean, fold
from bot.intents.scan import find_all, find_first

#: A long letter gives its unit and visit time in its first lines and often its
#: phone in its signature: entities are looked for in its head, then its tail.
ENTITY_HEAD_CHARS = 600
ENTITY_TAIL_CHARS = 300

# Longer, more specific words first: the earliest match in the text wins, and at
# the same position the longest one.
_LOCATIONS: dict[str, tuple[str, ...]] = {
    "master_bathroom": (
        "主卫生间",
        "主卫",
        "主卧卫生间",
        "主卧的卫生间",
        "master bathroom",
        "master bath",
        "en-suite",
        "ensuite",
    ),
    "bathroom": (
        "卫生间",
        "洗手间",
        "厕所",
        "浴室",
        "淋浴间",
        "次卫",
        "客卫",
        "公卫",
        "卫浴",
        "bathroom",
        "toilet room",
        "washroom",
        "restroom",
        "shower room",
        "loo",
    ),
    "kitchen": ("厨房", "灶台", "kitchen"),
    "balcony": ("阳台", "balcony"),
    "living_room": (
        "客厅",
        "餐厅",
        "起居室",
        "living room",
        "lounge",
        "sitting room",
        "dining room",
    ),
    "bedroom": ("主卧", "次卧", "卧室", "房间", "儿童房", "bedroom", "master bedroom"),
    "study": ("书房", "study room", "the study", "my study"),
    "corridor": (
        "走廊",
        "过道",
        "楼道",
        "玄关",
        "门口",
        "corridor",
        "hallway",
        "stairwell",
        "staircase",
        "landing",
    ),
    "roof": ("屋顶", "楼顶", "天台", "顶楼", "roof", "rooftop"),
    "terrace": ("露台", "平台", "terrace", "patio"),
    "basement": ("地下室", "负一楼", "basement"),
    "garage": (
        "车库",
        "地下车库",
        "停车场",
        "车位",
        "garage",
        "car park",
        "carpark",
        "parking lot",
        "parking garage",
        "parking space",
    ),
    "lobby": ("大堂", "门厅", "单元门厅", "lobby", "foyer", "entrance hall"),
    "public_area": (
        "公共区域",
        "公区",
        "小区",
        "绿化",
        "电梯厅",
        "单元门",
        "广场",
        "健身区",
        "游乐区",
        "public area",
        "common area",
        "garden",
        "courtyard",
        "playground",
        "clubhouse",
        "gym",
        "pool",
    ),
    "window_area": ("飘窗", "窗台", "窗边", "window sill", "windowsill", "bay window"),
}

# When no room is named, some items say where they are.
_IMPLIED_LOCATIONS: dict[str, tuple[str, ...]] = {
    "bathroom": (
        "马桶",
        "坐便",
        "蹲便",
        "花洒",
        "淋浴",
        "浴缸",
        "浴霸",
        "洗手盆",
        "面盆",
        "toilet",
        "shower",
        "bathtub",
        "bath tub",
        "wash basin",
        "basin",
    ),
    "kitchen": (
        "灶",
        "油烟机",
        "洗菜盆",
        "橱柜",
        "stove",
        "cooker",
        "hob",
        "range hood",
        "kitchen sink",
    ),
    "bedroom": ("床", "衣柜", "wardrobe", "headboard", "my bed"),
}

# Every location name the extractor gives (each has a ``location.<name>`` text).
LOCATION_NAMES = frozenset(_LOCATIONS) | frozenset(_IMPLIED_LOCATIONS)

_ITEMS: dict[str, tuple[str, ...]] = {
    "pipe": ("水管", "管道", "管子", "排水管", "下水管", "pipe", "pipes", "plumbing"),
    "window": ("窗户", "窗子", "窗框", "窗", "window", "windows"),
    "lock": ("门锁", "锁芯", "智能锁", "指纹锁", "锁", "lock", "door lock"),
    "door": ("防盗门", "入户门", "房门", "门", "door", "doors"),
    "lift": ("电梯", "升降梯", "lift", "lifts", "elevator", "elevators"),
    "air_conditioner": (
        "空调",
        "中央空调",
        "air conditioner",
        "air conditioning",
        "air-con",
        "aircon",
        "a/c",
    ),
    "water_heater": ("热水器", "water heater", "boiler"),
    "toilet": ("马桶", "坐便器", "蹲便", "toilet"),
    "tap": ("水龙头", "龙头", "tap", "faucet"),
    "drain": ("地漏", "下水道", "排水口", "drain", "floor drain", "floor trap", "sewer"),
    "sink": ("水槽", "洗手盆", "洗菜盆", "面盆", "sink", "basin"),
    "shower": ("花洒", "淋浴", "shower"),
    "light": ("路灯", "灯泡", "灯管", "电灯", "灯", "light", "lights", "lamp", "bulb"),
    "socket": ("插座", "socket", "outlet", "power point"),
    "switch": ("开关", "空开", "电闸", "switch", "circuit breaker", "breaker"),
    "wire": ("电线", "线路", "电缆", "wire", "wires", "wiring", "cable"),
    "meter": ("电表", "水表", "燃气表", "meter"),
    "wall": ("墙面", "墙体", "外墙", "墙", "wall", "walls"),
    "ceiling": ("天花板", "吊顶", "ceiling"),
    "floor": ("地板", "地面", "地砖", "floor", "flooring"),
    "tile": ("瓷砖", "tile", "tiles"),
    "heater": ("暖气片", "暖气", "地暖", "浴霸", "heating", "radiator", "heater"),
    "access_control": ("门禁", "门禁卡", "access card", "access control", "card reader"),
    "gate": ("大门", "闸机", "道闸", "伸缩门", "gate", "barrier"),
    "gas_pipe": ("燃气管", "煤气管", "gas pipe"),
    "smoke_detector": ("烟感", "烟雾报警器", "smoke alarm", "smoke detector"),
    "intercom": ("对讲", "可视对讲", "门铃", "intercom", "doorbell"),
    "stove": ("燃气灶", "煤气灶", "灶", "stove", "hob", "cooker"),
    "range_hood": ("油烟机", "抽油烟机", "range hood", "cooker hood", "extractor"),
    "exhaust_fan": ("排风扇", "排气扇", "换气扇", "exhaust fan", "extractor fan"),
    "glass": ("玻璃", "glass", "pane"),
    "roof": ("屋面", "屋顶", "roof"),
    "gas": ("燃气", "煤气", "天然气", "gas"),
    "cctv": ("监控", "摄像头", "cctv", "camera"),
    "water_tank": ("水箱", "water tank"),
}

_PHONE = re.compile(
    r"(?:"
    r"(?:\+|00)?86[\s-]?1[3-9]\d(?:[\s-]?\d){8}"  # +86 mobile
    r"|1[3-9]\d(?:[\s-]?\d){8}"  # mainland mobile
    r"|\(?0\d{2,4}\)?[\s-]?\d{6,8}"  # landline with area code (mainland, UK…)
    r"|\+(?:65|852|853|886|44|1|61|60)[\s-]?\(?\d{1,4}\)?(?:[\s-]?\d){6,10}"  # international
    r"|[5689]\d{3}[\s-]\d{4}"  # Singapore / Hong Kong, written with a gap
    r")(?!\d)"
)
# Any number right after "call me", "电话" and the like.
_PHONE_AFTER_CUE = re.compile(
    r"(?:call|phone|tel|mobile|contact|whatsapp|reach me|电话|手机|联系|致电)\D{0,8}?"
    r"(\+?\d[\d\s-]{5,16}\d)"
)

_CN_NUM = r"[0-9一二三四五六七八九十两]+"
_UNIT = re.compile(
    r"(?:[a-z]座|[a-z]区|[a-z]栋)?"
    + _CN_NUM
    + r"\s*(?:栋|幢|号楼|座|号|楼)(?:\s*"
    + _CN_NUM
    + r"\s*单元)?\s*(?:"
    + _CN_NUM
    + r"\s*楼\s*)?\d{2,5}\s*(?:室|号|房|户)?"
    r"|[a-z]\s*(?:座|栋|幢)\s*(?:\d{1,2}\s*单元\s*)?\d{2,5}\s*(?:室|号|房)?"
    r"|" + _CN_NUM + r"\s*单元\s*\d{3,5}\s*(?:室|号|房)?"
    r"|(?:block|blk|tower|building|bldg)\.?\s*[0-9a-z]{1,4},?\s*(?:#\s*\d{1,3}-\d{1,5}|(?:unit|flat|apt|room|rm)\.?\s*#?\s*[0-9a-z]{1,5}(?:-[0-9a-z]{1,5})?)"
    r"|(?:unit|flat|apt|apartment|room|rm)\.?\s*#?\s*(?:[a-z]-)?\d{1,4}[a-z]?(?:-\d{1,5}){0,2}\b"
    r"|[a-z]?\d{1,3}-\d{1,3}-\d{2,5}(?![0-9-])"
    r"|[a-z]-\d{1,3}-\d{2,5}(?![0-9-])"
    r"|#\d{1,3}-\d{2,5}\b"
    r"|[a-z]\d{3,4}(?![0-9])"
    r"|\d{3,4}\s*(?:室|房)"
    r"|(?:block|blk|tower)\.?\s*\d{1,4}[a-z]?\b"
    r"|\d{1,2}-\d{2,4}(?![\d.:/-])"
)

_ZH_DAY = (
    r"(?:今天|今日|今晚|明天|明日|明早|明晚|后天|大后天|周末|这周[一二三四五六日天末]?|"
    r"本周[一二三四五六日天末]?|下周[一二三四五六日天末]?|周[一二三四五六日天]|"
    r"星期[一二三四五六日天]|礼拜[一二三四五六日天]|\d{1,2}月\d{1,2}[日号]|\d{1,2}[日号](?![楼院线门栋]))"
)
_ZH_PART = (
    r"(?:早上|上午|中午|下午|傍晚|晚上|晚间|夜里|白天|早晨|全天|一整天|午饭后|下班后|下班以后)"
)
# Chinese-numeral clock times only after a day or part of day: "快一点" is not 1 o'clock.
_ZH_CLOCK_ANY = (
    r"(?:\d{1,2}|[一二两三四五六七八九十]{1,3})(?:点|:\d{2}|时)"
    r"(?:半|\d{1,2}分|[一二三四五六七八九十]{1,3}分)?"
)
_ZH_CLOCK = r"\d{1,2}(?:点|:\d{2}|时)(?:半|\d{1,2}分)?"
_ZH_REL = (
    r"(?:以后|之后|后|以前|之前|前|左右|内|(?:到|-|至)(?:\d{1,2}|[一二两三四五六七八九十]{1,3})点)"
)
_TIME_ZH = re.compile(
    r"(?:"
    + _ZH_DAY
    + r"\s*"
    + _ZH_PART
    + r"?\s*(?:"
    + _ZH_CLOCK_ANY
    + r")?|"
    + _ZH_PART
    + r"\s*(?:"
    + _ZH_CLOCK_ANY
    + r")?|"
    + _ZH_CLOCK
    + r")"
    + _ZH_REL
    + r"?"
)
_EN_DAY = (
    r"(?:today|tonight|tomorrow|this (?:morning|afternoon|evening|weekend)|next week|weekdays?|"
    r"(?:on |this |next )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"(?:the )?weekend)"
)
_EN_PART = r"(?:mornings?|afternoons?|evenings?|nights?|noon|lunchtime)"
_EN_CLOCK = (
    r"(?:(?:after|before|around|at|from|by|between)\s+)?\d{1,2}(?::\d{2})?\s*"
    r"(?:am|pm|a\.m\.|p\.m\.|o'?clock)(?:\s*(?:-|to|and)\s*\d{1,2}(?::\d{2})?\s*(?:am|pm)?)?"
)
_TIME_EN = re.compile(
    r"(?:any ?time )?(?:" + _EN_DAY + r"(?:\s+" + _EN_PART + r")?(?:\s+" + _EN_CLOCK + r")?"
    r"(?:\s+between \d{1,2}(?::\d{2})? and \d{1,2}(?::\d{2})?)?|"
    + _EN_CLOCK
    + r"(?:\s+(?:today|tonight|tomorrow))?|(?:after|before) (?:work|lunch|dinner)|any ?time)\b"
)
_PAST = re.compile(
    r"(?:昨天|前天|上周|上个月|去年|昨晚|\blast(?: night| week| time| month)?|"
    r"\byesterday(?: morning| afternoon| evening| night)?|\bago)\s*$"
)


def extract_entities(text: str) -> dict[str, str]:
    """All entities found in ``text``; keys are absent when nothing was found."""
    written = clean(text[:MAX_SCAN_CHARS])
    if len(written) <= ENTITY_HEAD_CHARS + ENTITY_TAIL_CHARS:
        return _entities_in(written)
    head = _entities_in(written[:ENTITY_HEAD_CHARS])
    return _entities_in(written[-ENTITY_TAIL_CHARS:]) | head


def _entities_in(written: str) -> dict[str, str]:
    folded = fold(written)
    found: dict[str, str] = {}
    location = _first_lexicon_hit(folded, _LOCATION_RE) or _first_lexicon_hit(
        folded, _IMPLIED_LOCATION_RE
    )
    if location:
        found["location"] = location
    item = _first_lexicon_hit(folded, _ITEM_RE)
    if item:
        found["item"] = item
    phone_span = _phone_span(folded)
    if phone_span:
        found["phone"] = written[phone_span[0] : phone_span[1]].strip()
    phone_span = phone_span or (0, 0)
    unit = _first_outside(_UNIT, folded, phone_span)
    if unit:
        found["unit"] = written[unit[0] : unit[1]].strip()
    time = _visit_time(folded, [phone_span, unit or (0, 0)])
    if time:
        found["time"] = written[time[0] : time[1]].strip()
    return found


def _phone_span(folded: str) -> tuple[int, int] | None:
    match = find_first(_PHONE, folded)
    if match:
        return match.span()
    cued = _PHONE_AFTER_CUE.search(folded)
    return cued.span(1) if cued else None


def _compile_lexicon(lexicon: dict[str, tuple[str, ...]]) -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation, longest words first, so a search finds the earliest and then
    longest word; Latin words must stand alone ("lock" is not in "block")."""
    code_of = {word: code for code, words in lexicon.items() for word in words}
    parts = [
        re.escape(word) if not word.isascii() else rf"{re.escape(word)}(?![a-z])"
        for word in sorted(code_of, key=len, reverse=True)
    ]
    return re.compile("|".join(parts)), code_of


_LOCATION_RE = _compile_lexicon(_LOCATIONS)
_IMPLIED_LOCATION_RE = _compile_lexicon(_IMPLIED_LOCATIONS)
_ITEM_RE = _compile_lexicon(_ITEMS)


def _first_lexicon_hit(folded: str, compiled: tuple[re.Pattern[str], dict[str, str]]) -> str | None:
    """Code of the earliest (then longest) lexicon word found in ``folded``."""
    pattern, code_of = compiled
    match = find_first(pattern, folded)
    return code_of[match.group(0)] if match else None


def _overlaps(span: tuple[int, int], other: tuple[int, int]) -> bool:
    return span[0] < other[1] and other[0] < span[1]


def _first_outside(
    pattern: re.Pattern[str], folded: str, taken: tuple[int, int]
) -> tuple[int, int] | None:
    for match in find_all(pattern, folded, left="#-.:/"):
        if match.group(0).strip() and not _overlaps(match.span(), taken):
            return match.span()
    return None


def _visit_time(folded: str, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Longest time phrase that is not a past time ("昨天晚上", "last night") or inside
    a unit or phone number; the earliest such phrase if several are equally long."""
    best: tuple[int, int] | None = None
    for pattern in (_TIME_ZH, _TIME_EN):
        for match in find_all(pattern, folded):
            span = match.span()
            if not match.group(0).strip() or any(_overlaps(span, t) for t in taken):
                continue
            if _PAST.search(folded[max(0, span[0] - 12) : span[0]]):
                continue
            if best is None or span[1] - span[0] > best[1] - best[0]:
                best = span
    return best
