"""Owner- and staff-facing text from ``locales/`` (gettext catalogues read with Babel).

Message ids are keys (``repair.ask_location``); each language's ``ownerdesk.po`` holds
the text with ``{named}`` placeholders. Owners' languages are ``zh`` and ``en``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import get_month_names
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parents[1] / "locales"
DOMAIN = "ownerdesk"
LANGUAGES = ("zh", "en")
_LOCALE = {"zh": "zh_CN", "en": "en"}


def normalize_lang(value: str | None) -> str:
    """Any language tag (``zh-Hans``, ``en_GB``, ``EN``) → ``zh`` or ``en``; default zh."""
    tag = (value or "").strip().lower().replace("_", "-")
    return "en" if tag.startswith("en") else "zh"


@cache
def catalog(lang: str) -> dict[str, str]:
    path = LOCALES_DIR / _LOCALE[normalize_lang(lang)] / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as fh:
        po = read_po(fh, locale=_LOCALE[normalize_lang(lang)], domain=DOMAIN)
    return {str(m.id): str(m.string) for m in po if m.id and m.string}


def t(lang: str | None, key: str, **params: object) -> str:
    """The text for ``key`` in ``lang``, with ``params`` filled in."""
    language = normalize_lang(lang)
    text = catalog(language).get(key)
    if text is None:
        log.error("missing %s text for %s", language, key)
        text = catalog("en" if language == "zh" else "zh").get(key, key)
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        log.exception("bad placeholders in %s text for %s", language, key)
        return text


def when(moment: datetime, lang: str | None, tz: str | ZoneInfo) -> str:
    """A date and time as people read it: ``11月26日 14:30`` / ``26 Nov, 14:30``."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    local = moment.astimezone(zone)
    if normalize_lang(lang) == "zh":
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local.day} {_month_abbreviations()[local.month]}, {local:%H:%M}"


@cache
def _month_abbreviations() -> dict[int, str]:
    """English month abbreviations from Babel's CLDR data (formatting per call is slow)."""
    return {int(k): str(v) for k, v in get_month_names("abbreviated", locale="en").items()}
