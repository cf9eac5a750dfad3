"""A real ``ownerdesk serve`` on 127.0.0.1 over a throwaway SQLite database with the demo."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    base_url: str
    database_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a power cut or an OOM kill."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=20)


def ownerdesk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ownerdesk"), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )


@contextmanager
def serve(
    workdir: Path, *, extra_env: dict[str, str] | None = None, demo: bool = True
) -> Iterator[Served]:
    url = f"sqlite+aiosqlite:///{workdir}/ownerdesk.db"
    env = {
        **os.environ,
        "OWNERDESK_DATABASE_URL": url,
        "OWNERDESK_VAR_DIR": str(workdir / "var"),
        **(extra_env or {}),
    }
    env.pop("OWNERDESK_TEST_DATABASE_URL", None)
    ownerdesk("db", "upgrade", env=env)
    if demo:
        ownerdesk("demo", "load", env=env)
    port = free_port()
    log = (workdir / "serve.log").open("a")
    process = subprocess.Popen(
        [str(BIN / "ownerdesk"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "ownerdesk serve did not start: " + (workdir / "serve.log").read_text()[-2000:]
                )
            time.sleep(0.2)
        yield Served(base, url, env, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
