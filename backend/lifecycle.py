"""Ticket lifecycles as explicit state machines (DESIGN.md, "Ticket lifecycles").

Pure data and checks: no database. ``backend.tickets`` applies them and logs each move.

State names are milestones reached:

- repair: received → dispatched (named responsible person) → on_site → done (work
  finished) → callback (owner called back, rating asked) → closed.
- complaint (受理 确认 评估 调查 回复 跟踪关闭 回访 反馈): accepted → confirmed →
  assessed → investigating → replied → tracking (tracked to closure: the complaint is
  closed) → callback (owner called back) → closed (feedback recorded).
- enquiry: open → answered → closed.

Any open ticket may be cancelled with a reason; closed (and, for a failed callback,
callback) tickets may be reopened, which sends them back to the first working state.
"""

from __future__ import annotations

from collections.abc import Mapping

from backend.errors import IllegalTransition, InvalidInput
from backend.vocabulary import Kind

CANCELLED = "cancelled"
CLOSED = "closed"

FLOWS: Mapping[Kind, tuple[str, ...]] = {
    Kind.REPAIR: ("received", "dispatched", "on_site", "done", "callback", CLOSED),
    Kind.COMPLAINT: (
        "accepted",
        "confirmed",
        "assessed",
        "investigating",
        "replied",
        "tracking",
        "callback",
        CLOSED,
    ),
    Kind.ENQUIRY: ("open", "answered", CLOSED),
}

# Where a reopened ticket goes back to, and from which states reopening is allowed.
REOPEN_TO: Mapping[Kind, str] = {
    Kind.REPAIR: "received",
    Kind.COMPLAINT: "investigating",
    Kind.ENQUIRY: "open",
}
REOPEN_FROM: Mapping[Kind, frozenset[str]] = {
    Kind.REPAIR: frozenset({"callback", CLOSED}),
    Kind.COMPLAINT: frozenset({"callback", CLOSED}),
    Kind.ENQUIRY: frozenset({"answered", CLOSED}),
}
# Once the work is done, cancelling would hide a ticket from the callback promise.
CANCELLABLE: Mapping[Kind, frozenset[str]] = {
    Kind.REPAIR: frozenset({"received", "dispatched", "on_site"}),
    Kind.COMPLAINT: frozenset({"accepted", "confirmed", "assessed", "investigating", "replied"}),
    Kind.ENQUIRY: frozenset({"open", "answered"}),
}


def as_kind(kind: str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        raise InvalidInput(f"unknown ticket kind {kind!r}") from None


def initial_state(kind: str) -> str:
    return FLOWS[as_kind(kind)][0]


def states(kind: str) -> tuple[str, ...]:
    return (*FLOWS[as_kind(kind)], CANCELLED)


def is_open(kind: str, state: str) -> bool:
    return state not in (CLOSED, CANCELLED)


def next_states(kind: str, state: str) -> list[str]:
    """Every state the ticket may legally move to from ``state``, in the order to offer them."""
    k = as_kind(kind)
    flow = FLOWS[k]
    if state not in flow and state != CANCELLED:
        raise InvalidInput(f"{state!r} is not a state of a {k.value} ticket")
    options: list[str] = []
    if state in flow and state != CLOSED:
        options.append(flow[flow.index(state) + 1])
    if state in REOPEN_FROM[k]:
        options.append(REOPEN_TO[k])
    if state in CANCELLABLE[k]:
        options.append(CANCELLED)
    return options


def is_reopen(kind: str, from_state: str, to_state: str) -> bool:
    k = as_kind(kind)
    return from_state in REOPEN_FROM[k] and to_state == REOPEN_TO[k]


def check_transition(kind: str, from_state: str, to_state: str) -> None:
    """Raise ``IllegalTransition`` unless ``from_state → to_state`` is in the lifecycle."""
    if to_state not in next_states(kind, from_state):
        allowed = ", ".join(next_states(kind, from_state)) or "none (final state)"
        raise IllegalTransition(
            f"a {kind} ticket cannot go from {from_state} to {to_state}; allowed: {allowed}"
        )
