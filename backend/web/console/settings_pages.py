"""Console: the company's and its estates' settings (admins only) — quiet hours, care hour,
duty phone, repair unit, WeChat template ids, holiday campaigns, report hour and language,
group-alert thresholds. Every change is audited with the keys it changed."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from backend import company_settings as settings
from backend.errors import InvalidInput
from backend.i18n import t
from backend.models import Estate
from backend.web.console.common import flash, page_context, record, redirect
from backend.web.console.render import render
from backend.web.console.security import Console, console_action, console_user

MAX_FIELD = 200  # longer than any valid value; the service says what is wrong with it


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else None


def _ticks(form: FormData, name: str) -> list[str] | None:
    """Checkboxes after a hidden empty field of the same name: ``None`` when not sent."""
    values = [v[:MAX_FIELD] for v in form.getlist(name)[:100] if isinstance(v, str)]
    return values or None


async def _company_form(request: Request) -> settings.CompanyForm:
    form = await request.form()
    holiday = _ticks(form, "holiday_campaigns")
    topics, categories = _ticks(form, "estate_topics"), _ticks(form, "estate_categories")
    return settings.CompanyForm(
        holiday_campaigns=None if holiday is None else "1" in holiday,
        report_hour=_text(form, "report_hour"),
        report_language=_text(form, "report_language"),
        templates={
            key: value
            for key in settings.TEMPLATE_KEYS
            if (value := _text(form, f"template_{key}")) is not None
        },
        alerts={
            key: value
            for key in settings.ALERT_BOUNDS
            if (value := _text(form, f"alert_{key}")) is not None
        },
        estate_topics=None if topics is None else tuple(topics),
        estate_categories=None if categories is None else tuple(categories),
    )


async def _estate_form(request: Request) -> settings.EstateForm:
    form = await request.form()
    return settings.EstateForm(
        **{f.name: _text(form, f.name) for f in dataclasses.fields(settings.EstateForm)}
    )


def _shown_with(shown: Any, sent: Any) -> Any:
    """The form as shown, with what was sent in its place: a rejected edit re-rendered."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(sent):
        value = getattr(sent, f.name)
        if isinstance(value, dict):
            changes[f.name] = {**getattr(shown, f.name), **value}
        elif value is not None:
            changes[f.name] = value
    return dataclasses.replace(shown, **changes)


def _quiet_text(form: settings.EstateForm, lang: str) -> str:
    if form.quiet_start == form.quiet_end:
        return t(lang, "console.settings.no_quiet_hours")
    return f"{form.quiet_start}–{form.quiet_end}"


def settings_pages() -> APIRouter:
    router = APIRouter(prefix="/console")

    async def _company_page(
        console: Console,
        form: settings.CompanyForm | None = None,
        *,
        status: int = 200,
        error: str = "",
    ) -> HTMLResponse:
        company = await settings.own_company(console.session, console.ctx)
        shown = settings.company_form(company.settings)
        estates = [
            (estate, settings.estate_form(estate.settings))
            for estate in await settings.own_estates(console.session, console.ctx)
        ]
        return render(
            console,
            "settings.html",
            status=status,
            company=company,
            form=_shown_with(shown, form) if form else shown,
            mappings=settings.template_mappings(company.settings),
            defaults=settings.defaults(),
            bounds=settings.ALERT_BOUNDS,
            template_keys=settings.TEMPLATE_KEYS,
            topics=settings.ALERT_TOPICS,
            categories=settings.ALERT_CATEGORIES,
            estates=estates,
            quiet_text=lambda f: _quiet_text(f, console.lang),
            error=error,
            **await page_context(console),
        )

    async def _estate_page(
        console: Console,
        estate: Estate,
        form: settings.EstateForm | None = None,
        *,
        status: int = 200,
        error: str = "",
    ) -> HTMLResponse:
        shown = settings.estate_form(estate.settings)
        return render(
            console,
            "settings_estate.html",
            status=status,
            estate=estate,
            form=_shown_with(shown, form) if form else shown,
            defaults=settings.defaults(),
            unit_defaults={
                "repair_unit": t("zh", "card.repair_unit_default", estate=estate.name),
                "repair_unit_en": t(
                    "en", "card.repair_unit_default", estate=estate.name_en or estate.name
                ),
            },
            error=error,
            **await page_context(console),
        )

    @router.get("/settings", response_class=HTMLResponse)
    async def settings_page(console: Annotated[Console, Depends(console_user)]) -> HTMLResponse:
        return await _company_page(console)

    @router.post("/settings")
    async def settings_update(
        console: Annotated[Console, Depends(console_action)],
        form: Annotated[settings.CompanyForm, Depends(_company_form)],
    ) -> Response:
        company = await settings.own_company(console.session, console.ctx)
        try:  # the edit is checked whole before anything is written: nothing to undo
            changed = await settings.update_company(console.session, console.ctx, form)
        except InvalidInput as exc:
            return await _company_page(console, form, status=exc.http_status, error=exc.message)
        _saved(console, changed)
        if changed:
            await record(console, "settings_update", "company", company.id, changed=changed)
        return redirect("/console/settings")

    @router.get("/settings/estates/{estate_id}", response_class=HTMLResponse)
    async def estate_page(
        console: Annotated[Console, Depends(console_user)], estate_id: int
    ) -> HTMLResponse:
        estate = await settings.own_estate(console.session, console.ctx, estate_id)
        return await _estate_page(console, estate)

    @router.post("/settings/estates/{estate_id}")
    async def estate_update(
        console: Annotated[Console, Depends(console_action)],
        estate_id: int,
        form: Annotated[settings.EstateForm, Depends(_estate_form)],
    ) -> Response:
        estate = await settings.own_estate(console.session, console.ctx, estate_id)
        try:
            changed = await settings.update_estate(console.session, console.ctx, estate_id, form)
        except InvalidInput as exc:
            return await _estate_page(
                console, estate, form, status=exc.http_status, error=exc.message
            )
        _saved(console, changed)
        if changed:
            await record(console, "estate_settings_update", "estate", estate_id, changed=changed)
        return redirect(f"/console/settings/estates/{estate_id}")

    return router


def _saved(console: Console, changed: list[str]) -> None:
    flash(
        console.request,
        t(console.lang, "console.done" if changed else "console.settings.unchanged"),
    )
