"""A verification-code sender that remembers what it sent, for tests."""

from __future__ import annotations

from backend.verification import CodeNotSent


class RecordingCodeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (phone, code, language)
        self.failing = False  # as an SMS gateway that is down

    async def send(self, phone: str, code: str, language: str) -> None:
        if self.failing:
            raise CodeNotSent("the SMS gateway could not be reached")
        self.sent.append((phone, code, language))

    @property
    def last_code(self) -> str:
        assert self.sent, "no code was sent"
        return self.sent[-1][1]
