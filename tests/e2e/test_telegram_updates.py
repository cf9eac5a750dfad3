"""Reading Telegram's shapes and writing its keyboards: no server, no database.

The end-to-end tests drive the common paths; these pin the edges of the mapping (groups,
bots, service messages, "send as file", stale buttons) where a mistake would either
answer someone who should be ignored or drop what an owner sent.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.error import RetryAfter

from backend.messaging import Button, Media
from backend.settings import Settings
from bot.channels.telegram import keyboard
from bot.channels.telegram_receiver import webhook_secret
from bot.channels.telegram_updates import retry_after_seconds, to_inbound

# PTB 22 warns about int ``retry_after`` inside its own RetryAfter constructor.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
_ids = itertools.count(1)
OWNER = {
    "id": 900001,
    "is_bot": False,
    "first_name": "伟",
    "last_name": "张",
    "language_code": "zh-hans",
}
PRIVATE = {"id": 900001, "type": "private", "first_name": "伟"}


def message(
    chat: dict[str, Any] = PRIVATE, sender: dict[str, Any] = OWNER, **content: Any
) -> Update:
    data = {
        "update_id": next(_ids),
        "message": {
            "message_id": 42,
            "date": 1_700_000_000,
            "chat": chat,
            "from": sender,
            **content,
        },
    }
    return Update.de_json(data, None)


def tap(data: str, *, chat: dict[str, Any] = PRIVATE, markup: bool = True) -> Update:
    bot_message: dict[str, Any] = {
        "message_id": 7,
        "date": 1_700_000_000,
        "chat": chat,
        "text": "请确认",
    }
    if markup:
        bot_message["reply_markup"] = {
            "inline_keyboard": [
                [
                    {"text": "✅ 确认提交", "callback_data": "repair:submit"},
                    {"text": "取消", "callback_data": "cmd:cancel"},
                ]
            ]
        }
    else:
        bot_message["date"] = 0  # Telegram's shape for a message too old to show
    query = {
        "id": "4242",
        "from": OWNER,
        "chat_instance": "ci",
        "data": data,
        "message": bot_message,
    }
    return Update.de_json({"update_id": next(_ids), "callback_query": query}, None)


def test_a_private_text_message() -> None:
    inbound = to_inbound(message(text="厨房下水道堵了"))
    assert inbound is not None
    assert (inbound.channel, inbound.user_id, inbound.chat_id) == ("telegram", "900001", "900001")
    assert inbound.platform_message_id == "900001:42"
    assert inbound.text == "厨房下水道堵了" and inbound.value is None and inbound.media == ()
    assert inbound.language_hint == "zh-hans" and inbound.display_name == "伟 张"


def test_start_and_commands_with_the_bots_name() -> None:
    start = to_inbound(message(text="/start bind-123"))
    assert start is not None and start.event == "start" and start.text == "/start bind-123"
    helped = to_inbound(message(text="/help@ownerdesk_bot"))
    assert helped is not None and helped.text == "/help" and helped.event is None
    assert to_inbound(message(text="/starting")).event is None  # type: ignore[union-attr]


def test_groups_bots_and_service_messages_are_not_for_the_desk() -> None:
    group = {"id": -100123, "type": "supergroup", "title": "A栋业主群"}
    assert to_inbound(message(chat=group, text="燃气味很重")) is None
    assert (
        to_inbound(message(sender={"id": 5, "is_bot": True, "first_name": "b"}, text="hi")) is None
    )
    assert to_inbound(message(new_chat_title="新名字")) is None
    assert to_inbound(tap("repair:submit", chat=group)) is None


def test_a_button_tap_carries_its_value_and_label() -> None:
    inbound = to_inbound(tap("repair:submit"))
    assert inbound is not None
    assert inbound.value == "repair:submit" and inbound.text == "✅ 确认提交"
    assert inbound.platform_message_id == "cb:4242" and inbound.chat_id == "900001"
    stale = to_inbound(tap("cmd:cancel", markup=False))
    assert stale is not None and stale.value == "cmd:cancel" and stale.text == ""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            {
                "photo": [
                    {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                    {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 960},
                    {"file_id": "mid", "file_unique_id": "m", "width": 320, "height": 240},
                ],
                "caption": "漏水",
            },
            Media("photo", "big", "漏水"),
        ),
        (
            {"document": {"file_id": "d1", "file_unique_id": "d", "mime_type": "image/jpeg"}},
            Media("photo", "d1"),
        ),
        (
            {"document": {"file_id": "d2", "file_unique_id": "d", "mime_type": "application/pdf"}},
            Media("file", "d2"),
        ),
        (
            {
                "animation": {
                    "file_id": "a1",
                    "file_unique_id": "a",
                    "width": 1,
                    "height": 1,
                    "duration": 1,
                },
                "document": {"file_id": "a1", "file_unique_id": "a"},
            },
            Media("animation", "a1"),
        ),
        ({"voice": {"file_id": "v1", "file_unique_id": "v", "duration": 2}}, Media("voice", "v1")),
        (
            {
                "video": {
                    "file_id": "m1",
                    "file_unique_id": "m",
                    "width": 1,
                    "height": 1,
                    "duration": 1,
                }
            },
            Media("video", "m1"),
        ),
        (
            {
                "sticker": {
                    "file_id": "s1",
                    "file_unique_id": "s",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                }
            },
            Media("sticker", "s1"),
        ),
        ({"location": {"latitude": 31.5, "longitude": 121.25}}, Media("location", "31.5,121.25")),
    ],
    ids=["photo", "image-file", "pdf", "animation", "voice", "video", "sticker", "location"],
)
def test_media_kinds(content: dict[str, Any], expected: Media) -> None:
    inbound = to_inbound(message(**content))
    assert inbound is not None and inbound.media == (expected,)
    assert inbound.text == expected.caption


def test_a_shared_contact_answers_with_its_phone_number() -> None:
    contact = {"phone_number": "+8613800138000", "first_name": "伟", "user_id": 900001}
    inbound = to_inbound(message(contact=contact))
    assert inbound is not None and inbound.text == "+8613800138000"


def test_keyboard_rows_fit_a_phone_and_keep_the_order() -> None:
    ratings = [
        Button(label, f"rate:1:{n}")
        for label, n in (
            ("非常满意", 5),
            ("满意", 4),
            ("一般", 3),
            ("不满意", 2),
            ("非常不满意", 1),
        )
    ]
    markup = keyboard(ratings)
    assert markup is not None
    rows = [[b.text for b in row] for row in markup.inline_keyboard]
    assert [label for row in rows for label in row] == [b.label for b in ratings]
    assert len(rows) == 2 and all(len(row) <= 3 for row in rows)
    long_labels = [
        Button("Didn't help, ask a person please", "kb:no:x"),
        Button("That helped", "kb:yes:x"),
    ]
    assert len(keyboard(long_labels).inline_keyboard) == 2  # type: ignore[union-attr]
    assert keyboard(()) is None


def test_keyboard_leaves_out_values_telegram_would_refuse() -> None:
    markup = keyboard([Button("ok", "kb:yes:1"), Button("too long", "x" * 65)])
    assert markup is not None
    assert [b.callback_data for row in markup.inline_keyboard for b in row] == ["kb:yes:1"]


def test_webhook_secret_is_configured_or_derived(tmp_path: Path) -> None:
    def settings(**values: Any) -> Settings:
        return Settings(var_dir=tmp_path, secret_key="k" * 40, telegram_token="1:A", **values)

    assert webhook_secret(settings(telegram_webhook_secret="mine")) == "mine"
    derived = webhook_secret(settings())
    assert derived == webhook_secret(settings()) and len(derived) == 64
    other = Settings(var_dir=tmp_path, secret_key="k" * 40, telegram_token="2:B")
    assert webhook_secret(other) != derived


def test_retry_after_in_seconds_either_way() -> None:
    assert retry_after_seconds(RetryAfter(3)) == 3.0
    assert retry_after_seconds(RetryAfter(timedelta(seconds=1.5))) == 1.5
