"""Console: owners — search the households, read one household's file, keep it up to date,
and bind or unbind the chat accounts that speak for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from backend import owners
from backend.access import Permission
from backend.vocabulary import CareType, Language, Relation, Stage
from backend.web.console.common import (
    attempt,
    done,
    optional_id,
    page_context,
    record,
    redirect,
    visible_estates,
)
from backend.web.console.render import render
from backend.web.console.security import Console, console_action, console_user

Short = Annotated[str, Form(max_length=100)]


def _back(owner_id: int) -> Response:
    return redirect(f"/console/owners/{owner_id}")


def owner_pages() -> APIRouter:
    router = APIRouter(prefix="/console")

    @router.get("/owners", response_class=HTMLResponse)
    async def owner_list(
        console: Annotated[Console, Depends(console_user)],
        q: str = "",
        estate: str = "",
        page: int = 1,
    ) -> HTMLResponse:
        found = await owners.search_owners(
            console.session, console.ctx, q, estate_id=optional_id(estate), page=page
        )
        return render(
            console,
            "owners.html",
            found=found,
            q=q,
            estate=estate,
            estates=await visible_estates(console),
            **await page_context(console),
        )

    @router.get("/owners/{owner_id}", response_class=HTMLResponse)
    async def owner_page(
        console: Annotated[Console, Depends(console_user)], owner_id: int
    ) -> HTMLResponse:
        file = await owners.household_file(console.session, console.ctx, owner_id)
        return render(
            console,
            "owner.html",
            f=file,
            editable=console.ctx.can(Permission.EDIT_OWNERS),
            stages=[s.value for s in Stage],
            languages=[x.value for x in Language],
            relations=[r.value for r in Relation],
            care_types=[c.value for c in CareType],
            channels=[c.value for c in owners.CHAT_CHANNELS],
            **await page_context(console),
        )

    @router.post("/owners/{owner_id}")
    async def owner_edit(
        console: Annotated[Console, Depends(console_action)],
        owner_id: int,
        phone: Annotated[str, Form(max_length=32)],
        language: Annotated[str, Form(max_length=8)],
        stage: Annotated[str, Form(max_length=16)],
        key_owner: Annotated[str, Form(max_length=1)] = "",
        birthday: Annotated[str, Form(max_length=16)] = "",
        opt_out: Annotated[list[str] | None, Form()] = None,
    ) -> Response:
        edit = owners.OwnerEdit(
            phone, language, stage, bool(key_owner), birthday, tuple((opt_out or [])[:20])
        )
        changed, ok = await attempt(
            console, owners.update_owner(console.session, console.ctx, owner_id, edit)
        )
        if ok:
            await record(console, "owner_update", "owner", owner_id, changed=changed)
            done(console)
        return _back(owner_id)

    @router.post("/owners/{owner_id}/members")
    async def member_add(
        console: Annotated[Console, Depends(console_action)],
        owner_id: int,
        name: Short,
        relation: Annotated[str, Form(max_length=16)],
        birthday: Annotated[str, Form(max_length=16)] = "",
        phone: Annotated[str, Form(max_length=32)] = "",
    ) -> Response:
        member, ok = await attempt(
            console,
            owners.add_member(
                console.session,
                console.ctx,
                owner_id,
                name=name,
                relation=relation,
                birthday=birthday,
                phone=phone,
            ),
        )
        if ok:
            await record(
                console, "member_add", "owner", owner_id, member_id=member.id, relation=relation
            )
            done(console)
        return _back(owner_id)

    @router.post("/owners/{owner_id}/members/{member_id}/remove")
    async def member_remove(
        console: Annotated[Console, Depends(console_action)], owner_id: int, member_id: int
    ) -> Response:
        member = await owners.remove_member(console.session, console.ctx, owner_id, member_id)
        await record(
            console,
            "member_remove",
            "owner",
            owner_id,
            member_id=member.id,
            relation=member.relation,
        )
        done(console)
        return _back(owner_id)

    @router.post("/owners/{owner_id}/identities/{identity_id}/unbind")
    async def unbind(
        console: Annotated[Console, Depends(console_action)], owner_id: int, identity_id: int
    ) -> Response:
        identity = await owners.unbind_identity(console.session, console.ctx, owner_id, identity_id)
        await record(
            console,
            "identity_unbind",
            "owner",
            owner_id,
            identity_id=identity.id,
            channel=identity.channel,
            external_id=identity.external_id,
        )
        done(console)
        return _back(owner_id)

    @router.post("/owners/{owner_id}/bind")
    async def bind(
        console: Annotated[Console, Depends(console_action)],
        owner_id: int,
        channel: Annotated[str, Form(max_length=16)],
        external_id: Annotated[str, Form(max_length=128)],
    ) -> Response:
        identity, ok = await attempt(
            console,
            owners.bind_identity(
                console.session, console.ctx, owner_id, channel=channel, external_id=external_id
            ),
        )
        if ok:
            await record(
                console,
                "identity_bind",
                "owner",
                owner_id,
                identity_id=identity.id,
                channel=identity.channel,
                external_id=identity.external_id,
            )
            done(console)
        return _back(owner_id)

    return router
