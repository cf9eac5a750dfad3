"""Safety emergencies: gas, fire or smoke, flooding or sewage, people trapped in a
lift, live wires or water in electrics, injured people.

A rule layer, not the model, decides: a missed emergency costs far more than a
supervisor glancing at a false alarm, and the rules keep working on phrasings
the training data never had. Patterns run on folded text (see ``normalize``),
so traditional characters and full-width letters need no patterns of their
own; common typos (煤汽, 燃汽, elevater) are spelled out.

A cue is dropped when the words just before it in the same clause negate it
("没有煤气味", "no gas smell") or make it hypothetical ("如果燃气泄漏", "what
should I do if I smell gas"), and fire cues are dropped in messages about a
drill or an alarm test ("明天消防演习", "the fire alarm test is tomorrow").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.intents.normalize import MAX_SCAN_CHARS, normalize
from bot.intents.scan import find_all, find_first, windows

_C = r"[^,.!?;\n]"  # a character inside the same clause

_GAS_ZH = r"(?:煤气|燃气|天然气|煤汽|燃汽|然气|液化气|瓦斯)"
_ELEC_BOX = (
    r"(?:电箱|电表箱|电表柜|配电箱|配电柜|电井|电闸|电表|强电箱|弱电箱|开关|插座|插头|电线|线路|灯)"
)
_EN_BOX = (
    r"(?:meter (?:box|cabinet)|fuse ?box|electrical (?:box|panel|switch|cabinet)|distribution "
    r"(?:box|board)|breaker (?:box|panel)|electric(?:ity)? (?:box|meter\w*)|db box|switchboard|"
    r"consumer unit|sockets?|outlets?|power points?|light (?:fitting|fixture)s?|ceiling lights?)"
)

_PATTERNS: dict[str, list[str]] = {
    "gas": [
        _GAS_ZH + _C + r"{0,8}(?:味|泄漏|泄露|漏气|漏了|在漏|臭)(?!报警|探测|检测)",
        r"(?:闻到|有股|一股|好大|很大|很浓|浓浓)" + _C + r"{0,4}" + _GAS_ZH,
        r"煤气中毒|一氧化碳|co中毒|臭鸡蛋味|"
        + _GAS_ZH
        + _C
        + r"{0,6}报警器?"
        + _C
        + r"{0,4}(?:响|叫|鸣|报警)|"
        r"(?:管|阀|灶|表|罐)" + _C + r"{0,3}漏气",
        r"ga+s+\b" + _C + r"{0,25}\b(?:smell|smel|smeel|leak|leaking|odou?r|stink|hiss)",
        r"(?:smell|smel|smeel|smelling|odou?r|stink)\w*" + _C + r"{0,20}\bga+s+\b",
        r"carbon monoxide|co poisoning|rotten eggs?|leak\w* gas\b|"
        r"gas (?:alarm|detector)" + _C + r"{0,15}(?:going off|beeping|sounding|ringing)",
    ],
    "fire": [
        r"[着著](?<![不打][着著])火(?!机)|起火|失火|火灾(?!隐患)|(?:打|叫|拨)了?\s*119|冒烟|冒黑烟|浓烟|烟很大|好多烟|全是烟|烧起来|"
        r"烧着了|火苗|明火|烧焦味|焦糊味|糊味|焦味|火光|火星|爆炸|(?<!气)炸了",
        r"on fire\b|caught fire\b|catching fire\b|there'?s a fire\b|there is a fire\b|"
        r"a fire (?:in|on|at)\b|fire (?:broke|started|is spreading)\b|flames?\b|"
        r"burning smell\b|smell\w* (?:of )?(?:burning|smoke)\b|"
        r"smoke (?:is )?(?:coming|pouring|everywhere|filling)\b|full of smoke\b|"
        r"thick smoke\b|(?:there'?s|there is|lots of|black|heavy|so much) smoke\b|"
        r"explo(?:sion|ded)\b|blew up\b|something(?:'s| is) burning\b",
    ],
    "lift": [
        r"(?:困|关|卡|锁)(?:在)?(?:了)?(?:电梯|电楼|梯)(?:里|内|中)|"
        r"电梯" + _C + r"{0,8}(?:困|关|卡)(?:住|着)?(?:了)?(?:人|一个|两个|几个|个|老人|小孩|孩子)|"
        r"电梯困人|困梯|被困|困在|"
        r"电梯" + _C + r"{0,6}出不来|电梯" + _C + r"{0,6}(?:下坠|坠落|急坠|冲顶|蹲底|掉下去)|"
        r"电梯" + _C + r"{0,10}里面(?:还)?有人|"
        r"(?:卡|停|困)在[^。!?\n]{0,20}(?:在里面|里面有人|在电梯里)",
        r"(?:trapped|stuck|locked|shut)\b"
        + _C
        + r"{0,15}\b(?:in|inside)\b"
        + _C
        + r"{0,12}\b(?:lift|elevator|elevater|elavator)s?\b|"
        r"(?:lift|elevator|elevater|elavator)s?\b" + _C + r"{0,40}\b(?:trapped|stuck inside)\b|"
        r"(?:someone|somebody|people|person|kids?|child|children|baby|we are|we're)\b"
        + _C
        + r"{0,6}\b(?:stuck|trapped)\b|trapped\b|"
        r"(?:lift|elevator)s?\b" + _C + r"{0,40}\bstuck\b" + _C + r"{0,60}\binside\b|"
        r"(?:lift|elevator)s?\b" + _C + r"{0,20}\b(?:dropped|fell|plunged|free ?fall)|"
        r"(?:lift|elevator)s?\b" + _C + r"{0,40}\b(?:someone|somebody|people|person|kids?|child|"
        r"children|baby|a man|a woman|an old|elderly|resident)\w*\s+(?:is |are )?"
        r"(?:inside|in it)\b",
    ],
    "electric": [
        r"(?:电线|线路|电缆|高压线)"
        + _C
        + r"{0,6}(?:裸露|外露|露出来|露在外面|冒火|打火|冒烟|火花|烧焦|烧了|"
        r"掉下来|垂下来|断了|耷拉)|"
        r"(?:裸露|外露)的?(?:电线|线路|电缆)|露着?铜线|外皮(?:都)?破|绝缘皮破|漏电(?!保护|开关|断路)|触电|电到人|被电(?:到|了)|电火花|打火(?!机)|"
        + _ELEC_BOX
        + _C
        + r"{0,6}(?:进水|泡水|有水|渗水|漏水|滴水|冒烟|冒火|打火|火花|烧焦|着火)|"
        r"(?:水|雨)" + _C + r"{0,6}(?:流进|渗进|灌进|漏进|进了?)" + _ELEC_BOX,
        r"(?:exposed|bare|live|naked)\s+(?:electric(?:al)?\s+)?(?:wires?|wiring|cables?)\b|"
        r"(?:wires?|wiring|cables?)\b"
        + _C
        + r"{0,15}\b(?:exposed|sparking|sparks|smoking|burning)\b|"
        r"electric(?:al)? shock|electrocut\w*|(?:got|getting|get) shocked\b|shocked me\b|"
        r"sparks?\b|sparking\b|crackling\b|"
        r"(?:water|leak\w*|drip\w*|seep\w*|running|pouring)\b"
        + _C
        + r"{0,45}"
        + _EN_BOX
        + "|"
        + _EN_BOX
        + _C
        + r"{0,20}\b(?:water|wet|flooded|smoking|burning)\b",
    ],
    "flood": [
        r"水漫|漫水|漫进|漫到|漫出|淹了|被淹|水淹|淹水|进(?<!手机进)水了|水灾|爆管|水管爆|管子爆|管道爆|"
        r"喷(?<!不喷)水(?!池)|狂喷|往外喷|往下灌|灌进|倒灌|返水|反水|冒水|冒污水|"
        r"(?:污水|脏水|粪水|粪便|化粪池)" + _C + r"{0,4}(?:冒|溢|漫|涌|倒|流进)|溢出来|涌出来|"
        r"哗哗" + _C + r"{0,3}(?:往下|往外|往里|流进|灌进|涌|地流)|流了一地|流满|"
        r"满地(?:都是|是)?水|"
        r"全是水|一地的?水|止不住|水" + _C + r"{0,6}(?:停不下来|关不住)|往下浇|浇下来|像下雨一样|"
        r"大量的?(?:漏水|进水|积水|水)|"
        r"(?:水管|管子|管道|水表|暖气片|暖气管|阀门|热水器|水龙头|龙头|软管)"
        + _C
        + r"{0,4}(?:爆|破裂|裂开|断了|脱落|飙水|喷)|"
        r"天花板"
        + _C
        + r"{0,8}(?:往下流|流下来|往下淌|往下灌|哗哗|塌)|(?:总阀|阀门)"
        + _C
        + r"{0,4}(?:关不掉|关不上|关不住)",
        r"flood\w*|water (?:is )?(?:pouring|gushing|spraying|spurting|coming in|everywhere|"
        r"rushing|flowing in|streaming)|burst (?:water )?pipe|pipe (?:has )?burst|"
        r"(?:sewage|sewer|waste ?water|dirty water|toilet water|drain water|black water)"
        + _C
        + r"{0,30}(?:back|overflow|coming up|into|flooding|everywhere|all over)|spew\w*|"
        r"(?:toilet|sewage|sewer|floor drain|floor trap)"
        + _C
        + r"{0,20}(?:overflow\w*|backing up)|"
        r"all over the floor\b|"
        r"ankle[- ]deep\b|inches of water\b|under water\b|submerged\b|raw sewage\b|"
        r"(?:pipe|hose|tap|valve|radiator|water heater|tank)s?\b"
        + _C
        + r"{0,12}\b(?:burst|broke off|snapped|split open|exploded)\b|"
        r"(?:can'?t|cannot|won'?t|unable to) (?:stop|turn off|shut off) the water\b|"
        r"water (?:won'?t|doesn'?t|does not) stop\b|"
        r"(?:coming|pouring|raining|gushing|streaming) (?:in |down )?(?:through|from) "
        r"the ceiling\b|"
        r"ceiling (?:is )?(?:collaps\w*|caving in|falling down)",
    ],
    "injury": [
        r"受伤|摔伤|摔倒|跌倒|摔了一跤|摔下来|砸伤|砸到(?:了)?人|砸到(?:了)?(?:头|孩子|老人)|流血|"
        r"昏迷|晕倒|昏倒|不省人事|骨折|休克|呼吸困难|救命|急救|(?:打|叫|拨)了?\s*120|救护车|"
        r"倒在地上|倒地不起|人倒在|躺在地上|晕过去|昏过去|喘不上气|坠楼|跳楼|"
        r"[咬砸摔烫烧割划撞压夹]伤|(?:流|出|大量|满地|一地|全是)血|血流|"
        r"电梯" + _C + r"{0,6}夹(?:到|住|伤)了?(?:人|手|脚|孩子|老人)|"
        r"(?:人|老人|我|他|她|孩子|小孩|妈|爸|奶奶|爷爷|腿|腰)" + _C + r"{0,6}(?:动不了|起不来)",
        r"(?:injured|injury|injuries|unconscious|hurt badly|badly hurt)\b|"
        r"(?:is|are|was|badly|heavily)\s+bleeding\b|bleeding (?:badly|heavily|a lot)\b|"
        r"(?:i|he|she|someone|somebody|man|woman|lady|kid|child|boy|girl|mother|father|mum|mom|"
        r"dad|grandma|grandpa|grandmother|grandfather|neighbou?r|resident|elderly|old)\b"
        + _C
        + r"{0,20}\b(?:fell|fallen|slipped|collapsed|fainted|passed out|lying on the)\b|"
        r"broke (?:his|her|my|a) (?:leg|arm|hip|wrist|ankle)\b|"
        r"(?:can'?t|cannot|unable to|couldn'?t) "
        r"(?:get up(?! the stairs| stairs)|move|breathe|stand)\b|"
        r"slipped and fell\b|ambulance\b|^help\b|help!!|please help!|somebody help\b|"
        r"sos\b|(?:call|called) (?:999|911|120|995)\b|it'?s an emergency\b|"
        r"this is an emergency\b|emergency!|(?:got|is|was|badly|seriously|been) hurt\b|"
        r"not breathing\b|heart attack\b|hit by (?:a )?(?:falling|fallen)\b|"
        r"(?:bitten|attacked) by (?:a |the )?dog|"
        r"fell (?:from|off) (?:the|a) (?:balcony|window|stairs|roof)",
    ],
}

# Checked in this order: water in a meter box is an electrical emergency first.
_COMPILED: dict[str, re.Pattern[str]] = {
    kind: re.compile("|".join(f"(?:{p})" for p in patterns)) for kind, patterns in _PATTERNS.items()
}

# Words without which a kind's patterns cannot match. A letter is searched in full
# only around these (a plain word list is 20-50× cheaper to scan than the patterns);
# tests check that this finds exactly what a full scan finds.
_ANCHORS: dict[str, re.Pattern[str]] = {
    kind: re.compile(words)
    for kind, words in {
        "gas": r"煤气|燃气|天然气|煤汽|燃汽|然气|液化气|瓦斯|一氧化碳|co中毒|臭鸡蛋|漏气"
        r"|gas|carbon mon|co poison|rotten egg",
        "fire": r"火|烟|烧|焦|糊|炸|119|fire|flame|burn|smok|explo|blew up",
        "lift": r"梯|困|卡在|停在|trapped|stuck|lift|elevat|elevater|elavator",
        "electric": r"电|线|缆|外皮|绝缘|打火|灯|开关|插座|插头|wir|cable|electr|shock|spark|crackl"
        r"|meter|fuse|breaker|db box|switchboard|consumer unit|socket|outlet|power point|light",
        "flood": r"漫|淹|进水|水灾|爆|喷|灌|返水|反水|冒|污水|脏水|粪|溢|涌|哗哗|流了一地|流满"
        r"|满地|全是水|一地|止不住|停不下来|关不住|浇|像下雨|大量|水管|管子|管道|水表|暖气|阀"
        r"|热水器|龙头|软管|天花板"
        r"|flood|water|burst|pipe|sewage|sewer|spew|toilet|floor drain|floor trap"
        r"|all over the floor|ankle|submerged|hose|tap|valve|radiator|tank|ceiling",
        "injury": r"伤|摔|跌|砸|血|昏|晕|省人事|骨折|休克|呼吸|救|120|倒|躺|喘|坠楼|跳楼|夹"
        r"|动不了|起不来|injur|unconscious|hurt|bleed|fell|fallen|slipped|collaps|faint"
        r"|passed out|lying on"
        r"|broke|can't|cant|cannot|unable to|couldn'?t|ambulance|help|sos|999|911|995|emergency"
        r"|breath|heart attack|hit by|bitten|attacked",
    }.items()
}
# A full match lies within this many characters before / after one of its anchors.
_BEFORE, _AFTER = 80, 140

_CLAUSE_END = re.compile(r"[,.!?;\n:]")
_NEGATED = re.compile(
    r"(?:没有|没|无|不是|并非|未)$|"
    r"(?:no|not|never|nobody|no one|without|isn'?t|wasn'?t|don'?t|doesn'?t|didn'?t|"
    r"hasn'?t|haven'?t)"
    r"(?:\s+\w+){0,2}\s*$"
)
_HYPOTHETICAL = re.compile(
    r"如果|万一|假如|假设|要是|一旦|若是|预防|防止|真要|真的?$|出了|担心|怕|会不会|容易|可能会|"
    r"听说|昨天|昨晚|前天|上次|上周|之前|"
    r"(?:if|in case|what if|suppose|supposing|whether|prevent|avoid|worried|afraid|"
    r"yesterday|last (?:night|week|time|month))\b"
)
# The danger is over: "虚惊一场", "没事了", "false alarm".
_RESOLVED = re.compile(
    r"虚惊|没事了|还好没事|原来是|"
    r"false alarm\b|all (?:fine|good|ok) now\b|no one (?:was )?hurt\b"
)
_DRILL = re.compile(
    r"演习|演练|测试|试鸣|培训|宣传|讲座|检测|年检|巡检|安全检查|消防检查|"
    r"(?:drill|test|testing|tested|inspection|exercise|practice|training)\b"
)


@dataclass(frozen=True, slots=True)
class UrgencyHit:
    """Which emergency matched and the words that made it match."""

    kind: str
    evidence: str


def find_emergency(text: str) -> UrgencyHit | None:
    """First emergency cue in ``text`` that is neither negated nor hypothetical."""
    return emergency_in(normalize(text, MAX_SCAN_CHARS))


def emergency_in(folded: str, anchored: bool = True) -> UrgencyHit | None:
    """``find_emergency`` for text already passed through ``normalize``.
    ``anchored=False`` scans everything (slow; the tests' reference)."""
    if find_first(_RESOLVED, folded):
        return None
    drill = find_first(_DRILL, folded) is not None
    for kind, pattern in _COMPILED.items():
        if kind == "fire" and drill:
            continue
        spans = windows(_ANCHORS[kind], folded, _BEFORE, _AFTER) if anchored else [(0, len(folded))]
        for lo, hi in spans:
            for match in find_all(pattern, folded, pos=lo, endpos=hi):
                if not _suppressed(folded, match.start()):
                    return UrgencyHit(kind, match.group(0))
    return None


def calm_context(folded: str) -> bool:
    """A drill, a test or an all-clear: no reason to trust a model's hunch of danger."""
    return find_first(_DRILL, folded) is not None or find_first(_RESOLVED, folded) is not None


def is_urgent(text: str) -> bool:
    """True when the message reports a safety emergency (recall first)."""
    return find_emergency(text) is not None


def _suppressed(folded: str, start: int) -> bool:
    """Is the cue at ``start`` negated or hypothetical within its clause?"""
    window = folded[max(0, start - 60) : start]
    ends = list(_CLAUSE_END.finditer(window))
    clause = window[ends[-1].end() :] if ends else window
    return bool(find_first(_NEGATED, clause) or find_first(_HYPOTHETICAL, clause))
