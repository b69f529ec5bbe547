"""Validation-report fixtures: a hand-written JUnit XML and a small control mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
JUNIT = FIXTURES / "junit.xml"
CONTROLS = FIXTURES / "controls.json"


@pytest.fixture(autouse=True)
def _known_commit(app, monkeypatch):
    """Name the commit through CADRE_COMMIT, as a release build would (no git calls)."""
    monkeypatch.setitem(app.config, "CADRE_COMMIT", "0123456789abcdef0123456789abcdef01234567")


@pytest.fixture
def junit_results(app):
    """Point VALIDATION_JUNIT_PATH at the hand-written run."""
    app.config["VALIDATION_JUNIT_PATH"] = str(JUNIT)
    return JUNIT
