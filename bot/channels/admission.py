"""Turn a web-chat message away at once when the desk could not answer it in time.

Past its capacity the desk would queue every message and answer each later and later,
until owners' pages gave up on replies that were still coming. Instead a message that
would wait longer than ``max_wait`` is not taken: the page is told to send it again in
a moment (503 with Retry-After; nothing is stored, so nothing is lost or answered
twice), and the messages that are taken keep their pace.

The wait is estimated as messages in flight × the desk's pace, the time it takes a
message. The pace is learnt from departures: the time since the later of the previous
departure and this message's arrival (a busy desk is measured by its rhythm, an idle
one by the message alone), as the median of the last ``SAMPLES``, so a cold cache or a
pause of the garbage collector does not move it. It is known after a few departures;
until then at most ``UNLEARNT`` messages are taken at once, or a flood that starts with
the service would fill the desk with more than it can answer in time: turns share the
event loop, so none departs before many are in.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

SAMPLES = 64  # the pace is the median of the last so many departures...
MIN_SAMPLES = 8  # ...known after so many; until then no more than UNLEARNT in flight
UNLEARNT = 64
MIN_IN_FLIGHT = 8  # with fewer in flight a message is never turned away
MAX_RETRY_AFTER = 5  # seconds; the page adds jitter so retries do not arrive together
LOG_EVERY = 10.0  # seconds between "turned away" log lines while it lasts


@dataclass(frozen=True)
class Pass:
    """One admitted message: hand it back to ``Admission.leave``."""

    arrived: float


class Admission:
    def __init__(self, max_wait: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait  # seconds; 0 or less: take every message
        self.clock = clock
        self.in_flight = 0
        self._samples: deque[float] = deque(maxlen=SAMPLES)
        self._pace: float | None = None  # cached median, None when stale
        self._last_departure = -math.inf
        self._refused = 0  # since the last log line
        self.turned_away = 0  # since start
        self._last_log = -math.inf

    @property
    def pace(self) -> float:
        """Seconds a message, learnt; 0 until enough messages have been answered."""
        if len(self._samples) < MIN_SAMPLES:
            return 0.0
        if self._pace is None:
            self._pace = statistics.median(self._samples)
        return self._pace

    def expected_wait(self) -> float:
        return self.in_flight * self.pace

    def enter(self) -> Pass | None:
        """A pass for a message that may go ahead; None: tell the sender to retry."""
        if self._full():
            self._note_refusal()
            return None
        self.in_flight += 1
        return Pass(self.clock())

    def _full(self) -> bool:
        if self.max_wait <= 0 or self.in_flight < MIN_IN_FLIGHT:
            return False
        if len(self._samples) < MIN_SAMPLES:
            return self.in_flight >= UNLEARNT
        return self.expected_wait() > self.max_wait

    def leave(self, admitted: Pass) -> None:
        now = self.clock()
        self._samples.append(now - max(self._last_departure, admitted.arrived))
        self._pace = None
        self._last_departure = now
        self.in_flight -= 1

    def retry_after(self) -> int:
        """Whole seconds, as the Retry-After header wants them: one to five."""
        return min(MAX_RETRY_AFTER, max(1, round(self.expected_wait() - self.max_wait)))

    def health(self) -> dict[str, object]:
        """For ``/healthz``: how busy the web chat is and how many were told to retry."""
        return {
            "in_flight": self.in_flight,
            "ms_a_message": round(self.pace * 1000, 1),
            "max_wait_s": self.max_wait,
            "turned_away": self.turned_away,
        }

    def _note_refusal(self) -> None:
        self._refused += 1
        self.turned_away += 1
        now = self.clock()
        if now - self._last_log >= LOG_EVERY:
            log.warning(
                "web chat busy: turned away %d message(s) (%d in flight, %.0f ms a message)",
                self._refused,
                self.in_flight,
                self.pace * 1000,
            )
            self._refused = 0
            self._last_log = now
