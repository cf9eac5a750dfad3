"""A verification-code sender that remembers what it sent, for tests."""

from __future__ import annotations


class RecordingCodeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (phone, code, language)

    async def send(self, phone: str, code: str, language: str) -> None:
        self.sent.append((phone, code, language))

    @property
    def last_code(self) -> str:
        assert self.sent, "no code was sent"
        return self.sent[-1][1]
