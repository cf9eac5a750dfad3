"""``ownerdesk intents classify | eval | train`` (mounted by the main CLI as ``intents``).

Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import select
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from bot.intents.classifier import BATCH_SIZE, Classifier
from bot.intents.data import DataError, Example, load_training_examples, read_examples
from bot.intents.evaluate import classification_report, format_report
from bot.intents.store import DEFAULT_MODEL_PATH, ModelNotFoundError, load_classifier

app = typer.Typer(
    help="Message understanding: classify owner messages, evaluate and train the model.",
    no_args_is_help=True,
    add_completion=False,
)

ModelOption = Annotated[
    Path | None, typer.Option("--model", help="model file (default: the shipped model)")
]


def _fail(message: str, code: int = 2) -> SystemExit:
    """One line on stderr, then exit ``code``. ``SystemExit`` rather than ``typer.Exit``:
    under a parent app run with ``standalone_mode=False`` click turns ``Exit`` into a
    return value, which a caller may drop, and the shell would see success."""
    typer.echo(f"error: {message}", err=True)
    return SystemExit(code)


def _classifier(model: Path | None) -> Classifier:
    try:
        return load_classifier(model)
    except (ModelNotFoundError, ValueError, OSError, KeyError) as exc:
        raise _fail(f"cannot load the intent model: {exc}", 1) from None


@app.command()
def classify(model: ModelOption = None) -> None:
    """JSON lines on stdin ({"text": ...}) → one JSON result line per input, same order."""
    classifier = _classifier(model)
    out = sys.stdout
    for batch in _line_batches(sys.stdin, BATCH_SIZE):
        texts: list[str] = []
        slots: list[int | str] = []  # index into texts, or an error message
        for line in batch:
            parsed = _parse_input(line)
            if isinstance(parsed, tuple):
                slots.append(parsed[0])
            else:
                slots.append(len(texts))
                texts.append(parsed)
        results = classifier.understand_many(texts)
        for slot in slots:
            row = {"error": slot} if isinstance(slot, str) else results[slot].to_json()
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()


@app.command("eval")
def evaluate(
    file: Annotated[Path, typer.Argument(help="JSONL: text, label, optional urgent and lang")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object last")] = False,
    model: ModelOption = None,
) -> None:
    """Accuracy, macro-F1, per-class P/R/F1, confusion matrix and urgent recall/precision."""
    if not file.is_file():
        raise _fail(f"no such file: {file}")
    try:
        examples = read_examples(file)
    except DataError as exc:
        raise _fail(str(exc)) from None
    if not examples:
        raise _fail(f"{file}: no labelled examples")
    results = _classifier(model).understand_many([e.text for e in examples])
    langs = [e.lang or r.lang for e, r in zip(examples, results, strict=True)]
    everything = range(len(examples))
    summary: dict[str, Any] = {"file": str(file), **_report(examples, results, everything)}
    typer.echo(format_report(summary, "all"))
    if len(set(langs)) > 1:
        summary["by_lang"] = {}
        for lang in sorted(set(langs)):
            idx = [i for i, code in enumerate(langs) if code == lang]
            summary["by_lang"][lang] = _report(examples, results, idx)
            typer.echo(format_report(summary["by_lang"][lang], lang))
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", help="model file to write")] = DEFAULT_MODEL_PATH,
    data: Annotated[
        Path | None, typer.Option("--data", help="folder with *_train.jsonl and seed_*.jsonl")
    ] = None,
) -> None:
    """Rebuild the model from the training files (deterministic: same data, same model)."""
    from bot.intents.training import train as fit

    try:
        examples = load_training_examples(data)
    except DataError as exc:
        raise _fail(str(exc)) from None
    if len({e.label for e in examples}) < 2:
        raise _fail("need training examples of at least two kinds")
    typer.echo(f"training on {len(examples)} examples…", err=True)
    fitted = fit(examples)
    try:
        fitted.save(out)
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc}", 1) from None
    typer.echo(
        json.dumps(
            {
                "model": str(out),
                "examples": len(examples),
                "temperature": fitted.temperature,
                "features": fitted.vectorizer.n_features,
                "bytes": out.stat().st_size,
            }
        )
    )


def _report(examples: list[Example], results: list[Any], idx: Iterable[int]) -> dict[str, Any]:
    chosen = list(idx)
    return classification_report(
        [examples[i].label for i in chosen],
        [results[i].kind for i in chosen],
        [examples[i].urgent for i in chosen],
        [results[i].urgent for i in chosen],
    )


def _parse_input(line: str) -> str | tuple[str]:
    """The text of one input line, or ``(error message,)``."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return (f"invalid JSON: {exc.msg}",)
    if not isinstance(row, dict):
        return ("expected a JSON object with a 'text' string",)
    text = row.get("text")
    if not isinstance(text, str):
        return ("missing or non-string 'text'",)
    return text


def _line_batches(stream: IO[str], size: int) -> Iterator[list[str]]:
    """Non-blank lines in batches: full batches while input keeps coming, and at once
    when the writer pauses, so an interactive caller gets each answer without waiting."""
    pending: list[str] = []
    for line in stream:
        if line.strip():
            pending.append(line)
        if pending and (len(pending) >= size or not _more_waiting(stream)):
            yield pending
            pending = []
    if pending:
        yield pending


def _more_waiting(stream: IO[str]) -> bool:
    try:
        ready, _, _ = select.select([stream], [], [], 0)
    except (ValueError, OSError, TypeError, AttributeError, NotImplementedError):
        return True  # not a real file (tests, StringIO): batch freely
    return bool(ready)


if __name__ == "__main__":
    app()
