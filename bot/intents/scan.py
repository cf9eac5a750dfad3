"""Regex scanning that stays fast on long messages.

Python's ``re`` skips quickly over text only when every branch of a pattern
starts with a literal character; a leading ``\\b`` or look-behind makes it try
every branch at every position (25× slower on a 3,000-character letter). So
the lexicon patterns start with their words, and the left word boundary that
``\\b`` would have checked is checked here instead.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

_ASCII_WORD = frozenset(string.ascii_letters + string.digits)


def starts_word(text: str, start: int, left: str = "") -> bool:
    """Does a match at ``start`` begin a word (not continue an ASCII word or number)?
    ``left``: more characters that must not stand just before it."""
    if start == 0:
        return True
    before = text[start - 1]
    return (text[start] not in _ASCII_WORD or before not in _ASCII_WORD) and before not in left


def find_all(
    pattern: re.Pattern[str], text: str, left: str = "", pos: int = 0, endpos: int | None = None
) -> Iterator[re.Match[str]]:
    """Matches of ``pattern`` that start at a word boundary, left to right, within
    ``text[pos:endpos]`` (look-behinds still see the text before ``pos``)."""
    end = len(text) if endpos is None else endpos
    while (match := pattern.search(text, pos, end)) is not None:
        if starts_word(text, match.start(), left):
            yield match
            pos = max(match.end(), match.start() + 1)
        else:
            pos = match.start() + 1


def find_first(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of ``pattern`` that starts at a word boundary."""
    return next(find_all(pattern, text), None)


def windows(anchor: re.Pattern[str], text: str, before: int, after: int) -> list[tuple[int, int]]:
    """Merged spans around each hit of a cheap ``anchor`` pattern, so that a costly
    pattern need only be searched near the words it cannot match without."""
    spans: list[tuple[int, int]] = []
    for match in anchor.finditer(text):
        lo, hi = max(0, match.start() - before), min(len(text), match.start() + after)
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
        else:
            spans.append((lo, hi))
    return spans
