"""Which flow answers a message: commands first, then a held or active conversation,
button values, media, then what the message means (DESIGN.md, "The flow")."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from backend import tickets
from backend.i18n import normalize_lang
from backend.messaging import Media
from bot.dialogs import (
    binding,
    complaint,
    emergency,
    enquiry,
    handoff,
    rating,
    repair,
    smalltalk,
    status,
    supplement,
    withdraw,
)
from bot.dialogs.commands import Command, command_of
from bot.dialogs.context import Turn
from bot.intents import needs_clarification

# A conversation left this long is parked; the owner may "continue" it.
STALE_AFTER = timedelta(hours=12)
FLOWS = {
    "binding": binding,
    "emergency": emergency,
    "repair": repair,
    "complaint": complaint,
    "enquiry": enquiry,
    "rating": rating,
    "clarify": smalltalk,
    "supplement": supplement,
}
UNUSABLE_MEDIA = frozenset(
    {"voice", "sticker", "location", "file", "video", "audio", "animation", "link"}
)
_TICKET_NUMBER = tickets.NUMBER_IN_TEXT
_STATUS = re.compile(
    r"(怎么样了|进度|到哪了|处理得怎么样|有人处理吗|什么时候来修|我的(报修|投诉|工单)|工单状态|"
    r"status|progress|update on my|any update|my (repair|complaint|ticket)s?\b)",
    re.I,
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CALLBACK_BUTTONS = frozenset({"rate", "enq"})
# Buttons a flow offers and reads itself, by value prefix.
FLOW_BUTTONS = {
    **{prefix.rstrip(":"): "repair" for prefix in repair.STEP_BUTTONS.values()},
    "complaint": "complaint",
    **dict.fromkeys(("binding", "estate"), "binding"),
    "rating": "rating",
}
ASKING_FOR = {"repair": repair.ASKING, "complaint": complaint.ASKING, "enquiry": enquiry.ASKING}


async def route(turn: Turn) -> None:
    inbound = turn.inbound
    _remember_language(turn)
    command = command_of(turn.text, turn.value)
    if inbound.event in ("subscribe", "start") or command is Command.START:
        await smalltalk.welcome(turn)
        return
    if inbound.event == "unsubscribe":
        turn.finish()
        return
    if command is not None and await _run_command(turn, command):
        return
    if handoff.is_with_staff(turn):
        # A colleague has the conversation: the bot keeps quiet, but a tap that answers a
        # callback about a ticket (a rating, "is it settled?") is recorded like a command,
        # and an emergency while nobody has picked the chat up yet is not left waiting.
        if turn.value and turn.value.split(":", 1)[0] in CALLBACK_BUTTONS:
            await _route_button(turn, turn.value)
        elif handoff.is_waiting(turn) and turn.text and turn.understanding.urgent:
            await emergency.handle_emergency(turn)
        else:
            handoff.acknowledge(turn)
        return
    if turn.value and await _route_button(turn, turn.value):
        return
    if turn.value and _flow_of_button(turn.value) not in (None, turn.flow):
        # A button of a question already answered or dropped ("跳过" after the complaint
        # was recorded): say so rather than reading its label as a new message.
        turn.say("dialog.button_expired", *smalltalk.main_buttons(turn))
        return
    media_kinds = {m.kind for m in inbound.media}
    if media_kinds & UNUSABLE_MEDIA and not turn.text:
        turn.say("media.unsupported")
        return
    if await rating.rate_in_words(turn):
        return
    if turn.flow and turn.conversation.updated_at < turn.now - STALE_AFTER:
        turn.park()
        turn.data["welcome_back"] = True
    if (
        turn.flow
        and not turn.value
        and withdraw.asks(turn.text)
        and not _TICKET_NUMBER.search(turn.text)
    ):  # "取消报修" while reporting
        turn.finish()
        turn.say("dialog.cancelled")
        return
    if turn.flow in FLOWS and await FLOWS[turn.flow].handle(turn):
        return
    if await enquiry.answer_in_words(turn):
        return
    if "photo" in media_kinds and not turn.text:
        if not await supplement.photo_after_ticket(turn):
            await repair.start_from_photo(turn)
        return
    if not turn.text:
        turn.say("input.empty")
        return
    await dispatch(turn)
    if turn.data.pop("welcome_back", False) and turn.data.get("parked"):
        turn.say("dialog.parked_reminder", turn.button("button.continue", "cmd:continue"))


async def dispatch(turn: Turn, *, news_for_emergency: bool = True) -> None:
    """Start the flow this message asks for (no flow is active, or it gave way)."""
    if await supplement.from_words(turn) or await withdraw.from_words(turn):
        return
    if _TICKET_NUMBER.search(turn.text) or (
        _STATUS.search(turn.text) and not turn.understanding.urgent
    ):
        await status.show(turn, _TICKET_NUMBER.search(turn.text))
        return
    meaning = turn.understanding
    if meaning.urgent:
        await emergency.handle_emergency(turn)
        return
    if news_for_emergency and meaning.kind == "other" and await supplement.after_emergency(turn):
        return  # "人已经出来了" / "水已经停了": news for the people on their way
    for kind, words in ASKING_FOR.items():  # "我要报修": the kind without the details
        if words.match(turn.text):
            await start_kind(turn, kind)
            return
    if needs_clarification(meaning):
        await smalltalk.clarify(turn)
        return
    await start_kind(turn, meaning.kind)


async def start_kind(turn: Turn, kind: str) -> None:
    if kind == "repair":
        await repair.start(turn)
    elif kind == "complaint":
        await complaint.start(turn)
    elif kind == "enquiry":
        await enquiry.start(turn)
    else:
        await smalltalk.other(turn)


async def _run_command(turn: Turn, command: Command) -> bool:
    if command is Command.HELP:
        smalltalk.help_menu(turn)
    elif command is Command.CANCEL:
        if handoff.is_waiting(turn):
            await handoff.withdraw(turn)
        elif turn.flow:
            turn.finish()
            turn.say("dialog.cancelled")
        else:
            turn.say("dialog.nothing_to_cancel")
    elif command is Command.HANDOFF:
        await handoff.request(turn)
    elif command is Command.CONTINUE:
        if turn.resume():
            await FLOWS[turn.flow or ""].prompt(turn)
        else:
            turn.say("dialog.nothing_to_continue")
    elif command is Command.STATUS:
        await status.show(turn, None)
    elif command in (Command.LANG_ZH, Command.LANG_EN):
        smalltalk.switch_language(turn, "zh" if command is Command.LANG_ZH else "en")
    elif command is Command.UNSUBSCRIBE:
        smalltalk.unsubscribe_menu(turn)
    return True


async def _route_button(turn: Turn, value: str) -> bool:
    prefix = value.split(":", 1)[0]
    if prefix == "rate":
        await rating.rate(turn, value)
        return True
    if prefix == "kind":
        original = smalltalk.original_text(turn)
        turn.finish()
        if original:  # answer the message that needed clarifying, not the button label
            turn.inbound = replace(turn.inbound, text=original, value=None)
            turn.reset_understanding()
        await start_kind(turn, value.split(":", 1)[1])
        return True
    if prefix == "kb":
        await enquiry.feedback(turn, value)
        return True
    if prefix == "enq":
        await enquiry.callback_answer(turn, value)
        return True
    if prefix == "wd":
        await withdraw.button(turn, value)
        return True
    if prefix == "supp":
        await _new_problem(turn, value)
        return True
    if prefix == "unsubscribe":
        await smalltalk.unsubscribe(turn, value.split(":", 1)[1])
        return True
    return False  # a flow's own button: the active flow reads it


async def _new_problem(turn: Turn, value: str) -> None:
    """The owner says an addition was a new problem: answer it as one."""
    withdrawn = await supplement.withdraw(turn, value)
    if withdrawn is None:
        turn.say("supplement.gone")
        return
    text, photos = withdrawn
    turn.inbound = replace(
        turn.inbound, text=text, value=None, media=tuple(Media("photo", ref) for ref in photos)
    )
    turn.reset_understanding()
    if text:
        await dispatch(turn, news_for_emergency=False)
    else:
        await repair.start_from_photo(turn)


def _flow_of_button(value: str) -> str | None:
    return FLOW_BUTTONS.get(value.split(":", 1)[0])


def _language_is_clear(text: str) -> bool:
    """Enough words to tell: two Chinese characters, or a few Latin words and no Chinese."""
    chinese = len(_CJK.findall(text))
    return chinese >= 2 or (chinese == 0 and len(_LATIN_WORD.findall(text)) >= 2)


def _remember_language(turn: Turn) -> None:
    """Answer in the language of this message when it is clear; remember it."""
    text = turn.text
    if not turn.value and command_of(text, None) is None and _language_is_clear(text):
        turn.lang = turn.understanding.lang
        turn.identity.language = turn.lang
    elif turn.identity.language:
        turn.lang = normalize_lang(turn.identity.language)
