"""Who may see and do what in the console. Enforced here, in the services, so a page,
an htmx fragment and a JSON call all get the same answer: another estate's ticket is
"not found", an action beyond one's role is "forbidden"."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import Forbidden, NotFound
from backend.models import Owner, Staff, Ticket
from backend.staff import visible_estate_ids
from backend.vocabulary import Role


class Permission(StrEnum):
    VIEW_TICKETS = "ticket.view"
    REPLY = "ticket.reply"
    MOVE = "ticket.move"
    DISPATCH = "ticket.dispatch"
    REASSIGN = "ticket.reassign"
    FLAG = "ticket.flag"
    NOTE = "ticket.note"
    TAKE_OVER = "conversation.take"
    EDIT_KB = "kb.edit"
    VIEW_OWNERS = "owner.view"
    EDIT_OWNERS = "owner.edit"
    MANAGE_STAFF = "staff.manage"
    VIEW_REPORTS = "reports.view"
    # Care campaigns (docs/campaigns.md): create and send within one's estates; approve
    # the holiday drafts the calendar makes.
    SEND_CAMPAIGNS = "campaign.send"
    APPROVE_CAMPAIGNS = "campaign.approve"
    # The audit log (who did what, logins, addresses): the company's oversight, read-only.
    VIEW_AUDIT = "audit.view"
    # The company's and its estates' settings (quiet hours, WeChat templates, alert
    # thresholds…): admins only.
    MANAGE_SETTINGS = "settings.manage"


_FRONT_DESK = {
    Permission.VIEW_TICKETS,
    Permission.REPLY,
    Permission.MOVE,
    Permission.DISPATCH,
    Permission.FLAG,
    Permission.NOTE,
    Permission.TAKE_OVER,
    Permission.EDIT_KB,
    Permission.VIEW_OWNERS,
    Permission.EDIT_OWNERS,
}
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_FRONT_DESK),
    Role.TECHNICIAN: frozenset({Permission.VIEW_TICKETS, Permission.MOVE, Permission.NOTE}),
    Role.SUPERVISOR: frozenset(
        _FRONT_DESK | {Permission.REASSIGN, Permission.VIEW_REPORTS, Permission.SEND_CAMPAIGNS}
    ),
    Role.MANAGER: frozenset(
        {
            Permission.VIEW_TICKETS,
            Permission.VIEW_OWNERS,
            Permission.VIEW_REPORTS,
            Permission.SEND_CAMPAIGNS,
            Permission.APPROVE_CAMPAIGNS,
            Permission.VIEW_AUDIT,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}
# A technician records the work; the rest of the lifecycle belongs to the front desk.
TECHNICIAN_MOVES = frozenset({"on_site", "done"})


@dataclass(frozen=True)
class StaffContext:
    staff: Staff
    estate_ids: frozenset[int]

    @property
    def role(self) -> Role:
        return Role(self.staff.role)

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(f"a {self.role.value} may not do this ({permission.value})")

    def may_move_to(self, state: str) -> bool:
        if not self.can(Permission.MOVE):
            return False
        return self.role is not Role.TECHNICIAN or state in TECHNICIAN_MOVES

    def ticket_scope(self) -> Any:
        """The SQL condition for the tickets this person may see."""
        in_estates = Ticket.estate_id.in_(self.estate_ids)
        if self.role is Role.TECHNICIAN:
            return and_(in_estates, Ticket.assignee_id == self.staff.id)
        return in_estates


async def staff_context(session: AsyncSession, staff: Staff) -> StaffContext:
    return StaffContext(staff, await visible_estate_ids(session, staff))


async def visible_ticket(session: AsyncSession, ctx: StaffContext, ticket_id: int) -> Ticket:
    ticket = await session.scalar(select(Ticket).where(Ticket.id == ticket_id, ctx.ticket_scope()))
    if ticket is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return ticket


async def visible_owner(session: AsyncSession, ctx: StaffContext, owner_id: int) -> Owner:
    ctx.require(Permission.VIEW_OWNERS)
    owner = await session.scalar(
        select(Owner).where(Owner.id == owner_id, Owner.estate_id.in_(ctx.estate_ids))
    )
    if owner is None:
        raise NotFound(f"no owner with id {owner_id}")
    return owner
