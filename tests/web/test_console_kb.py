"""Console knowledge base: scope, roles, validation, audit and "try it"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.composition import Runtime
from backend.models import AuditEntry, Estate, KbEntry
from tests.web.conftest import ConsoleClient

NEW_ENTRY: dict[str, Any] = {
    "key": "bike-shed-a",
    "estate": "DEMO-A",
    "questions": "自行车棚在哪里\nWhere is the bike shed?",
    "answer_zh": "自行车棚在 B 栋北侧。",
    "answer_en": "The bike shed is north of block B.",
    "tags": "bike, parking",
    "active": "1",
}


async def entry(runtime: Runtime, key: str) -> KbEntry:
    async with runtime.db.session() as s:
        found = await s.scalar(select(KbEntry).where(KbEntry.key == key))
        assert found is not None, key
        return found


async def audit_actions(runtime: Runtime, target_id: int) -> list[str]:
    async with runtime.db.session() as s:
        rows = await s.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "kb_entry", AuditEntry.target_id == target_id)
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def test_list_shows_company_wide_and_own_estate_entries(console: ConsoleClient) -> None:
    await console.login("agent.a")
    page = await console.http.get("/console/kb")
    assert page.status_code == 200
    assert 'data-kb="property-fee"' in page.text
    assert 'data-kb="renovation-hours-a"' in page.text
    assert 'data-kb="renovation-hours-b"' not in page.text
    found = await console.http.get("/console/kb", params={"q": "押金"})
    assert 'data-kb="renovation-deposit"' in found.text
    assert 'data-kb="property-fee"' not in found.text
    company = await console.http.get("/console/kb", params={"estate": "company"})
    assert 'data-kb="renovation-hours-a"' not in company.text
    assert 'data-kb="property-fee"' in company.text


async def test_another_estates_entry_is_not_found(console: ConsoleClient, runtime: Runtime) -> None:
    other = await entry(runtime, "renovation-hours-b")
    await console.login("agent.a")
    assert (await console.http.get(f"/console/kb/{other.id}")).status_code == 404
    edit = await console.post(f"/console/kb/{other.id}", **{**NEW_ENTRY, "key": other.key})
    assert edit.status_code == 404
    assert (await console.post(f"/console/kb/{other.id}/deactivate")).status_code == 404
    assert (await entry(runtime, "renovation-hours-b")).active
    # nor can it be created into an estate the agent does not see
    response = await console.post("/console/kb", **{**NEW_ENTRY, "estate": "DEMO-B"})
    assert response.status_code == 422 and "unknown estate" in response.text
    async with runtime.db.session() as s:
        demo_b = await s.scalar(select(Estate.id).where(Estate.code == "DEMO-B"))
    tried = await console.http.get("/console/kb/try", params={"q": "装修时间", "estate": demo_b})
    assert tried.status_code == 404


async def test_create_edit_deactivate_are_audited_and_answer(
    console: ConsoleClient, runtime: Runtime
) -> None:
    await console.login("agent.a")
    created = await console.post("/console/kb", **NEW_ENTRY)
    assert created.status_code == 303
    made = await entry(runtime, "bike-shed-a")
    assert created.headers["location"] == f"/console/kb/{made.id}"
    assert made.questions == ["自行车棚在哪里", "Where is the bike shed?"]
    assert made.tags == ["bike", "parking"] and made.active
    page = await console.http.get(f"/console/kb/{made.id}")
    assert page.status_code == 200 and "自行车棚在 B 栋北侧。" in page.text

    async with runtime.db.session() as s:
        demo_a = await s.scalar(select(Estate.id).where(Estate.code == "DEMO-A"))
    tried = await console.http.get(
        "/console/kb/try",
        params={"q": "自行车棚在哪里", "estate": demo_a},
        headers={"HX-Request": "true"},
    )
    assert tried.status_code == 200
    assert 'data-hit="bike-shed-a"' in tried.text and "会自动回答：bike-shed-a" in tried.text
    assert "<html" not in tried.text  # an htmx fragment
    guest = await console.http.get("/console/kb/try", params={"q": "自行车棚在哪里"})
    assert 'data-hit="bike-shed-a"' not in guest.text  # estate entries answer that estate only
    assert "<html" in guest.text  # without htmx: a whole page

    edited = await console.post(
        f"/console/kb/{made.id}", **{**NEW_ENTRY, "answer_en": "North of block B, by the gate."}
    )
    assert edited.status_code == 303
    assert (await entry(runtime, "bike-shed-a")).answer_en == "North of block B, by the gate."

    gone = await console.post(f"/console/kb/{made.id}/deactivate")
    assert gone.status_code == 303
    assert not (await entry(runtime, "bike-shed-a")).active
    tried = await console.http.get(
        "/console/kb/try", params={"q": "自行车棚在哪里", "estate": demo_a}
    )
    assert 'data-hit="bike-shed-a"' not in tried.text
    assert await audit_actions(runtime, made.id) == ["kb_create", "kb_update", "kb_deactivate"]
    async with runtime.db.session() as s:
        update = await s.scalar(select(AuditEntry).where(AuditEntry.action == "kb_update"))
        assert update is not None and update.detail["changed"] == ["answer_en"]
        assert update.username == "agent.a"


async def test_invalid_entries_are_refused_and_the_form_kept(
    console: ConsoleClient, runtime: Runtime
) -> None:
    await console.login("agent.a")
    missing = await console.post("/console/kb", **{**NEW_ENTRY, "answer_en": ""})
    assert missing.status_code == 422
    assert "needs an answer in both zh and en" in missing.text
    assert "自行车棚在 B 栋北侧。" in missing.text  # what was typed is still there
    bad_key = await console.post("/console/kb", **{**NEW_ENTRY, "key": "Bike Shed"})
    assert bad_key.status_code == 422 and "lower-case" in bad_key.text
    taken = await console.post("/console/kb", **{**NEW_ENTRY, "key": "property-fee"})
    assert taken.status_code == 422 and "already used" in taken.text
    no_questions = await console.post("/console/kb", **{**NEW_ENTRY, "questions": " \n "})
    assert no_questions.status_code == 422
    async with runtime.db.session() as s:
        assert await s.scalar(select(KbEntry).where(KbEntry.key == "bike-shed-a")) is None
        assert await s.scalar(select(AuditEntry).where(AuditEntry.action == "kb_create")) is None
    # an edit that fails leaves the entry as it was
    fee = await entry(runtime, "property-fee")
    response = await console.post(
        f"/console/kb/{fee.id}", **{**NEW_ENTRY, "key": "renovation-deposit"}
    )
    assert response.status_code == 422
    assert (await entry(runtime, "property-fee")).questions == fee.questions


async def test_roles(console: ConsoleClient, runtime: Runtime) -> None:
    fee = await entry(runtime, "property-fee")
    await console.login("manager")
    page = await console.http.get("/console/kb")
    assert page.status_code == 200 and "/console/kb/new" not in page.text
    assert 'data-kb="renovation-hours-b"' in page.text  # a manager reads every estate
    assert (await console.http.get(f"/console/kb/{fee.id}")).status_code == 200
    assert (await console.post("/console/kb", **NEW_ENTRY)).status_code == 403
    assert (await console.post(f"/console/kb/{fee.id}/deactivate")).status_code == 403
    assert (await console.http.get("/console/kb/new")).status_code == 403

    await console.post("/console/logout")
    await console.login("tech.a")
    assert (await console.http.get("/console/kb")).status_code == 403
    assert (await console.http.get("/console/kb/try", params={"q": "物业费"})).status_code == 403


async def test_csrf_and_escaping(console: ConsoleClient, runtime: Runtime) -> None:
    await console.login("agent.a")
    response = await console.http.post("/console/kb", data=NEW_ENTRY)
    assert response.status_code == 403
    hostile = {**NEW_ENTRY, "answer_zh": "<script>alert('x')</script>"}
    assert (await console.post("/console/kb", **hostile)).status_code == 303
    made = await entry(runtime, "bike-shed-a")
    page = await console.http.get(f"/console/kb/{made.id}")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
