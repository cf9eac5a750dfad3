"""Rules every conversation shares: commands, language, media, interruptions, no loss."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.composition import Runtime
from backend.messaging import InboundMessage, Media
from backend.models import ChannelIdentity, Message, OutboxItem, Owner
from backend.vocabulary import CareType
from tests.dialogs.helpers import conversation_of, tickets_of
from tests.fakes.chat import Chat, Clock


async def test_start_welcomes_owners_by_name_and_guests(zhang: Chat, stranger: Chat) -> None:
    assert "张伟您好" in await zhang.say("/start")
    assert "验证您的业主身份" in await stranger.say("/start")


async def test_greetings_thanks_and_praise(zhang: Chat, emily: Chat) -> None:
    assert "有什么可以帮您" in await zhang.say("你好")
    assert "不客气" in await zhang.say("谢谢你们")
    assert (
        "thank you so much"
        in (await emily.say("The technician Ahmad did a great job, well done!")).lower()
    )


async def test_language_switch_is_remembered(zhang: Chat, runtime: Runtime) -> None:
    assert "reply in English" in await zhang.say("English")
    reply = await zhang.send("", value="/status")  # a button press: no words to go by
    assert "open ticket" in Chat.text(reply)
    async with runtime.db.session() as s:
        owner = await s.scalar(select(Owner).where(Owner.phone == "13800138000"))
        assert owner is not None and owner.language == "en"
    assert "中文" in await zhang.say("中文")


async def test_the_language_of_the_message_wins(emily: Chat) -> None:
    assert "有什么可以帮您" in await emily.say("你好，在吗")
    assert "How can I help" in await emily.say("hello there")


async def test_media_the_bot_cannot_use_gets_a_polite_answer(zhang: Chat, emily: Chat) -> None:
    for kind in ("voice", "sticker", "location", "file"):
        assert "请用文字描述，或直接发送照片" in Chat.text(
            await zhang.send(media=[Media(kind, "x")])
        )
    assert "type your message or send a photo" in Chat.text(
        await emily.send(media=[Media("voice", "v")])
    )


async def test_empty_and_very_long_messages(zhang: Chat, runtime: Runtime) -> None:
    assert "没有收到文字内容" in Chat.text(await zhang.send(""))
    letter = "尊敬的物业：" + "楼上漏水导致我家天花板发霉。" * 800  # ~11,000 characters
    reply = Chat.text(await zhang.send(letter))
    assert reply  # answered, not crashed
    async with runtime.db.session() as s:
        stored = await s.scalar(
            select(Message)
            .where(Message.direction == "in")
            .order_by(func.length(Message.text).desc())
            .limit(1)
        )
        assert stored is not None and len(stored.text) == 4000
        assert stored.media["truncated_from"] == len(letter)


async def test_unclear_messages_get_a_clarifying_question(zhang: Chat, runtime: Runtime) -> None:
    reply = await zhang.say("那个东西又那样了")
    assert "报修、投诉，还是咨询" in reply
    # The original words are kept: the repair flow reads them, not the button label.
    assert "问题在家里的哪个位置" in await zhang.tap("kind:repair")


async def test_changing_topic_mid_repair_parks_it(zhang: Chat, runtime: Runtime) -> None:
    await zhang.transcript(
        [
            ("客厅的灯坏了", r"什么时候上门"),
            ("对了，请问物业费怎么交？", r"2\.80 元/平方米"),
            ("继续", r"您希望师傅什么时候上门"),
            ("tap:time:today_pm", r"请确认报修信息.*客厅"),
            ("tap:repair:submit", r"报修已受理"),
        ]
    )
    assert len(await tickets_of(runtime.db, "demo-session")) == 1


async def test_another_fault_instead_of_a_visit_time_is_a_second_repair(
    zhang: Chat, emily: Chat, runtime: Runtime
) -> None:
    await zhang.transcript(
        [
            ("厨房下水道堵了", r"什么时候上门"),
            ("卫生间的灯也坏了", r"报修登记先为您保留.*什么时候上门"),
            ("tap:time:asap", r"请确认报修信息.*卫生间的灯也坏了"),
            ("tap:repair:submit", r"报修已受理"),
            ("继续", r"您希望师傅什么时候上门"),
            ("下班后再来吧", r"请确认报修信息.*厨房下水道堵了.*下班后"),
            ("tap:repair:submit", r"报修已受理"),
        ]
    )
    assert len(await tickets_of(runtime.db, "demo-session")) == 2
    await emily.transcript(
        [
            ("The kitchen sink is blocked", r"When would you like"),
            ("any time after 6pm", r"Please check.*any time after 6pm"),
        ]
    )


async def test_coming_back_the_next_day(zhang: Chat, runtime: Runtime, clock: Clock) -> None:
    await zhang.say("阳台推拉门卡住了")
    clock.advance(days=1)
    reply = await zhang.say("你好")
    assert "有什么可以帮您" in reply and "未完成的报修登记" in reply
    await zhang.transcript(
        [
            ("tap:cmd:continue", r"您希望师傅什么时候上门"),
            ("tap:time:asap", r"阳台推拉门卡住了"),
        ]
    )


async def test_a_platform_retry_is_answered_once(zhang: Chat, runtime: Runtime) -> None:
    first = await zhang.send("卫生间漏水", message_id="retry-1")
    again = await zhang.send("卫生间漏水", message_id="retry-1")
    assert first and again == []
    async with runtime.db.session() as s:
        count = await s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.platform_message_id == "retry-1")
        )
    assert count == 1


async def test_a_message_stored_before_a_crash_is_answered_once_after(
    runtime: Runtime, clock: Clock
) -> None:
    inbound = InboundMessage(
        "webchat", "demo-session", "demo-session", "crash-1", text="你好", received_at=clock()
    )
    message_id = await runtime.desk.receive(inbound)  # stored, then the process "dies"
    assert message_id is not None
    clock.advance(seconds=30)
    assert await runtime.desk.recover() == 1
    assert await runtime.desk.recover() == 0
    async with runtime.db.session() as s:
        replies = await s.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.idempotency_key.like(f"reply:{message_id}:%"))
        )
        identity = await s.scalar(
            select(ChannelIdentity).where(ChannelIdentity.external_id == "demo-session")
        )
    assert replies == 1 and identity is not None


async def test_state_survives_between_turns(zhang: Chat, runtime: Runtime) -> None:
    await zhang.say("厨房水龙头一直滴水")
    conversation = await conversation_of(runtime.db, "demo-session")
    assert (
        conversation is not None and conversation.flow == "repair" and conversation.step == "when"
    )
    assert conversation.data["draft"]["location"] == "kitchen"


async def test_one_tap_unsubscribe_from_a_care_message(zhang: Chat, runtime: Runtime) -> None:
    reply = Chat.text(await zhang.send("🔕", value="unsubscribe:birthday"))
    assert "不再收到“生日祝福”" in reply
    async with runtime.db.session() as s:
        owner = await s.scalar(select(Owner).where(Owner.phone == "13800138000"))
        assert owner is not None and owner.care_opt_outs == ["birthday"]


async def test_unsubscribe_in_words_offers_each_kind_and_all(
    emily: Chat, stranger: Chat, runtime: Runtime
) -> None:
    """A care message that reached WeChat as a template has no button: words work too."""
    menu = await emily.send("unsubscribe")
    assert "Which care messages" in Chat.text(menu)
    values = [b.value for b in menu[-1].buttons]
    assert values == [f"unsubscribe:{k.value}" for k in CareType] + ["unsubscribe:all"]
    assert "won't receive any care messages" in Chat.text(
        await emily.send("All care messages", value="unsubscribe:all")
    )
    async with runtime.db.session() as s:
        owner = await s.scalar(select(Owner).where(Owner.name == "Emily Chen"))
        assert owner is not None and set(owner.care_opt_outs) == {k.value for k in CareType}
    assert "already stopped all care messages" in await emily.say("Unsubscribe")
    assert "没有找到可以退订" in await stranger.say("退订")  # no owner, no care messages


async def test_a_button_of_a_question_already_dealt_with(zhang: Chat, emily: Chat) -> None:
    await zhang.say("投诉保安态度差")
    await zhang.say("昨天晚上，北门")  # the details: the complaint is recorded
    reply = zhang.text(await zhang.send("跳过", value="complaint:skip"))
    assert "已经处理过了" in reply and "kind:repair" in zhang.buttons()
    reply = emily.text(await emily.send("As soon as possible", value="time:asap"))
    assert "already dealt with" in reply
