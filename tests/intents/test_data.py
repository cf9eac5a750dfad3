from pathlib import Path

import pytest

from bot.intents.data import DataError, load_training_examples, read_examples, training_files


def test_training_files_never_include_held_out() -> None:
    names = [p.name for p in training_files()]
    assert names and not any("heldout" in n for n in names)
    assert any(n.startswith("seed_") for n in names)


def test_training_examples_are_unique_and_labelled() -> None:
    examples = load_training_examples()
    keys = [(e.text, e.label) for e in examples]
    assert len(keys) == len(set(keys))
    assert {e.label for e in examples} == {"repair", "complaint", "enquiry", "other"}


def test_read_examples_skips_blank_lines_and_keeps_optional_fields(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(
        '{"text": "a", "label": "other"}\n\n{"text": "b", "label": "repair", '
        '"urgent": true, "lang": "en", "entities": {"item": "lift"}}\n',
        "utf-8",
    )
    first, second = read_examples(path)
    assert first.urgent is None and first.lang is None
    assert second.urgent is True and second.lang == "en" and second.entities == {"item": "lift"}


@pytest.mark.parametrize(
    "line", ['{"label": "repair"}', '{"text": "a", "label": "x"}', "[1, 2]", "{oops"]
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "label": "other"}\n' + line + "\n", "utf-8")
    with pytest.raises(DataError, match=r"bad\.jsonl:2"):
        read_examples(path)
