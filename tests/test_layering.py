"""DESIGN.md: ``backend`` imports nothing from ``bot`` or ``scheduler`` (but the
composition root and the CLI, which wire everything together)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]
WIRING = {"backend/composition.py", "backend/cli.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_backend_does_not_import_bot_or_scheduler() -> None:
    offenders = []
    for path in sorted((ROOT / "backend").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in WIRING or "/migrations/versions/" in rel:
            continue
        for name in imported_modules(path):
            if name.split(".")[0] in ("bot", "scheduler"):
                offenders.append(f"{rel} imports {name}")
    assert offenders == []


def test_only_backend_db_creates_engines() -> None:
    offenders = []
    for package in ("backend", "bot", "scheduler"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "backend/db.py":
                continue
            if "create_async_engine" in path.read_text(encoding="utf-8"):
                offenders.append(rel)
    assert offenders == []
