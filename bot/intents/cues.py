"""Hand-written cue lexicons: words that signal each kind of message.

The training data cannot show every way an owner says "you still haven't fixed
it" or "may I ask". Grouping such words into a few cue features lets the model
learn one weight per idea ("repetition", "asking") that transfers to words it
never saw in training, as long as they are in a lexicon. Cues run on folded text.
"""

from __future__ import annotations

import re

from bot.intents.scan import find_all

_CUES: dict[str, str] = {
    "complaint": (
        r"投诉|不满|太差|很差|差劲|态度|恶劣|敷衍|推脱|推诿|踢皮球|不作为|没人管|没人处理|没人理|"
        r"管不管|管管|凭什么|干什么吃的|什么物业|垃圾物业|赔偿|给个说法|要个说法|不负责|乱收费|离谱|"
        r"失望|气死|受够|忍无可忍|太过分|过分|曝光|12345|举报|违规|违建|私搭|群租|严重影响|"
        r"影响休息|睡不着|扰民|噪音|太吵|吵死|吵得|恶心|脏乱|不像话|无语|服了|欺负|霸占|占用|乱停|"
        r"遛狗|狗叫|牵绳|随地|高空抛物|油烟|"
        r"complain\w*|unacceptable|ridiculous|terrible|worst\b|rude\b|useless|disgust\w*|"
        r"fed up|sick of|unprofessional|lazy\b|sloppy|ignor\w*|dismissive|disappoint\w*|"
        r"angry\b|frustrat\w*|not acceptable|compensat\w*|nois\w*|loud\b|barking|"
        r"harass\w*|inconsiderate|blame\b|pathetic\b|joke\b|disrespect\w*|negligen\w*|"
        r"what are you (?:even )?doing\b|do (?:something|anything)\b|nobody cares\b"
    ),
    "repetition": (
        r"还没|还是没|一直没|至今|到现在|好几次|多少次|几次了|[两三四五六七八九十\d]次|反映了|反映过|"
        r"又坏|又漏|又来|拖了|拖到|一个月|几个月|半年|一周了|一个星期|好几天|多天|"
        r"still\b|again\b|repeatedly\b|(?:two|three|four|five|six|several|many|multiple|"
        r"countless|\d+) times\b|"
        r"for (?:days|weeks|months|a week|a month)\b|since last\b|how many times\b|"
        r"nobody\b|no one\b|never\b"
    ),
    "enquiry": (
        r"请问|想问|问一下|问下|咨询|怎么|如何|怎样|多少|几点|什么时候|何时|哪里|在哪|哪个|能不能|"
        r"可不可以|可以吗|能否|是否|手续|流程|办理|规定|允许|是不是|有没有|多久|多长时间|收费标准|"
        r"需不需要|要不要|了解一下|麻烦告知|吗\??$|呢\??$|"
        r"how\b|what\b|when\b|where\b|which\b|can i\b|could i\b|may i\b|do i\b|"
        r"is there\b|are there\b|am i allowed\b|allowed\b|rules?\b|policy\b|"
        r"procedure\b|process\b|apply\b|regist\w*|wondering\b|like to know\b|"
        r"any idea\b|deadline\b"
    ),
    "repair": (
        r"坏了|坏掉|不亮|不转|不制冷|不制热|不热|漏水|渗水|滴水|堵了|堵住|堵塞|裂|关不上|打不开|锁不上|"
        r"不能用|没反应|失灵|故障|松了|松动|掉了|脱落|维修|报修|派人|师傅|来看看|来修|修一下|处理一下|"
        r"检查一下|更换|没电|没水|跳闸|蟑螂|老鼠|不出水|不下水|冲不下去|"
        r"broken\b|broke\b|not working|doesn'?t work|won'?t|stopped working|leak\w*|"
        r"drip\w*|blocked\b|clogged\b|crack\w*|loose\b|faulty\b|fix\b|repair\w*|"
        r"send someone|come and (?:check|look|fix)|have a look|replace\b|no power|no water|"
        r"tripp\w*|out of order|jammed\b|stuck\b|pests?\b|cockroach\w*|rats?\b"
    ),
    "social": (
        r"谢谢|感谢|多谢|你好|您好|在吗|好的|收到|辛苦|快乐|点赞|表扬|哈哈|早上好|晚安|不用了|"
        r"已经好了|修好了|知道了|明白了|再见|拜拜|"
        r"thanks?\b|thank you\b|hello\b|hi\b|good (?:morning|evening|night)\b|ok\b|"
        r"got it\b|noted\b|great job|appreciate\w*|happy\b|haha\w*|bye\b|no need\b|"
        r"cheers\b|well done\b"
    ),
}
_COMPILED = {name: re.compile(pattern) for name, pattern in _CUES.items()}
_QUESTION = re.compile(r"[?？]|吗|呢")
_EXCLAIM = re.compile(r"!!|！！|\?\?|？？|!\?")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def cue_tokens(folded: str) -> list[str]:
    """Cue feature names present in ``folded`` text, one per match."""
    tokens = [
        f"cue:{name}" for name, pattern in _COMPILED.items() for _ in find_all(pattern, folded)
    ]
    if _QUESTION.search(folded):
        tokens.append("cue:question")
    if _EXCLAIM.search(folded):
        tokens.append("cue:exclaim")
    size = len(_HAN.findall(folded)) + len(folded.split())
    tokens.append("cue:len_short" if size <= 6 else "cue:len_long" if size >= 60 else "cue:len_mid")
    return tokens
