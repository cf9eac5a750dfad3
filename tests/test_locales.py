"""Every owner-facing text exists in zh_CN and en, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from backend import lifecycle, sla
from backend.calendar import Festival
from backend.i18n import catalog, t
from backend.notices import ANNOUNCED, RATING_SCORES
from backend.vocabulary import CareType
from bot.dialogs.emergency import HAZARDS
from bot.dialogs.repair import FIELDS, LOCATIONS, TIMES
from bot.intents.entities import LOCATION_NAMES

ROOT = Path(__file__).parents[1]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
LITERAL_KEY = re.compile(
    r"\"((?:binding|button|card|clarify|complaint|dialog|emergency|enquiry|error|handoff|help|input|language|media|other|rating|repair|status|supplement|welcome|withdraw|update|state|kind|location|time|webchat|wechat|terminal)\.[a-z_.]+)(?<!\.html)\""
)


def used_keys() -> set[str]:
    keys: set[str] = set()
    sources = [
        *(ROOT / "bot" / "dialogs").rglob("*.py"),
        *(ROOT / "bot" / "channels").rglob("*.py"),
    ]
    sources += [
        ROOT / "bot" / "frontdesk.py",
        ROOT / "backend" / "notices.py",
        ROOT / "backend" / "desk.py",
        ROOT / "backend" / "care.py",
        ROOT / "backend" / "callbacks.py",
    ]
    for path in sources:
        keys |= set(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    keys -= set(sla.PROMISES_BY_KEY)  # promise names, not texts
    keys |= {f"state.{k.value}.{s}" for k in lifecycle.Kind for s in lifecycle.states(k)}
    keys |= {f"kind.{k.value}" for k in lifecycle.Kind}
    keys |= {f"card.promise.{p.key}" for p in sla.PROMISES}
    keys |= {f"emergency.advice.{h}" for h in (*HAZARDS, "general")}
    keys |= {f"location.{x}" for x in {*LOCATIONS, *LOCATION_NAMES}} | {f"time.{x}" for x in TIMES}
    keys |= {f"repair.field.{x}" for x in FIELDS} | {f"rating.score.{s}" for s in RATING_SCORES}
    keys |= {f"button.lang_{x}" for x in ("zh", "en")}
    keys |= {f"care.holiday.{f.value}" for f in Festival} | {
        f"care.title.{c.value}" for c in CareType
    }
    for kind in lifecycle.Kind:
        keys |= {f"update.{kind.value}.{s}" for s in lifecycle.states(kind) if s in ANNOUNCED}
        if "callback" in lifecycle.states(kind):
            keys.add(f"update.{kind.value}.callback")
    return keys


def test_both_catalogues_have_the_same_complete_keys() -> None:
    zh, en = catalog("zh"), catalog("en")
    assert set(zh) == set(en)
    assert all(v.strip() for v in zh.values()) and all(v.strip() for v in en.values())


def test_every_key_the_code_uses_exists() -> None:
    missing = sorted(k for k in used_keys() if k not in catalog("zh"))
    assert missing == []


def test_placeholders_match_between_languages() -> None:
    zh, en = catalog("zh"), catalog("en")
    different = [
        k for k in zh if set(PLACEHOLDER.findall(zh[k])) != set(PLACEHOLDER.findall(en[k]))
    ]
    assert different == []


def test_chinese_texts_are_chinese_and_english_english() -> None:
    zh, en = catalog("zh"), catalog("en")
    cjk = re.compile(r"[\u4e00-\u9fff]")
    skip = {
        "button.lang_zh",
        "button.lang_en",
        "binding.estate_button",
        "status.line",
        "emergency.duty_phone_default",
    }
    assert [k for k, v in en.items() if k not in skip and cjk.search(v)] == []
    assert [k for k, v in zh.items() if k not in skip and not cjk.search(v)] == []


def test_missing_key_falls_back_without_crashing() -> None:
    assert t("zh", "no.such.key") == "no.such.key"
    assert t("en", "status.header", count=2) == "You have 2 open ticket(s):"
    assert t("xx-unknown", "status.none") == catalog("zh")["status.none"]
