"""Knowledge-base import and answers through the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import InvalidInput
from backend.kb import DEMO_FILE, KnowledgeBase, import_kb
from backend.models import KbEntry
from tests.factories import World

YAML = """
company: ACME
synonyms:
  - [物业费, 管理费, property fee, management fee]
entries:
  - key: fee
    questions: ["物业费怎么交", "How do I pay the property fee?"]
    answer_zh: 在公众号缴费。
    answer_en: Pay in the Official Account.
  - key: gym-hours
    estate: EST-A
    tags: [gym]
    questions: ["健身房几点开门", "When does the gym open?"]
    answer_zh: 健身房 6:00–22:00 开放。
    answer_en: The gym is open 6:00–22:00.
"""


async def import_yaml(session: AsyncSession, tmp_path: Path) -> None:
    """The YAML above, imported."""
    path = tmp_path / "kb.yaml"
    path.write_text(YAML, encoding="utf-8")
    await import_kb(session, path)


async def test_import_then_reimport_is_idempotent(
    session: AsyncSession, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "kb.yaml"
    path.write_text(YAML, encoding="utf-8")
    first = await import_kb(session, path)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    again = await import_kb(session, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    path.write_text(YAML.replace("6:00–22:00 开放", "7:00–22:00 开放"), encoding="utf-8")
    changed = await import_kb(session, path)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    assert world.company.settings["kb_synonyms"][0][0] == "物业费"


async def test_answers_in_the_owner_language_and_scope(
    session: AsyncSession, world: World, tmp_path: Path
) -> None:
    await import_yaml(session, tmp_path)
    kb = KnowledgeBase()
    answer = await kb.answer(
        session, world.company.id, "管理费在哪交", estate_id=None, language="zh"
    )
    assert answer is not None and answer.key == "fee" and answer.text == "在公众号缴费。"
    answer = await kb.answer(
        session, world.company.id, "how to pay management fee", estate_id=None, language="en"
    )
    assert answer is not None and answer.text == "Pay in the Official Account."
    # An estate entry answers that estate's owners only.
    assert await kb.answer(
        session, world.company.id, "健身房几点开门", estate_id=world.estate.id, language="zh"
    )
    assert (
        await kb.answer(
            session,
            world.company.id,
            "健身房几点开门",
            estate_id=world.other_estate.id,
            language="zh",
        )
        is None
    )
    assert (
        await kb.answer(session, world.company.id, "健身房几点开门", estate_id=None, language="zh")
        is None
    )
    # Off-topic: hand to staff.
    assert (
        await kb.answer(
            session, world.company.id, "附近有什么好吃的", estate_id=None, language="zh"
        )
        is None
    )


async def test_an_estate_entry_restating_a_company_answer_wins_for_that_estate(
    session: AsyncSession, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "kb.yaml"
    path.write_text(
        YAML
        + """  - key: fee-b
    estate: EST-B
    questions: ["物业费怎么交", "How do I pay the property fee?"]
    answer_zh: 通过 GIRO 缴纳新元。
    answer_en: Pay in SGD by GIRO.
""",
        encoding="utf-8",
    )
    await import_kb(session, path)
    kb = KnowledgeBase()

    async def key_for(estate_id: int | None) -> str | None:
        answer = await kb.answer(
            session, world.company.id, "物业费怎么交", estate_id=estate_id, language="zh"
        )
        return answer.key if answer else None

    assert await key_for(world.other_estate.id) == "fee-b"
    assert await key_for(world.estate.id) == "fee"
    assert await key_for(None) == "fee"


async def test_warm_builds_each_company_index_before_the_first_enquiry(
    session: AsyncSession, world: World, tmp_path: Path
) -> None:
    await import_yaml(session, tmp_path)
    kb = KnowledgeBase()
    assert await kb.warm(session) == 1
    warmed = await kb.index(session, world.company.id)
    assert await kb.index(session, world.company.id) is warmed  # built once, not on first use
    assert await KnowledgeBase().warm(session) == 1
    await session.execute(update(KbEntry).values(active=False))
    assert await KnowledgeBase().warm(session) == 0  # no active entries: nothing to build


async def test_the_index_follows_edits(session: AsyncSession, world: World, tmp_path: Path) -> None:
    await import_yaml(session, tmp_path)
    kb = KnowledgeBase(recheck_seconds=0)
    assert (
        await kb.answer(session, world.company.id, "游泳池开放时间", estate_id=None, language="zh")
        is None
    )
    session.add(
        KbEntry(
            company_id=world.company.id,
            key="pool",
            questions=["游泳池开放时间", "pool opening hours"],
            answer_zh="泳池夏季开放。",
            answer_en="The pool opens in summer.",
        )
    )
    await session.flush()
    answer = await kb.answer(
        session, world.company.id, "游泳池开放时间", estate_id=None, language="zh"
    )
    assert answer is not None and answer.key == "pool"


async def test_bad_files_import_nothing(
    session: AsyncSession, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "kb.yaml"
    path.write_text(
        """
company: ACME
entries:
  - key: Bad Key
    questions: [x]
    answer_zh: 甲
    answer_en: a
  - key: ok
    questions: [物业费]
    answer_zh: 甲
    answer_en: a
  - key: no-answer
    questions: [x]
    answer_zh: 甲
  - key: far
    estate: NOPE
    questions: [x]
    answer_zh: 甲
    answer_en: a
  - key: ok
    questions: [y]
    answer_zh: 乙
    answer_en: b
""",
        encoding="utf-8",
    )
    report = await import_kb(session, path)
    assert len(report.errors) == 4
    assert "entry 1" in report.errors[0] and "lower-case" in report.errors[0]
    assert "both zh and en" in report.errors[1]
    assert "unknown estate 'NOPE'" in report.errors[2]
    assert "'ok' appears more than once" in report.errors[3]
    assert await session.scalar(select(func.count()).select_from(KbEntry)) == 0
    (tmp_path / "broken.yaml").write_text("entries: [", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        await import_kb(session, tmp_path / "broken.yaml")
    (tmp_path / "kb.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"\.yaml, \.yml or \.csv"):
        await import_kb(session, tmp_path / "kb.txt")


async def test_csv_import(session: AsyncSession, world: World, tmp_path: Path) -> None:
    path = tmp_path / "kb.csv"
    path.write_text(
        "key,estate,questions,tags,answer_zh,answer_en\n"
        "fee,,物业费怎么交|How to pay the fee?,fees,在公众号缴费。,Pay online.\n",
        encoding="utf-8",
    )
    report = await import_kb(session, path, "ACME")
    assert report.created == 1
    entry = await session.scalar(select(KbEntry))
    assert entry is not None and entry.questions == ["物业费怎么交", "How to pay the fee?"]


async def test_demo_file_imports(session: AsyncSession, tmp_path: Path) -> None:
    from backend.demo import load_demo

    counts = await load_demo(session)
    assert counts["kb_entries"] >= 15
    report = await import_kb(session, DEMO_FILE)
    assert report.created == 0 and report.updated == 0


async def test_close_entries_are_offered_and_a_pick_stays_in_scope(
    session: AsyncSession, tmp_path: Path
) -> None:
    from backend.demo import load_demo
    from backend.models import Estate

    await load_demo(session)
    a = await session.scalar(select(Estate).where(Estate.code == "DEMO-A"))
    assert a is not None
    kb = KnowledgeBase()
    answer, offered = await kb.answer_or_suggest(
        session, a.company_id, "停车费怎么收的", estate_id=a.id, language="zh"
    )
    assert answer is None and {"访客停车怎么收费", "停车月卡多少钱"} <= {
        s.question for s in offered
    }
    _, offered_en = await kb.answer_or_suggest(
        session, a.company_id, "停车费怎么收的", estate_id=a.id, language="en"
    )
    assert "Where can my visitors park?" in {s.question for s in offered_en}
    permit = next(s for s in offered if s.question == "停车月卡多少钱")
    picked = await kb.answer_entry(
        session, a.company_id, permit.entry_id, estate_id=a.id, language="en"
    )
    assert picked is not None and picked.key == "parking-permit" and "RMB 300" in picked.text
    other = await session.scalar(select(KbEntry.id).where(KbEntry.key == "property-fee-b"))
    assert other is not None
    assert (
        await kb.answer_entry(session, a.company_id, other, estate_id=a.id, language="zh") is None
    )
    assert (
        await kb.answer_entry(session, a.company_id, 10**9, estate_id=a.id, language="zh") is None
    )
    # Nothing close: no offer, the chat goes to staff.
    assert await kb.answer_or_suggest(
        session, a.company_id, "what is the wifi password", estate_id=a.id, language="en"
    ) == (None, [])
