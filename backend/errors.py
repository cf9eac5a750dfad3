"""Domain errors: the CLI prints their message on one line, HTTP turns them into 4xx JSON."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain said no. ``code`` is stable; ``message`` is for people."""

    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class IllegalTransition(DomainError):
    code = "illegal_transition"
    http_status = 409


class InvalidInput(DomainError):
    code = "invalid_input"
    http_status = 422


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403
