"""The rows of a simulated month and what the simulator knows it wrote (``Truth``);
the lifecycles that fill them are in ``backend.reports.simulate``."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from backend.calendar import WorkCalendar
from backend.sla import PROMISES_BY_KEY, due_at
from backend.vocabulary import MAJOR_REPAIR_CATEGORIES, DeadlineState, RepairCategory

KINDS = (("repair", 0.6), ("complaint", 0.3), ("enquiry", 0.1))
CHANNELS = (
    ("wechat", 0.45),
    ("webchat", 0.2),
    ("telegram", 0.1),
    ("console", 0.15),
    ("phone", 0.1),
)
LOCATIONS = (
    "bathroom",
    "kitchen",
    "balcony",
    "living_room",
    "bedroom",
    "roof",
    "terrace",
    "corridor",
    "public_area",
)
TOPICS = ("noise", "parking", "fees", "renovation", "pets", "security", "staff_service", "rubbish")
SCORES = ((5, 0.45), (4, 0.3), (3, 0.12), (2, 0.08), (1, 0.05))
# Where a missed step leaves no other promise hanging: only these may be "never" kept.
NEVER_OK = frozenset(
    {
        "repair.dispatch",
        "repair.on_site",
        "repair.callback",
        "complaint.reply",
        "complaint.closure_callback",
    }
)


@dataclass(frozen=True)
class Plan:
    tickets: int
    start: datetime  # UTC [start, end): when the tickets are opened
    end: datetime
    now: datetime  # the simulated clock stops here
    seed: int = 1
    delay_share: float = 0.04  # share of deadlines where staff are injected late or absent
    never_share: float = 0.4  # of those, the share never kept (where allowed)
    lost_share: float = 0.01  # owner messages that never became a ticket
    tag: str = "S"  # keeps ticket numbers of several runs apart


@dataclass
class Truth:
    """What the generator knows it wrote, to check the report against."""

    tickets: Counter[str] = field(default_factory=Counter)  # by kind, opened in the period
    sla: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    injected: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    ratings: Counter[str] = field(default_factory=Counter)  # repair ratings: all, satisfied
    messages: Counter[str] = field(default_factory=Counter)  # all, recorded
    rows: Counter[str] = field(default_factory=Counter)  # rows inserted per table


class _Weighted:
    """A fixed weighted choice, with its cumulative weights worked out once."""

    def __init__(self, weighted: tuple[tuple[Any, float], ...]) -> None:
        self.values = [v for v, _ in weighted]
        self.cum = [sum(w for _, w in weighted[: i + 1]) for i in range(len(weighted))]

    def __call__(self, rng: random.Random) -> Any:
        return rng.choices(self.values, cum_weights=self.cum)[0]


_KIND, _CHANNEL, SCORE = _Weighted(KINDS), _Weighted(CHANNELS), _Weighted(SCORES)
_CATEGORIES = [c.value for c in RepairCategory]


class Rows:
    """The rows of a simulated month, built in memory (ticket ids are filled in after the
    tickets are inserted), with the steps every lifecycle uses; ``Month`` adds the lifecycles.
    """

    def __init__(self, plan: Plan, zone: ZoneInfo, targets: list[tuple[int, int, int]]) -> None:
        self.plan, self.zone, self.targets = plan, zone, targets
        self.rng = random.Random(plan.seed)
        self.cal = WorkCalendar()
        self.tickets: list[dict[str, Any]] = []
        self.deadlines: list[tuple[int, dict[str, Any]]] = []
        self.of_ticket: dict[int, list[int]] = defaultdict(list)  # ticket → its deadlines
        self.injected: dict[int, str] = {}  # deadline index → late | never
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.ratings: list[tuple[int, dict[str, Any]]] = []
        self.messages: list[tuple[int | None, dict[str, Any]]] = []
        self.tasks: list[tuple[int, dict[str, Any]]] = []
        # Opening times in order, so ids follow time as they do in a real database.
        span = plan.end - plan.start
        self.opened = sorted(plan.start + span * self.rng.random() for _ in range(plan.tickets))

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def move(self, t: int, state: str, at: datetime, action: str = "transition") -> None:
        ticket = self.tickets[t]
        self.events.append((t, self._event(action, at, ticket["state"], state)))
        ticket["state"], ticket["updated_at"] = state, at

    @staticmethod
    def _event(action: str, at: datetime, before: str | None, after: str) -> dict[str, Any]:
        return {
            "at": at,
            "actor_kind": "staff",
            "actor_id": None,
            "actor_name": "sim",
            "action": action,
            "from_state": before,
            "to_state": after,
            "note": "",
            "data": {},
        }

    def deadline(self, t: int, key: str, started: datetime) -> int:
        promise = PROMISES_BY_KEY[key]
        due = due_at(started, promise.amount, promise.span, self.zone, self.cal)
        self.deadlines.append(
            (
                t,
                {
                    "promise": key,
                    "started_at": started,
                    "due_at": due,
                    "state": DeadlineState.PENDING.value,
                    "met_at": None,
                    "breached_at": None,
                    "warned_at": None,
                    "escalation_level": 0,
                },
            )
        )
        self.of_ticket[t].append(len(self.deadlines) - 1)
        return len(self.deadlines) - 1

    def act(self, d: int, normal: datetime) -> datetime | None:
        """When staff keep deadline ``d``: at ``normal``, or late, or never (injected)."""
        row = self.deadlines[d][1]
        if self.rng.random() < self.plan.delay_share:
            if row["promise"] in NEVER_OK and self.rng.random() < self.plan.never_share:
                self.injected[d] = "never"
                return None
            self.injected[d] = "late"
            return row["due_at"] + self.minutes(1, 60)
        return normal

    def keep(self, d: int, at: datetime) -> None:
        row = self.deadlines[d][1]
        row["met_at"] = at
        if at <= row["due_at"]:
            row["state"] = DeadlineState.MET.value
        else:
            row["state"], row["breached_at"] = DeadlineState.BREACHED.value, row["due_at"]

    def happened(self, at: datetime | None) -> bool:
        return at is not None and at <= self.plan.now

    def ticket(self, n: int) -> int:
        plan, rng = self.plan, self.rng
        kind = _KIND(rng)
        unit_id, estate_id, owner_id = rng.choice(self.targets)
        created = self.opened[n]
        category = rng.choice(_CATEGORIES) if kind == "repair" else None
        self.tickets.append(
            {
                "company_id": 0,
                "estate_id": estate_id,
                "unit_id": unit_id,
                "owner_id": owner_id,
                "number": f"{kind[0].upper()}-{plan.start:%Y%m}-{plan.tag}{n:06d}",
                "kind": kind,
                "state": {"repair": "received", "complaint": "accepted"}.get(kind, "open"),
                "channel": _CHANNEL(rng),
                "category": category,
                "topic": rng.choice(TOPICS) if kind == "complaint" else None,
                "location": rng.choice(LOCATIONS) if kind == "repair" else "",
                "item": "",
                "summary": f"simulated {kind} {n}",
                "description": "",
                "contact_phone": "",
                "preferred_time": "",
                "language": "zh",
                "urgent": False,
                "key_owner": False,
                "unverified": False,
                "major": category in MAJOR_REPAIR_CATEGORIES,
                "escalation_level": 0,
                "is_repeat": False,
                "reopen_count": 0,
                "cancel_reason": "",
                "attachments": [],
                "created_at": created,
                "updated_at": created,
                "dispatched_at": None,
                "resolved_at": None,
                "closed_at": None,
            }
        )
        t = len(self.tickets) - 1
        self.events.append((t, self._event("created", created, None, self.tickets[t]["state"])))
        if kind != "enquiry":
            said = created - self.minutes(0.5, 5)
            intent = "urgent" if kind == "repair" and rng.random() < 0.05 else kind
            linked = t if rng.random() < 0.7 else None
            self.messages.append((linked, self._message(said, intent, owner_id)))
        if rng.random() < plan.lost_share:  # asked, never recorded: nobody to match it with
            self.messages.append((None, self._message(created, "repair", None)))
        self.walk(kind, t, created)
        return t

    def walk(self, kind: str, t: int, start: datetime) -> None:
        raise NotImplementedError

    def _message(self, at: datetime, intent: str, owner_id: int | None) -> dict[str, Any]:
        return {
            "channel": "webchat",
            "platform_message_id": f"sim-{self.plan.tag}-{len(self.messages)}",
            "direction": "in",
            "owner_id": owner_id,
            "text": "simulated",
            "created_at": at,
            "processed_at": at,
            "intent": intent,
            "media": {},
        }

    def truth(self) -> Truth:
        plan, truth = self.plan, Truth()

        def in_period(at: datetime) -> bool:
            return plan.start <= at < min(plan.end, plan.now)

        for row in self.tickets:
            if in_period(row["created_at"]):
                truth.tickets[row["kind"]] += 1
        for index, (_t, row) in enumerate(self.deadlines):
            if not plan.start <= row["due_at"] < plan.end or row["state"] == "cancelled":
                continue
            met, due = row["met_at"], row["due_at"]
            outcome = (
                ("met" if met <= due else "late")
                if met is not None
                else ("open" if due < plan.now else "pending")
            )
            truth.sla[row["promise"]][outcome] += 1
            if index in self.injected:
                truth.injected[row["promise"]][self.injected[index]] += 1
        for t, row in self.ratings:
            if self.tickets[t]["kind"] == "repair" and in_period(row["created_at"]):
                truth.ratings["all"] += 1
                truth.ratings["satisfied"] += int(row["score"] >= 4)
        for _linked, row in self.messages:
            if in_period(row["created_at"]):
                truth.messages["all"] += 1
                truth.messages["recorded"] += int(row["owner_id"] is not None)
        return truth
