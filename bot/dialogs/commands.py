"""Words that work at any point of any conversation (DESIGN.md, "Conversation rules")."""

from __future__ import annotations

import re
from enum import StrEnum


class Command(StrEnum):
    START = "start"
    HELP = "help"
    CANCEL = "cancel"
    HANDOFF = "handoff"
    CONTINUE = "continue"
    LANG_ZH = "lang_zh"
    LANG_EN = "lang_en"
    STATUS = "status"
    UNSUBSCRIBE = "unsubscribe"


_EXACT: dict[str, Command] = {
    "/start": Command.START,
    "start": Command.START,
    "/help": Command.HELP,
    "help": Command.HELP,
    "帮助": Command.HELP,
    "菜单": Command.HELP,
    "menu": Command.HELP,
    "?": Command.HELP,
    "？": Command.HELP,
    "/cancel": Command.CANCEL,
    "cancel": Command.CANCEL,
    "取消": Command.CANCEL,
    "/continue": Command.CONTINUE,
    "continue": Command.CONTINUE,
    "继续": Command.CONTINUE,
    "/human": Command.HANDOFF,
    "转人工": Command.HANDOFF,
    "人工": Command.HANDOFF,
    "人工客服": Command.HANDOFF,
    "人工服务": Command.HANDOFF,
    "talk to a person": Command.HANDOFF,
    "talk to a human": Command.HANDOFF,
    "human": Command.HANDOFF,
    "agent": Command.HANDOFF,
    "/status": Command.STATUS,
    "我的工单": Command.STATUS,
    "my tickets": Command.STATUS,
    # A template message on WeChat carries no button: "reply 退订" is how to stop care.
    "/unsubscribe": Command.UNSUBSCRIBE,
    "unsubscribe": Command.UNSUBSCRIBE,
    "退订": Command.UNSUBSCRIBE,
    "td": Command.UNSUBSCRIBE,
    "取消订阅": Command.UNSUBSCRIBE,
    "/lang en": Command.LANG_EN,
    "/en": Command.LANG_EN,
    "english": Command.LANG_EN,
    "英文": Command.LANG_EN,
    "/lang zh": Command.LANG_ZH,
    "/zh": Command.LANG_ZH,
    "中文": Command.LANG_ZH,
    "chinese": Command.LANG_ZH,
}
_BUTTONS = {
    "cmd:help": Command.HELP,
    "cmd:cancel": Command.CANCEL,
    "cmd:handoff": Command.HANDOFF,
    "cmd:continue": Command.CONTINUE,
    "lang:zh": Command.LANG_ZH,
    "lang:en": Command.LANG_EN,
}
_HANDOFF_PHRASE = re.compile(
    r"(转人工|找人工|人工客服|真人客服|"
    r"(talk|speak) to (a )?(person|human|someone|real person))",
    re.I,
)
_PUNCTUATION = re.compile(r"[\s。.!！,，~～]+$")


def command_of(text: str, value: str | None) -> Command | None:
    if value and value in _BUTTONS:
        return _BUTTONS[value]
    if value and not value.startswith("/"):
        return None  # a tap on a flow's button: its label ("没解决，转人工") is not a command
    if value:
        text = value
    cleaned = _PUNCTUATION.sub("", text.strip().lower())
    if cleaned.startswith("/start"):
        return Command.START  # Telegram deep links: "/start payload"
    if cleaned in _EXACT:
        return _EXACT[cleaned]
    if len(cleaned) <= 30 and _HANDOFF_PHRASE.search(cleaned):
        return Command.HANDOFF
    return None
