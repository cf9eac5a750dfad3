"""Which language a message is in: zh or en, by the dominant script.

Owners mix scripts ("我家toilet堵了", "My 卫生间 is leaking"). One Chinese
character carries about as much as one English word, so Han characters are
weighed against Latin words; any substantial Chinese makes the message zh,
since the company's staff and replies default to Chinese.
"""

from __future__ import annotations

import re

DEFAULT_LANG = "zh"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]{2,}")
# Latin tokens common in Chinese chats that say nothing about the language.
_NEUTRAL = frozenset({"ok", "okay", "wifi", "app", "pm", "am", "tv", "led", "id", "qq", "vip"})


def detect_language(text: str, default: str = DEFAULT_LANG) -> str:
    """Return "zh" or "en"; ``default`` when the text has no letters at all."""
    han = len(_HAN.findall(text))
    words = [w for w in _LATIN_WORD.findall(text) if w.lower() not in _NEUTRAL]
    if han == 0 and not words:
        return default
    if han == 0:
        return "en"
    if not words:
        return "zh"
    return "zh" if han >= len(words) else "en"
