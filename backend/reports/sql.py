"""The few SQL pieces SQLite and PostgreSQL spell differently: durations, shifted
timestamps, and the median and 90th percentile of durations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column
from sqlalchemy.ext.asyncio import AsyncSession

# Per cent ranks wanted: median and 90th percentile.
MEDIAN, P90 = 50, 90


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later − earlier`` in seconds, as a number both databases can sort."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def shifted(dialect: str, moment: Any, hours: int) -> ColumnElement[Any]:
    """``moment`` plus ``hours`` (may be negative), comparable with stored timestamps.

    SQLite keeps UTC timestamps as ``YYYY-MM-DD HH:MM:SS.ffffff`` text, so the shifted
    value is written in the same shape (to the millisecond) and compares as text.
    """
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M:%f", moment, f"{hours:+d} hours")
    interval: ColumnElement[Any] = literal_column(f"INTERVAL '{abs(int(hours))} hours'")
    return moment + interval if hours >= 0 else moment - interval


@dataclass(frozen=True)
class Spread:
    """Count, median and 90th percentile of one group's durations (seconds)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


def _interpolate(ordered: list[float], percent: int) -> float:
    """Linear interpolation between closest ranks (PostgreSQL's ``percentile_cont``)."""
    position = percent * (len(ordered) - 1) / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (position - low) * (ordered[high] - ordered[low]), 3)


def spread_columns(dialect: str, seconds: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """Aggregates that give a group's ``Spread`` of ``seconds`` (NULLs are left out).

    PostgreSQL has ``percentile_cont``. SQLite has no percentile function, so the
    durations come back as one ``group_concat`` text per group and are sorted here: one
    pass over the rows, no window sort (measured faster than ``row_number()`` in SQLite).
    """
    if dialect == "postgresql":
        return [
            func.count(seconds),
            func.percentile_cont(MEDIAN / 100).within_group(seconds),
            func.percentile_cont(P90 / 100).within_group(seconds),
        ]
    return [func.group_concat(seconds)]


def read_spread(dialect: str, values: Sequence[Any]) -> Spread:
    """The ``Spread`` from the values of ``spread_columns`` in a result row."""
    if dialect == "postgresql":
        count, median, p90 = values
        if not count:
            return Spread()
        return Spread(int(count), round(float(median), 3), round(float(p90), 3))
    (joined,) = values
    if not joined:
        return Spread()
    ordered = sorted(float(x) for x in str(joined).split(","))
    return Spread(len(ordered), _interpolate(ordered, MEDIAN), _interpolate(ordered, P90))
