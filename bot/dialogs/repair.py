"""Reporting a repair: fill in only what the first message left out (what, where, when),
confirm with a summary, open the ticket and reply with the repair card (维修卡片)."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from backend import tickets
from backend.actors import Actor
from backend.errors import DomainError
from backend.fields import normalize_phone
from backend.models import Ticket
from backend.notices import repair_card, state_name, status_line
from bot.dialogs import binding, supplement
from bot.dialogs.context import Turn
from bot.intents.entities import LOCATION_NAMES

# Where nobody needs to be at home (the entity extractor's names; 楼道 shares a name
# with 玄关, inside the home, so it is not one of them).
COMMON_AREAS = frozenset({"public_area", "garage", "lobby"})
LOCATIONS = ("bathroom", "kitchen", "balcony", "living_room", "bedroom", "public_area", "other")
TIMES = ("asap", "today_pm", "tomorrow_am", "tomorrow_pm")
FIELDS = ("what", "where", "when", "phone")
# The buttons each question offers; another button's value is from an earlier question.
STEP_BUTTONS = {
    "same": "same:",
    "where": "loc:",
    "when": "time:",
    "edit": "edit:",
    "confirm": "repair:",
}
SWITCH_CONFIDENCE = 0.8  # a different request this sure, mid-repair, parks the repair
_YES = re.compile(
    r"^(确认|确定|提交|是|是的|好|好的|对|没问题|ok|okay|yes|y|confirm|submit|sure)[!！。.]*$", re.I
)
_SMALL_TALK = re.compile(
    r"^(谢谢|多谢|感谢|谢了|辛苦了?|你好|您好|在吗|在不在|thanks?( you)?|thx|hi|hello|hey)"
    r"[\s!！。.,，~～?？]*$",
    re.I,
)
_NO = re.compile(r"^(不是|不|不对|新的|新报修|no|nope|new|a new one)[!！。.]*$", re.I)
ASKING = re.compile(
    r"^(你好|您好|hi|hello)?[,，\s]*(我要|我想|我想要|需要|帮我|请)?\s*(报修|报个修|维修|修理|保修|"
    r"((i|we) (want|would like|need|'d like) to |can i |how (do|can) i |i want |please )?"
    r"(report|log|make|file|lodge|submit|book|request) (a |an )?(repair|maintenance)"
    r"( request| job)?|"
    r"repair( request)?|need a repair|i need a repair|maintenance request)[!！。.]*$",
    re.I,
)


def _draft(turn: Turn, text: str) -> dict[str, Any]:
    meaning = turn.understanding
    entities = meaning.entities
    return {
        "description": "" if ASKING.match(text) else text,
        "location": entities.get("location", ""),
        "item": entities.get("item", ""),
        "time": entities.get("time", ""),
        "phone": entities.get("phone", ""),
        "category": meaning.category or "other",
        "photos": [],
    }


def _missing(draft: dict[str, Any]) -> str:
    if not draft["description"]:
        return "what"
    if not draft["location"]:
        return "where"
    if not draft["time"] and draft["location"] not in COMMON_AREAS:
        return "when"  # a common area needs nobody at home: no visit time to agree
    return "confirm"


async def start(turn: Turn, photos: list[str] | None = None) -> None:
    if not turn.verified:
        await binding.require(turn, {"kind": "repair", "text": turn.text})
        return
    draft = (
        _draft(turn, turn.text)
        if turn.text
        else {
            "description": "",
            "location": "",
            "item": "",
            "time": "",
            "phone": "",
            "category": "other",
            "photos": [],
        }
    )
    draft["photos"] = photos or []
    assert turn.owner is not None
    same = (
        await tickets.same_repair_open(
            turn.session,
            turn.owner.id,
            turn.identity.id,
            location=str(draft["location"]),
            category=str(draft["category"]),
            now=turn.now,
        )
        if draft["description"]
        else None
    )
    if same is not None:
        turn.start("repair", "same", draft=draft, same=same.id, message=turn.message_id)
        _ask_same(turn, same)
        return
    turn.start("repair", _missing(draft), draft=draft)
    await prompt(turn)


async def start_from_photo(turn: Turn) -> None:
    refs = [m.ref for m in turn.inbound.media if m.kind == "photo"]
    turn.say("repair.photo_received")
    await start(turn, photos=refs)


def _ask_same(turn: Turn, same: Ticket) -> None:
    turn.say(
        "repair.same_open",
        turn.button("button.same_add", "same:add", number=same.number),
        turn.button("button.same_new", "same:new"),
        number=same.number,
        summary=same.summary,
        state=state_name(same, turn.lang),
    )


def _location_name(turn: Turn, location: str) -> str:
    known = location in LOCATIONS or location in LOCATION_NAMES  # "garage", not "车库下面"
    return turn.tr(f"location.{location}") if known else location


def _time_name(turn: Turn, when: str, location: str = "") -> str:
    if not when and location in COMMON_AREAS:
        return turn.tr("time.not_needed")
    return turn.tr(f"time.{when}") if when in TIMES else when


def _phone(turn: Turn) -> str:
    draft = turn.data["draft"]
    return str(draft.get("phone") or (turn.owner.phone if turn.owner else ""))


async def prompt(turn: Turn) -> None:
    step = turn.step
    draft = turn.data.get("draft", {})
    if step == "same":
        same = await turn.session.get(Ticket, turn.data.get("same"))
        if same is not None:
            _ask_same(turn, same)
            return
        turn.goto(_missing(draft))
        step = turn.step
    if step == "what":
        turn.say("repair.ask_what")
    elif step == "where":
        turn.say(
            "repair.ask_where", *(turn.button(f"location.{loc}", f"loc:{loc}") for loc in LOCATIONS)
        )
    elif step == "when":
        turn.say("repair.ask_when", *(turn.button(f"time.{w}", f"time:{w}") for w in TIMES))
    elif step == "phone":
        turn.say("repair.ask_phone")
    elif step == "edit":
        turn.say(
            "repair.ask_edit", *(turn.button(f"repair.field.{f}", f"edit:{f}") for f in FIELDS)
        )
    elif step == "confirm":
        turn.say(
            "repair.confirm",
            turn.button("button.submit", "repair:submit"),
            turn.button("button.edit", "repair:edit"),
            turn.button("button.cancel", "cmd:cancel"),
            description=draft.get("description", ""),
            location=_location_name(turn, draft.get("location", "")),
            time=_time_name(turn, draft.get("time", ""), draft.get("location", "")),
            phone=_phone(turn),
            photos=len(draft.get("photos", [])),
        )


def _gives_way(turn: Turn) -> bool:
    """Mid-repair, has the owner moved on to something else?"""
    if turn.value or not turn.text:
        return False
    meaning = turn.understanding
    if meaning.urgent:
        return True
    if len(turn.text) < 6 or turn.step not in ("what", "where", "when"):
        return False
    if meaning.kind in ("complaint", "enquiry") and meaning.confidence >= SWITCH_CONFIDENCE:
        return True
    # Asked when to come, the owner describes another fault and names no time ("卫生间的灯
    # 也坏了"): a second repair, not a visit time.
    return (
        turn.step == "when"
        and "time" not in meaning.entities
        and meaning.kind == "repair"
        and meaning.confidence >= SWITCH_CONFIDENCE
        and meaning.category not in (None, "other")
    )


def _only_where_or_when(turn: Turn) -> bool:
    """A short answer that names a place or a time and no fault."""
    meaning = turn.understanding
    entities = meaning.entities
    return (
        (len(turn.text) <= 8 or len(turn.text.split()) <= 4)
        and (meaning.kind != "repair" or meaning.category in (None, "other"))
        and not entities.get("item")
        and bool(entities.get("location") or entities.get("time"))
    )


def _correct(turn: Turn, draft: dict[str, Any]) -> None:
    """ "电话改成139…" / "明天下午吧" at the summary changes that line; anything else is
    more about the problem."""
    entities = turn.understanding.entities
    if entities.get("phone"):
        try:
            draft["phone"] = normalize_phone(entities["phone"])
            return
        except DomainError:
            pass
    if _only_where_or_when(turn):
        draft["location"] = entities.get("location") or draft.get("location", "")
        draft["time"] = entities.get("time") or draft.get("time", "")
        return
    draft["description"] = f"{draft.get('description', '')} {turn.text}".strip()


async def handle(turn: Turn) -> bool:
    draft: dict[str, Any] = turn.data.setdefault("draft", {})
    photos = [m.ref for m in turn.inbound.media if m.kind == "photo"]
    if photos:
        draft["photos"] = [*draft.get("photos", []), *photos]
        if not turn.text:
            turn.say("repair.photo_added")
            await prompt(turn)
            return True
    if _gives_way(turn):
        turn.park()
        turn.say("repair.parked")
        return False
    step, value, text = turn.step, turn.value or "", turn.text
    if value and not value.startswith(STEP_BUTTONS.get(step or "", "\0")):
        await prompt(turn)  # a button of an earlier question: ask this one again
        return True
    if step == "same":
        return await _same_or_new(turn, draft)
    if step == "what":
        if not text:
            await prompt(turn)
            return True
        fresh = _draft(turn, text)
        if _only_where_or_when(turn):
            # "客厅" / "明天上午" when asked what is wrong: keep it, ask what again.
            for key in ("location", "time"):
                draft[key] = draft.get(key) or fresh[key]
            turn.goto("what", draft=draft)
            await prompt(turn)
            return True
        draft["description"] = text
        for key in ("location", "item", "time", "phone"):
            draft[key] = draft.get(key) or fresh[key]
        if draft.get("category", "other") == "other":
            draft["category"] = fresh["category"]
    elif step == "where":
        entities = turn.understanding.entities
        if value:
            draft["location"] = value.removeprefix("loc:")
        elif entities.get("location"):
            draft["location"] = entities["location"]
        elif entities.get("time") and not draft.get("time"):
            draft["time"] = entities["time"]  # answered when before where: keep it, ask again
        else:
            draft["location"] = text
    elif step == "when":
        if not value and _SMALL_TALK.match(text) and "time" not in turn.understanding.entities:
            await prompt(turn)  # "谢谢" / "你好" is not a visit time
            return True
        draft["time"] = value.removeprefix("time:") if value else text
    elif step == "phone":
        try:
            draft["phone"] = normalize_phone(text)
        except DomainError:
            turn.say("repair.phone_invalid")
            return True
    elif step == "edit":
        field = value.removeprefix("edit:")
        if field not in FIELDS:
            await prompt(turn)
            return True
        turn.goto(field, editing=True)
        await prompt(turn)
        return True
    elif step == "confirm":
        if value == "repair:submit" or (not value and _YES.match(text)):
            await _submit(turn, draft)
            return True
        if value == "repair:edit":
            turn.goto("edit")
            await prompt(turn)
            return True
        if not value and text:  # typed at the summary: a correction, or more detail
            _correct(turn, draft)
        await prompt(turn)
        return True
    else:
        return False
    next_step = "confirm" if turn.data.get("editing") else _missing(draft)
    turn.goto(next_step, draft=draft)
    await prompt(turn)
    return True


async def _same_or_new(turn: Turn, draft: dict[str, Any]) -> bool:
    """Asked whether it is the repair already open: add to it, or go on with a new one."""
    value, text = turn.value or "", turn.text
    ticket = await turn.session.get(Ticket, turn.data.get("same"))
    if (value == "same:add" or (not value and _YES.match(text))) and turn.owns(ticket):
        assert ticket is not None
        await supplement.add_to(
            turn,
            ticket,
            str(draft.get("description", "")),
            list(draft.get("photos", [])),
            message_id=int(turn.data.get("message", turn.message_id)),
        )
        turn.finish()
        zone = ZoneInfo(turn.estate.timezone) if turn.estate else ZoneInfo("UTC")
        turn.say_text(
            turn.tr("supplement.added", number=ticket.number, summary=ticket.summary)
            + "\n"
            + await status_line(turn.session, ticket, turn.lang, zone, turn.now)
        )
        return True
    turn.goto(_missing(draft))
    if value == "same:new" or not text or _NO.match(text):
        await prompt(turn)
        return True
    return await handle(turn)  # the next answer typed straight away: read it for its step


async def _submit(turn: Turn, draft: dict[str, Any]) -> None:
    assert turn.owner is not None and turn.estate is not None
    description = str(draft.get("description", ""))
    ticket = await tickets.open_ticket(
        turn.session,
        kind="repair",
        estate_id=turn.estate.id,
        owner_id=turn.owner.id,
        identity_id=turn.identity.id,
        actor=Actor.of_owner(turn.owner),
        channel=turn.identity.channel,
        summary=description,
        description=description,
        category=str(draft.get("category") or "other"),
        location=str(draft.get("location") or ""),
        item=str(draft.get("item") or ""),
        contact_phone=_phone(turn),
        preferred_time=_time_name(turn, str(draft.get("time") or "")),
        language=turn.lang,
        now=turn.now,
    )
    ticket.attachments = list(draft.get("photos", []))
    turn.finish()
    turn.ticket_id = ticket.id
    turn.replies.append(await repair_card(turn.session, ticket, turn.lang))
