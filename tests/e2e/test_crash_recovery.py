"""Nothing lost, nothing twice: the service is killed (SIGKILL) after an owner's message
was stored and answered but before the answer reached Telegram; after a restart the
answer goes out exactly once."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.fakes.server import serve
from tests.fakes.telegram_api import TOKEN, FakeTelegramThread, FakeUser

DEMO_OWNER = 900001


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


def wait_until(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_a_reply_pending_at_a_crash_is_sent_once_after_restart(tmp_path: Path) -> None:
    with FakeTelegramThread() as fake:
        env = {"OWNERDESK_TELEGRAM_TOKEN": TOKEN, "OWNERDESK_TELEGRAM_BASE_URL": fake.base_url}
        db = tmp_path / "ownerdesk.db"
        fake.fail(100_000, status=502)  # Telegram is down: replies stay in the outbox
        with serve(tmp_path, extra_env=env) as first:
            owner = FakeUser(fake, DEMO_OWNER, "张伟", "zh-hans")
            update = owner.message_update(text="物业费怎么交？")
            fake.updates.append(update)
            wait_until(
                lambda: (
                    rows(
                        db,
                        "SELECT count(*) FROM messages WHERE direction='in' AND processed_at IS NOT NULL AND channel='telegram'",
                    )[0][0]
                    == 1
                )
            )
            wait_until(
                lambda: (
                    rows(
                        db,
                        f"SELECT count(*) FROM outbox WHERE chat_id='{DEMO_OWNER}' AND attempts > 0",
                    )[0][0]
                    >= 1
                )
            )
            first.kill()
        assert fake.to(DEMO_OWNER) == []
        fake.faults.clear()  # Telegram is back
        with serve(tmp_path, extra_env=env):
            # The retry is due by the backoff of the attempts before the kill (2 s, 4 s, 8 s…).
            wait_until(lambda: len(fake.to(DEMO_OWNER)) >= 1, timeout=90)
            time.sleep(2)  # long enough for a duplicate to show up, if there were one
            wait_until(
                lambda: (
                    rows(
                        db,
                        f"SELECT count(*) FROM outbox WHERE chat_id='{DEMO_OWNER}' AND state != 'sent'",
                    )[0][0]
                    == 0
                )
            )
    sent = fake.to(DEMO_OWNER)
    assert len(sent) == 1 and "2.80 元/平方米/月" in sent[0].text
    assert (
        rows(db, "SELECT count(*) FROM messages WHERE direction='in' AND channel='telegram'")[0][0]
        == 1
    )
