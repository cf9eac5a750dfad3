"""The web chat turns a message away at once rather than answer it too late."""

from __future__ import annotations

import logging

import pytest

from bot.channels.admission import MIN_IN_FLIGHT, MIN_SAMPLES, SAMPLES, UNLEARNT, Admission, Pass


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answer(gate: Admission, clock: Clock, queue: list[Pass], pace: float, count: int) -> None:
    """The desk answers the oldest message in flight every ``pace`` seconds."""
    for _ in range(count):
        clock.now += pace
        gate.leave(queue.pop(0))


def learnt(pace: float, max_wait: float = 1.0) -> tuple[Admission, Clock]:
    """A gate that has seen the desk answer SAMPLES messages, one every ``pace`` s."""
    clock = Clock()
    gate = Admission(max_wait=max_wait, clock=clock)
    for _ in range(SAMPLES):
        admitted = gate.enter()
        assert admitted is not None
        clock.now += pace
        gate.leave(admitted)
    return gate, clock


def test_a_quiet_desk_takes_every_message() -> None:
    clock = Clock()
    gate = Admission(max_wait=2.0, clock=clock)
    for _ in range(2 * SAMPLES):
        admitted = gate.enter()
        assert admitted is not None
        clock.now += 0.01
        gate.leave(admitted)
        clock.now += 5  # idle time between messages is not counted as work
    assert gate.pace == pytest.approx(0.01)


def test_a_flood_is_turned_away_once_the_wait_would_pass_the_limit() -> None:
    gate, clock = learnt(pace=0.01, max_wait=1.0)
    taken = [t for t in (gate.enter() for _ in range(400)) if t is not None]
    assert len(taken) == 100  # 100 in flight × 10 ms = the one second an owner may wait
    assert gate.enter() is None
    assert gate.retry_after() == 1
    answer(gate, clock, taken, 0.01, 30)  # as the desk answers, room opens again
    assert len([t for t in (gate.enter() for _ in range(400)) if t is not None]) == 30


def test_before_the_pace_is_known_a_fixed_number_is_taken() -> None:
    """The first messages after start-up (a cold cache) are not judged by their pace..."""
    clock = Clock()
    gate = Admission(max_wait=0.5, clock=clock)
    queue = [t for t in (gate.enter() for _ in range(500)) if t is not None]
    assert len(queue) == UNLEARNT  # ...but a flood at start-up does not fill the desk
    answer(gate, clock, queue, 3.0, MIN_SAMPLES - 1)  # very slow, but too few to judge
    assert gate.enter() is not None
    answer(gate, clock, queue, 0.01, 1)  # a few answers are enough to judge
    assert gate.enter() is None


def test_a_pause_now_and_then_does_not_move_the_pace() -> None:
    gate, clock = learnt(pace=0.01)
    queue = [t for t in (gate.enter() for _ in range(20)) if t is not None]
    answer(gate, clock, queue, 2.0, 3)  # three garbage-collector pauses
    assert gate.pace == pytest.approx(0.01)


def test_few_in_flight_are_never_turned_away() -> None:
    gate, _ = learnt(pace=5.0, max_wait=0.5)
    assert all(gate.enter() is not None for _ in range(MIN_IN_FLIGHT))
    assert gate.enter() is None


def test_zero_takes_everything() -> None:
    gate, _ = learnt(pace=5.0, max_wait=0)
    assert all(gate.enter() is not None for _ in range(1000))


def test_turning_away_is_logged_but_not_for_every_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate, clock = learnt(pace=1.0, max_wait=0.1)
    for _ in range(MIN_IN_FLIGHT):
        gate.enter()
    with caplog.at_level(logging.WARNING, logger="bot.channels.admission"):
        for _ in range(500):
            assert gate.enter() is None
        clock.now += 11
        assert gate.enter() is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and "turned away 1 message" in lines[0]
    assert "turned away 500 message" in lines[1]
    assert gate.health() == {
        "in_flight": MIN_IN_FLIGHT,
        "ms_a_message": 1000.0,
        "max_wait_s": 0.1,
        "turned_away": 501,
    }
