"""WeChat delivery: the passive reply, customer-service messages inside the 48-hour
window, template messages outside it, error codes, the shared access token, and
``ownerdesk wechat menu push`` — all through the real wechatpy client and the fake API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from backend import desk, tickets
from backend.actors import BOT
from backend.db import Database
from backend.i18n import t
from backend.messaging import Button, OutboundMessage, enqueue
from backend.models import (
    ChannelIdentity,
    Company,
    Message,
    OutboxItem,
    Owner,
    PlatformState,
    Staff,
    utcnow,
)
from backend.outbox import Delivery
from backend.settings import Settings
from bot.channels.wechat import WeChatSender, load_menu, wechat_cli
from bot.channels.wechat_api import TOKEN_KEY
from bot.channels.wechat_text import for_template
from tests.fakes.codes import RecordingCodeSender
from tests.fakes.wechat_api import (
    TOKEN,
    FakeWeChat,
    WeChatHarness,
    fake_wechat_server,
    wechat_harness,
    wechat_settings,
)

ZHANG = "demo-openid-0001"
OPENID = "o-sender-test-000000000000001"
TEMPLATES = {
    "default": "tpl-default",
    "repair_card": {
        "id": "tpl-card",
        "fields": {
            "first": "text",
            "keyword1": "number",
            "keyword2": "summary",
            "remark": "感谢您的支持",
        },
    },
}


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
    async with wechat_harness(wechat_settings(test_settings, fake), demo, fake, codes) as h:
        yield h


@pytest.fixture
def sender(db: Database, test_settings: Settings, fake: FakeWeChat) -> WeChatSender:
    """A sender over an empty database, for error mapping and the token."""
    return WeChatSender(wechat_settings(test_settings, fake), db)


def delivery(
    text: str = "您好",
    *,
    to: str = OPENID,
    last_inbound_hours: float | None = 1.0,
    buttons: tuple[Button, ...] = (),
) -> Delivery:
    message = OutboundMessage(text, buttons)
    last = (
        utcnow() - timedelta(hours=last_inbound_hours) if last_inbound_hours is not None else None
    )
    return Delivery(0, "test", "wechat", to, message, 1, last, message.to_payload())


async def outbox_to(db: Database, openid: str) -> list[OutboxItem]:
    async with db.session() as s:
        rows = await s.scalars(
            select(OutboxItem).where(OutboxItem.chat_id == openid).order_by(OutboxItem.id)
        )
        return list(rows)


async def use_templates(db: Database) -> None:
    async with db.session() as s:
        company = await s.scalar(select(Company).where(Company.code == "DEMO"))
        assert company is not None
        company.settings = {**company.settings, "wechat_templates": TEMPLATES}


async def last_wrote(db: Database, openid: str, hours_ago: float) -> ChannelIdentity:
    async with db.session() as s:
        identity = await s.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "wechat", ChannelIdentity.external_id == openid
            )
        )
        assert identity is not None
        identity.last_inbound_at = utcnow() - timedelta(hours=hours_ago)
        return identity


async def staff_reply(db: Database, openid: str, text: str) -> None:
    async with db.session() as s:
        agent = await s.scalar(select(Staff).where(Staff.username == "agent.a"))
        to = await s.scalar(select(ChannelIdentity).where(ChannelIdentity.external_id == openid))
        assert agent is not None and to is not None
        await desk.reply(s, agent, text, identity=to)


# --- the passive reply -------------------------------------------------------------------


async def test_a_fast_answer_is_the_passive_reply_and_is_not_sent_again(
    wx: WeChatHarness,
) -> None:
    pushed = await wx.push.text(ZHANG, "物业费怎么交？")
    assert pushed.reply is not None and "2.80 元/平方米/月" in pushed.reply
    assert "1：👍 有帮助" in pushed.reply
    [row] = await outbox_to(wx.db, ZHANG)
    assert row.state == "sent" and row.last_error == "passive reply"
    assert await wx.deliver() == 0 and wx.fake.custom == []
    health = (await wx.push.http.get(wx.url + "/healthz")).json()["wechat"]
    assert health["mode"] == "plaintext" and health["passive_replies"] == 1


async def test_replies_after_the_passive_one_wait_so_they_cannot_overtake_it(
    demo: Database, test_settings: Settings, fake: FakeWeChat
) -> None:
    settings = wechat_settings(test_settings, fake)
    async with wechat_harness(settings, demo, fake, head_start=30.0) as wx:
        pushed = await wx.push.text(ZHANG, "家里燃气味很重，怎么办")
        assert pushed.reply is not None and "关闭燃气总阀" in pushed.reply
        passive, *later = await outbox_to(wx.db, ZHANG)
        assert passive.state == "sent" and later
        assert passive.sent_at is not None
        assert all(r.state == "pending" and r.next_attempt_at > passive.sent_at for r in later)
        assert await wx.runtime.worker.run_once() == 0  # not yet due


async def test_a_slow_answer_goes_out_through_the_outbox(
    demo: Database, test_settings: Settings, fake: FakeWeChat
) -> None:
    settings = wechat_settings(test_settings, fake)
    async with wechat_harness(settings, demo, fake, passive_timeout=0.0) as wx:
        pushed = await wx.push.text(ZHANG, "物业费怎么交？")
        assert pushed.status == 200 and pushed.response.text == "success"
        async with wx.db.session() as s:  # acknowledged, so already stored for good
            stored = await s.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.direction == "in", Message.text == "物业费怎么交？")
            )
        assert stored == 1
        callback = wx.callback
        await callback.drain()  # the dialog finishes in the background
        await wx.deliver()
        [text] = wx.unseen(ZHANG)
        assert "2.80 元/平方米/月" in text and "1：👍 有帮助" in text
        assert "很高兴" in await wx.say(ZHANG, "1")  # the options were remembered on send
        assert callback.stats.late == 2


# --- the 48-hour window ------------------------------------------------------------------


async def test_outside_the_48_hour_window_template_messages_are_sent(wx: WeChatHarness) -> None:
    await use_templates(wx.db)
    await last_wrote(wx.db, ZHANG, hours_ago=49)
    await staff_reply(wx.db, ZHANG, "您好，您反映的问题已经处理好了。")
    async with wx.db.session() as s:
        identity = await s.scalar(
            select(ChannelIdentity).where(ChannelIdentity.external_id == ZHANG)
        )
        assert identity is not None and identity.owner_id is not None
        owner = await s.get(Owner, identity.owner_id)
        assert owner is not None
        ticket = await tickets.open_ticket(
            s,
            kind="repair",
            estate_id=owner.estate_id,
            owner_id=owner.id,
            identity_id=identity.id,
            actor=BOT,
            channel="wechat",
            summary="厨房水龙头漏水",
        )
        await desk.push_repair_card(s, ticket)
    await wx.deliver()
    assert wx.fake.custom == []
    reply, card = wx.fake.templates_to(ZHANG)
    assert reply["template_id"] == "tpl-default"
    assert reply["data"] == {"text": {"value": "您好，您反映的问题已经处理好了。"}}
    assert card["template_id"] == "tpl-card"
    assert card["data"]["keyword1"]["value"] == ticket.number
    assert card["data"]["keyword2"]["value"] == "厨房水龙头漏水"
    assert card["data"]["remark"]["value"] == "感谢您的支持"
    assert "维修卡片" in card["data"]["first"]["value"]
    assert all(row.state == "sent" for row in await outbox_to(wx.db, ZHANG))


async def test_a_care_template_says_how_to_stop_it_and_the_word_works(
    wx: WeChatHarness,
) -> None:
    """A template has no buttons: the greeting's unsubscribe button becomes a line of
    text, and "退订" answered with the numbered kinds opts the owner out of one."""
    await use_templates(wx.db)
    identity = await last_wrote(wx.db, ZHANG, hours_ago=49)
    greeting = OutboundMessage(
        "张伟您好，祝您生日快乐！",
        (Button(t("zh", "care.unsubscribe"), "unsubscribe:birthday"),),
        template="care",
        template_data={"title": t("zh", "care.title.birthday")},
    )
    async with wx.db.session() as s:
        await enqueue(s, key="care:birthday:test", identity=identity, message=greeting)
    await wx.deliver()
    [template] = wx.fake.templates_to(ZHANG)
    assert template["data"]["text"]["value"] == (
        "张伟您好，祝您生日快乐！\n" + t("zh", "wechat.unsubscribe_hint")
    )
    assert template["data"]["title"]["value"] == "生日祝福"

    menu = await wx.say(ZHANG, "退订")
    assert t("zh", "care.unsubscribe_choose") in menu
    [number] = [line.split("：")[0] for line in menu.splitlines() if line.endswith("：生日祝福")]
    assert "不再收到“生日祝福”" in await wx.say(ZHANG, number)
    async with wx.db.session() as s:
        owner = await s.get(Owner, identity.owner_id)
        assert owner is not None and owner.care_opt_outs == ["birthday"]


async def test_outside_the_window_without_a_template_id_the_row_fails_clearly(
    wx: WeChatHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await last_wrote(wx.db, ZHANG, hours_ago=72)
    await staff_reply(wx.db, ZHANG, "您好，请问还需要帮助吗？")
    await wx.deliver()
    [row] = await outbox_to(wx.db, ZHANG)
    assert row.state == "failed"
    assert "48-hour window" in row.last_error and "no template id for 'default'" in row.last_error
    assert wx.fake.custom == [] and wx.fake.templates == []
    assert any("no template id" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("code", [45015, 45047])
async def test_wechat_saying_the_window_is_closed_falls_back_to_a_template(
    wx: WeChatHarness, code: int
) -> None:
    await use_templates(wx.db)
    await last_wrote(wx.db, ZHANG, hours_ago=1)
    wx.fake.fail("message/custom/send", code)
    await staff_reply(wx.db, ZHANG, "您好，师傅明天上午到。")
    await wx.deliver()
    [template] = wx.fake.templates_to(ZHANG)
    assert template["template_id"] == "tpl-default" and wx.fake.custom == []
    [row] = await outbox_to(wx.db, ZHANG)
    assert row.state == "sent"


# --- error codes, the network and the token -----------------------------------------------


async def test_wechat_error_codes_map_to_outcomes(sender: WeChatSender, fake: FakeWeChat) -> None:
    ok = await sender.send(delivery(buttons=(Button("确认", "repair:submit"),)))
    assert ok.ok
    assert fake.texts_to(OPENID) == ["您好\n\n回复数字选择：\n1：确认"]
    for code in (-1, 45009, 45011):
        fake.fail("message/custom/send", code)
        outcome = await sender.send(delivery())
        assert outcome.throttled and not outcome.permanent, code
        assert outcome.error.startswith("rate limited") and str(code) in outcome.error
    fake.fail("message/custom/send", 40003)
    outcome = await sender.send(delivery())
    assert outcome.permanent and "invalid openid" in outcome.error
    fake.unsubscribed.add(OPENID)
    outcome = await sender.send(delivery())
    assert outcome.permanent and "unsubscribed" in outcome.error
    fake.fail("message/custom/send", 99999)  # something new: try again later
    outcome = await sender.send(delivery())
    assert not outcome.ok and not outcome.permanent and not outcome.throttled


async def test_network_errors_and_5xx_are_retried(
    sender: WeChatSender, fake: FakeWeChat, db: Database, test_settings: Settings
) -> None:
    fake.fail_http("message/custom/send", 502)
    outcome = await sender.send(delivery())
    assert outcome.retry_after is not None and "HTTP 502" in outcome.error
    await sender.send(delivery())  # the token is now in the database
    nothing_listens = {"wechat_api_base_url": "http://127.0.0.1:9/cgi-bin/"}
    offline = WeChatSender(
        wechat_settings(test_settings, fake).model_copy(update=nothing_listens), db
    )
    outcome = await offline.send(delivery())
    assert outcome.retry_after is not None and outcome.error.startswith("network")


async def test_an_expired_token_is_refreshed_once_and_shared_by_processes(
    sender: WeChatSender, fake: FakeWeChat, db: Database, test_settings: Settings
) -> None:
    assert (await sender.send(delivery("一"))).ok
    assert fake.token_requests == 1
    fake.expire_token()  # another process refreshed it, or it ran out
    assert (await sender.send(delivery("二"))).ok
    assert fake.token_requests == 2 and fake.texts_to(OPENID) == ["一", "二"]
    async with db.session() as s:
        row = await s.get(PlatformState, TOKEN_KEY)
    assert row is not None and row.value in fake.valid_tokens
    other_process = WeChatSender(wechat_settings(test_settings, fake), db)
    assert (await other_process.send(delivery("三"))).ok
    assert fake.token_requests == 2  # it used the shared token


async def test_a_wrong_secret_is_a_retry_with_a_clear_error(
    db: Database, test_settings: Settings, fake: FakeWeChat
) -> None:
    settings = wechat_settings(test_settings, fake).model_copy(update={"wechat_secret": "wrong"})
    outcome = await WeChatSender(settings, db).send(delivery())
    assert outcome.retry_after is not None and "invalid appsecret" in outcome.error
    async with db.session() as s:
        assert await s.scalar(select(Message)) is None


# --- the menu ------------------------------------------------------------------------------


def test_menu_push_sends_the_bundled_menu(
    db_url: str, fake: FakeWeChat, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from backend.settings import get_settings

    runner = CliRunner()
    result = runner.invoke(wechat_cli, ["menu", "push"])
    assert result.exit_code == 1 and "WeChat is off" in result.output
    for name, value in (
        ("APPID", fake.appid),
        ("SECRET", fake.secret),
        ("TOKEN", TOKEN),
        ("API_BASE_URL", fake.base_url),
    ):
        monkeypatch.setenv(f"OWNERDESK_WECHAT_{name}", value)
    get_settings.cache_clear()
    result = runner.invoke(wechat_cli, ["menu", "push"])
    assert result.exit_code == 0, result.output
    assert fake.menus == [load_menu()]
    keys = [b.get("key") for top in fake.menus[0]["button"] for b in top.get("sub_button", [top])]
    assert keys == ["kind:repair", "/status", "kind:complaint", "kind:enquiry", "cmd:handoff"]
    bad = tmp_path / "menu.yaml"
    bad.write_text("button:\n  - type: click\n    name: 这个名字实在是太长了超过限制\n    key: x\n")
    result = runner.invoke(wechat_cli, ["menu", "push", "--file", str(bad)])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "name must be 1–16 bytes" in result.output
    fake.fail("menu/create", 40018)
    result = runner.invoke(wechat_cli, ["menu", "push"])
    assert result.exit_code == 1 and "WeChat 40018" in result.output
    assert result.output.count("\n") == 1
    get_settings.cache_clear()


def test_a_template_says_in_words_what_its_buttons_would_have_done() -> None:
    """Ratings and the enquiry callback are answered in words after a template."""
    rating = OutboundMessage(
        "【维修回访】工单 R-1 已完成，请评价：",
        (Button("😄 非常满意", "rate:1:5"), Button("😞 非常不满意", "rate:1:1")),
    )
    assert for_template(rating).text.endswith("\n" + t("zh", "wechat.rating_hint"))
    enquiry = OutboundMessage(
        "[Callback] About your question E-1 (parcel lockers): is it settled now?",
        (Button("✅ Settled", "enq:settled:1"), Button("Not yet", "enq:unsettled:1")),
    )
    assert for_template(enquiry).text.endswith("\n" + t("en", "wechat.enquiry_hint"))
    plain = OutboundMessage("您好", (Button("帮助", "cmd:help"),))
    assert for_template(plain) == plain
