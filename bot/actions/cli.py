"""``ownerdesk actions serve`` (the main CLI mounts ``actions_cli`` as ``actions``).

Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

actions_cli = typer.Typer(
    help="Rasa custom actions: OwnerDesk's services for a site's own Rasa assistant.",
    no_args_is_help=True,
    add_completion=False,
)


@actions_cli.callback()
def _group() -> None:
    """Keeps ``serve`` a sub-command even while it is the only one."""


@actions_cli.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to bind")] = 5055,
) -> None:
    """The rasa-sdk action server; point endpoints.yml's action_endpoint at /webhook."""
    from bot.actions.server import serve as run_server  # Sanic only when serving

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        run_server(host, port)
    except OSError as exc:  # port taken, address not available
        typer.echo(f"error: cannot serve on {host}:{port}: {exc}", err=True)
        raise typer.Exit(1) from None
    except Exception as exc:  # settings, intent model: one line, never a traceback
        typer.echo(f"error: {type(exc).__name__}: {exc}".splitlines()[0], err=True)
        raise typer.Exit(1) from None


if __name__ == "__main__":
    actions_cli()
