"""Console: care campaigns — the list with progress bars, the form (both languages, audience
pickers), the preview step (audience count and each language's text) before "send now"
or "schedule", live progress, pause / resume / cancel, and approving holiday drafts.

Scope and roles are the service's (``backend.campaigns``); every action is audited and
answered with a redirect (post/redirect/get) and a flash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from backend import campaigns
from backend.access import Permission
from backend.campaign_audience import AudienceSpec, company_estates
from backend.errors import DomainError, Forbidden, InvalidInput, NotFound
from backend.i18n import t
from backend.models import Building, Campaign, Company, Estate, Staff
from backend.vocabulary import Language, Relation, Stage
from backend.web.console.common import (
    attempt,
    flash,
    page_context,
    record,
    redirect,
    undo,
    visible_estates,
)
from backend.web.console.render import render
from backend.web.console.security import Console, console_action, console_user

Wake = Callable[[], None]
Name = Annotated[str, Form(max_length=campaigns.MAX_NAME * 2)]
Text = Annotated[str, Form(max_length=campaigns.MAX_TEXT * 2)]
Picks = Annotated[list[str], Form(max_length=64)]
When = Annotated[str, Form(max_length=32)]
HOUSEHOLD = (Relation.CHILD, Relation.ELDER, Relation.PARENT, Relation.SERVICEMAN)
LIVE = frozenset({campaigns.CampaignState.RUNNING, campaigns.CampaignState.PAUSED})


@dataclass
class FormInput:
    """The form as sent (kept as typed, to show it again with an error)."""

    name: str = ""
    text_zh: str = ""
    text_en: str = ""
    estate_ids: set[int] = field(default_factory=set)
    building_ids: set[int] = field(default_factory=set)
    stages: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    relations: set[str] = field(default_factory=set)
    send_at: str = ""  # datetime-local, in the company's time zone

    def spec(self) -> AudienceSpec:
        return AudienceSpec.of(
            {
                "estate_ids": self.estate_ids,
                "building_ids": self.building_ids,
                "stages": self.stages,
                "languages": self.languages,
                "relations": self.relations,
            }
        )


def _ids(values: list[str]) -> set[int]:
    return {int(v) for v in values if v.isdigit()}


def _form_input(
    name: Name = "",
    text_zh: Text = "",
    text_en: Text = "",
    estate_ids: Picks = [],  # noqa: B006  (FastAPI copies defaults)
    building_ids: Picks = [],  # noqa: B006
    stages: Picks = [],  # noqa: B006
    languages: Picks = [],  # noqa: B006
    relations: Picks = [],  # noqa: B006
    send_at: When = "",
) -> FormInput:
    return FormInput(
        name,
        text_zh,
        text_en,
        _ids(estate_ids),
        _ids(building_ids),
        set(stages),
        set(languages),
        set(relations),
        send_at.strip(),
    )


def _parse_time(value: str, zone: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not a date and time: {value!r}") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _form_of(campaign: Campaign, zone: ZoneInfo) -> FormInput:
    spec = AudienceSpec.of(campaign.audience)
    return FormInput(
        campaign.name,
        campaign.text_zh,
        campaign.text_en,
        set(spec.estate_ids),
        set(spec.building_ids),
        set(spec.stages),
        set(spec.languages),
        set(spec.relations),
        _local(campaign.scheduled_at, zone),
    )


async def _zone(console: Console) -> ZoneInfo:
    company = await console.session.get(Company, console.staff.company_id)
    return ZoneInfo(company.timezone if company else "Asia/Shanghai")


async def _buildings(console: Console) -> list[tuple[Building, Estate]]:
    rows = await console.session.execute(
        select(Building, Estate)
        .join(Estate, Estate.id == Building.estate_id)
        .where(Estate.id.in_(console.ctx.estate_ids))
        .order_by(Estate.id, Building.code)
    )
    return [(b, e) for b, e in rows]


def campaign_pages(wake: Wake) -> APIRouter:
    router = APIRouter(prefix="/console")

    async def _form_page(
        console: Console,
        form: FormInput,
        campaign: Campaign | None,
        *,
        status: int = 200,
        error: str = "",
    ) -> HTMLResponse:
        return render(
            console,
            "campaign_form.html",
            status=status,
            form=form,
            campaign=campaign,
            error=error,
            estates=await visible_estates(console),
            buildings=await _buildings(console),
            stages=[s.value for s in Stage],
            languages=[x.value for x in Language],
            relations=[r.value for r in HOUSEHOLD],
            **await page_context(console),
        )

    async def _save(console: Console, form: FormInput, campaign_id: int | None) -> Response:
        zone = await _zone(console)
        try:
            data = campaigns.CampaignForm(
                form.name, form.text_zh, form.text_en, form.spec(), _parse_time(form.send_at, zone)
            )
            if campaign_id is None:
                campaign = await campaigns.create(console.session, console.ctx, data)
            else:
                campaign = await campaigns.update_draft(
                    console.session, console.ctx, campaign_id, data
                )
        except (NotFound, Forbidden):
            raise
        except DomainError as exc:
            await undo(console)
            existing = (
                await campaigns.visible_campaign(console.session, console.ctx, campaign_id)
                if campaign_id
                else None
            )
            return await _form_page(
                console, form, existing, status=exc.http_status, error=exc.message
            )
        action = "campaign_create" if campaign_id is None else "campaign_update"
        await record(console, action, "campaign", campaign.id, name=campaign.name)
        flash(console.request, t(console.lang, "console.campaign.flash.saved"))
        return redirect(f"/console/campaigns/{campaign.id}")

    @router.get("/campaigns", response_class=HTMLResponse)
    async def campaign_list(console: Annotated[Console, Depends(console_user)]) -> HTMLResponse:
        rows = await campaigns.list_campaigns(console.session, console.ctx)
        company = await console.session.get(Company, console.staff.company_id)
        return render(
            console,
            "campaigns.html",
            rows=rows,
            tz=company.timezone if company else None,
            holiday_mode=bool(company and campaigns.uses_holiday_campaigns(company)),
            can_approve=console.ctx.can(Permission.APPROVE_CAMPAIGNS),
            **await page_context(console),
        )

    @router.get("/campaigns/new", response_class=HTMLResponse)
    async def campaign_new(console: Annotated[Console, Depends(console_user)]) -> HTMLResponse:
        console.ctx.require(Permission.SEND_CAMPAIGNS)
        return await _form_page(console, FormInput(), None)

    @router.post("/campaigns")
    async def campaign_create(
        console: Annotated[Console, Depends(console_action)],
        form: Annotated[FormInput, Depends(_form_input)],
    ) -> Response:
        return await _save(console, form, None)

    @router.post("/campaigns/holidays")
    async def campaign_holidays(console: Annotated[Console, Depends(console_action)]) -> Response:
        """Look at the calendar now rather than at the next daily run."""
        console.ctx.require(Permission.APPROVE_CAMPAIGNS)
        zone = await _zone(console)
        today: date = datetime.now(zone).date()
        made = await campaigns.holiday_drafts(
            console.session, today, company_id=console.staff.company_id
        )
        await record(console, "campaign_holidays", "campaign", None, created=len(made))
        flash(console.request, t(console.lang, "console.campaign.flash.holidays", n=len(made)))
        return redirect("/console/campaigns")

    @router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
    async def campaign_page(
        console: Annotated[Console, Depends(console_user)], campaign_id: int
    ) -> HTMLResponse:
        campaign = await campaigns.visible_campaign(console.session, console.ctx, campaign_id)
        zone = await _zone(console)
        editable = campaign.state in campaigns.EDITABLE
        return render(
            console,
            "campaign.html",
            c=campaign,
            preview=await campaigns.preview(console.session, campaign) if editable else None,
            progress=await campaigns.progress(console.session, campaign),
            editable=editable,
            live=campaign.state in LIVE,
            send_at=_local(campaign.scheduled_at, zone),
            tz=str(zone),
            estates=await company_estates(console.session, campaign.company_id),
            buildings={b.id: (b, e) for b, e in await _buildings(console)},
            people=await _people(console, campaign),
            can_approve=console.ctx.can(Permission.APPROVE_CAMPAIGNS),
            **await page_context(console),
        )

    @router.get("/campaigns/{campaign_id}/progress", response_class=HTMLResponse)
    async def campaign_progress(
        console: Annotated[Console, Depends(console_user)], campaign_id: int
    ) -> HTMLResponse:
        """The htmx fragment the detail page polls while the campaign is live."""
        campaign = await campaigns.visible_campaign(console.session, console.ctx, campaign_id)
        progress = await campaigns.progress(console.session, campaign)
        return render(
            console,
            "campaign_progress.html",
            c=campaign,
            progress=progress,
            live=campaign.state in LIVE,
        )

    @router.get("/campaigns/{campaign_id}/edit", response_class=HTMLResponse)
    async def campaign_edit(
        console: Annotated[Console, Depends(console_user)], campaign_id: int
    ) -> HTMLResponse:
        campaign = await campaigns.visible_campaign(console.session, console.ctx, campaign_id)
        return await _form_page(console, _form_of(campaign, await _zone(console)), campaign)

    @router.post("/campaigns/{campaign_id}")
    async def campaign_update(
        console: Annotated[Console, Depends(console_action)],
        campaign_id: int,
        form: Annotated[FormInput, Depends(_form_input)],
    ) -> Response:
        return await _save(console, form, campaign_id)

    @router.post("/campaigns/{campaign_id}/send")
    async def campaign_send(
        console: Annotated[Console, Depends(console_action)], campaign_id: int
    ) -> Response:
        response = await _act(
            console,
            campaign_id,
            "send",
            campaigns.start(console.session, console.ctx, campaign_id),
            "console.campaign.flash.sent",
        )
        await console.session.commit()  # before waking the worker, so it finds the rows
        wake()
        return response

    @router.post("/campaigns/{campaign_id}/schedule")
    async def campaign_schedule(
        console: Annotated[Console, Depends(console_action)],
        campaign_id: int,
        send_at: When = "",
    ) -> Response:
        zone = await _zone(console)

        async def work() -> Campaign:
            at = _parse_time(send_at.strip(), zone)
            if at is None:
                raise InvalidInput(t(console.lang, "console.campaign.need_time"))
            return await campaigns.schedule(console.session, console.ctx, campaign_id, at)

        return await _act(
            console, campaign_id, "schedule", work(), "console.campaign.flash.scheduled"
        )

    for name, service, message in (
        ("approve", campaigns.approve, "console.campaign.flash.approved"),
        ("pause", campaigns.pause, "console.campaign.flash.paused"),
        ("resume", campaigns.resume, "console.campaign.flash.resumed"),
        ("cancel", campaigns.cancel, "console.campaign.flash.cancelled"),
    ):
        router.add_api_route(
            f"/campaigns/{{campaign_id}}/{name}",
            _action_route(name, service, message, wake),
            methods=["POST"],
            name=f"campaign_{name}",
        )

    return router


async def _act(
    console: Console, campaign_id: int, action: str, work: Awaitable[Any], message: str
) -> Response:
    """Run a campaign action; audit and flash it, or flash why not."""
    result, ok = await attempt(console, work)
    if ok:
        amount = result if isinstance(result, int) else None
        await record(console, f"campaign_{action}", "campaign", campaign_id, count=amount)
        flash(console.request, t(console.lang, message, n=amount or 0))
    return redirect(f"/console/campaigns/{campaign_id}")


def _action_route(
    name: str, service: Callable[..., Awaitable[Any]], message: str, wake: Wake
) -> Callable[..., Awaitable[Response]]:
    async def route(
        console: Annotated[Console, Depends(console_action)], campaign_id: int
    ) -> Response:
        response = await _act(
            console,
            campaign_id,
            name,
            service(console.session, console.ctx, campaign_id),
            message,
        )
        if name == "resume":
            await console.session.commit()  # before waking the worker, so it finds the rows
            wake()
        return response

    return route


async def _people(console: Console, campaign: Campaign) -> dict[int, str]:
    """Names of who created and approved it."""
    ids = [i for i in (campaign.created_by_id, campaign.approved_by_id) if i]
    if not ids:
        return {}
    rows = await console.session.scalars(select(Staff).where(Staff.id.in_(ids)))
    return {s.id: s.shown_name for s in rows}
