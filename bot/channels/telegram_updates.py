"""Telegram ``Update`` → ``InboundMessage``: the only place that reads Telegram's shapes.

Pure functions, no I/O, so the mapping is tested without a bot. One update becomes at
most one ``InboundMessage``; updates the bot should not answer (group chats, other
bots, service messages, polls) become ``None`` and are acknowledged unanswered.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from backend.messaging import InboundMessage, Media
from backend.vocabulary import Channel

CHANNEL = Channel.TELEGRAM.value
# What we ask Telegram for (getUpdates and setWebhook); everything else is not sent at all.
ALLOWED_UPDATES = ("message", "callback_query")


def platform_id_of_message(chat_id: int | str, message_id: int) -> str:
    """Message ids are only unique within a chat, so the chat is part of the key."""
    return f"{chat_id}:{message_id}"


def platform_id_of_callback(callback_id: str) -> str:
    return f"cb:{callback_id}"


def platform_id_of(update: Update) -> str | None:
    """The dedupe key the front desk stores for ``update`` (None: nothing to store)."""
    if update.callback_query is not None:
        return platform_id_of_callback(update.callback_query.id)
    if update.message is not None:
        return platform_id_of_message(update.message.chat.id, update.message.message_id)
    return None


def to_inbound(update: Update) -> InboundMessage | None:
    """The one ``InboundMessage`` for ``update``, or None when it is not for the desk."""
    if update.callback_query is not None:
        return _from_callback(update.callback_query)
    if update.message is not None:
        return _from_message(update.message)
    return None


def _person(user: User | None, chat: Chat | None) -> bool:
    """Only people in private chats: in a group, replies (addressed to the identity, i.e.
    the user's private chat) would surprise everyone, and other bots never get answers."""
    return user is not None and not user.is_bot and (chat is None or chat.type == Chat.PRIVATE)


def _from_message(message: Message) -> InboundMessage | None:
    user = message.from_user
    if user is None or not _person(user, message.chat):
        return None
    text = _command_without_bot_name(message.text or message.caption or "")
    media = _media_of(message)
    if message.contact is not None and not text:
        text = message.contact.phone_number  # a shared contact answers "your phone number?"
    if not text and not media:
        return None  # service message (pin, title change…), poll, game: nothing to answer
    event = "start" if text.split(maxsplit=1)[0:1] == ["/start"] else None
    return InboundMessage(
        channel=CHANNEL,
        user_id=str(user.id),
        chat_id=str(message.chat.id),
        platform_message_id=platform_id_of_message(message.chat.id, message.message_id),
        text=text,
        media=media,
        event=event,
        display_name=user.full_name,
        language_hint=user.language_code,
    )


def _from_callback(query: CallbackQuery) -> InboundMessage | None:
    user = query.from_user
    chat = query.message.chat if query.message is not None else None
    if query.data is None or not _person(user, chat):
        return None  # a game button, or a tap in a group
    return InboundMessage(
        channel=CHANNEL,
        user_id=str(user.id),
        chat_id=str(chat.id if chat is not None else user.id),
        platform_message_id=platform_id_of_callback(query.id),
        text=button_label(query),
        value=query.data,
        display_name=user.full_name,
        language_hint=user.language_code,
    )


def button_label(query: CallbackQuery) -> str:
    """The tapped button's label, like the web chat sends it (the console shows what the
    owner pressed); Telegram only sends the data, so it is looked up on the message."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return ""
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return ""


def _media_of(message: Message) -> tuple[Media, ...]:
    caption = message.caption or ""
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return (Media("photo", largest.file_id, caption),)
    if message.animation is not None:  # Telegram also fills ``document`` for these: first
        return (Media("animation", message.animation.file_id, caption),)
    if message.document is not None:
        # "Send as file" keeps a photo uncompressed; it is still a photo of the problem.
        mime = message.document.mime_type or ""
        kind = "photo" if mime.startswith("image/") else "file"
        return (Media(kind, message.document.file_id, caption),)
    if message.voice is not None:
        return (Media("voice", message.voice.file_id, caption),)
    if message.audio is not None:
        return (Media("audio", message.audio.file_id, caption),)
    if message.video is not None:
        return (Media("video", message.video.file_id, caption),)
    if message.video_note is not None:
        return (Media("video", message.video_note.file_id),)
    if message.sticker is not None:
        return (Media("sticker", message.sticker.file_id),)
    if message.dice is not None:
        return (Media("sticker", message.dice.emoji),)  # an animated emoji, read as a sticker
    if message.location is not None:  # a venue carries a location too
        location = message.location
        return (Media("location", f"{location.latitude},{location.longitude}"),)
    if message.contact is not None:
        return (Media("contact", message.contact.phone_number),)
    return ()


def _command_without_bot_name(text: str) -> str:
    """``/help@OwnerDeskBot`` → ``/help``: Telegram clients add the name after a tap."""
    if not text.startswith("/"):
        return text
    head, _, rest = text.partition(" ")
    command = head.split("@", 1)[0]
    return f"{command} {rest}".rstrip() if rest else command


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` is an int or a timedelta depending on ``PTB_TIMEDELTA`` (and warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
