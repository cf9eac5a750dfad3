"""Words that work anywhere; a button's label is never read as one."""

from __future__ import annotations

import pytest

from bot.dialogs.commands import Command, command_of


@pytest.mark.parametrize(
    ("text", "value", "command"),
    [
        ("转人工", None, Command.HANDOFF),
        ("我要转人工！", None, Command.HANDOFF),
        ("取消。", None, Command.CANCEL),
        ("/start deep-link", None, Command.START),
        ("我的工单", "/status", Command.STATUS),
        ("返回智能客服", "cmd:cancel", Command.CANCEL),
        # The label of a flow's own button is not a command: the value says what it is.
        ("👎 没解决，转人工", "kb:no:property-fee", None),
        ("都不是，转人工", "kb:no:", None),
        ("取消", "repair:cancel-photo", None),
    ],
)
def test_commands(text: str, value: str | None, command: Command | None) -> None:
    assert command_of(text, value) is command
