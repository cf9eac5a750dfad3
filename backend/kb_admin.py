"""Knowledge-base entries edited in the console, within the staff member's scope.

Company-wide entries and those of the estates a staff member may see are theirs to read
(and, with ``kb.edit``, to change); another estate's entry is "not found", as tickets are.
The checks of a file import (``backend.kb.check_entry``) apply to every edit too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import Permission, StaffContext
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.kb import KbAnswer, KnowledgeBase, check_entry
from backend.kb_search import KbHit
from backend.models import Estate, KbEntry
from backend.vocabulary import Role

MAX_QUESTIONS = 50
MAX_QUESTION = 300
MAX_ANSWER = 4000
MAX_TAGS = 20
_TAG_SEPARATORS = re.compile(r"[,;，；、\n]")


def may_view(ctx: StaffContext) -> bool:
    """Editors, and managers who read the answers the bot gives without changing them."""
    return ctx.can(Permission.EDIT_KB) or ctx.role is Role.MANAGER


def require_view(ctx: StaffContext) -> None:
    if not may_view(ctx):
        raise Forbidden(f"a {ctx.role.value} may not read the knowledge base")


@dataclass(frozen=True)
class EntryForm:
    """What the console's form sends: questions one per line, tags separated by commas."""

    key: str
    estate: str  # an estate code, or "" for company-wide
    questions: str
    answer_zh: str
    answer_en: str
    tags: str = ""
    active: bool = True


@dataclass(frozen=True)
class EntryRow:
    entry: KbEntry
    estate_code: str | None


@dataclass(frozen=True)
class TryResult:
    query: str
    estate_id: int | None
    hits: list[KbHit]  # company-wide or of ``estate_id``, which the staff member sees
    answer: KbAnswer | None
    threshold: float


def _scope(ctx: StaffContext) -> list[ColumnElement[bool]]:
    return [
        KbEntry.company_id == ctx.staff.company_id,
        KbEntry.estate_id.is_(None) | KbEntry.estate_id.in_(ctx.estate_ids),
    ]


async def visible_estates(session: AsyncSession, ctx: StaffContext) -> list[Estate]:
    return list(
        await session.scalars(
            select(Estate)
            .where(Estate.id.in_(ctx.estate_ids), Estate.company_id == ctx.staff.company_id)
            .order_by(Estate.id)
        )
    )


async def list_entries(
    session: AsyncSession, ctx: StaffContext, search: str = "", estate: str = ""
) -> list[EntryRow]:
    """Entries in scope (``estate``: "" all, "company" company-wide, or an estate id), matched
    against key, questions, answers and tags in Python: JSON columns are not searchable
    alike on SQLite and PostgreSQL."""
    require_view(ctx)
    query = (
        select(KbEntry, Estate.code)
        .outerjoin(Estate, Estate.id == KbEntry.estate_id)
        .where(*_scope(ctx))
        .order_by(KbEntry.active.desc(), KbEntry.key)
    )
    if estate == "company":
        query = query.where(KbEntry.estate_id.is_(None))
    elif estate.isdigit():
        query = query.where(KbEntry.estate_id == int(estate))
    rows = [EntryRow(entry, code) for entry, code in await session.execute(query)]
    term = search.strip().casefold()
    if not term:
        return rows

    def matches(e: KbEntry) -> bool:
        texts = [e.key, e.answer_zh, e.answer_en, *e.questions, *e.tags]
        return any(term in text.casefold() for text in texts)

    return [row for row in rows if matches(row.entry)]


async def visible_entry(session: AsyncSession, ctx: StaffContext, entry_id: int) -> KbEntry:
    require_view(ctx)
    entry = await session.scalar(select(KbEntry).where(KbEntry.id == entry_id, *_scope(ctx)))
    if entry is None:
        raise NotFound(f"no knowledge-base entry with id {entry_id}")
    return entry


async def _values(
    session: AsyncSession, ctx: StaffContext, form: EntryForm, entry_id: int | None
) -> dict[str, object]:
    estates = {e.code: e.id for e in await visible_estates(session, ctx)}
    questions = [q.strip() for q in form.questions.splitlines() if q.strip()]
    tags = [x.strip() for x in _TAG_SEPARATORS.split(form.tags) if x.strip()]
    if len(questions) > MAX_QUESTIONS or any(len(q) > MAX_QUESTION for q in questions):
        raise InvalidInput(
            f"at most {MAX_QUESTIONS} questions of at most {MAX_QUESTION} characters each"
        )
    if max(len(form.answer_zh), len(form.answer_en)) > MAX_ANSWER:
        raise InvalidInput(f"an answer is at most {MAX_ANSWER} characters")
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags")
    checked = check_entry(
        {
            "key": form.key,
            "estate": form.estate.strip() or None,
            "questions": questions,
            "tags": tags,
            "answer_zh": form.answer_zh,
            "answer_en": form.answer_en,
        },
        estates,
    )
    if isinstance(checked, str):
        raise InvalidInput(checked)
    taken = await session.scalar(
        select(KbEntry.id).where(
            KbEntry.company_id == ctx.staff.company_id, KbEntry.key == checked["key"]
        )
    )
    if taken is not None and taken != entry_id:
        raise InvalidInput(f"the key {checked['key']!r} is already used", code="duplicate_key")
    return {**checked, "active": form.active}


async def create_entry(session: AsyncSession, ctx: StaffContext, form: EntryForm) -> KbEntry:
    ctx.require(Permission.EDIT_KB)
    values = await _values(session, ctx, form, None)
    entry = KbEntry(company_id=ctx.staff.company_id, **values)
    session.add(entry)
    await session.flush()
    return entry


async def update_entry(
    session: AsyncSession, ctx: StaffContext, entry_id: int, form: EntryForm
) -> list[str]:
    """The names of the fields that changed."""
    ctx.require(Permission.EDIT_KB)
    entry = await visible_entry(session, ctx, entry_id)
    values = await _values(session, ctx, form, entry.id)
    changed = [k for k, v in values.items() if getattr(entry, k) != v]
    for name in changed:
        setattr(entry, name, values[name])
    await session.flush()
    return changed


async def deactivate_entry(session: AsyncSession, ctx: StaffContext, entry_id: int) -> KbEntry:
    """Kept for the record and for re-activation; the bot stops answering with it."""
    ctx.require(Permission.EDIT_KB)
    entry = await visible_entry(session, ctx, entry_id)
    entry.active = False
    await session.flush()
    return entry


async def try_query(
    session: AsyncSession,
    kb: KnowledgeBase,
    ctx: StaffContext,
    query: str,
    *,
    estate_id: int | None,
    language: str,
) -> TryResult:
    """What the bot would do with ``query`` from an owner of ``estate_id`` (None: a guest)."""
    require_view(ctx)
    if estate_id is not None and estate_id not in ctx.estate_ids:
        raise NotFound(f"no estate with id {estate_id}")
    query = query.strip()[:500]
    if not query:
        return TryResult("", estate_id, [], None, kb.threshold)
    company_id = ctx.staff.company_id
    hits = await kb.search(session, company_id, query, estate_id=estate_id)
    answer = await kb.answer(session, company_id, query, estate_id=estate_id, language=language)
    return TryResult(query, estate_id, hits, answer, kb.threshold)
