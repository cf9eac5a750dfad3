"""Console settings: admins set the company's and estates' knobs; other keys of the JSON stay."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest
from sqlalchemy import select

from backend import company_settings
from backend.alerts import Thresholds
from backend.care_time import QuietHours
from backend.composition import Runtime
from backend.errors import InvalidInput
from backend.models import AuditEntry, Company, Estate
from tests.web.conftest import ConsoleClient

CARE_TEXTS = {"care.birthday": {"zh": "生日快乐，{name}！", "en": "Happy birthday, {name}!"}}
MAPPED = {"id": "old-id", "fields": {"first": "text", "keyword1": "number"}, "url": "https://x/"}


async def estate(runtime: Runtime, code: str) -> Estate:
    async with runtime.db.session() as s:
        found = await s.scalar(select(Estate).where(Estate.code == code))
        assert found is not None
        return found


async def company(runtime: Runtime) -> Company:
    async with runtime.db.session() as s:
        found = await s.scalar(select(Company).where(Company.code == "DEMO"))
        assert found is not None
        return found


async def seed(runtime: Runtime) -> None:
    """Keys the page does not manage, which must survive every save."""
    async with runtime.db.session() as s:
        demo = await s.scalar(select(Company).where(Company.code == "DEMO"))
        a = await s.scalar(select(Estate).where(Estate.code == "DEMO-A"))
        assert demo is not None and a is not None
        demo.settings = {
            "care_texts": CARE_TEXTS,
            "extra_holidays": ["2027-01-04"],
            "kb_synonyms": {"物业费": ["管理费"]},
            "wechat_templates": {"ticket_update": MAPPED, "campaign_x": "kept-id"},
            "group_alerts": {"households": 4},
        }
        a.settings = {"care_texts": {"x": 1}, "duty_phone": "021-12345678"}


def company_post(**changes: Any) -> dict[str, Any]:
    """The company form as the page sends it unchanged, with ``changes``."""
    form: dict[str, Any] = {
        "holiday_campaigns": ["0"],
        "report_hour": "",
        "report_language": "zh",
        "template_repair_card": "",
        "template_callback": "",
        "template_ticket_update": "old-id",
        "template_care": "",
        "template_default": "",
        "alert_households": "4",
        "alert_window_hours": "",
        "alert_flood_households": "",
        "alert_flood_window_minutes": "",
        "estate_topics": ["", *sorted(company_settings.ESTATE_TOPICS)],
        "estate_categories": ["", *sorted(company_settings.ESTATE_CATEGORIES)],
    }
    return {**form, **changes}


async def post(console: ConsoleClient, path: str, form: dict[str, Any]) -> Any:
    return await console.http.post(path, data={"csrf_token": console.csrf, **form})


async def audited(runtime: Runtime) -> list[tuple[str, str, int | None, list[str]]]:
    async with runtime.db.session() as s:
        rows = await s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.like("%settings_update"))
            .order_by(AuditEntry.id)
        )
        return [(e.action, e.target_type, e.target_id, e.detail["changed"]) for e in rows]


async def test_admin_sets_estate_quiet_hours_and_care_hour(
    console: ConsoleClient, runtime: Runtime
) -> None:
    await seed(runtime)
    a = await estate(runtime, "DEMO-A")
    await console.login("admin")
    page = await console.http.get("/console/settings")
    assert page.status_code == 200 and f"/console/settings/estates/{a.id}" in page.text
    assert 'href="/console/settings"' in page.text  # the nav link
    form = await console.http.get(f"/console/settings/estates/{a.id}")
    assert form.status_code == 200 and 'value="21:00"' in form.text

    saved = await console.post(
        f"/console/settings/estates/{a.id}",
        quiet_start="22:30",
        quiet_end="7:00",
        care_hour="10:15",
        duty_phone="021-12345678",
        repair_unit="",
        repair_unit_en="",
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/console/settings/estates/{a.id}"
    after = await estate(runtime, "DEMO-A")
    assert after.settings == {
        "care_texts": {"x": 1},
        "duty_phone": "021-12345678",
        "quiet_hours": ["22:30", "07:00"],
        "care_hour": "10:15",
    }
    assert QuietHours.of(after).start == time(22, 30)
    assert await audited(runtime) == [
        ("estate_settings_update", "estate", a.id, ["quiet_hours", "care_hour"])
    ]
    assert "22:30" in (await console.http.get("/console/settings")).text

    # 00:00 to 00:00 is no quiet hours; empty fields go back to the defaults
    await console.post(f"/console/settings/estates/{a.id}", quiet_start="00:00", quiet_end="00:00")
    none = await estate(runtime, "DEMO-A")
    assert none.settings["quiet_hours"] == ["00:00", "00:00"]
    assert not QuietHours.of(none).is_quiet(datetime(2026, 1, 1, 15, 0, tzinfo=UTC))  # 23:00
    await console.post(
        f"/console/settings/estates/{a.id}", quiet_start="", quiet_end="", care_hour=""
    )
    back = await estate(runtime, "DEMO-A")
    assert "quiet_hours" not in back.settings and "care_hour" not in back.settings
    assert back.settings["care_texts"] == {"x": 1}


async def test_admin_sets_templates_and_holiday_campaigns(
    console: ConsoleClient, runtime: Runtime
) -> None:
    await seed(runtime)
    await console.login("admin")
    page = await console.http.get("/console/settings")
    assert 'value="old-id"' in page.text and "keyword1" in page.text  # the mapping is shown
    saved = await post(
        console,
        "/console/settings",
        company_post(
            holiday_campaigns=["0", "1"],
            template_repair_card="Vv0h_rEpair-1",
            template_ticket_update="new-id",
            template_default="p2Lw",
            report_hour="7",
            report_language="en",
            alert_flood_window_minutes="90",
        ),
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/console/settings"
    settings = (await company(runtime)).settings
    assert settings["holiday_campaigns"] is True
    assert settings["wechat_templates"] == {
        "ticket_update": {**MAPPED, "id": "new-id"},  # the field mapping stays
        "campaign_x": "kept-id",
        "repair_card": "Vv0h_rEpair-1",
        "default": "p2Lw",
    }
    assert settings["report_hour"] == 7 and settings["report_language"] == "en"
    assert settings["group_alerts"] == {"households": 4, "flood_window_minutes": 90}
    assert settings["care_texts"] == CARE_TEXTS
    assert settings["extra_holidays"] == ["2027-01-04"]
    assert settings["kb_synonyms"] == {"物业费": ["管理费"]}
    [(action, target, _, changed)] = await audited(runtime)
    assert (action, target) == ("settings_update", "company")
    assert set(changed) == {
        "holiday_campaigns",
        "report_hour",
        "report_language",
        "wechat_templates.repair_card",
        "wechat_templates.ticket_update",
        "wechat_templates.default",
        "group_alerts.flood_window_minutes",
    }

    # saving the form as shown changes nothing and audits nothing
    again = await post(
        console,
        "/console/settings",
        company_post(
            holiday_campaigns=["0", "1"],
            template_repair_card="Vv0h_rEpair-1",
            template_ticket_update="new-id",
            template_default="p2Lw",
            report_hour="7",
            report_language="en",
            alert_flood_window_minutes="90",
        ),
    )
    assert again.status_code == 303
    assert (await company(runtime)).settings == settings
    assert len(await audited(runtime)) == 1

    # unticking and emptying
    await post(
        console,
        "/console/settings",
        company_post(
            template_ticket_update="",
            estate_topics=["", "parking"],
            alert_households="",
            report_language="en",
            report_hour="7",
        ),
    )
    settings = (await company(runtime)).settings
    assert settings["holiday_campaigns"] is False
    assert "ticket_update" not in settings["wechat_templates"]
    assert settings["group_alerts"] == {"estate_topics": ["parking"]}
    limits = Thresholds().for_company(settings)
    assert limits.households == 3 and limits.estate_topics == frozenset({"parking"})


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"care_hour": "25:00"}, "not a time of day"),
        ({"quiet_start": "21:00", "quiet_end": "8 pm"}, "not a time of day"),
        ({"quiet_start": "", "quiet_end": "06:00"}, "both the start and the end"),
        ({"duty_phone": "call Bob"}, "not a phone number"),
        ({"repair_unit": "x" * 101}, "at most 100 characters"),
    ],
)
async def test_estate_input_is_checked(
    console: ConsoleClient, runtime: Runtime, form: dict[str, str], message: str
) -> None:
    await seed(runtime)
    a = await estate(runtime, "DEMO-A")
    await console.login("admin")
    # a valid change next to the mistake is not saved either
    response = await console.post(
        f"/console/settings/estates/{a.id}", **{"care_hour": "11:00", **form}
    )
    assert response.status_code == 422 and message in response.text
    assert (await estate(runtime, "DEMO-A")).settings == a.settings
    assert await audited(runtime) == []


async def test_company_input_is_checked(console: ConsoleClient, runtime: Runtime) -> None:
    await seed(runtime)
    before = (await company(runtime)).settings
    await console.login("admin")
    cases = [
        ({"alert_households": "1"}, "between 2 and 1000"),
        ({"alert_window_hours": "0.05"}, "between 0.1 and 720"),
        ({"alert_flood_window_minutes": "soon"}, "not a number"),
        ({"report_hour": "24"}, "between 0 and 23"),
        ({"template_callback": "bad id!"}, "letters, digits, _ or -"),
        ({"template_default": "x" * 129}, "letters, digits, _ or -"),
        ({"estate_topics": ["", "volcano"]}, "estate topics: unknown"),
        ({"report_language": "fr"}, "neither zh nor en"),
    ]
    for changes, message in cases:
        # a valid change next to the mistake is not saved either
        form = company_post(template_repair_card="good-id", **changes)
        response = await post(console, "/console/settings", form)
        assert response.status_code == 422, changes
        assert message in response.text, (message, response.text)
        assert 'value="good-id"' in response.text  # what was typed is shown again
    assert (await company(runtime)).settings == before
    assert await audited(runtime) == []


async def test_values_are_escaped(console: ConsoleClient, runtime: Runtime) -> None:
    a = await estate(runtime, "DEMO-A")
    await console.login("admin")
    script = "<script>alert(1)</script>"
    saved = await console.post(f"/console/settings/estates/{a.id}", repair_unit=script)
    assert saved.status_code == 303
    assert (await estate(runtime, "DEMO-A")).settings["repair_unit"] == script
    page = await console.http.get(f"/console/settings/estates/{a.id}")
    assert script not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    bad = await console.post(f"/console/settings/estates/{a.id}", duty_phone=script)
    assert bad.status_code == 422 and script not in bad.text


async def test_only_admins_and_only_their_company(console: ConsoleClient, runtime: Runtime) -> None:
    a = await estate(runtime, "DEMO-A")
    for username in ("agent.a", "supervisor.a", "manager"):
        await console.login(username)
        assert 'href="/console/settings"' not in (await console.http.get("/console")).text
        assert (await console.http.get("/console/settings")).status_code == 403
        assert (await console.http.get(f"/console/settings/estates/{a.id}")).status_code == 403
        changed = await console.post(f"/console/settings/estates/{a.id}", care_hour="10:00")
        assert changed.status_code == 403
        assert (await post(console, "/console/settings", company_post())).status_code == 403
        await console.post("/console/logout")
    assert (await estate(runtime, "DEMO-A")).settings == a.settings

    async with runtime.db.session() as s:
        other = Company(code="OTHER", name="其他物业")
        s.add(other)
        await s.flush()
        theirs = Estate(company_id=other.id, code="OTHER-A", name="别家小区")
        s.add(theirs)
        await s.flush()
        theirs_id = theirs.id
    await console.login("admin")
    assert (await console.http.get(f"/console/settings/estates/{theirs_id}")).status_code == 404
    post_theirs = await console.post(f"/console/settings/estates/{theirs_id}", care_hour="10:00")
    assert post_theirs.status_code == 404
    assert 'data-estate="OTHER-A"' not in (await console.http.get("/console/settings")).text
    forged = await console.http.post(
        f"/console/settings/estates/{a.id}", data={"care_hour": "10:00"}
    )
    assert forged.status_code == 403
    forged = await console.http.post("/console/settings", data=company_post(report_hour="5"))
    assert forged.status_code == 403
    assert (await estate(runtime, "DEMO-A")).settings == a.settings
    assert "report_hour" not in (await company(runtime)).settings
    async with runtime.db.session() as s:
        other_estate = await s.get(Estate, theirs_id)
        assert other_estate is not None and other_estate.settings == {}


def test_alert_floors_are_those_the_detector_applies() -> None:
    for key, bounds in company_settings.ALERT_BOUNDS.items():
        below = {"group_alerts": {key: bounds.low / 2}}
        at = {"group_alerts": {key: bounds.low}}
        assert Thresholds().for_company(below) == Thresholds(), key
        assert Thresholds().for_company(at) != Thresholds(), key


def test_a_form_sent_as_shown_changes_nothing() -> None:
    odd = {"group_alerts": {"households": 1}, "quiet_hours": ["9:00", "8:00"], "other": [1]}
    for edit in (
        company_settings.company_edit(odd, company_settings.company_form(odd)),
        company_settings.estate_edit(odd, company_settings.estate_form(odd)),
    ):
        assert edit.changed == [] and edit.data == odd
    with pytest.raises(InvalidInput):
        company_settings.company_edit(
            odd, company_settings.CompanyForm(alerts={"households": "1.5"})
        )
