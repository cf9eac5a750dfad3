"""The company's and its estates' settings as an admin keeps them in the console.

The knobs live in the ``settings`` JSON of ``companies`` and ``estates``; the modules that
read them keep their defaults (``care_time``, ``alerts``, ``periodic_reports``,
``campaign_holidays``, ``notices``, the WeChat sender). Here: the current values as the
form shows them, an edit checked as a whole before anything is written, and a write of
only the keys this page manages, so ``care_texts``, ``extra_holidays``, ``kb_synonyms``
and whatever else the JSON holds stay as they are.

A form field that is ``None`` was not sent and stays as it is. A field sent as the form
showed it is not checked again, so an odd hand-written value in one place never blocks
an edit of another. An emptied field goes back to the default (its key is removed).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from backend.access import Permission, StaffContext
from backend.alerts import ESTATE_CATEGORIES, ESTATE_TOPICS, FLOORS, Thresholds
from backend.alerts import SETTINGS_KEY as ALERTS
from backend.campaign_holidays import SETTING as HOLIDAY_CAMPAIGNS
from backend.care_time import DEFAULT_CARE_HOUR, DEFAULT_QUIET
from backend.errors import InvalidInput, NotFound
from backend.fields import normalize_phone
from backend.models import Company, Estate
from backend.periodic_reports import DEFAULT_REPORT_HOUR
from backend.topics import OTHER, TOPICS
from backend.vocabulary import Language, RepairCategory

TEMPLATES = "wechat_templates"
# The ``OutboundMessage.template`` keys the code sends, ``default`` for everything else.
TEMPLATE_KEYS = ("repair_card", "callback", "ticket_update", "care", "default")
TEMPLATE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# What the emergency answer may show when it is no number ``normalize_phone`` knows
# (400 hotlines, short numbers such as 95598, extensions).
LOOSE_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{1,30}(?:(?:转|ext\.?|x)\s*[0-9]{1,6})?$")
MAX_NAME = 100
# The floors are the detector's own (``alerts.FLOORS``); the ceilings keep a scan's
# look-back sane.
ALERT_TOPICS = tuple(x for x in TOPICS if x != OTHER)
ALERT_CATEGORIES = tuple(c.value for c in RepairCategory if c is not RepairCategory.OTHER)
_DEFAULT_ALERTS = Thresholds()


@dataclass(frozen=True)
class Bounds:
    low: float
    high: float
    whole: bool  # households are counted, windows measured
    default: float

    @property
    def shown(self) -> tuple[str, str, str]:
        """Lowest, highest and default value as a form shows them."""
        return _shown(self.low), _shown(self.high), _shown(self.default)


HOURS = Bounds(0, 23, True, DEFAULT_REPORT_HOUR)
ALERT_BOUNDS = {
    "households": Bounds(FLOORS["households"], 1000, True, _DEFAULT_ALERTS.households),
    "window_hours": Bounds(
        FLOORS["window_hours"], 720, False, _DEFAULT_ALERTS.window.total_seconds() / 3600
    ),
    "flood_households": Bounds(
        FLOORS["flood_households"], 1000, True, _DEFAULT_ALERTS.flood_households
    ),
    "flood_window_minutes": Bounds(
        FLOORS["flood_window_minutes"],
        10080,
        False,
        _DEFAULT_ALERTS.flood_window.total_seconds() / 60,
    ),
}


@dataclass(frozen=True)
class CompanyForm:
    """The company's settings as the form shows and sends them (``None``: not sent)."""

    holiday_campaigns: bool | None = None
    report_hour: str | None = None
    report_language: str | None = None
    templates: dict[str, str] = field(default_factory=dict)  # key → template id
    alerts: dict[str, str] = field(default_factory=dict)  # ALERT_BOUNDS key → number
    estate_topics: tuple[str, ...] | None = None
    estate_categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class EstateForm:
    """An estate's settings as the form shows and sends them (``None``: not sent)."""

    quiet_start: str | None = None
    quiet_end: str | None = None
    care_hour: str | None = None
    duty_phone: str | None = None
    repair_unit: str | None = None
    repair_unit_en: str | None = None


# --- reading ---------------------------------------------------------------------------


def _section(settings: dict[str, Any], key: str) -> dict[str, Any]:
    value = settings.get(key)
    return value if isinstance(value, dict) else {}


def _shown(value: Any) -> str:
    """A stored scalar as a form field shows it; nothing stored (or a list) is empty."""
    if value is None or isinstance(value, bool | list | dict):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _shown_clock(value: Any, default: str) -> str:
    text = value if isinstance(value, str) else default
    m = CLOCK.match(text.strip())
    return f"{int(m[1]):02d}:{m[2]}" if m else text


def template_id(entry: Any) -> str:
    """A ``wechat_templates`` entry's id: the entry itself, or its ``id`` field."""
    if isinstance(entry, dict):
        return _shown(entry.get("id"))
    return _shown(entry)


def template_mappings(settings: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The entries that map WeChat's field names (``{"id", "fields", "url"}``): shown, kept."""
    templates = _section(settings or {}, TEMPLATES)
    return {k: v for k, v in templates.items() if k in TEMPLATE_KEYS and isinstance(v, dict)}


def company_form(settings: dict[str, Any] | None) -> CompanyForm:
    """What the company form shows for ``Company.settings``."""
    settings = settings or {}
    alerts = _section(settings, ALERTS)
    templates = _section(settings, TEMPLATES)
    topics = alerts.get("estate_topics")
    categories = alerts.get("estate_categories")
    return CompanyForm(
        holiday_campaigns=bool(settings.get(HOLIDAY_CAMPAIGNS)),
        report_hour=_shown(settings.get("report_hour")),
        report_language=str(settings.get("report_language") or Language.ZH.value),
        templates={key: template_id(templates.get(key)) for key in TEMPLATE_KEYS},
        alerts={key: _shown(alerts.get(key)) for key in ALERT_BOUNDS},
        estate_topics=tuple(
            sorted(map(str, topics if isinstance(topics, list) else ESTATE_TOPICS))
        ),
        estate_categories=tuple(
            sorted(map(str, categories if isinstance(categories, list) else ESTATE_CATEGORIES))
        ),
    )


def estate_form(settings: dict[str, Any] | None) -> EstateForm:
    """What an estate's form shows for ``Estate.settings``."""
    settings = settings or {}
    quiet = settings.get("quiet_hours")
    start, end = quiet if isinstance(quiet, list | tuple) and len(quiet) == 2 else DEFAULT_QUIET
    return EstateForm(
        quiet_start=_shown_clock(start, DEFAULT_QUIET[0]),
        quiet_end=_shown_clock(end, DEFAULT_QUIET[1]),
        care_hour=_shown_clock(settings.get("care_hour"), DEFAULT_CARE_HOUR),
        duty_phone=_shown(settings.get("duty_phone")),
        repair_unit=_shown(settings.get("repair_unit")),
        repair_unit_en=_shown(settings.get("repair_unit_en")),
    )


def defaults() -> dict[str, Any]:
    """What an empty field means, for the form's placeholders and help texts."""
    return {
        "report_hour": DEFAULT_REPORT_HOUR,
        "alerts": {key: b.shown[2] for key, b in ALERT_BOUNDS.items()},
        "quiet_hours": DEFAULT_QUIET,
        "care_hour": DEFAULT_CARE_HOUR,
    }


# --- checking one value: a parser takes the stripped, non-empty text or says what is wrong


def _clock(what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        m = CLOCK.match(text)
        if not m:
            raise InvalidInput(f"{what}: {text!r} is not a time of day (HH:MM, 00:00 to 23:59)")
        return f"{int(m[1]):02d}:{m[2]}"

    return parse


def _number(what: str, bounds: Bounds) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = int(text) if bounds.whole else float(text)
        except ValueError:
            kind = "a whole number" if bounds.whole else "a number"
            raise InvalidInput(f"{what}: {text!r} is not {kind}") from None
        if not math.isfinite(value) or not bounds.low <= value <= bounds.high:
            low, high = _shown(bounds.low), _shown(bounds.high)
            raise InvalidInput(f"{what} must be between {low} and {high} (got {text})")
        return int(value) if float(value).is_integer() else value

    return parse


def _language(text: str) -> str:
    if text not in {x.value for x in Language}:
        raise InvalidInput(f"report language: {text!r} is neither zh nor en")
    return text


def _name(what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if len(text) > MAX_NAME or any(ord(ch) < 32 for ch in text):
            raise InvalidInput(f"{what}: at most {MAX_NAME} characters on one line")
        return text

    return parse


def _phone(text: str) -> str:
    """A number ``normalize_phone`` knows, normalized; else one that merely looks dialable."""
    try:
        return normalize_phone(text)
    except InvalidInput:
        if LOOSE_PHONE.match(text):
            return text
    raise InvalidInput(f"duty phone: {text!r} is not a phone number")


def _template(key: str, entry: Any) -> Callable[[str], Any]:
    """A new id; an entry that maps WeChat's field names keeps its ``fields`` and ``url``."""

    def parse(text: str) -> Any:
        if not TEMPLATE_ID.match(text):
            raise InvalidInput(
                f"WeChat template {key}: an id is 1 to 128 letters, digits, _ or - "
                f"(got {text[:40]!r})"
            )
        return {**entry, "id": text} if isinstance(entry, dict) else text

    return parse


def _choices(what: str, allowed: tuple[str, ...], chosen: tuple[str, ...]) -> list[str]:
    picked = sorted({x for x in chosen if x})
    unknown = [x for x in picked if x not in allowed]
    if unknown:
        raise InvalidInput(f"{what}: unknown {unknown[0]!r}")
    return picked


# --- writing ---------------------------------------------------------------------------

_MISSING = object()


class _Edit:
    """A copy of one settings JSON taking one form's changes: their names and mistakes."""

    def __init__(self, settings: dict[str, Any] | None) -> None:
        self.data: dict[str, Any] = copy.deepcopy(settings or {})
        self.changed: list[str] = []
        self.problems: list[str] = []

    def take(
        self,
        key: str,
        raw: str | None,
        parse: Callable[[str], Any],
        *,
        within: str | None = None,
    ) -> None:
        """A sent, changed field: empty removes ``key``, else its parsed value is set."""
        if raw is None:
            return
        text = raw.strip()
        try:
            value = parse(text) if text else None
        except InvalidInput as exc:
            self.problems.append(exc.message)
            return
        self.put(key, value, within=within)

    def put(self, key: str, value: Any, *, within: str | None = None) -> None:
        """Set ``key`` (in the section ``within``) to ``value``; ``None`` removes it."""
        target = self.data
        if within is not None:
            if not isinstance(self.data.get(within), dict):
                if value is None:
                    return
                self.data[within] = {}
            target = self.data[within]
        name = f"{within}.{key}" if within else key
        if value is None:
            if key in target:
                del target[key]
                self.changed.append(name)
                if within is not None and not target:
                    del self.data[within]
        elif target.get(key, _MISSING) != value:
            target[key] = value
            self.changed.append(name)

    def check(self) -> None:
        if self.problems:
            raise InvalidInput("; ".join(self.problems))


def _sent(new: str | None, shown: str | None) -> str | None:
    """The field's text when it was sent and differs from what the form showed."""
    if new is None or new.strip() == (shown or "").strip():
        return None
    return new


def company_edit(settings: dict[str, Any] | None, form: CompanyForm) -> _Edit:
    """``settings`` with ``form`` applied; InvalidInput names every mistake."""
    now = company_form(settings)
    edit = _Edit(settings)
    if form.holiday_campaigns is not None and form.holiday_campaigns != now.holiday_campaigns:
        edit.put(HOLIDAY_CAMPAIGNS, form.holiday_campaigns)
    edit.take(
        "report_hour", _sent(form.report_hour, now.report_hour), _number("report hour", HOURS)
    )
    edit.take("report_language", _sent(form.report_language, now.report_language), _language)
    templates = _section(settings or {}, TEMPLATES)
    for key in TEMPLATE_KEYS:
        raw = _sent(form.templates.get(key), now.templates.get(key))
        edit.take(key, raw, _template(key, templates.get(key)), within=TEMPLATES)
    for key, bounds in ALERT_BOUNDS.items():
        what = f"group alerts, {key.replace('_', ' ')}"
        raw = _sent(form.alerts.get(key), now.alerts.get(key))
        edit.take(key, raw, _number(what, bounds), within=ALERTS)
    for key, chosen, allowed, shown in (
        ("estate_topics", form.estate_topics, ALERT_TOPICS, now.estate_topics),
        ("estate_categories", form.estate_categories, ALERT_CATEGORIES, now.estate_categories),
    ):
        if chosen is None:
            continue
        try:
            picked = _choices(key.replace("_", " "), allowed, chosen)
        except InvalidInput as exc:
            edit.problems.append(exc.message)
            continue
        if tuple(picked) != shown:
            edit.put(key, picked, within=ALERTS)
    edit.check()
    return edit


def _quiet_hours(edit: _Edit, first: str, last: str, shown: tuple[str | None, ...]) -> None:
    """Both empty: the default; the same start and end (00:00 to 00:00): no quiet hours."""
    if not first and not last:
        edit.put("quiet_hours", None)
        return
    if not first or not last:
        edit.problems.append("quiet hours: give both the start and the end, or neither")
        return
    try:
        pair = [_clock("quiet hours start")(first), _clock("quiet hours end")(last)]
    except InvalidInput as exc:
        edit.problems.append(exc.message)
        return
    if tuple(pair) != shown:
        edit.put("quiet_hours", pair)


def estate_edit(settings: dict[str, Any] | None, form: EstateForm) -> _Edit:
    """``settings`` with ``form`` applied; InvalidInput names every mistake."""
    now = estate_form(settings)
    edit = _Edit(settings)
    if form.quiet_start is not None or form.quiet_end is not None:
        first = (now.quiet_start if form.quiet_start is None else form.quiet_start) or ""
        last = (now.quiet_end if form.quiet_end is None else form.quiet_end) or ""
        first, last = first.strip(), last.strip()
        if (first, last) != (now.quiet_start, now.quiet_end):
            _quiet_hours(edit, first, last, (now.quiet_start, now.quiet_end))
    edit.take("care_hour", _sent(form.care_hour, now.care_hour), _clock("care hour"))
    edit.take("duty_phone", _sent(form.duty_phone, now.duty_phone), _phone)
    for key, what in (("repair_unit", "repair unit"), ("repair_unit_en", "repair unit (English)")):
        edit.take(key, _sent(getattr(form, key), getattr(now, key)), _name(what))
    edit.check()
    return edit


# --- the admin's scope -----------------------------------------------------------------


async def own_company(session: AsyncSession, ctx: StaffContext) -> Company:
    ctx.require(Permission.MANAGE_SETTINGS)
    company = await session.get(Company, ctx.staff.company_id)
    if company is None:
        raise NotFound(f"no company with id {ctx.staff.company_id}")
    return company


async def own_estates(session: AsyncSession, ctx: StaffContext) -> list[Estate]:
    ctx.require(Permission.MANAGE_SETTINGS)
    return list(
        await session.scalars(
            select(Estate).where(Estate.company_id == ctx.staff.company_id).order_by(Estate.id)
        )
    )


async def own_estate(session: AsyncSession, ctx: StaffContext, estate_id: int) -> Estate:
    """An estate of the admin's company; another company's is "not found"."""
    ctx.require(Permission.MANAGE_SETTINGS)
    estate = await session.scalar(
        select(Estate).where(Estate.id == estate_id, Estate.company_id == ctx.staff.company_id)
    )
    if estate is None:
        raise NotFound(f"no estate with id {estate_id}")
    return estate


async def update_company(session: AsyncSession, ctx: StaffContext, form: CompanyForm) -> list[str]:
    """Apply the form; the names of the keys that changed (``group_alerts.households``)."""
    company = await own_company(session, ctx)
    edit = company_edit(company.settings, form)
    if edit.changed:
        company.settings = edit.data
        flag_modified(company, "settings")
        await session.flush()
    return edit.changed


async def update_estate(
    session: AsyncSession, ctx: StaffContext, estate_id: int, form: EstateForm
) -> list[str]:
    estate = await own_estate(session, ctx, estate_id)
    edit = estate_edit(estate.settings, form)
    if edit.changed:
        estate.settings = edit.data
        flag_modified(estate, "settings")
        await session.flush()
    return edit.changed
