"""Complaints: empathy, what/who/when, the owner of the complaint and the promise."""

from __future__ import annotations

from backend.composition import Runtime
from tests.dialogs.helpers import tickets_of
from tests.fakes.chat import Chat


async def test_a_detailed_complaint_is_recorded_at_once(zhang: Chat, runtime: Runtime) -> None:
    reply = await zhang.say(
        "楼上那家天天晚上十一点以后还在装修打电钻，已经连续一个星期了，孩子根本没法睡觉，你们到底管不管？"
    )
    assert "非常抱歉" in reply
    assert "投诉已受理，工单号 C-" in reply and "首问负责制" in reply and "李娜" in reply
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.kind == "complaint" and ticket.state == "accepted"


async def test_a_short_complaint_asks_when_and_who(emily: Chat, runtime: Runtime) -> None:
    await emily.transcript(
        [
            ("The security guard was rude to me", r"very sorry.*when did it happen"),
            (
                "Yesterday around 7pm at the north gate",
                r"registered as C-\d{8}-\d{4}.*Sarah Lim.*48 hours",
            ),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session-b")
    assert "north gate" in ticket.description


async def test_asking_to_complain_asks_what_happened(zhang: Chat, runtime: Runtime) -> None:
    await zhang.transcript(
        [
            ("我要投诉", r"请具体说说发生了什么"),
            ("快递员总把包裹扔在门口", r"大概是什么时间发生的"),
            ("tap:complaint:skip", r"投诉已受理"),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.summary == "快递员总把包裹扔在门口"


async def test_a_question_instead_of_the_details_records_it_and_answers(
    zhang: Chat, emily: Chat, runtime: Runtime
) -> None:
    await zhang.transcript(
        [
            ("电梯又坏了！！你们到底有没有人管？", r"涉及哪些人员或位置"),
            ("快递柜在哪", r"(?s)投诉已受理，工单号 C-.*快递柜位于南门和北门大堂"),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.kind == "complaint" and ticket.description == "电梯又坏了！！你们到底有没有人管？"
    # Details that read as a complaint of their own are still the details.
    await emily.transcript(
        [
            ("The guards are rude", r"when did it happen"),
            ("last Tuesday, the guard at the north gate", r"registered as C-"),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session-b")
    assert "north gate" in ticket.description
