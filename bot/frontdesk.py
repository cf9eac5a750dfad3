"""The front desk that never sleeps: every channel hands it ``InboundMessage`` values.

1. ``receive`` stores the message (one transaction) before anything is acknowledged;
   a platform's retry of the same message is recognised and dropped.
2. ``process`` runs the dialog and writes the replies to the outbox in the same
   transaction as the new conversation state, then marks the message answered.
3. ``recover`` answers messages stored before a crash but never processed.
Delivery is the outbox worker's job (bot/channels/delivery.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from backend.db import Database
from backend.i18n import normalize_lang
from backend.messaging import (
    MESSAGES,
    InboundMessage,
    Media,
    OutboundMessage,
    enqueue,
    identity_for,
    record_inbound,
    stored_text,
    unprocessed,
)
from backend.models import ChannelIdentity, Conversation, Estate, Message, Owner, Ticket, utcnow
from bot.dialogs import router
from bot.dialogs.context import Services, Turn

log = logging.getLogger(__name__)

# Statements of every message, built once (see backend.messaging.IDENTITY_BY_ACCOUNT).
CONVERSATION_OF = select(Conversation).where(Conversation.identity_id == bindparam("identity"))
OWNER_AND_ESTATE = (
    select(Owner, Estate)
    .join(Estate, Estate.id == Owner.estate_id)
    .where(Owner.id == bindparam("owner"))
)
MARK_ANSWERED = update(MESSAGES).where(MESSAGES.c.id == bindparam("answered_id"))


@dataclass(frozen=True)
class Reply:
    message: OutboundMessage
    message_id: int | None  # the stored outgoing message (web chat polls by it)


@dataclass(frozen=True)
class Handled:
    message_id: int | None  # None: a duplicate of a message already handled
    replies: tuple[Reply, ...] = ()
    ticket_number: str | None = None


class FrontDesk:
    def __init__(
        self,
        db: Database,
        services: Services,
        clock: Callable[[], datetime] = utcnow,
        *,
        delivered_on_write: Collection[str] = (),
    ) -> None:
        self.db = db
        self.services = services
        self.clock = clock
        # Channels that show what is written (the web chat): replies are stored as sent.
        self.delivered_on_write = frozenset(delivered_on_write)
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(self, inbound: InboundMessage) -> Handled:
        """Store and answer in one transaction, committed before the caller acknowledges.

        A crash before the commit loses nothing: the platform was not answered and
        sends the message again (or the web-chat client sees the error and retries).
        """
        async with self._locks[(inbound.channel, inbound.user_id)], self.db.session() as session:
            # Holding the identity keeps it in the session's (weak) identity map: the
            # answer reads it again, and would otherwise select it a second time.
            identity, message_id = await self._store(session, inbound)
            if message_id is None:
                return Handled(None)
            # Just stored in this transaction: answer from what we hold, no second read.
            stored = replace(inbound, text=stored_text(inbound.text))
            return await self._answer(session, message_id, identity, stored)

    async def handle_stored_first(
        self, inbound: InboundMessage, stored: asyncio.Future[int | None]
    ) -> Handled:
        """Commit the message, resolve ``stored``, then answer in a second transaction.

        For a channel that must acknowledge before the answer is ready (WeChat wants an
        HTTP answer within 5 s): once ``stored`` is resolved the message is safe, and a
        crash before the answer leaves it to ``recover``.
        """
        async with self._locks[(inbound.channel, inbound.user_id)]:
            try:
                message_id = await self.receive(inbound)
            except BaseException as exc:
                if not stored.done():
                    stored.set_exception(exc)
                raise
            stored.set_result(message_id)
            if message_id is None:
                return Handled(None)
            return await self.process(message_id)

    async def receive(self, inbound: InboundMessage) -> int | None:
        """Only store (a channel that must acknowledge at once); ``process`` answers later."""
        async with self.db.session() as session:
            return (await self._store(session, inbound))[1]

    async def process(self, message_id: int) -> Handled:
        async with self.db.session() as session:
            message = await session.get(Message, message_id, with_for_update=not self.db.is_sqlite)
            if message is None or message.processed_at is not None:
                return Handled(message_id)
            identity = await session.get(ChannelIdentity, message.identity_id)
            assert identity is not None
            return await self._answer(session, message_id, identity, _inbound_of(message, identity))

    async def _store(
        self, session: AsyncSession, inbound: InboundMessage
    ) -> tuple[ChannelIdentity, int | None]:
        identity = await identity_for(
            session, inbound.channel, inbound.user_id, display_name=inbound.display_name
        )
        if identity.language is None and inbound.language_hint:
            identity.language = normalize_lang(inbound.language_hint)
        return identity, await record_inbound(session, identity, inbound)

    async def _answer(
        self,
        session: AsyncSession,
        message_id: int,
        identity: ChannelIdentity,
        inbound: InboundMessage,
    ) -> Handled:
        turn = await self._turn(session, message_id, identity, inbound)
        try:
            await router.route(turn)
        except Exception:
            log.exception("dialog failed on message %s", message_id)
            turn.replies[:] = [OutboundMessage(turn.tr("error.sorry"))]
        turn.conversation.updated_at = turn.now
        # Flows edit nested dicts in place; make sure the JSON column is written.
        flag_modified(turn.conversation, "data")
        replies: list[Reply] = []
        for index, reply in enumerate(turn.replies):
            stored = await enqueue(
                session,
                key=f"reply:{message_id}:{index}",
                identity=turn.identity,
                message=reply,
                ticket_id=turn.ticket_id,
                language=turn.lang,
                delivered=turn.identity.channel in self.delivered_on_write,
            )
            replies.append(Reply(reply, stored))
        answered: dict[str, object] = {
            "answered_id": message_id,
            "language": turn.lang,
            "processed_at": turn.now,
        }
        if turn.ticket_id is not None:
            answered["ticket_id"] = turn.ticket_id
        if turn.understood is not None:
            answered["intent"] = "urgent" if turn.understood.urgent else turn.understood.kind
        await session.execute(MARK_ANSWERED, answered)
        number = None
        if turn.ticket_id is not None:
            ticket = await session.get(Ticket, turn.ticket_id)
            number = ticket.number if ticket else None
        return Handled(message_id, tuple(replies), number)

    async def recover(self, older_than: timedelta = timedelta(seconds=5)) -> int:
        """Answer messages that were stored but never processed; returns how many."""
        async with self.db.session() as session:
            pending = [m.id for m in await unprocessed(session, self.clock() - older_than)]
        for message_id in pending:
            await self.process(message_id)
        if pending:
            log.warning("recovered %d unanswered message(s)", len(pending))
        return len(pending)

    async def _turn(
        self,
        session: AsyncSession,
        message_id: int,
        identity: ChannelIdentity,
        inbound: InboundMessage,
    ) -> Turn:
        conversation = await session.scalar(CONVERSATION_OF, {"identity": identity.id})
        if conversation is None:
            conversation = Conversation(
                identity_id=identity.id, data={}, updated_at=inbound.received_at
            )
            session.add(conversation)
            await session.flush()
        owner, estate = None, None
        if identity.owner_id:  # one statement for both: every message of a bound owner needs them
            row = (await session.execute(OWNER_AND_ESTATE, {"owner": identity.owner_id})).first()
            if row is not None:
                owner, estate = row
        language = identity.language or (owner.language if owner else None)
        return Turn(
            session=session,
            services=self.services,
            inbound=inbound,
            message_id=message_id,
            identity=identity,
            conversation=conversation,
            owner=owner,
            estate=estate,
            lang=normalize_lang(language),
            now=self.clock(),
        )


def _inbound_of(message: Message, identity: ChannelIdentity) -> InboundMessage:
    """The stored message as a channel handed it over (recovery after a crash)."""
    return InboundMessage(
        channel=message.channel,
        user_id=identity.external_id,
        chat_id=identity.external_id,
        platform_message_id=message.platform_message_id or str(message.id),
        text=message.text,
        value=message.media.get("value"),
        media=tuple(Media(**m) for m in message.media.get("items", [])),
        event=message.media.get("event"),
        received_at=message.created_at,
    )
