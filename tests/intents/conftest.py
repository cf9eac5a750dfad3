"""Shared fixtures: the shipped classifier, loaded once for the whole module set."""

from __future__ import annotations

import pytest

from bot.intents import Classifier, load_classifier


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return load_classifier()
