"""``ownerdesk``: the command line (DESIGN.md, "CLI").

Errors print one line on stderr and exit non-zero; nothing prints a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from typer.exceptions import TyperException

from backend.db import Database
from backend.errors import DomainError
from backend.settings import Settings, get_settings

T = TypeVar("T")
log = logging.getLogger("ownerdesk")

app = typer.Typer(
    name="ownerdesk",
    help="OwnerDesk: the owner service channel.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
owners_app = typer.Typer(help="Owners and households.", no_args_is_help=True)
tickets_app = typer.Typer(help="Tickets.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base for enquiries.", no_args_is_help=True)
care_app = typer.Typer(help="Care messages and callbacks.", no_args_is_help=True)
report_app = typer.Typer(help="Reports.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(owners_app, name="owners")
app.add_typer(tickets_app, name="tickets")
app.add_typer(staff_app, name="staff")
app.add_typer(kb_app, name="kb")
app.add_typer(care_app, name="care")
app.add_typer(report_app, name="report")


class CliError(Exception):
    """Stop with this one-line message and exit code 1."""


def settings() -> Settings:
    return get_settings()


def run_db(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` with a database, turning database trouble into a one-line error."""

    async def go() -> T:
        db = Database(settings().database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc.orig if isinstance(exc, DBAPIError) else exc).lower()
        if "no such table" in text or "does not exist" in text:
            raise CliError("the database has no schema yet: run `ownerdesk db upgrade`") from exc
        raise CliError(f"database error: {str(exc.orig).splitlines()[0]}") from exc
    except (OSError, ConnectionError) as exc:
        raise CliError(f"cannot reach the database: {exc}") from exc


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


# --- serve -----------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Bind port")] = None,
) -> None:
    """The service: HTTP, channels, delivery and scheduler in one process."""
    import uvicorn

    from backend.composition import build_app
    from backend.migrate import upgrade

    cfg = settings()
    upgrade(cfg.database_url)
    uvicorn.run(
        build_app(cfg),
        host=host or cfg.host,
        port=port or cfg.port,
        log_level="info",
        proxy_headers=True,
    )


# --- db --------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations up to head."""
    from backend.migrate import upgrade

    try:
        upgrade(settings().database_url)
    except (OperationalError, OSError) as exc:
        raise CliError(f"cannot migrate the database: {exc}") from exc
    typer.echo("database is at the latest schema")


# --- demo ------------------------------------------------------------------------------


@demo_app.command("load")
def demo_load(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Demo company, estates DEMO-A and DEMO-B, units, owners, staff and tickets."""
    from backend.demo import DEMO_PASSWORD, load_demo

    async def work(db: Database) -> dict[str, int]:
        async with db.session() as session:
            return await load_demo(session)

    counts = run_db(work)
    if json_out:
        print_json(counts)
    else:
        typer.echo(
            f"demo ready: {counts['estates']} estates, {counts['owners']} new owners, "
            f"{counts['tickets']} new tickets, {counts['staff']} staff "
            f"(password {DEMO_PASSWORD!r})"
        )


# --- owners ----------------------------------------------------------------------------


@owners_app.command("import")
def owners_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file (columns: README)")],
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import household files, all or nothing."""
    from backend.owners_import import ImportReport, import_owners

    progress = _progress_bar() if sys.stderr.isatty() and not json_out else None

    async def work(db: Database) -> ImportReport:
        async with db.session() as session:
            return await import_owners(session, file, progress=progress)

    try:
        report = run_db(work)
    finally:
        if progress is not None:
            progress.close()
    if json_out:
        print_json(report.as_json())
    if not report.ok:
        if not json_out:
            for error in report.errors:
                typer.echo(str(error), err=True)
        raise CliError(f"nothing imported: {len(report.errors)} problem(s) in {file.name}")
    if not json_out:
        typer.echo(
            f"imported {report.rows} rows: {report.created} created, "
            f"{report.updated} updated, {report.unchanged} unchanged"
        )


class _progress_bar:
    """A rich progress bar on the terminal, fed by the importer's callback."""

    def __init__(self) -> None:
        from rich.progress import Progress

        self._progress = Progress(transient=True)
        self._task: Any = None
        self._progress.start()

    def __call__(self, done: int, total: int) -> None:
        if self._task is None:
            self._task = self._progress.add_task("importing", total=total)
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        self._progress.stop()


# --- tickets ---------------------------------------------------------------------------


@tickets_app.command("list")
def tickets_list(
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    estate: Annotated[str | None, typer.Option(help="Estate code")] = None,
    kind: Annotated[str | None, typer.Option(help="repair, complaint or enquiry")] = None,
    state: Annotated[str | None, typer.Option(help="Lifecycle state")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many")] = None,
) -> None:
    """Tickets, most urgent and newest first."""
    from backend.models import utcnow
    from backend.tickets import TicketFilter, TicketRow, list_tickets

    async def work(db: Database) -> list[TicketRow]:
        async with db.session() as session:
            return await list_tickets(
                session, TicketFilter(estate_code=estate, kind=kind, state=state, limit=limit)
            )

    rows = run_db(work)
    now = utcnow()
    if json_out:
        for row in rows:
            print_json(row.as_json(now))
        return
    if not rows:
        typer.echo("no tickets")
        return
    for row in rows:
        t = row.ticket
        flags = ("!" if t.urgent else " ") + ("*" if t.key_owner else " ")
        typer.echo(
            f"{t.number:<16} {flags} {t.kind:<9} {t.state:<13} {row.estate_code:<8} "
            f"{row.unit_number or '-':<10} {t.summary[:40]}"
        )


# --- staff -----------------------------------------------------------------------------


@staff_app.command("add")
def staff_add(
    name: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[str, typer.Option(help="agent, technician, supervisor, manager or admin")],
    estate: Annotated[list[str] | None, typer.Option(help="Estate code (repeat for more)")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    display_name: Annotated[str, typer.Option(help="Name shown to owners")] = "",
    phone: Annotated[str, typer.Option(help="Phone shown on repair cards")] = "",
    language: Annotated[str, typer.Option(help="Console language: zh or en")] = "zh",
) -> None:
    """Create a staff account (or reset an existing one)."""
    from backend.staff import add_staff

    if not password_stdin:
        raise CliError("give the password on stdin with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CliError("no password on stdin")

    async def work(db: Database) -> str:
        async with db.session() as session:
            staff = await add_staff(
                session,
                username=name,
                role=role,
                password=password,
                estate_codes=estate or [],
                display_name=display_name,
                phone=phone,
                language=language,
            )
            return f"staff {staff.username} ({staff.role}) saved"

    typer.echo(run_db(work))


# --- knowledge base --------------------------------------------------------------------


@kb_app.command("import")
def kb_import(
    file: Annotated[Path, typer.Argument(help="YAML or CSV (format: README)")],
    company: Annotated[str | None, typer.Option(help="Company code")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add or update FAQ entries by key, all or nothing."""
    from backend.kb import KbImportReport, import_kb

    async def work(db: Database) -> KbImportReport:
        async with db.session() as session:
            return await import_kb(session, file, company)

    report = run_db(work)
    if json_out:
        print_json(report.as_json())
    if report.errors:
        if not json_out:
            for error in report.errors:
                typer.echo(error, err=True)
        raise CliError(f"nothing imported: {len(report.errors)} problem(s) in {file.name}")
    if not json_out:
        typer.echo(
            f"knowledge base: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged"
        )


@kb_app.command("ask")
def kb_ask(
    question: Annotated[str, typer.Argument(help="An owner's question")],
    estate: Annotated[str | None, typer.Option(help="Estate code of the asking owner")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Try the knowledge base: the best entries and the answer an owner would get."""
    from sqlalchemy import select

    from backend.kb import KnowledgeBase
    from backend.models import Company, Estate

    async def work(db: Database) -> dict[str, Any]:
        async with db.session() as session:
            if estate:
                row = await session.scalar(select(Estate).where(Estate.code == estate))
                if row is None:
                    raise CliError(f"unknown estate {estate!r}")
                company_id, estate_id = row.company_id, row.id
            else:
                first = await session.scalar(select(Company.id).order_by(Company.id).limit(1))
                if first is None:
                    raise CliError("no company yet: run `ownerdesk demo load` or import one")
                company_id, estate_id = first, None
            kb = KnowledgeBase()
            hits = await kb.search(session, company_id, question, estate_id=estate_id)
            answer, suggested = await kb.answer_or_suggest(
                session, company_id, question, estate_id=estate_id, language=lang
            )
            return {
                "hits": [{"key": h.key, "score": h.score, "matched": h.matched} for h in hits],
                "answer": answer.text if answer else None,
                "did_you_mean": [s.question for s in suggested],
                "threshold": kb.threshold,
            }

    result = run_db(work)
    if json_out:
        print_json(result)
        return
    for hit in result["hits"]:
        typer.echo(f"{hit['score']:.3f}  {hit['key']:<24} {hit['matched']}")
    if result["answer"]:
        typer.echo(result["answer"])
    elif result["did_you_mean"]:
        offered = " | ".join(result["did_you_mean"])
        typer.echo(f'(no answer above {result["threshold"]}: asks "did you mean": {offered})')
    else:
        typer.echo(f"(no answer above {result['threshold']}: handed to staff)")


# --- care ------------------------------------------------------------------------------


@care_app.command("run")
def care_run(
    date_: Annotated[str, typer.Option("--date", help="YYYY-MM-DD (default: today)")] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, queue nothing")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """That day's care messages and the callbacks due now; safe to repeat."""
    from datetime import date as date_type

    from backend.callbacks import plan_visits, run_callbacks
    from backend.care import run_care
    from backend.models import utcnow

    try:
        # Default: today in the service's time zone (OWNERDESK_TIMEZONE), not UTC's date.
        here = ZoneInfo(get_settings().timezone)
        day = date_type.fromisoformat(date_) if date_ else utcnow().astimezone(here).date()
    except ValueError:
        raise CliError(f"--date must be YYYY-MM-DD, not {date_!r}") from None

    async def work(db: Database) -> dict[str, Any]:
        now = utcnow()
        async with db.sessions() as session:
            report = await run_care(session, day, now, dry_run=dry_run)
            callbacks = await run_callbacks(session, now)
            visits = await plan_visits(session, day, now)
            if dry_run:
                await session.rollback()  # counted, nothing kept
            else:
                await session.commit()
        result = report.as_json()
        result["callbacks"] = callbacks.as_json()
        result["visit_tasks"] = visits
        return result

    result = run_db(work)
    if json_out:
        print_json(result)
        return
    what = "would queue" if dry_run else "queued"
    typer.echo(
        f"{day}: {what} {result['enqueued']} care message(s) {result['by_type']}, "
        f"skipped {result['skipped']} ({result['unreachable']} unreachable); "
        f"callbacks {result['callbacks']}, visit tasks {result['visit_tasks']}"
    )


# --- KPI report (docs/kpi.md) ---------------------------------------------------------


@report_app.command("kpi")
def report_kpi(
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD")],
    to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (included)")],
    estate: Annotated[str | None, typer.Option(help="Estate code (default: all)")] = None,
    building: Annotated[str | None, typer.Option(help="Building code in --estate")] = None,
    company: Annotated[str | None, typer.Option(help="Company code (default: the one)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object, last line")] = False,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Also write an XLSX file")] = None,
    lang: Annotated[str, typer.Option(help="zh or en (text and XLSX)")] = "zh",
) -> None:
    """The KPIs of DOMAIN.md against their targets, SLA per promise, volumes, defects."""
    from backend.models import Company, utcnow
    from backend.reports import kpi_report, parse_day, period_bounds
    from backend.reports.kpi import ids_by_codes
    from backend.reports.text import kpi_text
    from backend.reports.xlsx import workbook

    if lang not in ("zh", "en"):
        raise CliError("--lang is zh or en")
    first, last = parse_day(from_, "--from"), parse_day(to, "--to")

    async def work(db: Database) -> Any:
        async with db.sessions() as session:
            company_id, estate_id, building_id = await ids_by_codes(
                session, company, estate, building
            )
            found = await session.get(Company, company_id)
            assert found is not None
            start, end = period_bounds(first, last, ZoneInfo(found.timezone))
            return await kpi_report(
                session,
                company_id=company_id,
                start=start,
                end=end,
                now=utcnow(),
                estate_id=estate_id,
                building_id=building_id,
            )

    report = run_db(work)
    result = report.as_json()
    if xlsx is not None:
        try:
            xlsx.write_bytes(workbook(report, lang))
        except OSError as exc:
            raise CliError(f"cannot write {xlsx}: {exc.strerror or exc}") from exc
        result["xlsx"] = str(xlsx)
    if json_out:
        print_json(result)
        return
    typer.echo(kpi_text(report, lang))
    if xlsx is not None:
        typer.echo(f"wrote {xlsx}")


# --- periodic reports (docs/alerts.md) -------------------------------------------------


def _print_periodic(result: dict[str, Any], daily: bool, json_out: bool) -> None:
    from backend import periodic_reports as reports

    if json_out:
        print_json(result)
    else:
        typer.echo(
            reports.daily_text(result, "zh") if daily else reports.monthly_text(result, "zh")
        )


@report_app.command("daily")
def report_daily(
    date_: Annotated[str, typer.Option("--date", help="YYYY-MM-DD (default: yesterday)")] = "",
    company: Annotated[str, typer.Option(help="Company code (default: the first)")] = "",
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The daily complaint report for one day: computed, stored for the console, printed."""
    from datetime import date as date_type
    from datetime import timedelta

    from backend import periodic_reports as reports
    from backend.models import utcnow

    try:
        day = date_type.fromisoformat(date_) if date_ else None
    except ValueError:
        raise CliError(f"--date must be YYYY-MM-DD, not {date_!r}") from None

    async def work(db: Database) -> dict[str, Any]:
        async with db.session() as session:
            found = await reports.company_by_code(session, company or None)
            local_today = utcnow().astimezone(reports.zone_of(found)).date()
            snapshot = await reports.daily_report(
                session, found, day or local_today - timedelta(days=1)
            )
            return reports.daily_view(snapshot.data)

    _print_periodic(run_db(work), True, json_out)


@report_app.command("monthly")
def report_monthly(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM (default: last month)")] = "",
    company: Annotated[str, typer.Option(help="Company code (default: the first)")] = "",
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The monthly report with trends against the month before."""
    from backend import periodic_reports as reports
    from backend.models import utcnow

    first = reports.parse_month(month) if month else None

    async def work(db: Database) -> dict[str, Any]:
        async with db.session() as session:
            found = await reports.company_by_code(session, company or None)
            # "Last month" in the company's time zone: on the 1st before 08:00 in
            # Shanghai, UTC is still in the month before.
            local_month = utcnow().astimezone(reports.zone_of(found)).date().replace(day=1)
            snapshot = await reports.monthly_report(
                session, found, first or reports.previous_month(local_month)
            )
            return reports.monthly_view(snapshot.data)

    _print_periodic(run_db(work), False, json_out)


# --- chat ------------------------------------------------------------------------------


@app.command()
def chat(lang: Annotated[str, typer.Option(help="zh or en")] = "zh") -> None:
    """Talk to the bot in the terminal as a demo owner (run `ownerdesk demo load` first)."""
    from bot.channels.terminal import chat as run_chat

    if lang not in ("zh", "en"):
        raise CliError("--lang is zh or en")
    try:
        asyncio.run(run_chat(settings(), lang))
    except (OperationalError, ProgrammingError) as exc:
        raise CliError(
            "the database is not ready: run `ownerdesk db upgrade` and `ownerdesk demo load`"
        ) from exc


# --- plug-ins from the other packages --------------------------------------------------


def _mount_subcommands() -> None:
    """Command groups that live with their package (the CLI is part of the composition root)."""
    from bot.actions.cli import actions_cli
    from bot.channels.wechat import wechat_cli
    from bot.intents.cli import app as intents_app

    app.add_typer(intents_app, name="intents", help="Message understanding.")
    app.add_typer(wechat_cli, name="wechat", help="WeChat Official Account.")
    app.add_typer(actions_cli, name="actions", help="Rasa custom actions (rasa-sdk).")


_mount_subcommands()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        rc = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except TyperException as exc:  # usage errors: unknown command, bad option value
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if message.strip():  # empty when the help was shown for a bare command
            typer.echo(f"error: {message}", err=True)
        return int(getattr(exc, "exit_code", 2))
    except (CliError, DomainError) as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        typer.echo(f"error: {type(exc).__name__}: {exc}".splitlines()[0], err=True)
        return 1
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
