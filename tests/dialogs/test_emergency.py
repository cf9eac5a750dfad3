"""Emergencies: no questions, urgent ticket, safety advice, supervisor alerted."""

from __future__ import annotations

from backend.composition import Runtime
from backend.tickets import events_of
from tests.dialogs.helpers import conversation_of, tickets_of
from tests.fakes.chat import Chat


async def test_gas_smell_gets_advice_and_an_urgent_ticket_at_once(
    zhang: Chat, runtime: Runtime
) -> None:
    reply = await zhang.say("家里燃气味很重，怎么办")
    assert "关闭燃气总阀" in reply
    assert "紧急工单 R-" in reply and "陈工" in reply
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.urgent and not ticket.unverified and ticket.escalation_level == 1
    async with runtime.db.session() as s:
        actions = [e.action for e in await events_of(s, ticket.id)]
    assert actions == ["created", "escalated"]


async def test_english_lift_entrapment(emily: Chat, runtime: Runtime) -> None:
    reply = await emily.say("My mum is trapped in the lift between floors 5 and 6!!")
    assert "press the alarm" in reply and "urgent ticket R-" in reply
    [ticket] = await tickets_of(runtime.db, "demo-session-b")
    assert ticket.urgent and ticket.language == "en"


async def test_an_emergency_interrupts_a_repair_in_progress(zhang: Chat, runtime: Runtime) -> None:
    await zhang.transcript(
        [
            ("客厅灯坏了", r"什么时候上门"),
            ("卫生间水管爆了，水漫到客厅了！", r"关闭入户总水阀.*紧急工单"),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.urgent
    conversation = await conversation_of(runtime.db, "demo-session")
    assert conversation is not None and conversation.data["parked"]["flow"] == "repair"


async def test_unverified_emergency_is_never_held_up(stranger: Chat, runtime: Runtime) -> None:
    await stranger.transcript(
        [
            ("电梯里有人被困住了，快来人！", r"按下电梯内警铃.*紧急工单 R-.*房号"),
            ("阳光花园 A栋 2单元 电梯，电话13911112222", r"已补充到紧急工单"),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "stranger-1")
    assert ticket.urgent and ticket.unverified and ticket.owner_id is None
    assert "13911112222" in ticket.description and ticket.contact_phone == "13911112222"


async def test_a_fire_drill_question_is_not_an_emergency(zhang: Chat, runtime: Runtime) -> None:
    reply = await zhang.say("明天消防演习会很吵吗？")
    assert "紧急工单" not in reply
    assert all(not t.urgent for t in await tickets_of(runtime.db, "demo-session"))
