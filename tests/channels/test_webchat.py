"""The web-chat API over HTTP: the contract of DESIGN.md and bad input."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from backend.composition import build_extensions, build_runtime
from backend.db import Database
from backend.i18n import t
from backend.models import Message, OutboxItem
from backend.settings import Settings
from backend.web.app import Extension, create_app
from bot.channels.admission import MIN_IN_FLIGHT, SAMPLES, Admission
from bot.channels.webchat import webchat_router
from tests.fakes.codes import RecordingCodeSender


@pytest.fixture
async def client(
    demo: Database, test_settings: Settings, codes: RecordingCodeSender
) -> AsyncIterator[httpx.AsyncClient]:
    runtime = build_runtime(test_settings, demo, codes)
    app = create_app(
        test_settings, demo, [e for e in build_extensions(runtime) if e.name == "webchat"]
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c


@pytest.fixture
def gate() -> Admission:
    """A gate that has learnt a slow desk: half a second a message."""
    clock = iter(float(i) / 2 for i in range(10**6))
    gate = Admission(max_wait=1.0, clock=lambda: next(clock))
    for _ in range(SAMPLES):
        ticket = gate.enter()
        assert ticket is not None
        gate.leave(ticket)
    assert gate.pace == 0.5
    return gate


@pytest.fixture
async def gated_client(
    demo: Database, test_settings: Settings, codes: RecordingCodeSender, gate: Admission
) -> AsyncIterator[httpx.AsyncClient]:
    runtime = build_runtime(test_settings, demo, codes)
    router = webchat_router(demo, runtime.desk, runtime.worker.wake, gate)
    app = create_app(test_settings, demo, [Extension("webchat", routers=[router])])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c


async def post(client: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await client.post("/api/webchat/messages", json=body)


async def test_a_repair_over_http_returns_replies_buttons_and_the_ticket(
    client: httpx.AsyncClient,
) -> None:
    first = await post(client, session="demo-session", text="厨房下水道堵了，明天上午来修")
    assert first.status_code == 200
    reply = first.json()["replies"][0]
    assert "请确认报修信息" in reply["text"]
    submit = next(b for b in reply["buttons"] if b["value"] == "repair:submit")
    second = await post(client, session="demo-session", text=submit["label"], value=submit["value"])
    body = second.json()
    assert body["ticket"]["number"].startswith("R-")
    assert body["ticket"]["number"] in body["replies"][0]["text"]


async def test_polling_returns_later_messages(client: httpx.AsyncClient) -> None:
    sent = await post(client, session="demo-session-b", text="hello")
    first_id = sent.json()["replies"][0]["id"]
    assert first_id > 0
    polled = (
        await client.get("/api/webchat/messages", params={"session": "demo-session-b", "after": 0})
    ).json()
    assert [m["id"] for m in polled["messages"]] == [first_id]
    later = (
        await client.get(
            "/api/webchat/messages", params={"session": "demo-session-b", "after": first_id}
        )
    ).json()
    assert later["messages"] == []


async def test_replies_are_stored_as_sent(client: httpx.AsyncClient, demo: Database) -> None:
    """The page shows what is written: the delivery worker has nothing left to do."""
    await post(client, session="demo-session-c", text="物业费怎么交？")
    async with demo.session() as s:
        rows = (
            await s.execute(
                select(OutboxItem.state, OutboxItem.sent_at).where(
                    OutboxItem.chat_id == "demo-session-c"
                )
            )
        ).all()
    assert rows and all(state == "sent" and sent_at is not None for state, sent_at in rows)


async def test_each_estate_gets_its_own_fee_answer(client: httpx.AsyncClient) -> None:
    """Lakeside Court (Singapore) restates the company-wide RMB fee entry in S$."""
    shanghai = await post(client, session="demo-session", text="How do I pay the property fee?")
    singapore = await post(client, session="demo-session-b", text="How do I pay the property fee?")
    assert "RMB 2.80" in shanghai.json()["replies"][0]["text"]
    assert "S$ 0.38" in singapore.json()["replies"][0]["text"]


async def test_a_client_retry_with_the_same_id_is_answered_once(client: httpx.AsyncClient) -> None:
    first = await post(client, session="demo-session", text="你好", id="abc-1")
    again = await post(client, session="demo-session", text="你好", id="abc-1")
    assert first.json()["replies"] and again.json() == {"replies": [], "duplicate": True}


async def test_a_flood_is_told_to_retry_and_the_retry_is_answered_once(
    gated_client: httpx.AsyncClient, gate: Admission, demo: Database
) -> None:
    """Past capacity a message is not stored: 503 now, the page's retry is answered."""
    held = [gate.enter() for _ in range(MIN_IN_FLIGHT)]  # a queue at the slow desk
    busy = await post(gated_client, session="demo-session", text="你好", id="flood-1")
    assert busy.status_code == 503
    assert busy.json()["error"]["code"] == "busy"
    assert 1 <= int(busy.headers["Retry-After"]) <= 5
    async with demo.session() as s:
        stored = await s.scalar(
            select(Message.id).where(Message.platform_message_id == "demo-session:flood-1")
        )
    assert stored is None
    for ticket in held:  # the queue drains
        assert ticket is not None
        gate.leave(ticket)
    answered = await post(gated_client, session="demo-session", text="你好", id="flood-1")
    again = await post(gated_client, session="demo-session", text="你好", id="flood-1")
    assert answered.status_code == 200 and answered.json()["replies"]
    assert again.json() == {"replies": [], "duplicate": True}
    assert gate.in_flight == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"session": "bad session!", "text": "hi"}, 422, "invalid_input"),
        ({"text": "hi"}, 422, "invalid_input"),
        ({"session": "s1", "text": "x" * 100_000}, 413, "too_large"),
        ({"session": "s" * 200, "text": "hi"}, 422, "invalid_input"),
        ({"session": "s1", "text": 12}, 422, "invalid_input"),
    ],
)
async def test_bad_input_is_a_clear_json_error(
    client: httpx.AsyncClient, body: dict[str, object], status: int, code: str
) -> None:
    response = await post(client, **body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_invalid_json_and_wrong_content(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/webchat/messages", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_input"
    response = await client.post(
        "/api/webchat/messages", content=b"\xff\xfe", headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500 and "error" in response.json()


async def test_empty_text_gets_a_polite_answer(client: httpx.AsyncClient) -> None:
    response = await post(client, session="demo-session", text="")
    assert (
        response.status_code == 200 and "没有收到文字内容" in response.json()["replies"][0]["text"]
    )


async def test_the_chat_page_is_served_and_escapes_text(client: httpx.AsyncClient) -> None:
    page = await client.get("/chat")
    assert (
        page.status_code == 200
        and "textContent = body" in page.text
        and "innerHTML" not in page.text
    )


async def test_the_chat_page_speaks_both_languages_from_the_catalogues(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/chat")).text
    texts = json.loads(re.search(r"const UI = (\{.*?\});", page).group(1))  # type: ignore[union-attr]
    assert "__" not in page.replace("__proto__", "")  # every marker filled
    assert f'<h1 id="title">{t("zh", "webchat.title")}</h1>' in page
    for lang in ("zh", "en"):
        assert texts[lang]["send"] == t(lang, "webchat.send")
        assert texts[lang]["offline"] == t(lang, "webchat.offline")
        # What an API error shows the owner: her language, never the API's English message.
        assert texts[lang]["retrying"] == t(lang, "webchat.retrying")
        for code in ("busy", "too_large", "invalid_input", "other"):
            assert texts[lang]["errors"][code] == t(lang, f"webchat.error.{code}")
    assert texts["zh"]["errors"]["too_large"] != texts["en"]["errors"]["too_large"]
    assert "data.error.message" not in page
    assert 'maxlength="4000"' in page  # what is stored of a message: the page sends no more
