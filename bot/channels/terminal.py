"""``ownerdesk chat``: talk to the front desk in a terminal as a demo owner.

Buttons are shown as numbered options; typing the number presses the button.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TextIO

from backend.composition import build_runtime
from backend.db import Database
from backend.i18n import t
from backend.messaging import Button, InboundMessage
from backend.settings import Settings

SESSIONS = {"zh": "demo-session", "en": "demo-session-b"}


def _render(text: str, buttons: tuple[Button, ...], out: TextIO) -> list[Button]:
    out.write(f"🤖 {text}\n")
    for number, button in enumerate(buttons, start=1):
        out.write(f"   [{number}] {button.label}\n")
    return list(buttons)


async def chat(
    settings: Settings, lang: str, inp: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> None:
    db = Database(settings.database_url)
    runtime = build_runtime(settings, db)
    session = SESSIONS.get(lang, SESSIONS["zh"])
    offered: list[Button] = []
    prompt = t(lang, "terminal.prompt")
    out.write(t(lang, "terminal.leave") + "\n")
    try:
        first = True
        while True:
            if first:
                text, value = "", "/start"
                first = False
            else:
                out.write(f"{prompt}> ")
                out.flush()
                line = await asyncio.to_thread(inp.readline)
                if not line:
                    break
                text, value = line.rstrip("\n"), None
                if text.strip().isdigit() and 0 < int(text) <= len(offered):
                    chosen = offered[int(text) - 1]
                    text, value = chosen.label, chosen.value
            handled = await runtime.desk.handle(
                InboundMessage(
                    "webchat", session, session, f"cli-{uuid.uuid4().hex}", text=text, value=value
                )
            )
            if handled.replies:
                offered = []
            for reply in handled.replies:
                offered += _render(reply.message.text, reply.message.buttons, out)
            await runtime.worker.run_once()
    finally:
        await db.dispose()
