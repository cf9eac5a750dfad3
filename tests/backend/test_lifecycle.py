"""Every legal and every illegal transition of the three lifecycles."""

from __future__ import annotations

import itertools

import pytest

from backend import lifecycle
from backend.errors import IllegalTransition, InvalidInput

LEGAL = {
    "repair": {
        ("received", "dispatched"),
        ("received", "cancelled"),
        ("dispatched", "on_site"),
        ("dispatched", "cancelled"),
        ("on_site", "done"),
        ("on_site", "cancelled"),
        ("done", "callback"),
        ("callback", "closed"),
        ("callback", "received"),  # reopened after a failed callback
        ("closed", "received"),  # reopened
    },
    "complaint": {
        ("accepted", "confirmed"),
        ("confirmed", "assessed"),
        ("assessed", "investigating"),
        ("investigating", "replied"),
        ("replied", "tracking"),
        ("tracking", "callback"),
        ("callback", "closed"),
        ("callback", "investigating"),
        ("closed", "investigating"),
        *(
            (s, "cancelled")
            for s in ("accepted", "confirmed", "assessed", "investigating", "replied")
        ),
    },
    "enquiry": {
        ("open", "answered"),
        ("answered", "closed"),
        ("answered", "open"),
        ("closed", "open"),
        ("open", "cancelled"),
        ("answered", "cancelled"),
    },
}


def all_pairs(kind: str) -> list[tuple[str, str]]:
    states = lifecycle.states(kind)
    return list(itertools.product(states, states))


@pytest.mark.parametrize(
    ("kind", "source", "target"),
    [(k, s, t) for k in LEGAL for s, t in all_pairs(k)],
)
def test_transition_matrix(kind: str, source: str, target: str) -> None:
    if (source, target) in LEGAL[kind]:
        lifecycle.check_transition(kind, source, target)
        assert target in lifecycle.next_states(kind, source)
    else:
        with pytest.raises(IllegalTransition) as err:
            lifecycle.check_transition(kind, source, target)
        assert f"from {source} to {target}" in str(err.value)
        assert target not in lifecycle.next_states(kind, source)


def test_complaint_has_the_eight_steps_of_the_regulations() -> None:
    assert lifecycle.FLOWS[lifecycle.Kind.COMPLAINT] == (
        "accepted",
        "confirmed",
        "assessed",
        "investigating",
        "replied",
        "tracking",
        "callback",
        "closed",
    )


def test_cancelled_is_final() -> None:
    for kind in LEGAL:
        assert lifecycle.next_states(kind, "cancelled") == []


def test_reopen_is_recognised() -> None:
    assert lifecycle.is_reopen("repair", "closed", "received")
    assert lifecycle.is_reopen("repair", "callback", "received")
    assert not lifecycle.is_reopen("repair", "received", "dispatched")


def test_unknown_kind_and_state_are_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="unknown ticket kind"):
        lifecycle.next_states("praise", "open")
    with pytest.raises(InvalidInput, match="not a state"):
        lifecycle.next_states("repair", "answered")


def test_initial_states() -> None:
    assert [lifecycle.initial_state(k) for k in LEGAL] == ["received", "accepted", "open"]
