"""When care messages may go: never in an estate's quiet hours (default 21:00–08:00
local). Urgent ticket messages ignore this; they are not care."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from backend.models import Estate

DEFAULT_QUIET = ("21:00", "08:00")
DEFAULT_CARE_HOUR = "09:00"  # birthdays and holidays arrive at a sensible hour


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def of(cls, estate: Estate) -> QuietHours:
        start, end = estate.settings.get("quiet_hours", DEFAULT_QUIET)
        return cls(_clock(start), _clock(end), ZoneInfo(estate.timezone))

    def is_quiet(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # spans midnight

    def next_allowed(self, moment: datetime) -> datetime:
        """``moment`` itself when allowed, else the end of this quiet period."""
        if not self.is_quiet(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end += timedelta(days=1)
        return end


def care_moment(estate: Estate, day: date, now: datetime) -> datetime:
    """When a care message of ``day`` goes: the care hour that day (or now, if later),
    pushed out of quiet hours."""
    zone = ZoneInfo(estate.timezone)
    planned = datetime.combine(
        day, _clock(estate.settings.get("care_hour", DEFAULT_CARE_HOUR)), tzinfo=zone
    )
    return QuietHours.of(estate).next_allowed(max(planned, now))
