"""Message understanding: kind, urgency, language and entities of owner messages.

    from bot.intents import understand
    result = understand("卫生间漏水了")   # kind="repair", category="water_leak", ...

The model loads lazily on the first call and is cached for the process.
"""

from __future__ import annotations

from bot.intents.classifier import Classifier
from bot.intents.normalize import MAX_MODEL_CHARS, MAX_SCAN_CHARS
from bot.intents.store import DEFAULT_MODEL_PATH, ModelNotFoundError, load_classifier
from bot.intents.understanding import CLARIFY_THRESHOLD, Understanding, needs_clarification

__all__ = [
    "CLARIFY_THRESHOLD",
    "DEFAULT_MODEL_PATH",
    "MAX_MODEL_CHARS",
    "MAX_SCAN_CHARS",
    "Classifier",
    "ModelNotFoundError",
    "Understanding",
    "load_classifier",
    "needs_clarification",
    "understand",
]


def understand(text: str) -> Understanding:
    """Read one owner message with the shipped model (loaded once, then cached)."""
    return load_classifier().understand(text)
