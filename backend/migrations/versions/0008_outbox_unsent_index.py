"""outbox: a partial index on the rows still to send

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 04:20:00.000000

The delivery worker's claim read the (channel, chat_id, id) index over every row ever
sent: 3 ms with 3,000 rows, and growing with the table. The partial index holds only
pending and sending rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSENT = "state IN ('pending', 'sending')"


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_chat')
        batch_op.create_index(
            'ix_outbox_unsent',
            ['channel', 'chat_id', 'id'],
            unique=False,
            sqlite_where=sa.text(UNSENT),
            postgresql_where=sa.text(UNSENT),
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unsent')
        batch_op.create_index('ix_outbox_chat', ['channel', 'chat_id', 'id'], unique=False)
