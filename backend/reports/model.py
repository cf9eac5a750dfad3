"""What a KPI report holds: the KPIs against their targets (DOMAIN.md), SLA rows,
volumes and defects. Plain data, so the console, the CLI and the XLSX export show the same
numbers; ``as_json`` is the CLI's ``--json`` shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Target:
    """A share the company reports against: at least (≥) or at most (≤)."""

    share: Fraction
    at_least: bool = True

    @property
    def sign(self) -> str:
        return "≥" if self.at_least else "≤"

    def as_float(self) -> float:
        return float(self.share)


# DOMAIN.md, "Targets the company reports against".
TARGETS: dict[str, Target] = {
    "tickets_recorded": Target(Fraction(1)),
    "complaint_closure": Target(Fraction(9, 10)),
    "repair_satisfaction": Target(Fraction(3, 4)),
    "accepted_first_time": Target(Fraction(85, 100)),
    "repeat_repairs": Target(Fraction(4, 100), at_least=False),
    "callbacks_done": Target(Fraction(1)),
}
KPI_KEYS: tuple[str, ...] = tuple(TARGETS)


@dataclass(frozen=True)
class Kpi:
    """numerator ÷ denominator against the target; no denominator means no verdict (—)."""

    key: str
    numerator: int
    denominator: int
    parts: dict[str, int] = field(default_factory=dict)  # where the counts come from

    @property
    def target(self) -> Target:
        return TARGETS[self.key]

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def met(self) -> bool | None:
        """Exact (rational) comparison, so 9 of 10 meets "≥ 90 %" without rounding luck."""
        if not self.denominator:
            return None
        share = Fraction(self.numerator, self.denominator)
        return share >= self.target.share if self.target.at_least else share <= self.target.share

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "target": self.target.as_float(),
            "comparison": ">=" if self.target.at_least else "<=",
            "met": self.met,
            "parts": self.parts,
        }


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


@dataclass(frozen=True)
class SlaRow:
    """One promise: its deadlines due in the period, by outcome (cancelled ones left out).

    ``late`` were kept after the due time, ``open`` are past due and still not kept,
    ``pending`` are not due yet (only in a period that has not ended); the rate is
    met ÷ (met + late + open). Times run from the promise's start to when it was kept.
    """

    promise: str
    kind: str
    met: int = 0
    late: int = 0
    open: int = 0
    pending: int = 0
    median_s: float | None = None
    p90_s: float | None = None

    @property
    def due(self) -> int:
        return self.met + self.late + self.open + self.pending

    @property
    def breached(self) -> int:
        return self.late + self.open

    @property
    def rate(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None

    def as_json(self) -> dict[str, Any]:
        return {
            "promise": self.promise,
            "kind": self.kind,
            "due": self.due,
            "met": self.met,
            "breached": self.breached,
            "late": self.late,
            "open": self.open,
            "pending": self.pending,
            "rate": self.rate,
            "median_minutes": minutes(self.median_s),
            "p90_minutes": minutes(self.p90_s),
        }


@dataclass(frozen=True)
class DefectRow:
    estate: str
    building: str
    location: str
    category: str
    count: int

    def as_json(self) -> dict[str, Any]:
        return {
            "estate": self.estate,
            "building": self.building,
            "location": self.location,
            "category": self.category,
            "count": self.count,
        }


# Volume tables, in the order they are shown and exported.
VOLUME_TABLES = ("kind", "channel", "category", "topic", "estate", "building")


@dataclass
class Volumes:
    """Tickets opened in the period (cancelled ones included), counted by several keys."""

    total: int = 0
    cancelled: int = 0
    tables: dict[str, dict[str, int]] = field(
        default_factory=lambda: {name: {} for name in VOLUME_TABLES}
    )

    def add(self, table: str, key: str, count: int) -> None:
        bucket = self.tables[table]
        bucket[key] = bucket.get(key, 0) + count

    def sorted(self, table: str) -> list[tuple[str, int]]:
        return sorted(self.tables[table].items(), key=lambda kv: (-kv[1], kv[0]))

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "cancelled": self.cancelled,
            **{f"by_{n}": dict(self.sorted(n)) for n in VOLUME_TABLES},
        }


@dataclass(frozen=True)
class Period:
    """Local days ``first``..``last`` (inclusive) as UTC ``[start, end)``; ``as_of`` is
    where "by the end of the period" stops: the end, or now for a period still running."""

    first: date
    last: date
    timezone: str
    start: datetime
    end: datetime
    now: datetime

    @property
    def as_of(self) -> datetime:
        return min(self.end, self.now)

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "as_of": self.as_of.isoformat(),
        }


@dataclass(frozen=True)
class Scope:
    """Which tickets count: one company, optionally some estates, optionally one building.

    ``estate_ids`` None means the whole company, which also takes in chat messages that
    cannot be placed in an estate (an unverified chat account without a ticket).
    ``whole_database``: the whole company is every ticket there is (one company per
    database, the usual case), so queries need not join tickets to check the company.
    """

    company_id: int
    estate_ids: frozenset[int] | None = None
    building_id: int | None = None
    company: str = ""
    estates: tuple[str, ...] = ()
    building: str = ""
    whole_database: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "company": self.company,
            "estates": list(self.estates) if self.estate_ids is not None else None,
            "building": self.building or None,
        }


@dataclass
class KpiReport:
    period: Period
    scope: Scope
    kpis: list[Kpi]
    sla: list[SlaRow]
    volumes: Volumes
    defects: list[DefectRow]

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)

    def sla_row(self, promise: str) -> SlaRow:
        return next(r for r in self.sla if r.promise == promise)

    def defects_by(self, attribute: str) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for row in self.defects:
            key = getattr(row, attribute)
            counts[key] = counts.get(key, 0) + row.count
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.as_json(),
            "scope": self.scope.as_json(),
            "kpis": [k.as_json() for k in self.kpis],
            "sla": [r.as_json() for r in self.sla],
            "volumes": self.volumes.as_json(),
            "defects": [d.as_json() for d in self.defects],
        }
