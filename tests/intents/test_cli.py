"""The CLI contract of DESIGN.md, driven through typer's CliRunner."""

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.intents.cli import app

runner = CliRunner()


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_classify_answers_every_line_in_order() -> None:
    stdin = "\n".join(
        [
            json.dumps({"text": "卫生间漏水了"}, ensure_ascii=False),
            "this is not json",
            "",
            json.dumps({"text": "How do I pay the management fee?"}),
            json.dumps({"nope": 1}),
            json.dumps(["text"]),
            json.dumps({"text": ""}),
            json.dumps({"text": "電梯困人，快來！"}, ensure_ascii=False),
        ]
    )
    result = runner.invoke(app, ["classify"], input=stdin + "\n")
    assert result.exit_code == 0, result.output
    rows = _lines(result.stdout)
    assert len(rows) == 7  # the blank line is skipped
    assert rows[0]["label"] == "repair" and rows[0]["lang"] == "zh"
    assert set(rows[0]) >= {"label", "confidence", "urgent", "lang", "entities"}
    assert "error" in rows[1]
    assert rows[2]["label"] == "enquiry" and rows[2]["lang"] == "en"
    assert "error" in rows[3] and "error" in rows[4]
    assert rows[5] == {**rows[5], "label": "other", "confidence": 1.0, "urgent": False}
    assert rows[6]["urgent"] is True


def test_classify_handles_many_lines() -> None:
    stdin = "".join(
        json.dumps({"text": f"电梯坏了 {i}"}, ensure_ascii=False) + "\n" for i in range(1200)
    )
    result = runner.invoke(app, ["classify"], input=stdin)
    assert result.exit_code == 0
    assert len(_lines(result.stdout)) == 1200


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def test_eval_prints_the_report_and_json_last(tmp_path: Path) -> None:
    gold = _write(
        tmp_path / "gold.jsonl",
        [
            {"text": "卫生间漏水了", "label": "repair", "lang": "zh", "urgent": False},
            {"text": "电梯困人了，快来", "label": "repair", "lang": "zh", "urgent": True},
            {"text": "请问物业费怎么交", "label": "enquiry", "lang": "zh", "urgent": False},
            {"text": "The lift is broken", "label": "repair", "lang": "en", "urgent": False},
            {"text": "Your guard was rude to me", "label": "complaint", "lang": "en"},
            {"text": "Thanks a lot!", "label": "other", "lang": "en"},
        ],
    )
    result = runner.invoke(app, ["eval", str(gold), "--json"])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.stdout and "confusion" in result.stdout
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["n"] == 6
    assert {"accuracy", "macro_f1", "macro_f1_ticket_kinds", "per_class", "confusion"} <= set(
        summary
    )
    assert summary["urgent"]["positives"] == 1 and summary["urgent"]["labelled"] == 4
    assert set(summary["by_lang"]) == {"zh", "en"}
    assert summary["by_lang"]["zh"]["n"] == 3


def test_eval_missing_file_is_one_line_on_stderr(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", str(tmp_path / "missing.jsonl")])
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_eval_bad_json_is_one_line_on_stderr(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "label": "repair"}\n{broken\n', "utf-8")
    result = runner.invoke(app, ["eval", str(bad), "--json"])
    assert result.exit_code != 0
    assert "bad.jsonl:2" in result.stderr
    assert "Traceback" not in result.output


def test_eval_unknown_label_is_rejected(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.jsonl", [{"text": "hi", "label": "praise"}])
    result = runner.invoke(app, ["eval", str(bad)])
    assert result.exit_code != 0 and "label" in result.stderr


def test_train_writes_a_loadable_model(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    kinds = {
        "repair": [
            "卫生间漏水了",
            "电梯坏了",
            "the tap is broken",
            "window won't close",
            "马桶堵了",
        ],
        "complaint": [
            "保安态度太差",
            "装修太吵了投诉",
            "rude staff",
            "noise every night",
            "物业不作为",
        ],
        "enquiry": [
            "物业费怎么交",
            "停车卡怎么办",
            "how do I pay",
            "when is the outage",
            "可以养狗吗",
        ],
        "other": ["谢谢", "你好", "thanks", "hello", "新年快乐"],
    }
    rows = [{"text": t, "label": k} for k, texts in kinds.items() for t in texts]
    _write(data / "tiny_train.jsonl", rows)
    out = tmp_path / "model.npz"
    result = runner.invoke(app, ["train", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    classified = runner.invoke(
        app, ["classify", "--model", str(out)], input=json.dumps({"text": "电梯坏了"}) + "\n"
    )
    assert classified.exit_code == 0
    assert _lines(classified.stdout)[0]["label"] in kinds


def test_classify_with_a_missing_model_fails_cleanly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["classify", "--model", str(tmp_path / "none.npz")], input="")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
