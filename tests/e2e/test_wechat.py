"""WeChat end to end: pushes signed (and in safe mode encrypted) with wechatpy's crypto
reach our callback over HTTP; replies come back passively or through the real wechatpy
client talking to the fake WeChat API. Conversations in Chinese and English."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import select

from backend import desk
from backend.actors import Actor
from backend.db import Database
from backend.models import (
    ChannelIdentity,
    Estate,
    Message,
    Owner,
    Rating,
    Staff,
    Ticket,
    Unit,
    utcnow,
)
from backend.settings import Settings
from tests.fakes.codes import RecordingCodeSender
from tests.fakes.wechat_api import (
    FakeWeChat,
    WeChatHarness,
    fake_wechat_server,
    wechat_harness,
    wechat_settings,
)

ZHANG = "demo-openid-0001"  # 张伟, verified owner of DEMO-A A-1-101 (zh)
EMILY = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"  # bound to Emily Chen (DEMO-B B-1-101, en) by a test
NUMBER = re.compile(r"\b([RCE]-\d{8}-\d{3,})\b")


@pytest.fixture(scope="module")
def wechat_api() -> Iterator[FakeWeChat]:
    with fake_wechat_server() as fake:
        yield fake


@pytest.fixture
def fake(wechat_api: FakeWeChat) -> FakeWeChat:
    wechat_api.reset()
    return wechat_api


@pytest.fixture
async def wx(
    demo: Database, test_settings: Settings, codes: RecordingCodeSender, fake: FakeWeChat
) -> AsyncIterator[WeChatHarness]:
    """The account in plaintext mode (明文模式)."""
    async with wechat_harness(wechat_settings(test_settings, fake), demo, fake, codes) as h:
        yield h


@pytest.fixture
async def wx_safe(
    demo: Database, test_settings: Settings, codes: RecordingCodeSender, fake: FakeWeChat
) -> AsyncIterator[WeChatHarness]:
    """The account in safe mode (安全模式): every push AES-encrypted."""
    settings = wechat_settings(test_settings, fake, safe=True)
    async with wechat_harness(settings, demo, fake, codes) as h:
        yield h


async def bind_emily(db: Database, openid: str = EMILY) -> None:
    """Emily Chen reaches us on WeChat too (what the verification dialog would do)."""
    async with db.session() as s:
        owner = await s.scalar(
            select(Owner)
            .join(Unit, Unit.id == Owner.unit_id)
            .join(Estate, Estate.id == Owner.estate_id)
            .where(Estate.code == "DEMO-B", Unit.number == "B-1-101")
        )
        assert owner is not None
        s.add(
            ChannelIdentity(
                channel="wechat",
                external_id=openid,
                owner_id=owner.id,
                verified_at=utcnow(),
                language="en",
            )
        )


async def tickets_of(db: Database, openid: str) -> list[Ticket]:
    async with db.session() as s:
        rows = await s.scalars(
            select(Ticket)
            .join(ChannelIdentity, ChannelIdentity.id == Ticket.identity_id)
            .where(ChannelIdentity.channel == "wechat", ChannelIdentity.external_id == openid)
            .order_by(Ticket.id)
        )
        return list(rows)


async def staff(db: Database, username: str) -> Staff:
    async with db.session() as s:
        member = await s.scalar(select(Staff).where(Staff.username == username))
        assert member is not None
        return member


async def identity(db: Database, openid: str) -> ChannelIdentity:
    async with db.session() as s:
        found = await s.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "wechat", ChannelIdentity.external_id == openid
            )
        )
        assert found is not None
        return found


# --- repairs ---------------------------------------------------------------------------


async def test_zh_repair_from_first_message_to_repair_card(wx_safe: WeChatHarness) -> None:
    wx = wx_safe
    first = await wx.push.text(ZHANG, "我要报修")
    assert first.status == 200 and first.reply is not None  # passive, AES-encrypted
    assert "请描述一下需要维修的问题" in first.reply
    await wx.deliver()
    reply = await wx.say(ZHANG, "客厅灯不亮了")
    assert "什么时候上门" in reply and "回复数字选择" in reply and "1：尽快" in reply
    reply = await wx.say(ZHANG, "3")  # 明天上午
    assert "请确认报修信息" in reply and "明天上午" in reply and "1：✅ 确认提交" in reply
    card = await wx.say(ZHANG, "1")
    assert "维修卡片" in card and "维修监理：陈工" in card
    [ticket] = await tickets_of(wx.db, ZHANG)
    assert ticket.number in NUMBER.findall(card)
    assert (ticket.kind, ticket.channel, ticket.location, ticket.language) == (
        "repair",
        "wechat",
        "living_room",
        "zh",
    )
    assert ticket.preferred_time == "明天上午"
    assert wx.fake.custom == []  # every answer fitted in the passive reply


async def test_english_owner_verifies_with_numbers_then_reports_a_repair(
    wx: WeChatHarness, codes: RecordingCodeSender
) -> None:
    reply = await wx.say(EMILY, "I want to report a repair")
    assert "confirm you're an owner" in reply and "Reply with a number:" in reply
    assert "2: Lakeside Court" in reply
    assert "type your unit number" in await wx.say(EMILY, "2")
    assert "phone number" in await wx.say(EMILY, "B-1-101")
    assert "6-digit code" in await wx.say(EMILY, "+6591234567")
    reply = await wx.say(EMILY, codes.last_code)
    assert "Emily Chen" in reply and "describe what needs fixing" in reply
    reply = await wx.say(EMILY, "The bathroom tap is leaking")
    assert "When would you like the technician to come" in reply and "2: This afternoon" in reply
    reply = await wx.say(EMILY, "2")
    assert "Please check your repair report" in reply and "Bathroom" in reply
    card = await wx.say(EMILY, "1")
    assert "Repair received" in card and "Supervisor: David Tan" in card
    [ticket] = await tickets_of(wx.db, EMILY)
    assert ticket.language == "en" and ticket.location == "bathroom"
    assert ticket.preferred_time == "This afternoon" and ticket.channel == "wechat"
    bound = await identity(wx.db, EMILY)
    assert bound.owner_id == ticket.owner_id and bound.verified_at is not None


async def test_a_photo_starts_a_repair_and_is_attached(wx: WeChatHarness) -> None:
    seen = await wx.exchange(await wx.push.image(ZHANG, "media-leak-1"), ZHANG)
    assert "照片" in seen[0] and "请描述一下需要维修的问题" in "\n".join(seen)
    assert "什么时候上门" in await wx.say(ZHANG, "卫生间墙面有裂缝")
    assert "照片：1 张" in await wx.say(ZHANG, "1")
    assert "维修卡片" in await wx.say(ZHANG, "确认提交")  # the label typed out works too
    [ticket] = await tickets_of(wx.db, ZHANG)
    assert ticket.attachments == ["media-leak-1"] and ticket.category == "crack"


# --- emergencies, complaints, enquiries --------------------------------------------------


async def test_urgent_messages_get_advice_and_an_urgent_ticket(wx_safe: WeChatHarness) -> None:
    await bind_emily(wx_safe.db)
    reply = await wx_safe.say(ZHANG, "家里燃气味很重，怎么办")
    assert "关闭燃气总阀" in reply and "紧急工单 R-" in reply
    reply = await wx_safe.say(EMILY, "My mum is trapped in the lift between floors 5 and 6!!")
    assert "press the alarm" in reply and "urgent ticket R-" in reply
    for openid, language in ((ZHANG, "zh"), (EMILY, "en")):
        [ticket] = await tickets_of(wx_safe.db, openid)
        assert ticket.urgent and ticket.escalation_level == 1 and ticket.language == language


async def test_complaints_in_chinese_and_english(wx: WeChatHarness) -> None:
    await bind_emily(wx.db)
    assert "请具体说说发生了什么" in await wx.say(ZHANG, "我要投诉")
    reply = await wx.say(ZHANG, "保安态度很差")
    assert "大概是什么时间发生的" in reply and "1：跳过" in reply
    reply = await wx.say(ZHANG, "1")  # skip the details
    assert "投诉已受理" in reply and "首问负责制" in reply
    reply = await wx.say(
        EMILY,
        "I want to complain: the cleaners left rubbish bags in the lift lobby for three days",
    )
    assert "Your complaint is registered as C-" in reply
    [zh] = await tickets_of(wx.db, ZHANG)
    [en] = await tickets_of(wx.db, EMILY)
    assert (zh.kind, zh.summary, en.kind, en.language) == (
        "complaint",
        "保安态度很差",
        "complaint",
        "en",
    )


async def test_enquiries_answered_from_the_knowledge_base(wx: WeChatHarness) -> None:
    await bind_emily(wx.db)
    reply = await wx.say(ZHANG, "物业费怎么交？")
    assert "2.80 元/平方米/月" in reply and "1：👍 有帮助" in reply
    assert "很高兴" in await wx.say(ZHANG, "1")
    assert await tickets_of(wx.db, ZHANG) == []
    reply = await wx.say(EMILY, "Where are the parcel lockers?")
    assert "south and north gate lobbies" in reply and "Reply with a number:" in reply
    reply = await wx.say(EMILY, "2")  # not helpful: a colleague takes over
    assert "passed your question to a colleague (ticket E-" in reply
    [ticket] = await tickets_of(wx.db, EMILY)
    assert ticket.kind == "enquiry"


# --- staff and the ticket lifecycle ------------------------------------------------------


async def test_handoff_and_the_staff_reply_arrives_as_a_customer_service_message(
    wx: WeChatHarness,
) -> None:
    await bind_emily(wx.db)
    assert "人工客服" in await wx.say(ZHANG, "转人工")
    assert "colleague to take over" in await wx.say(EMILY, "talk to a person")
    assert await wx.say(ZHANG, "在吗？") == ""  # with staff: the bot keeps quiet
    for username, openid, text in (
        ("agent.a", ZHANG, "您好，我是客户大使李娜，马上为您处理。"),
        ("agent.b", EMILY, "Hi Emily, Sarah here. How can I help?"),
    ):
        member = await staff(wx.db, username)
        async with wx.db.session() as s:
            to = await s.scalar(
                select(ChannelIdentity).where(ChannelIdentity.external_id == openid)
            )
            assert to is not None
            await desk.take_over(s, to.id, member)
            await desk.reply(s, member, text, identity=to)
        await wx.deliver()
        assert wx.unseen(openid) == [text]


async def test_rating_after_the_callback_by_number(wx: WeChatHarness) -> None:
    await bind_emily(wx.db)
    for openid, report in (
        (ZHANG, "厨房下水道堵了，明天上午来修"),
        (EMILY, "The kitchen tap is dripping, can someone come tomorrow afternoon?"),
    ):
        assert "1" in await wx.say(openid, report)
        await wx.say(openid, "1")  # submit
    tech_a, tech_b = await staff(wx.db, "tech.a"), await staff(wx.db, "tech.b")
    for openid, tech in ((ZHANG, tech_a), (EMILY, tech_b)):
        [opened] = await tickets_of(wx.db, openid)
        async with wx.db.session() as s:
            ticket = await s.get(Ticket, opened.id)
            assert ticket is not None
            actor = Actor.of_staff(tech)
            await desk.move(s, ticket, "dispatched", actor, assignee_id=tech.id)
            for state in ("on_site", "done", "callback"):
                await desk.move(s, ticket, state, actor)
        await wx.deliver()
    question = wx.unseen(ZHANG)[-1]
    assert (
        "维修回访" in question and "1：😄 非常满意" in question and "5：😞 非常不满意" in question
    )
    assert "Very satisfied" in wx.unseen(EMILY)[-1]
    assert "感谢您的评价" in await wx.say(ZHANG, "1")  # 非常满意
    assert "Thank you for your rating" in await wx.say(EMILY, "2")  # Satisfied
    async with wx.db.session() as s:
        ratings = list(await s.scalars(select(Rating).order_by(Rating.id)))
        rated = [await s.get(Ticket, r.ticket_id) for r in ratings]
        states = [t.state for t in rated if t is not None]
    assert [(r.score, r.channel) for r in ratings] == [(5, "wechat"), (4, "wechat")]
    assert states == ["closed", "closed"]


# --- events ------------------------------------------------------------------------------


async def test_subscribe_welcomes_and_menu_clicks_act(wx: WeChatHarness) -> None:
    stranger = "o-new-follower-0000000000001"
    pushed = await wx.push.event(stranger, "subscribe")
    assert pushed.reply is not None and "欢迎" in pushed.reply and "1：🔧 报修" in pushed.reply
    pushed = await wx.push.event(ZHANG, "subscribe")
    assert pushed.reply is not None and "张伟" in pushed.reply
    pushed = await wx.push.event(ZHANG, "CLICK", "kind:repair")
    assert pushed.reply is not None and "请描述一下需要维修的问题" in pushed.reply
    pushed = await wx.push.event(ZHANG, "CLICK", "/status")
    assert pushed.reply is not None and "处理中的工单" in pushed.reply
    pushed = await wx.push.event(ZHANG, "VIEW", "https://example.com/notices")
    assert pushed.status == 200 and pushed.response.text == "success" and pushed.reply is None
    async with wx.db.session() as s:
        events = [
            m.media.get("event")
            for m in await s.scalars(
                select(Message)
                .where(Message.channel == "wechat", Message.direction == "in")
                .order_by(Message.id)
            )
        ]
    assert events == ["subscribe", "subscribe", "menu", "menu"]  # VIEW is not stored
    pushed = await wx.push.event(stranger, "unsubscribe")
    assert pushed.status == 200 and pushed.reply is None
