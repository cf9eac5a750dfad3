"""The WeChat Official Account channel (微信公众号), as the composition root sees it.

- ``WeChatSender(settings, db)``: the outbox's sender (bot/channels/wechat_sender.py).
- ``wechat_extension(runtime)``: ``GET/POST /wechat/callback`` (bot/channels/wechat_callback.py).
- ``wechat_cli``: ``ownerdesk wechat menu push [--file]`` pushes the custom menu
  (bot/channels/wechat_menu.yaml) with ``client.menu.create``.

API calls go to ``OWNERDESK_WECHAT_API_BASE_URL`` with the access token shared through
the database (bot/channels/wechat_api.py). Setting up a real account: docs/wechat.md.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from sqlalchemy.exc import SQLAlchemyError

from backend.db import Database
from backend.settings import Settings, get_settings
from backend.web.app import Extension
from bot.channels.wechat_api import TokenError, WeChatApi
from bot.channels.wechat_callback import WeChatCallback, wechat_router
from bot.channels.wechat_sender import WeChatSender

if TYPE_CHECKING:
    from backend.composition import Runtime

__all__ = ["WeChatSender", "load_menu", "push_menu", "wechat_cli", "wechat_extension"]

MENU_FILE = "wechat_menu.yaml"
# WeChat's menu rules: 3 top-level buttons of up to 5 sub-buttons; name and key sizes in bytes.
MAX_TOP, MAX_SUB = 3, 5
MAX_TOP_NAME, MAX_SUB_NAME, MAX_KEY = 16, 60, 128
BUTTON_TYPES = frozenset({"click", "view"})


def wechat_extension(runtime: Runtime, **options: Any) -> Extension:
    """The callback route, plus finishing late answers on shutdown."""
    callback = WeChatCallback(
        runtime.settings, runtime.db, runtime.desk, runtime.worker.wake, **options
    )
    sender = runtime.senders.get("wechat")

    async def stop() -> None:
        await callback.drain()

    def health() -> dict[str, Any]:
        stats = callback.stats
        body: dict[str, Any] = {
            "mode": callback.mode,
            "received": stats.received,
            "passive_replies": stats.passive,
            "late": stats.late,
            "refused": stats.refused,
        }
        if isinstance(sender, WeChatSender):
            body["token_refreshes"] = sender.api.tokens.refreshes
            body["templates_sent"] = sender.templates_sent
        return body

    return Extension(
        "wechat",
        routers=[wechat_router(callback)],
        on_stop=stop,
        health=health,
        extra={"callback": callback},
    )


# --- the custom menu -------------------------------------------------------------------


class MenuError(ValueError):
    """The menu file breaks WeChat's rules; the message says where."""


def _check_button(button: Any, where: str, name_limit: int) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise MenuError(f"{where}: expected a mapping")
    name = str(button.get("name") or "")
    if not name or len(name.encode()) > name_limit:
        raise MenuError(f"{where}: name must be 1–{name_limit} bytes, got {name!r}")
    out: dict[str, Any] = {"name": name}
    if "sub_button" in button:
        raise MenuError(f"{where}: sub-menus cannot be nested")
    kind = str(button.get("type") or "")
    if kind not in BUTTON_TYPES:
        raise MenuError(f"{where} ({name}): type must be one of {sorted(BUTTON_TYPES)}")
    out["type"] = kind
    if kind == "click":
        key = str(button.get("key") or "")
        if not key or len(key.encode()) > MAX_KEY:
            raise MenuError(f"{where} ({name}): a click button needs a key of 1–{MAX_KEY} bytes")
        out["key"] = key
    else:
        url = str(button.get("url") or "")
        if not url.startswith(("http://", "https://")):
            raise MenuError(f"{where} ({name}): a view button needs an http(s) url")
        out["url"] = url
    return out


def load_menu(path: Path | None = None) -> dict[str, Any]:
    """The menu file as WeChat's ``menu/create`` body, checked against WeChat's limits."""
    try:
        if path is None:
            text = resources.files("bot.channels").joinpath(MENU_FILE).read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise MenuError(f"cannot read the menu file: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise MenuError(f"the menu file is not valid YAML: {str(exc).splitlines()[0]}") from exc
    buttons = data.get("button") if isinstance(data, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_TOP:
        raise MenuError(f"the menu needs a 'button' list of 1–{MAX_TOP} buttons")
    menu: list[dict[str, Any]] = []
    for i, button in enumerate(buttons, start=1):
        where = f"button {i}"
        if isinstance(button, dict) and "sub_button" in button:
            name = str(button.get("name") or "")
            subs = button["sub_button"]
            if not name or len(name.encode()) > MAX_TOP_NAME:
                raise MenuError(f"{where}: name must be 1–{MAX_TOP_NAME} bytes, got {name!r}")
            if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB:
                raise MenuError(f"{where} ({name}): 1–{MAX_SUB} sub-buttons")
            menu.append(
                {
                    "name": name,
                    "sub_button": [
                        _check_button(sub, f"{where}.{j}", MAX_SUB_NAME)
                        for j, sub in enumerate(subs, start=1)
                    ],
                }
            )
        else:
            menu.append(_check_button(button, where, MAX_TOP_NAME))
    return {"button": menu}


async def push_menu(settings: Settings, menu: dict[str, Any], db: Database | None = None) -> None:
    """``menu/create`` with the shared access token."""
    own = db is None
    database = db or Database(settings.database_url)
    try:
        await WeChatApi(settings, database).call(lambda client: client.menu.create(menu))
    finally:
        if own:
            await database.dispose()


# --- CLI: ownerdesk wechat … -------------------------------------------------------------

wechat_cli = typer.Typer(help="WeChat Official Account.", no_args_is_help=True)
menu_cli = typer.Typer(help="The Official Account's custom menu.", no_args_is_help=True)
wechat_cli.add_typer(menu_cli, name="menu")


def _fail(message: str) -> SystemExit:
    """One line on stderr, exit 1. ``SystemExit``, not ``typer.Exit``: under ``ownerdesk``
    (run with ``standalone_mode=False``) click turns ``Exit`` into a return value."""
    typer.echo(f"error: {message}", err=True)
    return SystemExit(1)


@menu_cli.command("push")
def menu_push(
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Menu YAML (default: the bundled wechat_menu.yaml)."),
    ] = None,
) -> None:
    """Push the custom menu to the Official Account (replaces the current one)."""
    settings = get_settings()
    if not settings.wechat_enabled:
        raise _fail("WeChat is off: set OWNERDESK_WECHAT_APPID, _SECRET and _TOKEN")
    try:
        menu = load_menu(file)
        asyncio.run(push_menu(settings, menu))
    except MenuError as exc:
        raise _fail(str(exc)) from None
    except TokenError as exc:
        raise _fail(f"cannot get an access token: {exc.errmsg}") from None
    except SQLAlchemyError as exc:  # the token is kept in the database
        text = str(exc).lower()
        if "no such table" in text or "does not exist" in text:
            raise _fail("the database has no schema yet: run `ownerdesk db upgrade`") from None
        raise _fail(f"database error: {str(exc).splitlines()[0]}") from None
    except Exception as exc:  # WeChat's refusal, the network, the database: one line
        errcode = getattr(exc, "errcode", None)
        detail = f"WeChat {errcode}: {getattr(exc, 'errmsg', '')}" if errcode else str(exc)
        raise _fail(f"menu push failed: {detail}".splitlines()[0]) from None
    count = sum(len(b.get("sub_button", [])) or 1 for b in menu["button"])
    typer.echo(f"menu pushed: {len(menu['button'])} top-level buttons, {count} actions")
