"""Welcome, help, language switch, greetings and thanks, and "what do you mean?"."""

from __future__ import annotations

import re

from backend import opt_outs
from backend.i18n import normalize_lang
from backend.messaging import Button
from backend.vocabulary import CareType
from bot.dialogs.context import Turn

_THANKS = re.compile(r"(谢|thank|thx|ty\b|辛苦|感谢|多谢|cheers)", re.I)
_PRAISE = re.compile(
    r"(表扬|点赞|好评|满意|专业|great job|well done|praise|excellent|compliment)", re.I
)


def main_buttons(turn: Turn) -> list[Button]:
    return [
        turn.button("button.repair", "kind:repair"),
        turn.button("button.complaint", "kind:complaint"),
        turn.button("button.enquiry", "kind:enquiry"),
        turn.button("button.status", "/status"),
        turn.button("button.human", "cmd:handoff"),
    ]


async def welcome(turn: Turn) -> None:
    if turn.owner is not None:
        turn.say("welcome.owner", *main_buttons(turn), name=turn.owner.name)
    else:
        turn.say("welcome.guest", *main_buttons(turn))


def help_menu(turn: Turn) -> None:
    other = "en" if turn.lang == "zh" else "zh"
    turn.say("help.menu", *main_buttons(turn), turn.button(f"button.lang_{other}", f"lang:{other}"))


def switch_language(turn: Turn, language: str) -> None:
    turn.lang = normalize_lang(language)
    turn.identity.language = turn.lang
    if turn.owner is not None:
        turn.owner.language = turn.lang
    turn.say("language.switched")


async def other(turn: Turn) -> None:
    """Greetings, thanks, praise and anything that is none of the three kinds."""
    if _PRAISE.search(turn.text):
        turn.say("other.praise")
    elif _THANKS.search(turn.text):
        turn.say("other.thanks")
    else:
        turn.say("other.greeting", *main_buttons(turn))


async def clarify(turn: Turn) -> None:
    turn.start("clarify", "kind", text=turn.text)
    turn.say(
        "clarify.kind",
        turn.button("button.repair", "kind:repair"),
        turn.button("button.complaint", "kind:complaint"),
        turn.button("button.enquiry", "kind:enquiry"),
    )


async def prompt(turn: Turn) -> None:
    turn.finish()
    turn.say("clarify.again", *main_buttons(turn))


async def handle(turn: Turn) -> bool:
    """The owner typed instead of tapping: read that message afresh."""
    turn.finish()
    return False


def original_text(turn: Turn) -> str:
    """The message that needed clarifying, once a kind button was tapped."""
    return str(turn.data.get("text") or "") if turn.flow == "clarify" else ""


ALL_CARE = "all"


def unsubscribe_menu(turn: Turn) -> None:
    """ "退订" / "unsubscribe" typed: which care messages to stop. A care message that
    reached WeChat as a template has no button, so this is its way out."""
    if turn.owner is None:  # no owner, no care messages
        turn.say("care.unsubscribe_unknown")
        return
    stopped = set(turn.owner.care_opt_outs or [])
    left = [kind.value for kind in CareType if kind.value not in stopped]
    if not left:
        turn.say("care.unsubscribe_none_left")
        return
    turn.say(
        "care.unsubscribe_choose",
        *(turn.button(f"care.title.{kind}", f"unsubscribe:{kind}") for kind in left),
        turn.button("care.unsubscribe_all", f"unsubscribe:{ALL_CARE}"),
    )


async def unsubscribe(turn: Turn, care_type: str) -> None:
    """The one-tap unsubscribe of a care message: no more of that kind (what is queued of
    it is withdrawn), updates still come."""
    kinds = [k.value for k in CareType] if care_type == ALL_CARE else [care_type]
    if turn.owner is None or not set(kinds) <= set(CareType.__members__.values()):
        turn.say("care.unsubscribe_unknown")
        return
    for kind in kinds:
        await opt_outs.opt_out(turn.session, turn.owner, kind)
    if care_type == ALL_CARE:
        turn.say("care.unsubscribed_all")
    else:
        turn.say("care.unsubscribed", kind=turn.tr(f"care.title.{care_type}"))
