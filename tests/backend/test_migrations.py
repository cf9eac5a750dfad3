"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Base


async def test_models_and_migrations_agree(session: AsyncSession) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, type_, _: (
                    not (type_ == "table" and name == "apscheduler_jobs")
                ),
            },
        )
        return list(compare_metadata(context, Base.metadata))

    connection = await session.connection()
    assert await connection.run_sync(diff) == []
