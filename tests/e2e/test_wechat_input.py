"""WeChat callback against bad input: forged or stale signatures, retries, broken XML,
huge bodies, empty and enormous texts, message kinds we can't use, strangers asking for
data. Each answer is a clear 4xx or a polite reply; nothing crashes, nothing leaks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from backend.db import Database
from backend.messaging import MAX_TEXT
from backend.models import ChannelIdentity, Message, Ticket
from backend.settings import Settings
from tests.fakes.codes import RecordingCodeSender
from tests.fakes.wechat_api import (
    FakeWeChat,
    WeChatHarness,
    WeChatPush,
    fake_wechat_server,
    wechat_harness,
    wechat_settings,
    xml_of,
)

ZHANG = "demo-openid-0001"
STRANGER = "o-stranger-00000000000000001"


@pytest.fixture(scope="module")
def wechat_api() -> Iterator[FakeWeChat]:
    with fake_wechat_server() as fake:
        yield fake


@pytest.fixture
def fake(wechat_api: FakeWeChat) -> FakeWeChat:
    wechat_api.reset()
    return wechat_api


@pytest.fixture
async def bare(
    db: Database, test_settings: Settings, fake: FakeWeChat
) -> AsyncIterator[WeChatHarness]:
    """The callback over an empty database: protocol checks need no demo data."""
    async with wechat_harness(wechat_settings(test_settings, fake), db, fake) as h:
        yield h


@pytest.fixture
async def wx(
    demo: Database, test_settings: Settings, codes: RecordingCodeSender, fake: FakeWeChat
) -> AsyncIterator[WeChatHarness]:
    async with wechat_harness(wechat_settings(test_settings, fake), demo, fake, codes) as h:
        yield h


@pytest.fixture
async def safe(
    db: Database, test_settings: Settings, fake: FakeWeChat
) -> AsyncIterator[WeChatHarness]:
    settings = wechat_settings(test_settings, fake, safe=True)
    async with wechat_harness(settings, db, fake) as h:
        yield h


async def stored(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Message)) or 0)


def error_of(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return str(body["error"]["message"])


# --- signatures and replays --------------------------------------------------------------


async def test_url_verification_echoes_only_for_our_token(bare: WeChatHarness) -> None:
    params = {**bare.push.query(), "echostr": "8312917462549307"}
    response = await bare.push.http.get(bare.push.url, params=params)
    assert response.status_code == 200 and response.text == "8312917462549307"
    forged = {**params, "signature": "0" * 40}
    response = await bare.push.http.get(bare.push.url, params=forged)
    assert response.status_code == 403 and "invalid signature" in error_of(response)


async def test_forged_signature_is_refused_and_nothing_stored(
    bare: WeChatHarness, caplog: pytest.LogCaptureFixture
) -> None:
    pushed = await bare.push.text(STRANGER, "你好", signature="f" * 40)
    assert pushed.status == 403 and "invalid signature" in error_of(pushed.response)
    assert any("refused (403)" in r.getMessage() for r in caplog.records)
    signed_by_someone_else = WeChatPush(bare.push.http, bare.push.url, token="not-our-token")
    assert (await signed_by_someone_else.text(STRANGER, "你好")).status == 403
    response = await bare.push.http.post(bare.push.url, content=b"<xml/>")  # no query at all
    assert response.status_code == 403
    assert await stored(bare.db) == 0


async def test_safe_mode_refuses_a_forged_msg_signature_and_plaintext(
    safe: WeChatHarness,
) -> None:
    pushed = await safe.push.text(STRANGER, "你好", msg_signature="0" * 40)
    assert pushed.status == 403 and "msg_signature" in error_of(pushed.response)
    pushed = await safe.push.text(STRANGER, "你好", encrypt=False)
    assert pushed.status == 403 and "must be encrypted" in error_of(pushed.response)
    assert await stored(safe.db) == 0


async def test_an_encrypted_push_to_a_plaintext_account_is_refused(
    bare: WeChatHarness, fake: FakeWeChat
) -> None:
    encrypting = WeChatPush(
        bare.push.http,
        bare.push.url,
        aes_key=wechat_settings(bare.runtime.settings, fake, safe=True).wechat_aes_key,
    )
    pushed = await encrypting.text(STRANGER, "你好")
    assert pushed.status == 403 and "AES_KEY is not set" in error_of(pushed.response)


async def test_stale_and_future_timestamps_are_refused(bare: WeChatHarness) -> None:
    for skew in (-600, +600):
        pushed = await bare.push.text(STRANGER, "你好", timestamp=int(time.time()) + skew)
        assert pushed.status == 403 and "stale timestamp" in error_of(pushed.response)
    assert await stored(bare.db) == 0


async def test_wechat_retries_make_one_message_and_one_ticket(wx: WeChatHarness) -> None:
    fields = wx.push.fields(ZHANG, "text", Content="家里燃气味很重，怎么办")
    first = await wx.push.send(fields)
    retries = await asyncio.gather(wx.push.send(fields), wx.push.send(fields))
    assert all(p.status == 200 for p in (first, *retries))
    assert first.reply is not None and "关闭燃气总阀" in first.reply
    assert [p.response.text for p in retries] == ["success", "success"]
    async with wx.db.session() as s:
        copies = await s.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.platform_message_id == str(fields["MsgId"]))
        )
        tickets = await s.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.summary == fields["Content"])
        )
    assert (copies, tickets) == (1, 1)


# --- malformed and oversized bodies --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "empty body"),
        ("this is not xml", "malformed XML"),
        ("<xml><ToUserName>gh_1</ToUserName>", "malformed XML"),
        ("<message><MsgType>text</MsgType></message>", "expected <xml>"),
        ("<xml><MsgType>text</MsgType><Content>hi</Content></xml>", "missing FromUserName"),
        ("<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType></xml>", "missing MsgId"),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            '"&lol;&lol;&lol;&lol;">]><xml><Content>&lol2;</Content></xml>',
            "DTD or entities",
        ),
    ],
)
async def test_malformed_xml_is_a_clear_400(bare: WeChatHarness, body: str, reason: str) -> None:
    pushed = await bare.push.post(body)
    assert pushed.status == 400, pushed.response.text
    assert reason in error_of(pushed.response)


async def test_an_oversized_body_is_413(bare: WeChatHarness) -> None:
    body = xml_of(bare.push.fields(STRANGER, "text", Content="啊" * 200_000))  # 600 KB
    pushed = await bare.push.post(body)
    assert pushed.status == 413 and "body over" in error_of(pushed.response)
    assert await stored(bare.db) == 0


# --- texts and kinds the dialogs must answer politely -------------------------------------


async def test_empty_and_huge_texts_get_a_clear_answer(wx: WeChatHarness) -> None:
    assert "没有收到文字内容" in await wx.say(ZHANG, "")
    huge = "楼道灯坏了。" * 17_000  # 100 KB of UTF-8
    reply = await wx.say(ZHANG, huge)
    assert reply and "抱歉，系统刚刚开了个小差" not in reply
    async with wx.db.session() as s:
        message = await s.scalar(
            select(Message).where(Message.direction == "in").order_by(Message.id.desc()).limit(1)
        )
    assert message is not None and len(message.text) == MAX_TEXT
    assert message.media["truncated_from"] == len(huge)


async def test_voice_and_location_get_a_polite_answer(wx: WeChatHarness) -> None:
    for pushed in (await wx.push.voice(ZHANG), await wx.push.location(ZHANG)):
        assert pushed.status == 200 and pushed.reply is not None
        assert "无法识别语音" in pushed.reply


async def test_a_stranger_asking_about_repairs_is_asked_to_verify(wx: WeChatHarness) -> None:
    reply = await wx.say(STRANGER, "我的报修怎么样了")
    assert "验证业主身份" in reply
    assert "R-" not in reply and "张伟" not in reply and "工单号" not in reply
    async with wx.db.session() as s:
        identity = await s.scalar(
            select(ChannelIdentity).where(ChannelIdentity.external_id == STRANGER)
        )
    assert identity is not None and identity.owner_id is None
