"""Labelled examples: reading the JSONL files the model is trained and judged on.

One line per message: ``{"text", "label", "lang"?, "urgent"?, "entities"?}``.
Training uses ``data/*_train.jsonl`` plus our own ``data/seed_*.jsonl``; the
``*_heldout.jsonl`` files are only ever read by ``eval``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

LABELS: tuple[str, ...] = ("repair", "complaint", "enquiry", "other")
#: The three kinds that open a ticket; the acceptance macro-F1 is over these.
TICKET_LABELS: tuple[str, ...] = ("repair", "complaint", "enquiry")


class DataError(ValueError):
    """A labelled file that cannot be read; the message names file and line."""


@dataclass(frozen=True)
class Example:
    """One labelled owner message."""

    text: str
    label: str
    lang: str | None = None
    urgent: bool | None = None
    entities: dict[str, str] = field(default_factory=dict)


def data_dir() -> Path:
    """The package's data folder (training files live next to the code)."""
    return Path(str(resources.files("bot.intents").joinpath("data")))


def training_files(directory: Path | None = None) -> list[Path]:
    """Training files in a fixed order: ``*_train.jsonl`` then ``seed_*.jsonl``."""
    folder = directory or data_dir()
    return sorted(folder.glob("*_train.jsonl")) + sorted(folder.glob("seed_*.jsonl"))


def read_examples(path: Path) -> list[Example]:
    """Parse one JSONL file; blank lines are skipped, anything else malformed raises."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc
    return list(_parse(lines, str(path)))


def load_training_examples(directory: Path | None = None) -> list[Example]:
    """All training examples, deduplicated by (text, label) so repeats don't weigh double."""
    seen: set[tuple[str, str]] = set()
    examples = []
    for path in training_files(directory):
        for example in read_examples(path):
            key = (example.text, example.label)
            if key not in seen:
                seen.add(key)
                examples.append(example)
    return examples


def _parse(lines: Iterable[str], source: str) -> Iterable[Example]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{source}:{number}: not JSON: {exc.msg}") from exc
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise DataError(f"{source}:{number}: needs an object with a string 'text'")
        label = row.get("label")
        if label not in LABELS:
            raise DataError(f"{source}:{number}: label must be one of {', '.join(LABELS)}")
        urgent = row.get("urgent")
        entities = row.get("entities") or {}
        yield Example(
            text=row["text"],
            label=label,
            lang=row.get("lang") if row.get("lang") in ("zh", "en") else None,
            urgent=bool(urgent) if isinstance(urgent, bool) else None,
            entities={k: str(v) for k, v in entities.items()} if isinstance(entities, dict) else {},
        )
