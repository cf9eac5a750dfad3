"""Binding a chat account to a household with a one-time code."""

from __future__ import annotations

from sqlalchemy import select

from backend.composition import Runtime
from backend.models import ChannelIdentity
from tests.dialogs.helpers import tickets_of
from tests.fakes.chat import Chat
from tests.fakes.codes import RecordingCodeSender


async def identity(runtime: Runtime, session_id: str) -> ChannelIdentity:
    async with runtime.db.session() as s:
        row = await s.scalar(
            select(ChannelIdentity).where(ChannelIdentity.external_id == session_id)
        )
        assert row is not None
        return row


async def test_verify_then_the_repair_goes_on(
    stranger: Chat, runtime: Runtime, codes: RecordingCodeSender
) -> None:
    await stranger.transcript(
        [
            ("阳台推拉门关不上了", r"验证业主身份.*请选择您所在的小区"),
            ("tap:estate:DEMO-A", r"请输入房号"),
            ("A栋1单元102", r"登记的手机号"),
        ]
    )
    async with runtime.db.session() as s:
        from backend.models import Owner, Unit

        phone = await s.scalar(
            select(Owner.phone).join(Unit, Unit.id == Owner.unit_id).where(Unit.number == "A-1-102")
        )
    reply = await stranger.say(str(phone))
    assert "验证码已发送" in reply and "****" in reply
    assert codes.sent[-1][0] == phone
    assert "不正确" in await stranger.say("000000" if codes.last_code != "000000" else "111111")
    reply = await stranger.say(codes.last_code)
    assert "验证成功" in reply and "什么时候上门" in reply  # the door repair carries on
    assert (await identity(runtime, "stranger-1")).owner_id is not None
    await stranger.tap("time:asap")
    await stranger.tap("repair:submit")
    [ticket] = await tickets_of(runtime.db, "stranger-1")
    assert ticket.category == "door_window" and ticket.owner_id is not None


async def test_wrong_details_get_the_same_answer_and_no_code(
    stranger: Chat, runtime: Runtime, codes: RecordingCodeSender
) -> None:
    await stranger.transcript(
        [
            ("I'd like to make a complaint", r"confirm you're an owner.*Which estate"),
            ("Lakeside Court", r"unit number"),
            ("nonsense", r"doesn't look like a unit number"),
            ("B-1-101", r"phone number registered"),
            ("+65 8000 0000", r"If the details match our records, a code has been sent"),
            ("123456", r"wrong or has expired"),
        ]
    )
    assert codes.sent == []
    assert (await identity(runtime, "stranger-1")).owner_id is None


async def test_codes_are_rate_limited(stranger: Chat, codes: RecordingCodeSender) -> None:
    await stranger.transcript(
        [
            ("I want to report a repair", r"Which estate"),
            ("tap:estate:DEMO-B", r"unit number"),
            ("B-1-101", r"phone number"),
            ("+65 9123 4567", r"code has been sent"),
            ("tap:binding:resend", r"code has been sent"),
            ("tap:binding:resend", r"code has been sent"),
            ("tap:binding:resend", r"Too many codes requested"),
        ]
    )
    assert len(codes.sent) == 3


async def test_too_many_wrong_codes_end_the_attempt(
    stranger: Chat, codes: RecordingCodeSender
) -> None:
    await stranger.transcript(
        [
            ("我要报修", r"请选择您所在的小区"),
            ("阳光花园", r"请输入房号"),
            ("A-1-101", r"手机号"),
            ("13800138000", r"验证码已发送"),
        ]
    )
    wrong = "000000" if codes.last_code != "000000" else "111111"
    for _ in range(4):
        assert "不正确" in await stranger.say(wrong)
    assert "验证次数过多" in await stranger.say(wrong)
    assert "验证次数过多" not in await stranger.say("你好")


async def test_a_code_that_cannot_be_sent_is_said_so(
    stranger: Chat, runtime: Runtime, codes: RecordingCodeSender
) -> None:
    codes.failing = True
    await stranger.transcript(
        [
            ("主卧窗户关不上了", r"请选择您所在的小区"),
            ("tap:estate:DEMO-A", r"请输入房号"),
            ("A栋1单元101", r"登记的手机号"),
        ]
    )
    async with runtime.db.session() as s:
        from backend.models import Owner, Unit

        phone = await s.scalar(
            select(Owner.phone).join(Unit, Unit.id == Owner.unit_id).where(Unit.number == "A-1-101")
        )
    reply = await stranger.say(str(phone))
    assert "发送失败" in reply and "稍后再试" in reply
    assert (await identity(runtime, "stranger-1")).owner_id is None
