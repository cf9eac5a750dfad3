"""Repair: ask only what the first message left out, confirm, open, repair card."""

from __future__ import annotations

from sqlalchemy import select

from backend.composition import Runtime
from backend.messaging import Media
from backend.models import TicketEvent
from tests.dialogs.helpers import tickets_of
from tests.fakes.chat import Chat


async def test_one_message_with_everything_goes_straight_to_the_summary(
    zhang: Chat, runtime: Runtime
) -> None:
    await zhang.transcript(
        [
            ("厨房下水道堵了，明天上午来修", r"请确认报修信息.*厨房.*明天上午.*13800138000"),
            (
                "tap:repair:submit",
                r"报修已受理.*工单号：R-\d{8}-\d{4}.*维修监理：陈工.*客户大使：李娜.*前派单",
            ),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert (ticket.kind, ticket.state, ticket.category, ticket.location) == (
        "repair",
        "received",
        "plumbing",
        "kitchen",
    )
    assert ticket.preferred_time == "明天上午" and ticket.contact_phone == "13800138000"
    assert ticket.channel == "webchat" and ticket.language == "zh"


async def test_english_owner_is_asked_only_what_is_missing(emily: Chat, runtime: Runtime) -> None:
    await emily.transcript(
        [
            (
                "My bedroom window won't close properly",
                r"When would you like the technician to come",
            ),
            ("tap:time:tomorrow_am", r"Please check your repair report.*Bedroom.*Tomorrow morning"),
            (
                "tap:repair:submit",
                r"Repair received.*Ticket: R-\d{8}-\d{4}.*Supervisor: David Tan.*Customer ambassador: Sarah Lim",
            ),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session-b")
    assert ticket.category == "door_window" and ticket.language == "en"


async def test_a_bare_request_asks_what_where_and_when(zhang: Chat, runtime: Runtime) -> None:
    await zhang.transcript(
        [
            ("我要报修", r"请描述一下需要维修的问题"),
            ("灯不亮了", r"问题在家里的哪个位置"),
            ("tap:loc:balcony", r"您希望师傅什么时候上门"),
            ("下午三点以后", r"请确认报修信息.*灯不亮了.*阳台.*下午三点以后"),
            ("确认", r"报修已受理"),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.location == "balcony" and ticket.preferred_time == "下午三点以后"


async def test_changing_an_answer_before_submitting(emily: Chat, runtime: Runtime) -> None:
    await emily.transcript(
        [
            (
                "The kitchen tap is dripping, can someone come tomorrow afternoon?",
                r"Please check your repair report",
            ),
            ("tap:repair:edit", r"What would you like to change"),
            ("tap:edit:where", r"Where in your home"),
            ("tap:loc:bathroom", r"Please check your repair report.*Bathroom"),
            ("tap:repair:edit", r"What would you like to change"),
            ("tap:edit:phone", r"contact phone number"),
            ("12345", r"doesn't look right"),
            ("+65 9876 5432", r"Phone: \+6598765432"),
            ("tap:repair:submit", r"Repair received"),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session-b")
    assert ticket.location == "bathroom" and ticket.contact_phone == "+6598765432"


async def test_photos_are_attached_to_the_ticket(zhang: Chat, runtime: Runtime) -> None:
    reply = zhang.text(await zhang.send(media=[Media("photo", "photo-1")]))
    assert "照片已收到" in reply and "请描述一下需要维修的问题" in reply
    await zhang.send(media=[Media("photo", "photo-2")])
    await zhang.transcript(
        [
            ("卫生间墙面有裂缝", r"您希望师傅什么时候上门"),
            ("tap:time:asap", r"照片：2 张"),
            ("tap:repair:submit", r"报修已受理"),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.attachments == ["photo-1", "photo-2"] and ticket.category == "crack"


async def test_cancel_leaves_the_dialog_and_opens_nothing(zhang: Chat, runtime: Runtime) -> None:
    await zhang.transcript(
        [
            ("主卧空调不制冷了", r"什么时候上门"),
            ("取消", r"已取消"),
            ("取消", r"没有进行中的操作"),
        ]
    )
    assert await tickets_of(runtime.db, "demo-session") == []


async def test_the_same_fault_again_offers_to_add_to_the_open_repair(
    zhang: Chat, emily: Chat, runtime: Runtime
) -> None:
    await zhang.transcript(
        [
            ("厨房水槽下面漏水了", r"什么时候上门"),
            ("tap:time:asap", r"请确认报修信息"),
            ("tap:repair:submit", r"报修已受理"),
        ]
    )
    [first] = await tickets_of(runtime.db, "demo-session")
    reply = await zhang.say("我家厨房水槽下面又在漏水，一直在滴")
    assert f"您的报修 {first.number}（厨房水槽下面漏水了）还在处理中" in reply
    assert zhang.buttons() == ["same:add", "same:new"]
    reply = await zhang.tap("same:add")
    assert f"已补充到工单 {first.number}" in reply and "已受理，待派单" in reply
    assert len(await tickets_of(runtime.db, "demo-session")) == 1
    async with runtime.db.session() as s:
        event = await s.scalar(
            select(TicketEvent).where(
                TicketEvent.ticket_id == first.id, TicketEvent.action == "owner_added"
            )
        )
        assert event is not None and "一直在滴" in event.note
    # "No, a new one", or the next answer typed straight away: a second repair.
    await zhang.transcript(
        [
            ("厨房水龙头也在漏水，是另一处", r"还在处理中"),
            ("明天上午", r"请确认报修信息.*明天上午"),
            ("tap:repair:submit", r"报修已受理"),
        ]
    )
    assert len(await tickets_of(runtime.db, "demo-session")) == 2
    await emily.transcript(
        [
            ("The kitchen sink is leaking", r"When would you like"),
            ("tap:time:asap", r"Please check"),
            ("tap:repair:submit", r"Repair received"),
            ("Water is leaking under my kitchen sink again", r"still in progress.*same problem"),
            ("tap:same:new", r"When would you like"),
        ]
    )


async def test_a_time_given_for_where_is_kept_and_old_buttons_ask_again(emily: Chat) -> None:
    await emily.transcript(
        [
            ("hi, my aircon is not cold anymore, can someone take a look", r"Where in your home"),
            ("tomorrow after 2pm", r"Where in your home"),
            ("tap:loc:living_room", r"Please check.*Living room.*tomorrow after 2pm"),
        ]
    )
    # A button of an earlier question, tapped late, is not taken for this answer.
    await emily.send("cancel")
    await emily.say("The bedroom light doesn't work")
    assert "When would you like" in emily.text(await emily.send("Change", value="repair:edit"))
    assert "Where in your home" not in emily.text(await emily.send("x", value="loc:kitchen"))
    reply = emily.text(await emily.send("As soon as possible", value="time:asap"))
    assert "Please check" in reply and "Bedroom" in reply and "As soon as possible" in reply


async def test_a_common_area_repair_asks_no_visit_time(
    zhang: Chat, emily: Chat, runtime: Runtime
) -> None:
    await zhang.transcript(
        [
            ("楼下车库有积水", r"请确认报修信息.*位置：车库.*上门时间：无需上门（公共区域）"),
            ("tap:repair:submit", r"报修已受理"),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.location == "garage" and ticket.preferred_time == ""
    await emily.transcript(
        [
            ("The lights in the clubhouse gym are broken", r"Visit: not needed \(common area\)"),
        ]
    )


async def test_a_place_or_a_time_for_what_is_kept_and_what_asked_again(
    zhang: Chat, runtime: Runtime
) -> None:
    await zhang.transcript(
        [
            ("我要报修", r"请描述一下需要维修的问题"),
            ("客厅", r"请描述一下需要维修的问题"),
            ("明天上午", r"请描述一下需要维修的问题"),
            ("空调不制冷", r"请确认报修信息.*问题：空调不制冷.*位置：客厅.*上门时间：明天上午"),
            ("tap:repair:submit", r"报修已受理"),
        ]
    )
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.summary == "空调不制冷" and ticket.location == "living_room"


async def test_corrections_typed_at_the_summary_change_their_line(zhang: Chat, emily: Chat) -> None:
    await zhang.transcript(
        [
            ("厨房水龙头关不紧，明天上午来修", r"请确认报修信息"),
            (
                "电话改成13912345678",
                r"问题：厨房水龙头关不紧，明天上午来修\n.*联系电话：13912345678",
            ),
            ("明天下午吧", r"上门时间：明天下午\n"),
            ("水龙头是去年换的", r"问题：厨房水龙头关不紧，明天上午来修 水龙头是去年换的"),
        ]
    )
    await emily.transcript(
        [
            ("I want to report a repair", r"describe what needs fixing"),
            ("the bathroom", r"describe what needs fixing"),
            ("the toilet keeps running", r"When would you like"),
            ("after 6pm today", r"Problem: the toilet keeps running.*Where: Bathroom"),
        ]
    )


async def test_thanks_is_not_a_visit_time(zhang: Chat) -> None:
    await zhang.transcript(
        [
            ("主卧空调不制冷了", r"什么时候上门"),
            ("谢谢！", r"什么时候上门"),
            ("下班后再来吧", r"上门时间：下班后再来吧"),
        ]
    )
