"""Console: the knowledge base — list, search, create, edit, deactivate, and "try it"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from backend import kb_admin
from backend.access import Permission
from backend.errors import DomainError, Forbidden, NotFound
from backend.kb import KnowledgeBase
from backend.models import KbEntry
from backend.web.console.common import (
    done,
    optional_id,
    page_context,
    record,
    redirect,
    undo,
    visible_estates,
)
from backend.web.console.render import render
from backend.web.console.security import Console, console_action, console_user

Text = Annotated[str, Form(max_length=kb_admin.MAX_ANSWER)]
LongText = Annotated[str, Form(max_length=kb_admin.MAX_QUESTIONS * (kb_admin.MAX_QUESTION + 2))]


def _entry_form(
    key: Annotated[str, Form(max_length=64)] = "",
    estate: Annotated[str, Form(max_length=32)] = "",
    questions: LongText = "",
    answer_zh: Text = "",
    answer_en: Text = "",
    tags: Annotated[str, Form(max_length=1000)] = "",
    active: Annotated[str, Form(max_length=1)] = "",
) -> kb_admin.EntryForm:
    return kb_admin.EntryForm(key, estate, questions, answer_zh, answer_en, tags, bool(active))


def _form_of(entry: KbEntry, estate_code: str) -> kb_admin.EntryForm:
    return kb_admin.EntryForm(
        entry.key,
        estate_code,
        "\n".join(entry.questions),
        entry.answer_zh,
        entry.answer_en,
        ", ".join(entry.tags),
        entry.active,
    )


def kb_pages() -> APIRouter:
    router = APIRouter(prefix="/console")
    # Its own index that rechecks on every call, so "try it" shows an edit at once.
    kb = KnowledgeBase(recheck_seconds=0.0)

    async def _form_page(
        console: Console,
        form: kb_admin.EntryForm,
        entry: KbEntry | None,
        *,
        status: int = 200,
        error: str = "",
    ) -> HTMLResponse:
        estates = await visible_estates(console)
        return render(
            console,
            "kb_entry.html",
            status=status,
            form=form,
            entry=entry,
            estates=estates,
            error=error,
            editable=console.ctx.can(Permission.EDIT_KB),
            **await page_context(console),
        )

    @router.get("/kb", response_class=HTMLResponse)
    async def kb_list(
        console: Annotated[Console, Depends(console_user)], q: str = "", estate: str = ""
    ) -> HTMLResponse:
        kb_admin.require_view(console.ctx)
        estates = await visible_estates(console)
        rows = await kb_admin.list_entries(console.session, console.ctx, q[:100], estate)
        return render(
            console,
            "kb.html",
            rows=rows,
            estates=estates,
            q=q,
            estate=estate,
            editable=console.ctx.can(Permission.EDIT_KB),
            **await page_context(console),
        )

    @router.get("/kb/try", response_class=HTMLResponse)
    async def kb_try(
        console: Annotated[Console, Depends(console_user)], q: str = "", estate: str = ""
    ) -> HTMLResponse:
        if estate and not estate.isdigit():
            raise NotFound(f"no estate {estate!r}")
        tried = await kb_admin.try_query(
            console.session,
            kb,
            console.ctx,
            q,
            estate_id=optional_id(estate),
            language=console.lang,
        )
        if console.request.headers.get("hx-request"):
            return render(console, "_kb_try.html", tried=tried)
        return render(console, "kb_try.html", tried=tried, **await page_context(console))

    @router.get("/kb/new", response_class=HTMLResponse)
    async def kb_new(console: Annotated[Console, Depends(console_user)]) -> HTMLResponse:
        console.ctx.require(Permission.EDIT_KB)
        return await _form_page(console, kb_admin.EntryForm("", "", "", "", ""), None)

    @router.post("/kb")
    async def kb_create(
        console: Annotated[Console, Depends(console_action)],
        form: Annotated[kb_admin.EntryForm, Depends(_entry_form)],
    ) -> Response:
        console.ctx.require(Permission.EDIT_KB)
        try:
            entry = await kb_admin.create_entry(console.session, console.ctx, form)
        except (NotFound, Forbidden):
            raise
        except DomainError as exc:
            await undo(console)
            return await _form_page(console, form, None, status=exc.http_status, error=exc.message)
        await record(console, "kb_create", "kb_entry", entry.id, key=entry.key)
        done(console)
        return redirect(f"/console/kb/{entry.id}")

    @router.get("/kb/{entry_id}", response_class=HTMLResponse)
    async def kb_entry(
        console: Annotated[Console, Depends(console_user)], entry_id: int
    ) -> HTMLResponse:
        entry = await kb_admin.visible_entry(console.session, console.ctx, entry_id)
        estates = {e.id: e.code for e in await visible_estates(console)}
        code = estates.get(entry.estate_id, "") if entry.estate_id else ""
        return await _form_page(console, _form_of(entry, code), entry)

    @router.post("/kb/{entry_id}")
    async def kb_update(
        console: Annotated[Console, Depends(console_action)],
        entry_id: int,
        form: Annotated[kb_admin.EntryForm, Depends(_entry_form)],
    ) -> Response:
        console.ctx.require(Permission.EDIT_KB)
        entry = await kb_admin.visible_entry(console.session, console.ctx, entry_id)
        try:
            changed = await kb_admin.update_entry(console.session, console.ctx, entry.id, form)
        except (NotFound, Forbidden):
            raise
        except DomainError as exc:
            await undo(console)
            entry = await kb_admin.visible_entry(console.session, console.ctx, entry_id)
            return await _form_page(console, form, entry, status=exc.http_status, error=exc.message)
        await record(console, "kb_update", "kb_entry", entry_id, key=form.key, changed=changed)
        done(console)
        return redirect(f"/console/kb/{entry_id}")

    @router.post("/kb/{entry_id}/deactivate")
    async def kb_deactivate(
        console: Annotated[Console, Depends(console_action)], entry_id: int
    ) -> Response:
        entry = await kb_admin.deactivate_entry(console.session, console.ctx, entry_id)
        await record(console, "kb_deactivate", "kb_entry", entry.id, key=entry.key)
        done(console)
        return redirect("/console/kb")

    return router
