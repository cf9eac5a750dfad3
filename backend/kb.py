"""Knowledge base: FAQ entries per company and estate, imported from YAML or CSV,
and the answer (or "hand to staff") for an enquiry."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import InvalidInput, NotFound
from backend.kb_search import ANSWER_THRESHOLD, KbDocument, KbHit, KbIndex, Synonyms
from backend.models import Company, Estate, KbEntry

KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
DEMO_FILE = Path(__file__).with_name("data") / "demo_kb.yaml"


@dataclass
class KbFile:
    company: str | None
    synonyms: list[list[str]]
    entries: list[dict[str, Any]]


@dataclass
class KbImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "imported": not self.errors,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
        }


def _split(value: Any, sep: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(sep) if v.strip()]


def read_kb_file(path: Path) -> KbFile:
    """YAML (``company``, ``synonyms``, ``entries``) or CSV (one entry per row)."""
    if not path.exists():
        raise InvalidInput(f"no such file: {path}")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{path.name} is not valid YAML: {exc}".splitlines()[0]) from None
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            raise InvalidInput(f"{path.name} needs a list under `entries`")
        synonyms = data.get("synonyms") or []
        if not isinstance(synonyms, list) or not all(isinstance(g, list) for g in synonyms):
            raise InvalidInput("`synonyms` must be a list of lists of terms")
        return KbFile(data.get("company"), [[str(t) for t in g] for g in synonyms], data["entries"])
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        entries = [
            {
                "key": r.get("key"),
                "estate": r.get("estate") or None,
                "questions": _split(r.get("questions"), "|"),
                "tags": _split(r.get("tags"), ";"),
                "answer_zh": r.get("answer_zh") or "",
                "answer_en": r.get("answer_en") or "",
            }
            for r in rows
        ]
        return KbFile(None, [], entries)
    raise InvalidInput("a knowledge-base file is .yaml, .yml or .csv")


def check_entry(raw: dict[str, Any], estates: dict[str, int]) -> dict[str, Any] | str:
    """The columns of one entry, or what is wrong with it (shared by import and console)."""
    key = str(raw.get("key") or "").strip()
    if not KEY.match(key):
        return f"key {key!r} must be lower-case letters, digits, . _ -"
    estate = raw.get("estate")
    if estate is not None and str(estate) not in estates:
        return f"unknown estate {estate!r}"
    questions = _split(raw.get("questions"), "|")
    if not questions:
        return "needs at least one question"
    answer_zh, answer_en = (
        str(raw.get("answer_zh") or "").strip(),
        str(raw.get("answer_en") or "").strip(),
    )
    if not answer_zh or not answer_en:
        return "needs an answer in both zh and en"
    return {
        "key": key,
        "estate_id": estates[str(estate)] if estate is not None else None,
        "questions": questions,
        "tags": _split(raw.get("tags"), ";"),
        "answer_zh": answer_zh,
        "answer_en": answer_en,
    }


def _check_entry(number: int, raw: Any, estates: dict[str, int]) -> dict[str, Any] | str:
    if not isinstance(raw, dict):
        return f"entry {number}: not a mapping"
    result = check_entry(raw, estates)
    if isinstance(result, str):
        key = str(raw.get("key") or "").strip()
        where = f"entry {number} ({key})" if KEY.match(key) else f"entry {number}"
        return f"{where}: {result}"
    return result


async def _company_for(session: AsyncSession, code: str | None) -> Company:
    if code:
        company = await session.scalar(select(Company).where(Company.code == code))
        if company is None:
            raise NotFound(f"unknown company {code!r}")
        return company
    companies = list(await session.scalars(select(Company).order_by(Company.id).limit(2)))
    if len(companies) != 1:
        raise InvalidInput("name the company (`company:` in the file or --company)")
    return companies[0]


async def import_kb(
    session: AsyncSession, path: Path, company_code: str | None = None
) -> KbImportReport:
    """Upsert every entry by key; all or nothing. Synonyms replace the company's list."""
    kb_file = read_kb_file(path)
    company = await _company_for(session, company_code or kb_file.company)
    estates = {
        code: eid
        for code, eid in await session.execute(
            select(Estate.code, Estate.id).where(Estate.company_id == company.id)
        )
    }
    report = KbImportReport()
    checked: list[dict[str, Any]] = []
    for number, raw in enumerate(kb_file.entries, start=1):
        result = _check_entry(number, raw, estates)
        if isinstance(result, str):
            report.errors.append(result)
        else:
            checked.append(result)
    keys = [c["key"] for c in checked]
    for key in {k for k in keys if keys.count(k) > 1}:
        report.errors.append(f"key {key!r} appears more than once")
    if report.errors:
        return report
    existing = {
        e.key: e
        for e in await session.scalars(select(KbEntry).where(KbEntry.company_id == company.id))
    }
    for values in checked:
        entry = existing.get(values["key"])
        if entry is None:
            session.add(KbEntry(company_id=company.id, **values))
            report.created += 1
        elif any(getattr(entry, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(entry, k, v)
            entry.active = True
            report.updated += 1
        else:
            report.unchanged += 1
    if kb_file.synonyms and company.settings.get("kb_synonyms") != kb_file.synonyms:
        company.settings = {**company.settings, "kb_synonyms": kb_file.synonyms}
    await session.flush()
    return report


# Below the answer threshold, an entry this close is offered as "did you mean…?".
SUGGEST_THRESHOLD = 0.18


@dataclass(frozen=True)
class KbSuggestion:
    entry_id: int
    question: str  # a variant in the asker's language, for the button


@dataclass(frozen=True)
class KbAnswer:
    entry_id: int
    key: str
    score: float
    text: str
    matched: str


class KnowledgeBase:
    """Answers enquiries from a company's entries; the index is rebuilt when they change."""

    def __init__(self, threshold: float = ANSWER_THRESHOLD, recheck_seconds: float = 2.0) -> None:
        self.threshold = threshold
        self.recheck_seconds = recheck_seconds  # how stale an index may be after a console edit
        self._indexes: dict[int, tuple[tuple[Any, ...], KbIndex]] = {}
        self._checked: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def _version(
        self, session: AsyncSession, company_id: int
    ) -> tuple[tuple[Any, ...], list[list[str]]]:
        """What the index depends on: entry count, last edit, synonyms."""
        count, latest = (
            await session.execute(
                select(func.count(KbEntry.id), func.max(KbEntry.updated_at)).where(
                    KbEntry.company_id == company_id, KbEntry.active
                )
            )
        ).one()
        company = await session.get(Company, company_id)
        synonyms = (company.settings if company else {}).get("kb_synonyms") or []
        return (count, latest, json.dumps(synonyms, ensure_ascii=False)), synonyms

    async def index(self, session: AsyncSession, company_id: int) -> KbIndex:
        cached = self._indexes.get(company_id)
        if cached and time.monotonic() - self._checked.get(company_id, 0.0) < self.recheck_seconds:
            return cached[1]
        version, synonyms = await self._version(session, company_id)
        self._checked[company_id] = time.monotonic()
        cached = self._indexes.get(company_id)
        if cached and cached[0] == version:
            return cached[1]
        async with self._lock:
            cached = self._indexes.get(company_id)
            if cached and cached[0] == version:
                return cached[1]
            entries = list(
                await session.scalars(
                    select(KbEntry).where(KbEntry.company_id == company_id, KbEntry.active)
                )
            )
            documents = [
                KbDocument(
                    e.id,
                    e.key,
                    e.estate_id,
                    tuple(e.questions),
                    tuple(e.tags),
                    (e.answer_zh, e.answer_en),
                )
                for e in entries
            ]
            built = await asyncio.to_thread(KbIndex, documents, Synonyms.of(synonyms))  # CPU work
            self._indexes[company_id] = (version, built)
            return built

    async def warm(self, session: AsyncSession) -> int:
        """Build every company's index now, so the first enquiry after a start does not
        wait for jieba's dictionary (most of a second). Returns how many were built."""
        companies = list(
            await session.scalars(select(KbEntry.company_id).where(KbEntry.active).distinct())
        )
        for company_id in companies:
            await self.index(session, company_id)
        return len(companies)

    async def search(
        self, session: AsyncSession, company_id: int, query: str, *, estate_id: int | None
    ) -> list[KbHit]:
        index = await self.index(session, company_id)
        return index.search(query, estate_id=estate_id)

    async def answer(
        self,
        session: AsyncSession,
        company_id: int,
        query: str,
        *,
        estate_id: int | None,
        language: str,
    ) -> KbAnswer | None:
        """The best entry's answer in ``language``, or None: no good answer, hand to staff."""
        answer, _ = await self.answer_or_suggest(
            session, company_id, query, estate_id=estate_id, language=language
        )
        return answer

    async def answer_or_suggest(
        self,
        session: AsyncSession,
        company_id: int,
        query: str,
        *,
        estate_id: int | None,
        language: str,
    ) -> tuple[KbAnswer | None, list[KbSuggestion]]:
        """The answer when one is sure enough; otherwise the entries close enough to ask
        "did you mean…?" about ("停车费怎么收的": visitors' parking or a season permit?)."""
        index = await self.index(session, company_id)
        hits = index.search(query, estate_id=estate_id)
        best = index.document(hits[0].entry_id) if hits else None
        if best is not None and hits[0].score >= self.threshold:
            return _answer_of(best, hits[0].score, hits[0].matched, language), []
        suggested = []
        for hit in hits:
            document = index.document(hit.entry_id)
            if document is not None and hit.score >= SUGGEST_THRESHOLD:
                suggested.append(
                    KbSuggestion(hit.entry_id, _question_in(document, hit.matched, language))
                )
        return None, suggested

    async def answer_entry(
        self,
        session: AsyncSession,
        company_id: int,
        entry_id: int,
        *,
        estate_id: int | None,
        language: str,
    ) -> KbAnswer | None:
        """The answer of an entry the owner picked from the suggestions, if still theirs."""
        index = await self.index(session, company_id)
        document = index.document(entry_id)
        if document is None or document.estate_id not in (None, estate_id):
            return None
        return _answer_of(document, 1.0, document.questions[0], language)


def _answer_of(document: KbDocument, score: float, matched: str, language: str) -> KbAnswer:
    # The index holds the answers of the version it was built from: no second read.
    answer_zh, answer_en = document.answers
    text = answer_en if language == "en" else answer_zh
    return KbAnswer(document.entry_id, document.key, score, text, matched)


_CJK = re.compile(r"[\u3400-\u9fff]")


def _question_in(document: KbDocument, matched: str, language: str) -> str:
    """How to show an entry on a button: a question variant in the owner's language."""

    def fits(question: str) -> bool:
        return bool(_CJK.search(question)) == (language != "en")

    if fits(matched):
        return matched
    return next((q for q in document.questions if fits(q)), matched)
