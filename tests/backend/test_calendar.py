"""Working days with 调休, the fallback for unpublished years, and lunar festivals."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from backend import calendar
from backend.calendar import Festival, WorkCalendar


def test_national_day_2026_and_its_make_up_saturday() -> None:
    cal = WorkCalendar()
    assert not any(cal.is_workday(date(2026, 10, d)) for d in range(1, 8))
    assert cal.is_workday(date(2026, 10, 10))  # Saturday, 调休 working day
    assert cal.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert cal.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert cal.workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_a_year_without_a_published_table_falls_back_without_crashing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calendar._warned_years.discard(2027)
    cal = WorkCalendar()
    with caplog.at_level(logging.WARNING, logger="backend.calendar"):
        assert cal.add_workdays(date(2027, 9, 30), 3) == date(2027, 10, 5)  # Thu→Mon, Tue
        assert not cal.is_workday(date(2027, 10, 2))  # a Saturday
        assert cal.is_workday(date(2027, 10, 1))  # a Friday: no table, so a working day
    assert "no statutory holiday table for 2027" in caplog.text
    assert caplog.text.count("2027") == 1  # warned once, not for every day


def test_company_days_override_both_the_table_and_the_fallback() -> None:
    cal = WorkCalendar(
        {
            date(2027, 10, 1): False,  # configured National Day 2027
            date(2027, 10, 4): False,
            date(2027, 10, 9): True,  # configured make-up Saturday
            date(2026, 10, 9): False,  # a company-only day off in a published year
        }
    )
    assert not cal.is_workday(date(2027, 10, 1))
    assert cal.is_workday(date(2027, 10, 9))
    assert cal.add_workdays(date(2027, 9, 30), 2) == date(2027, 10, 6)
    assert not cal.is_workday(date(2026, 10, 9))


def test_lunar_festivals_are_computed_for_any_year() -> None:
    assert calendar.festival_date(Festival.DOUBLE_NINTH, 2027) == date(2027, 10, 8)
    assert calendar.festival_date(Festival.MID_AUTUMN, 2026) == date(2026, 9, 25)
    assert calendar.festival_date(Festival.SPRING, 2027) == date(2027, 2, 6)
    assert calendar.festival_date(Festival.DRAGON_BOAT, 2030) == date(2030, 6, 5)
    assert calendar.festivals_on(date(2026, 10, 1)) == [Festival.NATIONAL]
    assert set(calendar.festivals(2031)) == set(Festival)


def test_statutory_holiday_names() -> None:
    assert calendar.statutory_holiday_name(date(2026, 10, 2)) == "National Day"
    assert calendar.statutory_holiday_name(date(2026, 10, 12)) is None
    assert calendar.statutory_holiday_name(date(2031, 10, 2)) is None
    assert 2026 in calendar.covered_years()
