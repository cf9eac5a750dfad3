"""The staff console (FastAPI + Jinja2 + vendored htmx): the front desk's screen."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from backend.errors import DomainError
from backend.i18n import normalize_lang, t
from backend.web.console.alert_pages import alert_pages
from backend.web.console.audit_pages import audit_pages
from backend.web.console.callback_pages import callback_pages
from backend.web.console.campaign_pages import campaign_pages
from backend.web.console.conversation_pages import conversation_pages
from backend.web.console.household_export import household_export
from backend.web.console.kb_pages import kb_pages
from backend.web.console.owner_pages import owner_pages
from backend.web.console.pages import console_pages
from backend.web.console.periodic_pages import periodic_pages
from backend.web.console.render import render
from backend.web.console.report_pages import report_pages
from backend.web.console.security import CsrfFailed, LoginRequired, login_url
from backend.web.console.settings_pages import settings_pages
from backend.web.console.staff_pages import staff_pages
from backend.web.errors import error_response


def console_router(wake: Callable[[], None]) -> APIRouter:
    """Every console section under one router; ``wake`` reaches each that queues messages."""
    router = APIRouter()
    router.include_router(console_pages(wake))
    router.include_router(kb_pages())
    router.include_router(owner_pages())
    router.include_router(household_export())
    router.include_router(alert_pages(wake))
    router.include_router(periodic_pages())
    router.include_router(report_pages())
    router.include_router(staff_pages())
    router.include_router(settings_pages())
    router.include_router(conversation_pages(wake))
    router.include_router(campaign_pages(wake))
    router.include_router(callback_pages())
    router.include_router(audit_pages())
    return router


def _is_page(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/console") and not path.startswith("/console/api")


def install_console_errors(app: FastAPI) -> None:
    """Console pages answer errors with pages (or htmx redirects), JSON routes with JSON."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/console/login"})
        if not _is_page(request):
            return error_response(401, "unauthorized", "log in first")
        return RedirectResponse(login_url(request), status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _: CsrfFailed) -> Response:
        lang = normalize_lang(request.session.get("lang"))
        if not _is_page(request):
            return error_response(403, "csrf", "missing or wrong CSRF token")
        return render(
            None,
            "error.html",
            status=403,
            lang=lang,
            title="403",
            message=t(lang, "console.error.csrf"),
        )

    previous = app.exception_handlers.get(DomainError)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if _is_page(request) and not request.headers.get("hx-request"):
            lang = normalize_lang(request.session.get("lang"))
            return render(
                None,
                "error.html",
                status=exc.http_status,
                lang=lang,
                title=str(exc.http_status),
                message=exc.message,
            )
        if previous is not None:
            return await previous(request, exc)  # type: ignore[misc]
        return error_response(exc.http_status, exc.code, exc.message)
