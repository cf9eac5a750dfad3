"""The ``ownerdesk`` command line: contract of DESIGN.md, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.cli import main

SAMPLES = Path(__file__).parents[2] / "samples"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_load_is_idempotent_and_tickets_list_json(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "demo", "load", "--json")
    assert code == 0
    first = json.loads(out.strip().splitlines()[-1])
    assert first["estates"] == 2 and first["owners"] == 200 and first["tickets"] > 0
    code, out, _ = run(capsys, "demo", "load", "--json")
    again = json.loads(out.strip().splitlines()[-1])
    assert (again["owners"], again["tickets"]) == (0, 0)

    code, out, _ = run(capsys, "tickets", "list", "--json", "--estate", "DEMO-A")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows and all(r["estate"] == "DEMO-A" for r in rows)
    for key in ("id", "number", "kind", "state", "estate", "unit", "owner_id", "urgent",
                "channel", "category", "summary", "created_at", "deadlines"):  # fmt: skip
        assert key in rows[0]
    code, out, _ = run(
        capsys, "tickets", "list", "--json", "--kind", "complaint", "--state", "accepted"
    )
    assert {json.loads(line)["state"] for line in out.splitlines()} == {"accepted"}
    code, out, _ = run(capsys, "tickets", "list")
    assert code == 0 and "R-" in out


def test_staff_add_reads_the_password_from_stdin(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    run(capsys, "demo", "load")
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-enough\n"))
    code, out, err = run(
        capsys,
        "staff",
        "add",
        "wang",
        "--role",
        "agent",
        "--estate",
        "DEMO-A",
        "--estate",
        "DEMO-B",
        "--password-stdin",
    )
    assert code == 0, err
    assert "wang" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-enough\n"))
    code, _, err = run(
        capsys, "staff", "add", "li", "--role", "janitor", "--estate", "DEMO-A", "--password-stdin"
    )
    assert code == 1 and err.startswith("error: unknown role 'janitor'") and err.count("\n") == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-enough\n"))
    code, _, err = run(
        capsys, "staff", "add", "li", "--role", "agent", "--estate", "NOPE", "--password-stdin"
    )
    assert code == 1 and "unknown estate 'NOPE'" in err
    code, _, err = run(capsys, "staff", "add", "li", "--role", "agent", "--estate", "DEMO-A")
    assert code == 1 and "--password-stdin" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = run(
        capsys, "staff", "add", "li", "--role", "agent", "--estate", "DEMO-A", "--password-stdin"
    )
    assert code == 1 and "at least 8 characters" in err


def test_owners_import_report_and_json(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "demo", "load")
    code, out, _ = run(capsys, "owners", "import", str(SAMPLES / "owners.csv"), "--json")
    assert code == 0
    assert json.loads(out.splitlines()[-1]) | {"errors": []} == {
        "imported": True,
        "rows": 6,
        "created": 6,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
    }
    code, out, _ = run(capsys, "owners", "import", str(SAMPLES / "owners.xlsx"))
    assert code == 0 and "6 unchanged" in out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "estate,unit,name,phone\nDEMO-A,A-1-101,x,123\nNOPE,A-1-102,y,13800000000\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "owners", "import", str(bad))
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0].startswith("row 2 (phone): malformed phone number")
    assert lines[1].startswith("row 3 (estate): unknown estate")
    assert lines[-1] == "error: nothing imported: 2 problem(s) in bad.csv"
    code, out, err = run(capsys, "owners", "import", str(bad), "--json")
    assert code == 1
    assert json.loads(out.splitlines()[-1])["imported"] is False
    code, _, err = run(capsys, "owners", "import", str(tmp_path / "nope.csv"))
    assert code == 1 and err.strip() == f"error: no such file: {tmp_path / 'nope.csv'}"


def test_usage_errors_are_one_line(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "tickets", "list", "--kind", "praise")
    assert code == 1 and err.strip() == "error: unknown ticket kind 'praise'"
    code, _, err = run(capsys, "tickets", "frobnicate")
    assert code == 2 and "No such command" in err


def test_missing_schema_is_explained_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "OWNERDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/empty.db",
           "OWNERDESK_VAR_DIR": str(tmp_path / "var")}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "backend.cli", "tickets", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1
    assert (
        proc.stderr.strip() == "error: the database has no schema yet: run `ownerdesk db upgrade`"
    )
    assert "Traceback" not in proc.stderr


def test_unreachable_postgres_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "OWNERDESK_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
           "OWNERDESK_VAR_DIR": str(tmp_path / "var")}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "backend.cli", "tickets", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: cannot reach the database")
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_db_upgrade_creates_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.settings import get_settings

    monkeypatch.setenv("OWNERDESK_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    monkeypatch.setenv("OWNERDESK_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        code, out, _ = run(capsys, "db", "upgrade")
        assert code == 0 and "latest schema" in out
        code, out, _ = run(capsys, "tickets", "list")
        assert code == 0 and out.strip() == "no tickets"
        assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    finally:
        get_settings.cache_clear()


def test_care_run_is_safe_to_repeat(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "demo", "load")
    code, out, _ = run(capsys, "care", "run", "--date", "2026-10-01", "--dry-run", "--json")
    dry = json.loads(out.splitlines()[-1])
    assert code == 0 and dry["dry_run"] and dry["enqueued"] >= 2  # the bound demo owners
    code, out, _ = run(capsys, "care", "run", "--date", "2026-10-01", "--json")
    first = json.loads(out.splitlines()[-1])
    assert first["enqueued"] == dry["enqueued"] and first["by_type"]["holiday"] >= 2
    code, out, _ = run(capsys, "care", "run", "--date", "2026-10-01", "--json")
    second = json.loads(out.splitlines()[-1])
    assert second["enqueued"] == 0 and second["skipped"] >= first["enqueued"]
    code, _, err = run(capsys, "care", "run", "--date", "01/10/2026")
    assert code == 1 and "YYYY-MM-DD" in err
