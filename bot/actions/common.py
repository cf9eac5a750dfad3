"""What every OwnerDesk action knows of a call: who is writing (the Rasa sender id as a
chat account, bound to an owner or not), in which language to answer, and what to say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.ext.asyncio import AsyncSession

from backend.i18n import normalize_lang, t
from backend.messaging import identity_for
from backend.models import ChannelIdentity, Estate, Owner
from bot.actions.runtime import ActionsRuntime
from bot.intents import Understanding

CHANNEL = "rasa"  # channel of the chat accounts (and tickets) that come through Rasa
EventList = list[dict[str, Any]]

_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def language_is_clear(text: str) -> bool:
    """Enough words to tell (as the in-house router): two Chinese characters, or a few
    Latin words and no Chinese. "ok" or a bare ticket number says nothing."""
    chinese = len(_HAN.findall(text))
    return chinese >= 2 or (chinese == 0 and len(_LATIN_WORD.findall(text)) >= 2)


def latest_text(tracker: Tracker) -> str:
    """The owner's words; a button payload such as ``/repair{...}`` is not words."""
    text = str((tracker.latest_message or {}).get("text") or "").strip()
    return "" if text.startswith("/") else text


@dataclass
class Caller:
    """The person behind the Rasa sender id, as OwnerDesk knows them."""

    identity: ChannelIdentity
    owner: Owner | None  # None until the site binds the sender to a verified owner
    estate: Estate | None
    text: str
    lang: str
    now: datetime
    tracker: Tracker
    runtime: ActionsRuntime
    _meanings: dict[str, Understanding] = field(default_factory=dict)

    def understand(self, text: str | None = None) -> Understanding:
        """What a message means (the latest one by default), read once per action."""
        text = self.text if text is None else text
        if text not in self._meanings:
            self._meanings[text] = self.runtime.understand(text)
        return self._meanings[text]

    def slot(self, name: str) -> str:
        return slot_text(self.tracker, name)


async def load_caller(session: AsyncSession, tracker: Tracker, rt: ActionsRuntime) -> Caller:
    identity = await identity_for(session, CHANNEL, str(tracker.sender_id))
    owner = await session.get(Owner, identity.owner_id) if identity.owner_id else None
    estate = await session.get(Estate, owner.estate_id) if owner else None
    text = latest_text(tracker)
    caller = Caller(identity, owner, estate, text, "zh", rt.clock(), tracker, rt)
    if text and language_is_clear(text):
        caller.lang = caller.understand().lang
        identity.language = caller.lang  # remembered for messages that don't say
    else:
        caller.lang = normalize_lang(identity.language or (owner.language if owner else None))
    return caller


def slot_text(tracker: Tracker, name: str) -> str:
    value = tracker.get_slot(name)
    return "" if value is None else str(value).strip()


@dataclass
class Replies:
    """Texts to utter once the unit of work has committed; safety advice is uttered
    even if it fails, since an emergency is never held up by our own trouble (kept as
    keys, so it is said in the language known last)."""

    lang: str = "zh"
    texts: list[str] = field(default_factory=list)
    safety: list[str] = field(default_factory=list)

    def tr(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)

    def say(self, key: str, **params: object) -> None:
        self.texts.append(self.tr(key, **params))

    def say_text(self, text: str) -> None:
        self.texts.append(text)

    def advise(self, key: str) -> None:
        self.safety.append(key)

    def advice(self) -> list[str]:
        return [self.tr(key) for key in self.safety]
