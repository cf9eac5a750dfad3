"""Working days and festivals on the mainland calendar.

Working days follow the State Council's statutory holidays and make-up working days
(调休) as published in ``chinese-calendar``; days a company configures override them.
For a year the library does not know yet, weekends plus the configured days are used
and a warning is logged once per year: a deadline must never crash on a new year.
Lunar festivals come from ``lunardate``, which covers 1900–2099.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import chinese_calendar
from lunardate import LunarDate

log = logging.getLogger(__name__)

_warned_years: set[int] = set()


def statutory_workday(day: date) -> bool | None:
    """The State Council's verdict for ``day``, or None when that year is not published."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "no statutory holiday table for %s: counting weekends and configured "
                "company holidays only",
                day.year,
            )
        return None


def statutory_holiday_name(day: date) -> str | None:
    """English name of the statutory holiday on ``day`` (e.g. "National Day"), if known."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return str(name) if on_holiday and name else None


def covered_years() -> range:
    years = sorted({d.year for d in chinese_calendar.holidays})
    return range(years[0], years[-1] + 1)


@dataclass(frozen=True)
class WorkCalendar:
    """A company's working days: its own days first, then the statutory table, then weekends."""

    overrides: Mapping[date, bool] = field(default_factory=dict)  # day → is working day

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        verdict = statutory_workday(day)
        if verdict is not None:
            return verdict
        return day.weekday() < 5

    def add_workdays(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself never counts)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


class Festival(StrEnum):
    NEW_YEAR = "new_year"  # 元旦
    SPRING = "spring_festival"  # 春节
    LABOUR = "labour_day"  # 劳动节
    CHILDREN = "childrens_day"  # 儿童节
    DRAGON_BOAT = "dragon_boat"  # 端午
    ARMY = "army_day"  # 建军节
    MID_AUTUMN = "mid_autumn"  # 中秋
    NATIONAL = "national_day"  # 国庆
    DOUBLE_NINTH = "double_ninth"  # 重阳


_LUNAR: Mapping[Festival, tuple[int, int]] = {
    Festival.SPRING: (1, 1),
    Festival.DRAGON_BOAT: (5, 5),
    Festival.MID_AUTUMN: (8, 15),
    Festival.DOUBLE_NINTH: (9, 9),
}
_SOLAR: Mapping[Festival, tuple[int, int]] = {
    Festival.NEW_YEAR: (1, 1),
    Festival.LABOUR: (5, 1),
    Festival.CHILDREN: (6, 1),
    Festival.ARMY: (8, 1),
    Festival.NATIONAL: (10, 1),
}


def lunar_to_solar(year: int, month: int, day: int) -> date:
    solar: date = LunarDate(year, month, day).to_solar_date()
    return solar


def festival_date(festival: Festival, year: int) -> date:
    if festival in _LUNAR:
        month, day = _LUNAR[festival]
        return lunar_to_solar(year, month, day)
    month, day = _SOLAR[festival]
    return date(year, month, day)


def festivals(year: int) -> dict[Festival, date]:
    """Every care festival of ``year`` with its solar date, lunar ones computed for that year."""
    return {f: festival_date(f, year) for f in Festival}


def festivals_on(day: date) -> list[Festival]:
    return [f for f, d in festivals(day.year).items() if d == day]
