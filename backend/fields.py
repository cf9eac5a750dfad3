"""Formats of the fields owners and staff type: phone numbers, dates, unit numbers."""

from __future__ import annotations

import re
from datetime import date, datetime

from backend.errors import InvalidInput
from backend.vocabulary import Stage

_SEPARATORS = re.compile(r"[\s\-().]")
_MAINLAND_MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
# 010 and 020–029 have three-digit area codes, the rest four.
_MAINLAND_LANDLINE = re.compile(r"^(0[12]\d|0[3-9]\d{2})(\d{7,8})$")
_INTERNATIONAL = re.compile(r"^(?:\+|00)(\d{7,15})$")
UNIT_NUMBER = re.compile(r"^[A-Za-z0-9]{1,8}(?:-[A-Za-z0-9]{1,8}){1,3}$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")

STAGE_ALIASES = {
    "prospective": Stage.PROSPECTIVE,
    "准业主": Stage.PROSPECTIVE,
    "running_in": Stage.RUNNING_IN,
    "running-in": Stage.RUNNING_IN,
    "磨合期": Stage.RUNNING_IN,
    "stable": Stage.STABLE,
    "稳定期": Stage.STABLE,
    "veteran": Stage.VETERAN,
    "老业主": Stage.VETERAN,
}
_TRUE = {"1", "y", "yes", "true", "是", "√", "x"}
_FALSE = {"", "0", "n", "no", "false", "否"}


def normalize_phone(raw: str) -> str:
    """Mainland mobiles as 11 digits, landlines as ``0xx-xxxxxxxx``, others as ``+digits``."""
    compact = _SEPARATORS.sub("", raw.strip())
    if m := _MAINLAND_MOBILE.match(compact):
        return m.group(1)
    if m := _MAINLAND_LANDLINE.match(compact):
        return f"{m.group(1)}-{m.group(2)}"
    if m := _INTERNATIONAL.match(compact):
        return f"+{m.group(1)}"
    raise InvalidInput(f"malformed phone number {raw!r}")


def parse_date(raw: object) -> date | None:
    """Empty → None; ``date``/``datetime`` (XLSX cells) as they are; a few text formats."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"malformed date {text!r} (use YYYY-MM-DD)")


def parse_bool(raw: object) -> bool:
    text = str(raw if raw is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(f"not a yes/no value: {raw!r}")


def parse_stage(raw: str) -> Stage:
    text = raw.strip().lower()
    if not text:
        return Stage.STABLE
    try:
        return STAGE_ALIASES[text]
    except KeyError:
        raise InvalidInput(f"unknown stage {raw!r}") from None


def normalize_unit(raw: str) -> str:
    text = raw.strip().upper()
    if not UNIT_NUMBER.match(text):
        raise InvalidInput(f"malformed unit number {raw!r} (like A-1-101)")
    return text
