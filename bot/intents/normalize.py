"""Text clean-up shared by the classifier, the urgency rules and the entity finder.

Owners write in simplified and traditional characters, with full-width Latin
letters and digits from Chinese keyboards, emoji, pasted HTML and stray control
characters. Folding all of that to one spelling lets one lexicon and one model
serve every variant. ``fold`` keeps the length of its input so that spans found
in folded text can be cut from the text as written.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from importlib import resources

#: The model reads at most this many characters of a message (after clean-up):
#: the first ``MAX_MODEL_CHARS - MODEL_TAIL_CHARS`` and the last ``MODEL_TAIL_CHARS``,
#: because a long letter states its problem first and its demand last ("…否则我将
#: 投诉到住建局"). The middle of a 100 KB letter adds nothing to the kind, only time.
MAX_MODEL_CHARS = 600
MODEL_TAIL_CHARS = 200
#: Urgency rules and entities look a little further, still bounded.
MAX_SCAN_CHARS = 10_000
#: Raw input beyond this is dropped before any work, so even megabytes are cheap.
MAX_RAW_CHARS = MAX_SCAN_CHARS * 4

_TAG = re.compile(r"<[^<>]{0,300}>")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Zero-width and bidi marks that chat apps insert invisibly.
_INVISIBLE = dict.fromkeys(
    [0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, 0x202A, 0x202B, 0x202C, 0x202D],
    None,
)


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """Traditional → simplified character table, read once from package data."""
    text = resources.files("bot.intents").joinpath("resources/t2s_chars.txt").read_text("utf-8")
    table: dict[int, str] = {}
    for line in text.splitlines():
        if len(line) == 2 and not line.startswith("#"):
            table[ord(line[0])] = line[1]
    return table


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    """One-to-one character map: full-width → half-width, traditional → simplified."""
    table = dict(_t2s_table())
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "  # ideographic space
    punctuation = {"，": ",", "。": ".", "！": "!", "？": "?", "：": ":", "；": ";"}
    punctuation |= {"’": "'", "‘": "'"}
    for src, dst in punctuation.items():
        table[ord(src)] = dst
    return table


def clean(text: str) -> str:
    """Drop HTML tags, entities, control and invisible characters; keep the words."""
    text = text[:MAX_RAW_CHARS]
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = text.translate(_INVISIBLE)
    return _CONTROL.sub(" ", text)


def fold(text: str) -> str:
    """Same-length spelling fold: traditional → simplified, full-width → ASCII, lower case."""
    folded = text.translate(_fold_table())
    lowered = folded.lower()
    # A few characters change length when lower-cased (e.g. "İ"); keep spans aligned.
    return lowered if len(lowered) == len(folded) else folded


def model_text(folded: str) -> str:
    """The part of a normalised message the model reads: its head and its tail."""
    if len(folded) <= MAX_MODEL_CHARS:
        return folded
    head = MAX_MODEL_CHARS - MODEL_TAIL_CHARS
    return f"{folded[:head]} … {folded[-MODEL_TAIL_CHARS:]}"


def normalize(text: str, limit: int = MAX_SCAN_CHARS) -> str:
    """Clean, fold and squeeze white space: the one form the model and rules see."""
    return _SPACES.sub(" ", fold(clean(text[: limit * 4])[:limit])).strip()
