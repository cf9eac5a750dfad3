"""The callback task list: scoped, and a phone callback done with a rating closes the ticket."""

from __future__ import annotations

from sqlalchemy import select

from backend import desk
from backend.actors import SYSTEM
from backend.callbacks import RETRY_AFTER, TASK_AFTER, run_callbacks
from backend.composition import Runtime
from backend.models import CallbackTask, Estate, Rating, Ticket, utcnow
from tests.factories import morning_after
from tests.web.conftest import ConsoleClient


async def callback_task(runtime: Runtime, estate_code: str) -> CallbackTask:
    async with runtime.db.session() as s:
        ticket = await s.scalar(
            select(Ticket)
            .join(Estate, Estate.id == Ticket.estate_id)
            .where(Estate.code == estate_code, Ticket.state == "done")
        )
        assert ticket is not None
        await desk.move(s, ticket, "callback", SYSTEM)
        later = morning_after(RETRY_AFTER, utcnow())
        await run_callbacks(s, later)  # asked again, in the morning
        await run_callbacks(s, later + TASK_AFTER)
        task = await s.scalar(select(CallbackTask).where(CallbackTask.ticket_id == ticket.id))
        assert task is not None
        return task


async def test_phone_callback_with_a_rating(console: ConsoleClient, runtime: Runtime) -> None:
    task = await callback_task(runtime, "DEMO-A")
    await console.login("agent.a")
    page = await console.http.get("/console/callbacks")
    assert f'data-task="{task.id}"' in page.text
    response = await console.post(
        f"/console/callbacks/{task.id}", outcome="reached", score=5, note="业主很满意"
    )
    assert response.status_code == 303
    async with runtime.db.session() as s:
        rating = await s.scalar(select(Rating).where(Rating.ticket_id == task.ticket_id))
        ticket = await s.get(Ticket, task.ticket_id)
    assert (
        rating is not None
        and rating.channel == "phone"
        and ticket is not None
        and ticket.state == "closed"
    )
    done = await console.http.get("/console/callbacks?done=1")
    assert "业主很满意" in done.text


async def test_other_estates_tasks_are_not_found(console: ConsoleClient, runtime: Runtime) -> None:
    task = await callback_task(runtime, "DEMO-B")
    await console.login("agent.a")
    assert f'data-task="{task.id}"' not in (await console.http.get("/console/callbacks")).text
    assert (
        await console.post(f"/console/callbacks/{task.id}", outcome="reached")
    ).status_code == 404


async def test_technicians_do_not_see_the_phone_list(
    console: ConsoleClient, runtime: Runtime
) -> None:
    """Owners' names and phones are front-desk work: a technician gets 403, no link."""
    await callback_task(runtime, "DEMO-A")
    await console.login("tech.a")
    assert (await console.http.get("/console/callbacks")).status_code == 403
    assert "/console/callbacks" not in (await console.http.get("/console/")).text
