"""Binding a chat account to its household: estate → unit → phone on file → one-time code.

Until then the user may ask general enquiries but sees no ticket or personal data.
The request that needed verification is kept and carried out once the code is right.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backend.errors import DomainError
from backend.models import Estate
from backend.verification import (
    MAX_ATTEMPTS_PER_CODE,
    CodeNotSent,
    RateLimited,
    confirm_code,
    estates_of_company,
    normalize_unit_text,
    request_code,
)
from bot.dialogs.context import Turn

MAX_TRIES = 3


async def require(turn: Turn, after: dict[str, Any]) -> None:
    """Start verifying; ``after`` (kind and text) is carried out when it succeeds."""
    estates = await estates_of_company(turn.session)
    turn.start("binding", "estate", after=after, tries=0)
    turn.say("binding.intro")
    if len(estates) == 1:
        await _choose_estate(turn, estates[0])
        return
    await prompt(turn)


async def prompt(turn: Turn) -> None:
    step = turn.step
    if step == "estate":
        estates = await estates_of_company(turn.session)
        turn.say(
            "binding.ask_estate",
            *(
                turn.button("binding.estate_button", f"estate:{e.code}", name=_name(e, turn.lang))
                for e in estates
            ),
        )
    elif step == "unit":
        turn.say("binding.ask_unit")
    elif step == "phone":
        turn.say("binding.ask_phone")
    elif step == "code":
        turn.say("binding.ask_code", turn.button("button.resend_code", "binding:resend"))


def _name(estate: Estate, lang: str) -> str:
    return estate.name_en if lang == "en" and estate.name_en else estate.name


async def _choose_estate(turn: Turn, estate: Estate) -> None:
    turn.goto("unit", estate_id=estate.id, estate_name=_name(estate, turn.lang), tries=0)
    await prompt(turn)


async def handle(turn: Turn) -> bool:
    step = turn.step
    if step == "estate":
        estates = await estates_of_company(turn.session)
        wanted = (turn.value or "").removeprefix("estate:") or turn.text
        for estate in estates:
            if (
                wanted.upper() == estate.code
                or wanted in (estate.name, estate.name_en)
                or (
                    len(wanted) >= 2
                    and (wanted in estate.name or wanted.lower() in estate.name_en.lower())
                )
            ):
                await _choose_estate(turn, estate)
                return True
        return await _retry(turn)
    if step == "unit":
        unit = normalize_unit_text(turn.text)
        if unit is None:
            return await _retry(turn, "binding.unit_format")
        turn.goto("phone", unit=unit, tries=0)
        await prompt(turn)
        return True
    if step == "phone":
        return await _send_code(turn, turn.text)
    if step == "code":
        if turn.value == "binding:resend":
            return await _send_code(turn, str(turn.data.get("phone", "")))
        return await _check_code(turn)
    return False


async def _retry(turn: Turn, key: str | None = None) -> bool:
    tries = int(turn.data.get("tries", 0)) + 1
    if tries >= MAX_TRIES:
        turn.finish()
        turn.say("binding.gave_up")
        return True
    turn.goto(turn.step or "estate", tries=tries)
    if key:
        turn.say(key)
    await prompt(turn)
    return True


async def _send_code(turn: Turn, phone: str) -> bool:
    try:
        sent = await request_code(
            turn.session,
            turn.identity,
            estate_id=int(turn.data["estate_id"]),
            unit_text=str(turn.data.get("unit", "")),
            phone_text=phone,
            sender=turn.services.codes,
            secret=turn.services.settings.secret_key,
            language=turn.lang,
            now=turn.now,
        )
    except RateLimited:
        turn.finish()
        turn.say("binding.rate_limited")
        return True
    except CodeNotSent:
        turn.finish()
        turn.say("binding.code_not_sent")
        return True
    except DomainError:
        return await _retry(turn, "binding.phone_format")
    turn.goto("code", phone=phone, tries=0)
    turn.say(
        "binding.code_sent",
        turn.button("button.resend_code", "binding:resend"),
        phone=sent.masked_phone,
    )
    return True


async def _check_code(turn: Turn) -> bool:
    owner = await confirm_code(
        turn.session,
        turn.identity,
        turn.text,
        secret=turn.services.settings.secret_key,
        now=turn.now,
    )
    if owner is None:
        tries = int(turn.data.get("tries", 0)) + 1
        if tries >= MAX_ATTEMPTS_PER_CODE:
            turn.finish()
            turn.say("binding.too_many_attempts")
            return True
        turn.goto("code", tries=tries)
        turn.say("binding.code_wrong", turn.button("button.resend_code", "binding:resend"))
        return True
    after = dict(turn.data.get("after") or {})
    turn.owner = owner
    turn.estate = await turn.session.get(Estate, owner.estate_id)
    if not turn.identity.language:
        turn.identity.language = owner.language
    turn.finish()
    turn.say("binding.done", name=owner.name)
    if after.get("text") or after.get("kind"):
        from bot.dialogs import router  # the router imports this module: resolve at call time

        turn.inbound = replace(
            turn.inbound, text=str(after.get("text") or ""), value=None, media=()
        )
        turn.reset_understanding()
        if after.get("kind") == "status":
            await router.status.show(turn, None)
        else:
            await router.start_kind(turn, str(after.get("kind") or "other"))
    return True
