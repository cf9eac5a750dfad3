"""The actions through rasa-sdk's ActionExecutor, with the action calls Rasa sends:
each in Chinese and English, and an unbound sender never sees owner data.

(Scenarios are grouped: each test pays for loading the demo data.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import ActionExecutor
from sqlalchemy import select

from backend import tickets as ticket_service
from backend.db import Database
from backend.i18n import t
from backend.messaging import identity_for
from backend.models import Owner, Ticket
from bot.actions import runtime
from bot.actions.binding import unbind_sender
from bot.actions.runtime import ActionsRuntime
from bot.actions.server import build_executor
from tests.actions import EMILY, ZHANG, action_call, bind, slots_set, texts, tickets_of_sender


@pytest.fixture
async def executor(demo: Database) -> AsyncIterator[ActionExecutor]:
    runtime.configure(ActionsRuntime(demo))
    yield build_executor()
    await runtime.close()


async def run(executor: ActionExecutor, action: str, sender: str, text: str, **kw: Any) -> Any:
    result = await executor.run(action_call(action, sender, text, **kw))
    assert result is not None
    return result.model_dump()


async def open_numbers(db: Database, phone: str) -> list[str]:
    async with db.session() as s:
        rows = await s.scalars(
            select(Ticket.number)
            .join(Owner, Owner.id == Ticket.owner_id)
            .where(Owner.phone == phone, Ticket.state.not_in(["closed", "cancelled"]))
            .order_by(Ticket.created_at.desc())
        )
        return list(rows)


def test_the_actions_are_registered_by_us_or_by_package() -> None:
    names = {
        "action_open_repair",
        "action_open_complaint",
        "action_ticket_status",
        "action_answer_enquiry",
        "action_emergency_details",
    }
    assert {a.name for a in build_executor().list_actions()} == names
    by_package = ActionExecutor()  # python -m rasa_sdk --actions bot.actions
    by_package.register_package("bot.actions")
    assert set(by_package.actions) == names  # the abstract base is not an action


async def test_repair_in_both_languages(executor: ActionExecutor, demo: Database) -> None:
    zhang = await bind(demo, "rasa-zhang", ZHANG)
    result = await run(
        executor, "action_open_repair", "rasa-zhang", "卫生间的水龙头漏水了，明天上午来修"
    )
    [ticket] = await tickets_of_sender(demo, "rasa-zhang")
    [card] = texts(result)
    assert "维修卡片" in card and ticket.number in card and "陈工（维修监理）" in card
    assert slots_set(result) == {
        "ticket_number": ticket.number,
        "urgent": False,
        "owner_verified": True,
    }
    assert (ticket.kind, ticket.owner_id, ticket.channel, ticket.urgent) == (
        "repair",
        zhang,
        "rasa",
        False,
    )
    assert (ticket.location, ticket.item, ticket.category) == ("bathroom", "tap", "water_leak")
    assert ticket.preferred_time == "明天上午" and ticket.contact_phone == ZHANG

    # The site's own NLU found the place: its entity, as OwnerDesk's location code.
    entities = [{"entity": "location", "value": "厨房", "start": 0, "end": 2}]
    await run(executor, "action_open_repair", "rasa-zhang", "厨房灯不亮了", entities=entities)
    assert (await tickets_of_sender(demo, "rasa-zhang"))[1].location == "kitchen"

    # English, after a form: the problem, place, time and phone are in the site's slots.
    await bind(demo, "rasa-emily", EMILY)
    slots = {
        "description": "The tap on the balcony is dripping",
        "location": "阳台",
        "visit_time": "tomorrow_am",
        "phone": "+65 8123 4567",
    }
    result = await run(
        executor, "action_open_repair", "rasa-emily", "Tomorrow morning please", slots=slots
    )
    [ticket] = await tickets_of_sender(demo, "rasa-emily")
    [card] = texts(result)
    assert card.startswith("✅ Repair received") and ticket.number in card
    assert ticket.summary == "The tap on the balcony is dripping"
    assert (ticket.location, ticket.preferred_time) == ("balcony", "Tomorrow morning")
    assert (ticket.contact_phone, ticket.language) == ("+6581234567", "en")


async def test_an_unbound_sender_sees_no_data_and_opens_nothing(
    executor: ActionExecutor, demo: Database
) -> None:
    [number, *_] = await open_numbers(demo, ZHANG)
    calls = [
        ("action_open_repair", "卫生间的水龙头漏水了", {}, t("zh", "binding.intro")),
        ("action_open_repair", "The kitchen tap is dripping", {}, t("en", "binding.intro")),
        (
            "action_open_complaint",
            "保安晚上一直在岗亭睡觉，太不负责了",
            {},
            t("zh", "binding.intro"),
        ),
        (
            "action_ticket_status",
            f"{number} 进度如何",
            {"ticket_number": number},
            t("zh", "binding.intro"),
        ),
        ("action_ticket_status", "Where is my repair at?", {}, t("en", "binding.intro")),
    ]
    for action, text, slots, expected in calls:
        result = await run(executor, action, "rasa-nobody", text, slots=slots)
        assert texts(result) == [expected], action
        # (status has no emergency path, so no "urgent" slot)
        assert slots_set(result) in (
            {"owner_verified": False},
            {"urgent": False, "owner_verified": False},
        )
    assert await tickets_of_sender(demo, "rasa-nobody") == []

    # Bound, then unbound again by the site: back to nothing.
    await bind(demo, "rasa-moved-out", ZHANG)
    async with demo.session() as s:
        await unbind_sender(s, "rasa-moved-out")
    result = await run(executor, "action_ticket_status", "rasa-moved-out", "我的报修怎么样了")
    assert texts(result) == [t("zh", "binding.intro")]

    # Bound, but only "I want to report / complain": ask what it is, open nothing.
    await bind(demo, "rasa-zhang", ZHANG)
    assert texts(await run(executor, "action_open_repair", "rasa-zhang", "我要报修")) == [
        t("zh", "repair.ask_what")
    ]
    assert texts(await run(executor, "action_open_complaint", "rasa-zhang", "我要投诉")) == [
        t("zh", "complaint.ask_what")
    ]
    assert await tickets_of_sender(demo, "rasa-zhang") == []


async def test_an_unbound_emergency_gets_advice_an_urgent_ticket_and_adds_details(
    executor: ActionExecutor, demo: Database
) -> None:
    result = await run(
        executor, "action_open_repair", "rasa-nobody", "厨房燃气泄漏了，好大的煤气味"
    )
    [ticket] = await tickets_of_sender(demo, "rasa-nobody")
    assert texts(result) == [
        t("zh", "emergency.advice.gas"),
        t(
            "zh",
            "emergency.ticket",
            number=ticket.number,
            supervisor="陈工（维修监理） 13900000003",
            duty_phone=t("zh", "emergency.duty_phone_default"),
        ),
        t("zh", "emergency.ask_where"),
    ]
    assert ticket.urgent and ticket.unverified and ticket.owner_id is None
    assert ticket.escalation_level == 1
    assert slots_set(result) == {
        "ticket_number": ticket.number,
        "urgent": True,
        "owner_verified": False,
    }

    details, slots = "A栋1单元101，电话13912345678", {"ticket_number": ticket.number}
    other = await run(executor, "action_emergency_details", "rasa-other", details, slots=slots)
    assert texts(other) == []  # not the sender who reported it
    added = await run(executor, "action_emergency_details", "rasa-nobody", details, slots=slots)
    assert texts(added) == [t("zh", "emergency.details_added", number=ticket.number)]
    [ticket] = await tickets_of_sender(demo, "rasa-nobody")
    assert details in ticket.description and ticket.contact_phone == "13912345678"


async def test_an_english_emergency_whatever_action_rasa_chose_and_advice_despite_failure(
    executor: ActionExecutor, demo: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    emily = await bind(demo, "rasa-emily", EMILY)
    text = "I smell gas in the kitchen, please help"
    result = await run(executor, "action_answer_enquiry", "rasa-emily", text, intent="ask")
    advice, opened = texts(result)
    assert advice == t("en", "emergency.advice.gas")
    assert "urgent ticket" in opened and "David Tan" in opened
    [ticket] = await tickets_of_sender(demo, "rasa-emily")
    assert ticket.urgent and not ticket.unverified and ticket.owner_id == emily

    async def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("database trouble")

    monkeypatch.setattr(ticket_service, "open_ticket", broken)
    result = await run(
        executor, "action_open_repair", "rasa-nobody", "Somebody is stuck in the lift!"
    )
    assert texts(result) == [t("en", "emergency.advice.lift"), t("en", "error.sorry")]
    assert result["events"] == []


async def test_the_safety_advice_needs_no_database(tmp_path: Path) -> None:
    broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")  # no tables at all
    runtime.configure(ActionsRuntime(broken))
    try:
        result = await run(build_executor(), "action_open_complaint", "x", "厨房燃气泄漏了！")
    finally:
        await runtime.close()
        await broken.dispose()
    assert texts(result) == [t("zh", "emergency.advice.gas"), t("zh", "error.sorry")]


async def test_complaint_names_the_responsible_colleague_in_both_languages(
    executor: ActionExecutor, demo: Database
) -> None:
    await bind(demo, "rasa-zhang", ZHANG)
    text = "保安晚上一直在岗亭睡觉，叫了好几次都没人理，太不负责了"
    result = await run(executor, "action_open_complaint", "rasa-zhang", text, intent="complain")
    [ticket] = await tickets_of_sender(demo, "rasa-zhang")
    sorry, recorded = texts(result)
    assert sorry == t("zh", "complaint.sorry")
    assert ticket.number in recorded and "李娜（客户大使） 13900000002" in recorded
    assert (ticket.kind, ticket.description, ticket.channel) == ("complaint", text, "rasa")
    assert slots_set(result)["ticket_number"] == ticket.number

    await bind(demo, "rasa-emily", EMILY)
    text = "The security guard at the gate was very rude to my parents yesterday evening"
    result = await run(executor, "action_open_complaint", "rasa-emily", text, intent="complain")
    [ticket] = await tickets_of_sender(demo, "rasa-emily")
    assert ticket.number in texts(result)[1] and "Sarah Lim +6581000001" in texts(result)[1]
    assert "personally responsible" in texts(result)[1]


async def test_status_only_ones_own_in_the_messages_language(
    executor: ActionExecutor, demo: Database
) -> None:
    await bind(demo, "rasa-zhang", ZHANG)
    await bind(demo, "rasa-emily", EMILY)
    zhangs, emilys = await open_numbers(demo, ZHANG), await open_numbers(demo, EMILY)
    assert zhangs and emilys

    [reply] = texts(await run(executor, "action_ticket_status", "rasa-zhang", "我的报修怎么样了"))
    assert reply.startswith("您有") and "处理中的工单" in reply
    assert all(n in reply for n in zhangs[:5]) and not any(n in reply for n in emilys)

    mine, theirs = emilys[0], zhangs[0]
    result = await run(executor, "action_ticket_status", "rasa-emily", f"Status of {mine}?")
    assert texts(result)[0].startswith(f"· {mine}")
    result = await run(executor, "action_ticket_status", "rasa-emily", f"Any news on {theirs}?")
    assert texts(result) == [t("en", "status.not_found", number=theirs)]
    slots = {"ticket_number": mine}  # the number in a slot; "?" tells no language
    result = await run(executor, "action_ticket_status", "rasa-emily", "?", slots=slots)
    assert texts(result)[0].startswith(f"· {mine}") and "—" in texts(result)[0]

    # 张伟 writes in English: answered in English, remembered for words that don't tell.
    reply = texts(await run(executor, "action_ticket_status", "rasa-zhang", "How are my repairs?"))
    assert reply[0].startswith("You have")
    assert texts(await run(executor, "action_ticket_status", "rasa-zhang", "ok"))[0].startswith(
        "You have"
    )
    async with demo.session() as s:
        assert (await identity_for(s, "rasa", "rasa-zhang")).language == "en"


async def test_enquiry_answers_or_hands_to_staff(executor: ActionExecutor, demo: Database) -> None:
    await bind(demo, "rasa-zhang", ZHANG)
    await bind(demo, "rasa-emily", EMILY)

    result = await run(
        executor, "action_answer_enquiry", "rasa-zhang", "物业费怎么交？", intent="ask"
    )
    assert "2.80 元/平方米/月" in texts(result)[0]
    assert slots_set(result) == {"kb_key": "property-fee", "urgent": False, "owner_verified": True}
    result = await run(
        executor, "action_answer_enquiry", "rasa-nobody", "Where are the parcel lockers?"
    )
    assert "south and north gate lobbies" in texts(result)[0]
    assert slots_set(result) == {
        "kb_key": "parcel-lockers",
        "urgent": False,
        "owner_verified": False,
    }

    # An estate's own entry answers its owners only; a stranger gets none of it.
    result = await run(executor, "action_answer_enquiry", "rasa-zhang", "周末可以装修吗")
    assert "阳光花园装修时间" in texts(result)[0]
    result = await run(executor, "action_answer_enquiry", "rasa-nobody", "周末可以装修吗")
    assert not any("阳光花园装修时间" in text for text in texts(result))

    question = "When is the next owners committee meeting?"
    result = await run(executor, "action_answer_enquiry", "rasa-emily", question)
    [ticket] = await tickets_of_sender(demo, "rasa-emily")
    assert texts(result) == [t("en", "enquiry.to_staff", number=ticket.number)]
    assert slots_set(result) == {
        "kb_key": None,
        "ticket_number": ticket.number,
        "urgent": False,
        "owner_verified": True,
    }
    assert (ticket.kind, ticket.summary) == ("enquiry", question)
    result = await run(
        executor, "action_answer_enquiry", "rasa-nobody", "请问小区业委会下次开会是什么时候？"
    )
    assert texts(result) == [t("zh", "enquiry.to_staff_guest")]
    assert await tickets_of_sender(demo, "rasa-nobody") == []
