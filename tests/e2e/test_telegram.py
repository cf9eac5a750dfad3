"""Telegram end to end: python-telegram-bot against the fake Bot API server, through the
real receiver (long polling or webhook), front desk, outbox and delivery worker.

Owners talk with ``fake.user(…)``; replies are what the fake server received from the
bot. Pacing (1 message a second per chat) is switched off except where it is the
subject, and the worker's clock runs fast so retry back-offs pass in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from backend import desk
from backend.actors import SYSTEM
from backend.composition import Runtime, build_runtime
from backend.db import Database
from backend.messaging import OutboundMessage, enqueue, identity_for
from backend.models import (
    ChannelIdentity,
    Message,
    OutboxItem,
    PlatformState,
    Rating,
    Staff,
    Ticket,
    utcnow,
)
from backend.settings import Settings
from backend.web.app import create_app
from bot.channels.base import RateLimits
from bot.channels.telegram import TelegramSender, telegram_extension
from bot.channels.telegram_receiver import OFFSET_KEY, SECRET_HEADER, TelegramReceiver
from tests.fakes.codes import RecordingCodeSender
from tests.fakes.telegram_api import AppServer, FakeTelegram, FakeUser, Sent

# PTB 22 warns about int ``retry_after`` inside its own RetryAfter constructor (on a 429).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
ZHANG, EMILY, STRANGER = 900001, 900002, 900555
SECRET = "s3cret-webhook_token"
TICKET = re.compile(r"\b([RCE]-\d{8}-\d{3,})\b")
WARP = 50.0  # the worker's clock runs this much faster: a 2 s back-off takes 40 ms
FAST = RateLimits(per_second=1000.0, per_chat_interval=0.0)


class WarpClock:
    """Real time, sped up from the moment it was made (for the worker's back-offs)."""

    def __init__(self) -> None:
        self.start = utcnow()

    def __call__(self) -> datetime:
        return self.start + (utcnow() - self.start) * WARP


@dataclass
class TelegramBot:
    """OwnerDesk with Telegram on, wired as in production, talking to the fake."""

    fake: FakeTelegram
    runtime: Runtime
    receiver: TelegramReceiver
    mode: str
    app_url: str = ""
    seen: dict[int, int] = field(default_factory=dict)  # messages already read, per chat

    @property
    def db(self) -> Database:
        return self.runtime.db

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every pushed update is taken and every due outbox row settled."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            taken = self.fake.webhook is not None or not self.fake.updates
            if taken and not await self.unsent():
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"not settled: {len(self.fake.updates)} updates queued")
            await asyncio.sleep(0.01)

    async def unsent(self) -> int:
        async with self.db.session() as s:
            count = await s.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(
                    OutboxItem.channel == "telegram", OutboxItem.state.in_(["pending", "sending"])
                )
            )
        return int(count or 0)

    async def new(self, chat: int) -> list[Sent]:
        """Messages to ``chat`` since the last look, once everything settled."""
        await self.settle()
        sent = self.fake.to(chat)
        fresh = sent[self.seen.get(chat, 0) :]
        self.seen[chat] = len(sent)
        return fresh

    async def say(self, user: FakeUser, text: str) -> list[Sent]:
        await user.text(text)
        return await self.new(user.id)

    async def tap(self, user: FakeUser, message: Sent, button: str) -> list[Sent]:
        await user.tap(message, button)
        return await self.new(user.id)

    async def stored(self, platform_message_id: str) -> int:
        async with self.db.session() as s:
            count = await s.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.channel == "telegram",
                    Message.platform_message_id == platform_message_id,
                )
            )
        return int(count or 0)


def telegram_settings(
    base: Settings, fake: FakeTelegram, webhook_url: str | None = None
) -> Settings:
    return base.model_copy(
        update={
            "telegram_token": fake.token,
            "telegram_base_url": fake.base_url,
            "telegram_webhook_url": webhook_url,
            "telegram_webhook_secret": SECRET if webhook_url else None,
        }
    )


@contextlib.asynccontextmanager
async def running_bot(
    mode: str,
    fake: FakeTelegram,
    db: Database,
    base: Settings,
    codes: RecordingCodeSender,
    *,
    fast: bool = True,
) -> AsyncIterator[TelegramBot]:
    """Build the runtime with Telegram on, start receiving (polling: the extension; webhook:
    the whole FastAPI app under uvicorn) and run the delivery worker."""
    server = AppServer() if mode == "webhook" else None
    settings = telegram_settings(base, fake, f"{server.url}/telegram/webhook" if server else None)
    runtime = build_runtime(settings, db, codes)
    sender = runtime.senders["telegram"]
    assert isinstance(sender, TelegramSender)
    if fast:
        sender.limits = FAST
    runtime.worker.clock = WarpClock()
    extension = telegram_extension(runtime)
    receiver: TelegramReceiver = extension.extra["receiver"]
    stop = asyncio.Event()
    worker = asyncio.create_task(runtime.worker.run(stop))
    if server is not None:
        await server.start(create_app(settings, db, [extension]))
    else:
        assert extension.on_start is not None
        await extension.on_start()
    try:
        await asyncio.wait_for(_until(lambda: receiver.ready), 5)
        yield TelegramBot(fake, runtime, receiver, mode, server.url if server else "")
    finally:
        if server is not None:
            await server.stop()
        else:
            assert extension.on_stop is not None
            await extension.on_stop()
        stop.set()
        await asyncio.wait_for(worker, 5)
        await sender.aclose()


async def _until(predicate: Any) -> None:
    while not predicate():
        await asyncio.sleep(0.005)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture(params=["polling"])
async def bot(
    request: pytest.FixtureRequest,
    fake: FakeTelegram,
    demo: Database,
    test_settings: Settings,
    codes: RecordingCodeSender,
) -> AsyncIterator[TelegramBot]:
    async with running_bot(request.param, fake, demo, test_settings, codes) as running:
        yield running


@dataclass(frozen=True)
class Owner:
    user_id: int
    name: str
    lang: str  # Telegram's language_code
    repair: str
    repair_card: str
    gas: str
    safety: str
    complaint: str
    enquiry: str
    enquiry_key: str  # the KB entry that answers it for the owner's estate
    handoff: str
    handed_off: str
    staff: str
    staff_says: str
    technician: str


ZH = Owner(
    ZHANG,
    "张伟",
    "zh-hans",
    repair="厨房下水道堵了，明天上午来修",
    repair_card="维修卡片",
    gas="燃气味很重",
    safety="燃气总阀",
    complaint="楼上装修噪音太大了，每天晚上十点还在施工，我要投诉",
    enquiry="物业费怎么交",
    enquiry_key="property-fee",
    handoff="转人工",
    handed_off="人工客服",
    staff="agent.a",
    staff_says="张先生您好，我是客户大使李娜，马上为您安排。",
    technician="tech.a",
)
EN = Owner(
    EMILY,
    "Emily",
    "en",
    repair="The kitchen sink drain is blocked, please come tomorrow morning",
    repair_card="repair card",
    gas="I smell gas in the kitchen",
    safety="gas valve",
    complaint="I want to complain about the noise from the renovation upstairs every night",
    enquiry="How do I pay the property fee?",
    enquiry_key="property-fee-b",  # Lakeside Court restates the fees in S$
    handoff="talk to a person",
    handed_off="colleague",
    staff="agent.b",
    staff_says="Hello Emily, this is Sarah from the service centre. I'm on it.",
    technician="tech.b",
)


def texts(messages: list[Sent]) -> str:
    return "\n".join(m.text for m in messages)


async def ticket_by_number(db: Database, number: str) -> Ticket:
    async with db.session() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket is not None, number
    return ticket


async def report_repair(bot: TelegramBot, user: FakeUser, owner: Owner) -> Ticket:
    [summary] = await bot.say(user, owner.repair)
    if summary.buttons[0][1] == "same:add":  # the same fault is still open: a new one anyway
        assert summary.buttons[1][1] == "same:new"
        [summary] = await bot.tap(user, summary, "same:new")
    assert owner.repair in summary.text
    assert ("✅" in summary.buttons[0][0]) and summary.buttons[0][1] == "repair:submit"
    [card] = await bot.tap(user, summary, "repair:submit")
    assert owner.repair_card in card.text.lower() or owner.repair_card in card.text
    match = TICKET.search(card.text)
    assert match and match.group(1).startswith("R-")
    ticket = await ticket_by_number(bot.db, match.group(1))
    assert ticket.channel == "telegram" and ticket.kind == "repair" and ticket.location == "kitchen"
    return ticket


# --- conversations, for both owners ------------------------------------------------------
# One journey per owner (the demo estate takes a second to load, so steps share it); each
# owner in one receiving mode, so both modes see both languages.


async def rating_questions(bot: TelegramBot, owner: Owner, *tickets: Ticket) -> dict[int, Sent]:
    """Staff take ``tickets`` through to the callback; the rating questions that arrive."""
    for ticket in tickets:
        async with bot.db.session() as s:
            fresh = await s.get(Ticket, ticket.id)
            tech = await s.scalar(select(Staff).where(Staff.username == owner.technician))
            assert fresh is not None and tech is not None
            await desk.move(s, fresh, "dispatched", SYSTEM, assignee_id=tech.id)
            for state in ("on_site", "done", "callback"):
                await desk.move(s, fresh, state, SYSTEM)
    bot.runtime.worker.wake()
    return {
        int(m.buttons[0][1].split(":")[1]): m
        for m in await bot.new(owner.user_id)
        if m.buttons and m.buttons[0][1].startswith("rate:")
    }


@pytest.mark.parametrize(
    ("owner", "bot"),
    [(ZH, "polling"), (EN, "webhook")],
    indirect=["bot"],
    ids=["zh-polling", "en-webhook"],
)
async def test_owner_journey(bot: TelegramBot, owner: Owner) -> None:
    user = bot.fake.user(owner.user_id, owner.name, owner.lang)

    # A repair, from the first message to the repair card.
    good = await report_repair(bot, user, owner)
    assert bot.fake.answered, "the tapped button stopped spinning"

    # Urgent: safety advice first, and an urgent ticket.
    urgent = await bot.say(user, owner.gas)
    assert owner.safety in urgent[0].text, "safety advice comes first"
    match = TICKET.search(texts(urgent))
    assert match, texts(urgent)
    assert (await ticket_by_number(bot.db, match.group(1))).urgent

    # A complaint gets its number (after the optional details, skipped).
    replies = await bot.say(user, owner.complaint)
    if not TICKET.search(texts(replies)):
        replies = await bot.tap(user, replies[-1], "complaint:skip")
    match = TICKET.search(texts(replies))
    assert match and match.group(1).startswith("C-"), texts(replies)
    assert (await ticket_by_number(bot.db, match.group(1))).kind == "complaint"

    # An enquiry answered from the knowledge base, with did-this-help buttons.
    [answer] = await bot.say(user, owner.enquiry)
    key = owner.enquiry_key
    assert [v for _, v in answer.buttons] == [f"kb:yes:{key}", f"kb:no:{key}"]
    assert len(answer.rows) == 1 or all(len(r) == 1 for r in answer.rows)
    [glad] = await bot.tap(user, answer, "kb:yes")
    assert glad.text and not TICKET.search(glad.text)

    # Rating after the callback: a good one closes, a low one reopens.
    bad = await report_repair(bot, user, owner)
    questions = await rating_questions(bot, owner, good, bad)
    assert set(questions) == {good.id, bad.id}
    assert len(questions[good.id].buttons) == 5 and len(questions[good.id].rows) >= 2
    [thanks] = await bot.tap(user, questions[good.id], f"rate:{good.id}:5")
    assert [v for _, v in thanks.buttons] == ["rating:skip"]
    await bot.tap(user, thanks, "rating:skip")
    await bot.tap(user, questions[bad.id], f"rate:{bad.id}:1")
    async with bot.db.session() as s:
        ratings = {r.ticket_id: (r.score, r.channel) for r in await s.scalars(select(Rating))}
        good_now, bad_now = await s.get(Ticket, good.id), await s.get(Ticket, bad.id)
    assert ratings == {good.id: (5, "telegram"), bad.id: (1, "telegram")}
    assert good_now is not None and good_now.state == "closed"
    assert bad_now is not None and bad_now.state == "received" and bad_now.reopen_count == 1

    # Handoff, then a colleague's reply reaches the Telegram chat.
    [handed] = await bot.say(user, owner.handoff)
    assert owner.handed_off in handed.text and [v for _, v in handed.buttons] == ["cmd:cancel"]
    async with bot.db.session() as s:
        staff = await s.scalar(select(Staff).where(Staff.username == owner.staff))
        identity = await s.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "telegram",
                ChannelIdentity.external_id == str(owner.user_id),
            )
        )
        assert staff is not None and identity is not None
        await desk.take_over(s, identity.id, staff)
        await desk.reply(s, staff, owner.staff_says, identity=identity)
    bot.runtime.worker.wake()
    assert [m.text for m in await bot.new(owner.user_id)] == [owner.staff_says]
    assert await bot.say(user, "OK 谢谢") == []  # a colleague holds it: the bot keeps quiet


# --- who may see what, and what the bot cannot read ---------------------------------------


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
async def test_strangers_media_photos_and_start(bot: TelegramBot) -> None:
    # An unknown Telegram user asking after "my repair" is asked to verify, not shown data.
    stranger = bot.fake.user(STRANGER, "Lu", "zh-hans")
    replies = await bot.say(stranger, "我的报修怎么样了")
    assert "验证" in texts(replies) and not TICKET.search(texts(replies))
    assert ("阳光花园", "estate:DEMO-A") in replies[-1].buttons

    # Voice, sticker, location: "please type, or send a photo".
    zhang = bot.fake.user(ZHANG, "张伟")
    await zhang.voice()
    await zhang.sticker()
    await zhang.location()
    unreadable = await bot.new(ZHANG)
    assert len(unreadable) == 3
    assert all("照片" in m.text and "文字" in m.text for m in unreadable)

    # /start: the welcome, its five buttons in rows of at most three.
    [welcome] = await bot.say(zhang, "/start")
    assert "张伟" in welcome.text and len(welcome.buttons) == 5
    assert 2 <= len(welcome.rows) <= 3 and all(len(row) <= 3 for row in welcome.rows)

    # A photo starts a repair and ends up on the ticket (the largest size's file id).
    emily = bot.fake.user(EMILY, "Emily", "en")
    await emily.photo("leak-photo")
    received, ask = await bot.new(EMILY)
    assert "photo" in received.text.lower() and ask.text
    replies = await bot.say(emily, "The bathroom ceiling is leaking water")
    while replies and not any(v == "repair:submit" for m in replies for _, v in m.buttons):
        replies = await bot.tap(emily, replies[-1], replies[-1].buttons[0][1])  # first choice
    [card] = await bot.tap(emily, replies[-1], "repair:submit")
    match = TICKET.search(card.text)
    assert match, card.text
    assert (await ticket_by_number(bot.db, match.group(1))).attachments == ["leak-photo"]


# --- webhook: who may call it, and what it accepts -------------------------------------


async def telegram_messages(db: Database) -> int:
    async with db.session() as s:
        count = await s.scalar(
            select(func.count()).select_from(Message).where(Message.channel == "telegram")
        )
    return int(count or 0)


@pytest.mark.parametrize("bot", ["webhook"], indirect=True)
async def test_webhook_checks_the_secret_and_the_body_and_drops_repeats(bot: TelegramBot) -> None:
    assert bot.fake.webhook is not None and bot.fake.webhook["secret_token"] == SECRET
    update = bot.fake.user(ZHANG).message_update(text="燃气味很重")
    async with httpx.AsyncClient(base_url=bot.app_url) as client:
        missing = await client.post("/telegram/webhook", json=update)
        wrong = await client.post(
            "/telegram/webhook", json=update, headers={SECRET_HEADER: "guess"}
        )
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
        assert await telegram_messages(bot.db) == 0, "nothing stored without the secret"

        headers = {SECRET_HEADER: SECRET, "content-type": "application/json"}
        for body in (
            b"{not json",
            b"[1, 2]",
            b'{"hello": "world"}',
            b'{"update_id": 5, "message": 7}',
        ):
            response = await client.post("/telegram/webhook", content=body, headers=headers)
            assert response.status_code == 400, body
            assert response.json()["error"]["code"] == "bad_request"
    assert await telegram_messages(bot.db) == 0

    # Telegram delivering the same update twice: stored once, answered once.
    assert await bot.fake.push(update) == 200
    first = await bot.new(ZHANG)
    assert await bot.fake.push(update) == 200
    assert await bot.new(ZHANG) == [] and len(first) == 2
    assert await bot.stored(f"{ZHANG}:{update['message']['message_id']}") == 1
    assert bot.receiver.counts["duplicate"] == 1
    health = bot.receiver.health()
    assert health["mode"] == "webhook" and health["ready"] and health["last_update_at"]


# --- polling keeps its place in the database -----------------------------------------------


async def test_polling_offset_survives_a_restart_and_repeats_are_dropped(
    fake: FakeTelegram, demo: Database, test_settings: Settings, codes: RecordingCodeSender
) -> None:
    user = fake.user(ZHANG, "张伟")
    async with running_bot("polling", fake, demo, test_settings, codes) as bot:
        first = await user.text("你好")
        await bot.new(ZHANG)
        await fake.wait_for(lambda: fake.confirmed_offset > first["update_id"])
        async with demo.session() as s:
            row = await s.get(PlatformState, OFFSET_KEY)
            assert row is not None and int(row.value) == first["update_id"] + 1
        await fake.push(first)  # delivered again (say, our ack was lost): dropped
        assert await bot.new(ZHANG) == []
        assert bot.receiver.counts == {"stored": 1, "duplicate": 1, "ignored": 0, "failed": 0}
        health = bot.receiver.health()
        assert health["mode"] == "polling" and health["offset"] and health["last_update_at"]

    second = await user.text("燃气味很重")  # arrives while the bot is down
    async with running_bot("polling", fake, demo, test_settings, codes) as bot:
        assert bot.receiver.offset is not None and bot.receiver.offset <= second["update_id"]
        replies = await bot.new(ZHANG)
        assert any(TICKET.search(m.text) for m in replies)
        assert bot.receiver.counts["stored"] == 1 and bot.receiver.counts["duplicate"] == 0
    polls = [int(c.params.get("offset") or 0) for c in fake.called("getUpdates")]
    assert 0 not in polls[1:], "after the very first poll, always from the stored offset"


# --- delivery: platform trouble ------------------------------------------------------------


async def queue_staff_lines(
    db: Database, chats: dict[int, int], prefix: str = "msg"
) -> dict[int, list[str]]:
    """``chats``: chat id → how many lines to queue for it (a Telegram identity each)."""
    lines: dict[int, list[str]] = {}
    async with db.session() as s:
        for chat, count in chats.items():
            identity = await identity_for(s, "telegram", str(chat))
            await s.flush()
            lines[chat] = [f"{prefix} {chat} #{i}" for i in range(count)]
            for i, line in enumerate(lines[chat]):
                await enqueue(
                    s, key=f"test:{chat}:{i}", identity=identity, message=OutboundMessage(line)
                )
    return lines


async def outbox_states(db: Database, chat: int) -> list[str]:
    async with db.session() as s:
        rows = await s.scalars(
            select(OutboxItem.state).where(OutboxItem.chat_id == str(chat)).order_by(OutboxItem.id)
        )
        return list(rows)


async def test_429_and_502_still_deliver_everything_in_order_and_blocked_fails_alone(
    fake: FakeTelegram, db: Database, test_settings: Settings, codes: RecordingCodeSender
) -> None:
    async with running_bot("polling", fake, db, test_settings, codes) as bot:
        await _deliver_through_trouble(bot)


async def _deliver_through_trouble(bot: TelegramBot) -> None:
    bot.fake.fail(2, 429, retry_after=1)
    bot.fake.fail(3, 502)
    bot.fake.block(STRANGER)
    lines = await queue_staff_lines(bot.db, {ZHANG: 4, EMILY: 4, STRANGER: 2})
    bot.runtime.worker.wake()
    await bot.settle(timeout=20)
    for chat in (ZHANG, EMILY):
        assert [m.text for m in bot.fake.to(chat)] == lines[chat]
        assert await outbox_states(bot.db, chat) == ["sent"] * 4
    assert await outbox_states(bot.db, STRANGER) == ["failed", "failed"]
    statuses = [c.status for c in bot.fake.called("sendMessage")]
    assert statuses.count(429) == 2 and statuses.count(502) == 3 and statuses.count(403) == 2
    async with bot.db.session() as s:
        errors = list(
            await s.scalars(
                select(OutboxItem.last_error).where(OutboxItem.chat_id == str(STRANGER))
            )
        )
    assert all("blocked" in e for e in errors)


async def test_paced_delivery_keeps_telegrams_limits(
    fake: FakeTelegram, db: Database, test_settings: Settings, codes: RecordingCodeSender
) -> None:
    """With the real limits (1 a second to a chat) the enforcing fake never says 429."""
    fake.enforce_limits(per_second=30, per_chat_interval=1.0)
    async with running_bot("polling", fake, db, test_settings, codes, fast=False) as bot:
        lines = await queue_staff_lines(bot.db, {ZHANG: 3, 900100: 2, 900101: 1})
        bot.runtime.worker.wake()
        await bot.settle(timeout=15)
        for chat, expected in lines.items():
            assert [m.text for m in fake.to(chat)] == expected
        gaps = [b.at - a.at for a, b in zip(fake.to(ZHANG), fake.to(ZHANG)[1:], strict=False)]
        assert min(gaps) >= 1.0
    assert fake.violations == 0


async def test_sender_maps_telegram_errors(fake: FakeTelegram, test_settings: Settings) -> None:
    from backend.outbox import Delivery

    sender = TelegramSender(telegram_settings(test_settings, fake))

    def delivery(chat: int, text: str = "hi") -> Delivery:
        message = OutboundMessage(text)
        return Delivery(1, "k", "telegram", str(chat), message, 1, None, message.to_payload())

    try:
        assert (await sender.send(delivery(ZHANG))).ok
        fake.fail(1, 429, retry_after=3)
        limited = await sender.send(delivery(ZHANG))
        assert limited.throttled and limited.retry_after == 3.0
        fake.fail(1, 502)
        retry = await sender.send(delivery(ZHANG))
        assert not retry.ok and not retry.permanent and not retry.throttled
        fake.block(EMILY)
        assert (await sender.send(delivery(EMILY))).permanent
        fake.forget(STRANGER)
        gone = await sender.send(delivery(STRANGER))
        assert gone.permanent and "chat not found" in gone.error.lower()
        photo = OutboundMessage("看看这个", photo="file-1")
        assert (await sender.send(Delivery(2, "p", "telegram", str(ZHANG), photo, 1, None, {}))).ok
        assert fake.sent[-1].method == "sendPhoto" and fake.sent[-1].text == "看看这个"
    finally:
        await sender.aclose()
    assert len(fake.called("getMe")) == 1  # initialised once, lazily
