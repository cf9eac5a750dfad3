"""March 2026 on a dozen tickets whose every KPI can be counted by hand (docs/kpi.md).

Times are Shanghai local ("03-02 09:00"); the period is 1–31 March, the report is run on
10 April. The tickets, with what each contributes:

  R1 repair, owner A-1-101, kitchen/plumbing, wechat, 03-02 09:00; dispatched 09:05,
     on site 09:20, done 11:00, called back 13:00, rated 5 → closed.
  R2 repair, owner A-1-101, bathroom/water_leak (major), webchat, 03-03 10:00; dispatched
     10:30 (10 min promise: 30 late), on site 10:50, done 15:00, called back 03-05 16:00
     (24 h promise: 49 h, late), rated 2 → reopened (second callback cancelled), dispatch
     again 16:08, on site 16:30, done 18:00, called back 03-06 10:00, rated 4 → closed.
  R3 repair, neighbour A-1-102, balcony/door_window, wechat, 03-10 09:00 from chat account
     N; dispatched 09:08, on site 09:50 (42 min, late), done 12:00, called back 14:00, no
     answer → phone task T1 due 03-12 10:00, done 03-12 09:00 (unreachable) → closed.
  R4 repair, owner A-1-101, bathroom/water_leak, console, 03-20 09:00: a repeat of R2;
     dispatched 09:05, on site 09:30, done 11:00, never called back (due 03-21 11:00).
     Phone task T2 due 03-25 10:00, not done.
  R5 repair, neighbour, kitchen/electrical, wechat, 03-25 10:00, cancelled 10:05.
  R6 repair, neighbour, living_room/crack, wechat, 03-31 23:00; dispatched 04-01 00:20
     (80 min, late; due inside March), the rest in April (rated 5 in April).
  R7 repair, owner, bedroom/door_window, wechat, opened 02-25, done 02-28 10:00, called
     back 03-01 09:00 (due 03-01 10:00), rated 5 → closed 03-01 09:30; reopened 04-03.
  R8 repair, far owner (estate B), corridor/public_area, telegram, 03-15 09:00;
     dispatched 09:05, on site 09:25, done 10:00, called back 12:00, rated 3 → closed.
  C1 complaint, owner, noise, wechat, 03-04 09:00; confirmed 09:30, replied 03-05 08:00,
     tracked to closure 03-06 10:00, called back 03-09 10:00, rated 5 → closed 10:30.
  C2 complaint, neighbour, parking, webchat, 03-12 14:00; confirmed 17:00 (2 h promise:
     3 h, late), follow-up 03-13 10:00, replied 03-16 10:00 (48 h promise: 92 h, late),
     tracking 03-17 10:00, called back 03-23 10:00 (due 03-20 end of day, late), rated 1
     → reopened (a new 48 h reply promise, never kept).
  C3 complaint, owner, fees, console, 03-20 09:00, cancelled 09:30.
  C4 complaint, neighbour, noise, wechat, 03-30 10:00; confirmed 10:20; the rest in
     April (replied 04-02 10:00, which keeps the 24 h accept callback late).
  C5 complaint, far owner, telegram, opened 02-27 10:00, replied 02-28 10:00 (its 48 h
     reply promise was due 03-01 10:00), tracking 03-02 10:00, called back 03-03 10:00,
     closed 11:00.
  E1 enquiry, owner, webchat, 03-05; E2 enquiry, far owner, telegram, 03-31 23:30.

Owner messages read as repair/complaint/emergency in March: m1 (linked to R1), m2
(unverified chat account N, 10 min before R3 from N), m3 (owner, 30 min before C1), m4
(urgent, linked to R4), m5 (unverified account, no ticket), m9 (far owner, no ticket
within 24 h), m10 (neighbour, 1 h before C2). Not counted: an enquiry, a February message,
an outgoing message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend import callbacks, ratings, sla, tickets
from backend.actors import Actor
from backend.models import CallbackTask, ChannelIdentity, Message, Staff, Ticket
from backend.reports import period_bounds
from tests.factories import World

ZONE = ZoneInfo("Asia/Shanghai")
START, END = period_bounds(datetime(2026, 3, 1).date(), datetime(2026, 3, 31).date(), ZONE)
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=ZONE).astimezone(UTC)


def at(day: str, hm: str = "00:00") -> datetime:
    """Shanghai local ``MM-DD HH:MM`` of 2026 as an aware UTC time."""
    month, dom = (int(x) for x in day.split("-"))
    hour, minute = (int(x) for x in hm.split(":"))
    return datetime(2026, month, dom, hour, minute, tzinfo=ZONE).astimezone(UTC)


class March:
    """Builds the tickets above through the real services (events, deadlines, ratings)."""

    def __init__(self, session: AsyncSession, world: World) -> None:
        self.s, self.w = session, world
        self.staff = Actor.of_staff(world.agent)

    async def open(self, kind: str, owner: str, when: datetime, **kw: object) -> Ticket:
        who = {"owner": self.w.owner, "neighbour": self.w.neighbour, "far": self.w.far_owner}
        person = who[owner]
        ticket = await tickets.open_ticket(
            self.s,
            kind=kind,
            estate_id=person.estate_id,
            owner_id=person.id,
            actor=self.staff,
            summary=f"{kind} of {owner}",
            now=when,
            **kw,  # type: ignore[arg-type]
        )
        return ticket

    async def walk(self, ticket: Ticket, *steps: tuple[str, datetime]) -> None:
        tech: Staff = (
            self.w.far_technician
            if ticket.estate_id == self.w.other_estate.id
            else self.w.technician
        )
        for state, when in steps:
            await tickets.transition(
                self.s,
                ticket,
                state,
                self.staff,
                assignee_id=tech.id if state == "dispatched" else None,
                reason="duplicate" if state == "cancelled" else "",
                now=when,
            )

    async def rate(self, ticket: Ticket, score: int, when: datetime) -> None:
        await ratings.rate(self.s, ticket, score, self.staff, now=when)

    async def build(self) -> dict[str, Ticket]:
        s, w = self.s, self.w
        ident_n = ChannelIdentity(channel="webchat", external_id="chat-n")
        ident_x = ChannelIdentity(channel="webchat", external_id="chat-x")
        s.add_all([ident_n, ident_x])
        await s.flush()
        t: dict[str, Ticket] = {}

        t["R1"] = r1 = await self.open(
            "repair",
            "owner",
            at("03-02", "09:00"),
            channel="wechat",
            location="kitchen",
            category="plumbing",
        )
        await self.walk(
            r1,
            ("dispatched", at("03-02", "09:05")),
            ("on_site", at("03-02", "09:20")),
            ("done", at("03-02", "11:00")),
            ("callback", at("03-02", "13:00")),
        )
        await self.rate(r1, 5, at("03-02", "13:00"))

        t["R2"] = r2 = await self.open(
            "repair",
            "owner",
            at("03-03", "10:00"),
            channel="webchat",
            location="bathroom",
            category="water_leak",
        )
        await self.walk(
            r2,
            ("dispatched", at("03-03", "10:30")),
            ("on_site", at("03-03", "10:50")),
            ("done", at("03-03", "15:00")),
            ("callback", at("03-05", "16:00")),
        )
        await self.rate(r2, 2, at("03-05", "16:00"))
        assert r2.state == "received" and r2.reopen_count == 1
        await self.walk(
            r2,
            ("dispatched", at("03-05", "16:08")),
            ("on_site", at("03-05", "16:30")),
            ("done", at("03-05", "18:00")),
            ("callback", at("03-06", "10:00")),
        )
        await self.rate(r2, 4, at("03-06", "10:00"))

        t["R3"] = r3 = await self.open(
            "repair",
            "neighbour",
            at("03-10", "09:00"),
            channel="wechat",
            location="balcony",
            category="door_window",
            identity_id=ident_n.id,
        )
        await self.walk(
            r3,
            ("dispatched", at("03-10", "09:08")),
            ("on_site", at("03-10", "09:50")),
            ("done", at("03-10", "12:00")),
            ("callback", at("03-10", "14:00")),
        )
        task = CallbackTask(
            kind="callback",
            ticket_id=r3.id,
            owner_id=r3.owner_id,
            estate_id=r3.estate_id,
            due_at=at("03-12", "10:00"),
            created_at=at("03-11", "14:00"),
        )
        s.add(task)
        await s.flush()
        await callbacks.complete_task(
            s, task, w.agent, outcome="unreachable", now=at("03-12", "09:00")
        )
        assert r3.state == "closed"

        t["R4"] = r4 = await self.open(
            "repair",
            "owner",
            at("03-20", "09:00"),
            channel="console",
            location="bathroom",
            category="water_leak",
        )
        assert r4.is_repeat and r4.repeat_of_id == r2.id
        await self.walk(
            r4,
            ("dispatched", at("03-20", "09:05")),
            ("on_site", at("03-20", "09:30")),
            ("done", at("03-20", "11:00")),
        )
        s.add(
            CallbackTask(
                kind="callback",
                ticket_id=r4.id,
                owner_id=r4.owner_id,
                estate_id=r4.estate_id,
                due_at=at("03-25", "10:00"),
                created_at=at("03-24", "10:00"),
            )
        )
        # Neither counts: a new owner's visit, and a callback task due in April.
        s.add(
            CallbackTask(
                kind="visit",
                owner_id=w.neighbour.id,
                estate_id=w.estate.id,
                due_at=at("03-20", "10:00"),
                created_at=at("03-01", "10:00"),
            )
        )

        t["R5"] = r5 = await self.open(
            "repair",
            "neighbour",
            at("03-25", "10:00"),
            channel="wechat",
            location="kitchen",
            category="electrical",
        )
        await self.walk(r5, ("cancelled", at("03-25", "10:05")))

        t["R6"] = r6 = await self.open(
            "repair",
            "neighbour",
            at("03-31", "23:00"),
            channel="wechat",
            location="living_room",
            category="crack",
        )
        await self.walk(
            r6,
            ("dispatched", at("04-01", "00:20")),
            ("on_site", at("04-01", "00:40")),
            ("done", at("04-01", "10:00")),
            ("callback", at("04-01", "12:00")),
        )
        await self.rate(r6, 5, at("04-01", "12:00"))
        s.add(
            CallbackTask(
                kind="callback",
                ticket_id=r6.id,
                owner_id=r6.owner_id,
                estate_id=r6.estate_id,
                due_at=at("04-02", "10:00"),
                created_at=at("04-01", "12:00"),
            )
        )

        t["R7"] = r7 = await self.open(
            "repair",
            "owner",
            at("02-25", "09:00"),
            channel="wechat",
            location="bedroom",
            category="door_window",
        )
        await self.walk(
            r7,
            ("dispatched", at("02-25", "09:05")),
            ("on_site", at("02-25", "09:30")),
            ("done", at("02-28", "10:00")),
            ("callback", at("03-01", "09:00")),
        )
        await self.rate(r7, 5, at("03-01", "09:30"))
        await tickets.reopen(s, r7, self.staff, note="leaks again", now=at("04-03", "10:00"))

        t["R8"] = r8 = await self.open(
            "repair",
            "far",
            at("03-15", "09:00"),
            channel="telegram",
            location="corridor",
            category="public_area",
        )
        await self.walk(
            r8,
            ("dispatched", at("03-15", "09:05")),
            ("on_site", at("03-15", "09:25")),
            ("done", at("03-15", "10:00")),
            ("callback", at("03-15", "12:00")),
        )
        await self.rate(r8, 3, at("03-15", "12:00"))

        t["C1"] = c1 = await self.open("complaint", "owner", at("03-04", "09:00"), channel="wechat")
        await self.walk(
            c1,
            ("confirmed", at("03-04", "09:30")),
            ("assessed", at("03-04", "10:00")),
            ("investigating", at("03-04", "11:00")),
            ("replied", at("03-05", "08:00")),
            ("tracking", at("03-06", "10:00")),
            ("callback", at("03-09", "10:00")),
        )
        await self.rate(c1, 5, at("03-09", "10:30"))

        t["C2"] = c2 = await self.open(
            "complaint", "neighbour", at("03-12", "14:00"), channel="webchat"
        )
        await self.walk(
            c2,
            ("confirmed", at("03-12", "17:00")),
            ("assessed", at("03-13", "09:00")),
            ("investigating", at("03-13", "09:30")),
        )
        await tickets.record(s, c2, sla.FOLLOW_UP, self.staff, now=at("03-13", "10:00"))
        await self.walk(
            c2,
            ("replied", at("03-16", "10:00")),
            ("tracking", at("03-17", "10:00")),
            ("callback", at("03-23", "10:00")),
        )
        await self.rate(c2, 1, at("03-23", "10:00"))
        assert c2.state == "investigating"

        t["C3"] = c3 = await self.open(
            "complaint", "owner", at("03-20", "09:00"), channel="console"
        )
        await self.walk(c3, ("cancelled", at("03-20", "09:30")))

        t["C4"] = c4 = await self.open(
            "complaint", "neighbour", at("03-30", "10:00"), channel="wechat"
        )
        await self.walk(
            c4,
            ("confirmed", at("03-30", "10:20")),
            ("assessed", at("04-01", "09:00")),
            ("investigating", at("04-01", "09:30")),
            ("replied", at("04-02", "10:00")),
            ("tracking", at("04-03", "10:00")),
        )

        t["C5"] = c5 = await self.open("complaint", "far", at("02-27", "10:00"), channel="telegram")
        await self.walk(
            c5,
            ("confirmed", at("02-27", "10:30")),
            ("assessed", at("02-27", "11:00")),
            ("investigating", at("02-27", "11:30")),
            ("replied", at("02-28", "10:00")),
            ("tracking", at("03-02", "10:00")),
            ("callback", at("03-03", "10:00")),
            ("closed", at("03-03", "11:00")),
        )
        for key, topic in (("C1", "noise"), ("C2", "parking"), ("C3", "fees"), ("C4", "noise")):
            t[key].topic = topic

        t["E1"] = e1 = await self.open("enquiry", "owner", at("03-05", "10:00"), channel="webchat")
        await self.walk(e1, ("answered", at("03-05", "10:01")), ("closed", at("03-05", "10:05")))
        t["E2"] = e2 = await self.open("enquiry", "far", at("03-31", "23:30"), channel="telegram")
        await self.walk(e2, ("answered", at("04-01", "08:00")))

        def msg(n: int, when: datetime, intent: str, **kw: object) -> Message:
            fields: dict[str, object] = {
                "channel": "webchat",
                "platform_message_id": f"m{n}",
                "direction": "in",
                "text": f"message {n}",
                "created_at": when,
                "intent": intent,
            }
            fields.update(kw)
            return Message(**fields)

        s.add_all(
            [
                msg(1, at("03-02", "08:58"), "repair", owner_id=w.owner.id, ticket_id=r1.id),
                msg(2, at("03-10", "08:50"), "repair", identity_id=ident_n.id),
                msg(3, at("03-04", "08:30"), "complaint", owner_id=w.owner.id),
                msg(4, at("03-20", "08:59"), "urgent", owner_id=w.owner.id, ticket_id=r4.id),
                msg(5, at("03-21", "10:00"), "repair", identity_id=ident_x.id),
                msg(6, at("03-05", "09:59"), "enquiry", owner_id=w.owner.id),
                msg(7, at("02-28", "12:00"), "repair", owner_id=w.owner.id),
                msg(
                    8,
                    at("03-06", "12:00"),
                    "repair",
                    owner_id=w.owner.id,
                    direction="out",
                    platform_message_id=None,
                ),
                msg(9, at("03-11", "10:00"), "repair", owner_id=w.far_owner.id),
                msg(10, at("03-12", "13:00"), "complaint", owner_id=w.neighbour.id),
            ]
        )
        await s.commit()
        return t
