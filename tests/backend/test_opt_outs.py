"""Opting out withdraws what is already queued of that kind, and only that."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import opt_outs
from backend.bulk_outbox import Outgoing, enqueue_many
from backend.messaging import Button, OutboundMessage, identity_for
from backend.models import OutboxItem
from tests.factories import World

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


async def queue(session: AsyncSession, world: World) -> dict[str, OutboxItem]:
    identity = await identity_for(session, "webchat", "opt")
    identity.owner_id = world.owner.id
    await session.flush()

    def item(key: str, kind: str | None) -> Outgoing:
        buttons = (Button("退订", f"unsubscribe:{kind}"),) if kind else ()
        return Outgoing(
            key=key,
            channel="webchat",
            chat_id="opt",
            identity_id=identity.id,
            owner_id=world.owner.id,
            message=OutboundMessage(key, buttons=buttons),
            not_before=NOW,
        )

    await enqueue_many(
        session,
        [
            item("campaign:1:owner", "campaign"),
            item("campaign:2:owner", "campaign"),
            item("care:birthday", "birthday"),
            item("ticket:update", None),
        ],
    )
    return {r.idempotency_key: r for r in await session.scalars(select(OutboxItem))}


async def test_an_unsubscribe_withdraws_that_kind_only(session: AsyncSession, world: World) -> None:
    rows = await queue(session, world)
    rows["campaign:2:owner"].state = "sending"  # already on its way: left alone
    assert await opt_outs.opt_out(session, world.owner, "campaign") == 1
    assert world.owner.care_opt_outs == ["campaign"]
    assert {k: r.state for k, r in rows.items()} == {
        "campaign:1:owner": "cancelled",
        "campaign:2:owner": "sending",
        "care:birthday": "pending",
        "ticket:update": "pending",
    }


async def test_staff_adding_an_opt_out_withdraws_it_too(
    session: AsyncSession, world: World
) -> None:
    rows = await queue(session, world)
    world.owner.care_opt_outs = ["campaign"]
    assert await opt_outs.set_opt_outs(session, world.owner, ["campaign", "birthday"]) == 1
    assert rows["care:birthday"].state == "cancelled"
    assert rows["campaign:1:owner"].state == "pending"  # not newly refused: untouched here
