"""Console sessions: who is logged in, CSRF tokens, login rate limits.

The session lives in a signed cookie (Starlette's SessionMiddleware: HttpOnly,
SameSite=Lax, Secure behind HTTPS). Every state-changing request carries the
session's CSRF token, as a form field or, for htmx, the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import StaffContext, staff_context
from backend.db import Database
from backend.i18n import normalize_lang
from backend.models import Staff

SESSION_STAFF = "staff_id"
SESSION_CSRF = "csrf"
SESSION_VERSION = "pw"  # a password change logs out every other session
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILED_LOGINS = 5


class LoginRequired(Exception):
    """Not logged in (or the account went away): go to the login page."""


class CsrfFailed(Exception):
    """A state-changing request without the session's token."""


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    expected = request.session.get(SESSION_CSRF)
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get("csrf_token") or "")
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise CsrfFailed()


def password_version(staff: Staff) -> str:
    """Changes whenever the password does, so old sessions stop working."""
    return staff.password_hash[-16:]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def login_url(request: Request) -> str:
    return f"/console/login?next={quote(str(request.url.path))}"


@dataclass
class Console:
    """One console request: the logged-in staff member, their scope and language."""

    request: Request
    session: AsyncSession
    staff: Staff
    ctx: StaffContext
    lang: str
    csrf: str


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def console_user(request: Request) -> AsyncIterator[Console]:
    staff_id = request.session.get(SESSION_STAFF)
    if not staff_id:
        raise LoginRequired()
    async with database(request).session() as session:
        staff = await session.get(Staff, int(staff_id))
        if (
            staff is None
            or not staff.active
            or request.session.get(SESSION_VERSION) != password_version(staff)
        ):
            request.session.clear()
            raise LoginRequired()
        ctx = await staff_context(session, staff)
        yield Console(
            request, session, staff, ctx, normalize_lang(staff.language), csrf_token(request)
        )


async def console_action(request: Request) -> AsyncIterator[Console]:
    """Like ``console_user``, for requests that change something: the CSRF token is checked."""
    await check_csrf(request)
    async for console in console_user(request):
        yield console
