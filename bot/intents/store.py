"""Where the shipped model lives, and loading it once per process."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.intents.classifier import Classifier
from bot.intents.features import warm_up
from bot.intents.model import IntentModel

DEFAULT_MODEL_PATH = Path(__file__).parent / "model" / "intents.npz"

_lock = threading.Lock()
_cache: dict[Path, Classifier] = {}
# The shipped model, once loaded: every owner message asks for it, and resolving the
# path and taking the lock each time cost a twentieth of the message's time.
_shipped: Classifier | None = None


class ModelNotFoundError(FileNotFoundError):
    """No model file: run ``ownerdesk intents train`` (``make train``)."""


def load_classifier(path: Path | str | None = None) -> Classifier:
    """The classifier stored at ``path`` (default: the shipped model), loaded once."""
    global _shipped
    if path is None and _shipped is not None:
        return _shipped
    key = Path(path) if path is not None else DEFAULT_MODEL_PATH
    key = key.resolve()
    with _lock:
        cached = _cache.get(key)
        if cached is None:
            if not key.is_file():
                raise ModelNotFoundError(f"no intent model at {key}; run `ownerdesk intents train`")
            cached = Classifier(IntentModel.load(key))
            warm_up()
            _cache[key] = cached
    if path is None:
        _shipped = cached
    return cached
