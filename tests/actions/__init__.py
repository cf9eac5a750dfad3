"""Helpers for the rasa-sdk action tests: Rasa's action-call payload and binding a
Rasa sender id to a demo owner (what a site's own verification does)."""

from __future__ import annotations

import uuid
from typing import Any

import rasa_sdk
from sqlalchemy import select

from backend.db import Database
from backend.models import Owner, Ticket
from bot.actions.binding import bind_sender

ZHANG = "13800138000"  # 张伟, DEMO-A A-1-101, zh
EMILY = "+6591234567"  # Emily Chen, DEMO-B B-1-101, en
SLOTS = ("description", "location", "item", "visit_time", "phone", "ticket_number", "kb_key")


async def bind(db: Database, sender_id: str, phone: str) -> int:
    """Bind the Rasa sender to the demo owner with ``phone`` (as a site does once it has
    verified them); returns the owner id."""
    async with db.session() as s:
        owner = await s.scalar(select(Owner).where(Owner.phone == phone))
        assert owner is not None
        await bind_sender(s, sender_id, owner.id)
        return owner.id


async def tickets_of_sender(db: Database, sender_id: str) -> list[Ticket]:
    from backend.models import ChannelIdentity

    async with db.session() as s:
        rows = await s.scalars(
            select(Ticket)
            .join(ChannelIdentity, ChannelIdentity.id == Ticket.identity_id)
            .where(ChannelIdentity.channel == "rasa", ChannelIdentity.external_id == sender_id)
            .order_by(Ticket.id)
        )
        return list(rows)


def action_call(
    action: str,
    sender_id: str,
    text: str,
    *,
    intent: str = "report_repair",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What Rasa POSTs to the action endpoint after the owner said ``text``."""
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": 0.97}],
        "message_id": uuid.uuid4().hex,
        "metadata": {},
    }
    filled = {name: None for name in SLOTS} | (slots or {})
    return {
        "next_action": action,
        "sender_id": sender_id,
        "version": rasa_sdk.__version__,
        "domain_digest": "test",
        "domain": {
            "version": "3.1",
            "intents": [intent],
            "entities": ["location", "item", "visit_time", "phone"],
            "slots": {name: {"type": "any", "mappings": []} for name in SLOTS},
            "responses": {},
            "actions": [action],
        },
        "tracker": {
            "sender_id": sender_id,
            "slots": filled,
            "latest_message": parse,
            "latest_event_time": 1_750_000_000.0,
            "followup_action": None,
            "paused": False,
            "events": [
                {"event": "action", "timestamp": 1_749_999_999.0, "name": "action_listen"},
                {"event": "user", "timestamp": 1_750_000_000.0, "text": text, "parse_data": parse},
            ],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
    }


def texts(result: dict[str, Any]) -> list[str]:
    return [r["text"] for r in result["responses"]]


def slots_set(result: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}
