"""Console: staff accounts (admins only) — add, change role and estates, reset a password,
deactivate and reactivate. Passwords are never shown; every change is audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from backend import staff_admin
from backend.access import Permission
from backend.vocabulary import Language, Role
from backend.web.console.common import attempt, done, page_context, record, redirect
from backend.web.console.render import render
from backend.web.console.security import (
    SESSION_VERSION,
    Console,
    console_action,
    console_user,
    password_version,
)

Password = Annotated[str, Form(max_length=staff_admin.MAX_PASSWORD)]


def _staff_form(
    role: Annotated[str, Form(max_length=16)],
    estates: Annotated[list[str] | None, Form()] = None,
    display_name: Annotated[str, Form(max_length=100)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    language: Annotated[str, Form(max_length=8)] = "zh",
) -> staff_admin.StaffForm:
    codes = tuple(c for c in (estates or [])[:100] if c)
    return staff_admin.StaffForm(role, codes, display_name, phone, language)


def staff_pages() -> APIRouter:
    router = APIRouter(prefix="/console")

    async def _choices(console: Console) -> dict[str, Any]:
        return {
            "roles": [r.value for r in Role],
            "languages": [x.value for x in Language],
            "all_estates": await staff_admin.company_estates(console.session, console.ctx),
        }

    @router.get("/staff", response_class=HTMLResponse)
    async def staff_list(console: Annotated[Console, Depends(console_user)]) -> HTMLResponse:
        people = await staff_admin.list_staff(console.session, console.ctx)
        return render(
            console,
            "staff.html",
            people=people,
            **await _choices(console),
            **await page_context(console),
        )

    @router.post("/staff")
    async def staff_add(
        console: Annotated[Console, Depends(console_action)],
        form: Annotated[staff_admin.StaffForm, Depends(_staff_form)],
        username: Annotated[str, Form(max_length=64)],
        password: Password,
    ) -> Response:
        console.ctx.require(Permission.MANAGE_STAFF)
        staff, ok = await attempt(
            console,
            staff_admin.create_staff(console.session, console.ctx, username, password, form),
        )
        if not ok:
            return redirect("/console/staff")
        await record(
            console,
            "staff_add",
            "staff",
            staff.id,
            username=staff.username,
            role=staff.role,
            estates=list(form.estates),
        )
        done(console)
        return redirect(f"/console/staff/{staff.id}")

    @router.get("/staff/{staff_id}", response_class=HTMLResponse)
    async def staff_page(
        console: Annotated[Console, Depends(console_user)], staff_id: int
    ) -> HTMLResponse:
        person = await staff_admin.managed_staff(console.session, console.ctx, staff_id)
        return render(
            console,
            "staff_edit.html",
            person=person,
            codes=staff_admin.estate_codes(person),
            **await _choices(console),
            **await page_context(console),
        )

    @router.post("/staff/{staff_id}")
    async def staff_update(
        console: Annotated[Console, Depends(console_action)],
        staff_id: int,
        form: Annotated[staff_admin.StaffForm, Depends(_staff_form)],
    ) -> Response:
        await staff_admin.managed_staff(console.session, console.ctx, staff_id)
        changed, ok = await attempt(
            console, staff_admin.update_staff(console.session, console.ctx, staff_id, form)
        )
        if ok:
            await record(
                console,
                "staff_update",
                "staff",
                staff_id,
                changed=changed,
                role=form.role,
                estates=list(form.estates),
            )
            done(console)
        return redirect(f"/console/staff/{staff_id}")

    @router.post("/staff/{staff_id}/password")
    async def staff_password(
        console: Annotated[Console, Depends(console_action)], staff_id: int, password: Password
    ) -> Response:
        await staff_admin.managed_staff(console.session, console.ctx, staff_id)
        staff, ok = await attempt(
            console, staff_admin.reset_password(console.session, console.ctx, staff_id, password)
        )
        if ok:
            if staff.id == console.staff.id:  # keep this session; the others end
                console.request.session[SESSION_VERSION] = password_version(staff)
            await record(console, "staff_password_reset", "staff", staff_id)
            done(console)
        return redirect(f"/console/staff/{staff_id}")

    async def _set_active(console: Console, staff_id: int, active: bool) -> Response:
        await staff_admin.managed_staff(console.session, console.ctx, staff_id)
        _, ok = await attempt(
            console, staff_admin.set_active(console.session, console.ctx, staff_id, active)
        )
        if ok:
            action = "staff_reactivate" if active else "staff_deactivate"
            await record(console, action, "staff", staff_id)
            done(console)
        return redirect(f"/console/staff/{staff_id}")

    @router.post("/staff/{staff_id}/deactivate")
    async def staff_deactivate(
        console: Annotated[Console, Depends(console_action)], staff_id: int
    ) -> Response:
        return await _set_active(console, staff_id, False)

    @router.post("/staff/{staff_id}/reactivate")
    async def staff_reactivate(
        console: Annotated[Console, Depends(console_action)], staff_id: int
    ) -> Response:
        return await _set_active(console, staff_id, True)

    return router
