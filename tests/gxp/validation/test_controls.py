"""validation/controls.json cannot rot: every test it names exists in the test tree."""

from __future__ import annotations

import ast
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from app.config import ROOT
from app.gxp.validation_report import CONTROLS_PATH, load_controls

CONTROLS = load_controls()


@lru_cache
def _tests_in(path: Path) -> frozenset[str]:
    """The test names pytest would collect from a file: `test_x` and `TestClass::test_y`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef) and sub.name.startswith(
                    "test"
                ):
                    names.add(f"{node.name}::{sub.name}")
    return frozenset(names)


def _missing(node_id: str) -> str | None:
    path, _, name = node_id.partition("::")
    name = re.sub(r"\[.*\]$", "", name)  # a parametrised case: the test function must exist
    file = ROOT / path
    if not path.startswith("tests/") or not path.endswith(".py") or not name:
        return f"{node_id}: not a node id like tests/area/test_file.py::test_name"
    if not file.is_file():
        return f"{node_id}: no file {path}"
    if name not in _tests_in(file):
        return f"{node_id}: no test {name} in {path}"
    return None


@pytest.mark.parametrize("control", CONTROLS, ids=[c.id for c in CONTROLS])
def test_every_named_test_exists(control):
    if control.pending and not control.tests:
        pytest.skip(f"{control.id} is pending: {control.note or 'tests to be named'}")
    assert control.tests, f"{control.id} names no test: add them or mark it pending"
    problems = [p for p in map(_missing, control.tests) if p]
    assert problems == []


def test_the_mapping_is_well_formed():
    data = json.loads(CONTROLS_PATH.read_text(encoding="utf-8"))
    ids = [c["id"] for c in data["controls"]]
    assert len(ids) == len(set(ids)), "control ids must be unique"
    for c in data["controls"]:
        assert c["requirement"].strip() and c["source"].strip(), c["id"]
        assert len(c["tests"]) == len(set(c["tests"])), f"{c['id']} names a test twice"
        assert set(c) <= {"id", "requirement", "source", "tests", "pending", "note", "candidates"}
    # The issue-5 controls the report must cover are all there (pending or not).
    requirements = " ".join(c["requirement"] for c in data["controls"]).lower()
    for words in (
        "tamper-evident",
        "re-asks the password",
        "failed signatures count toward",
        "lockout",
        "idle session timeout",
        "sop retraining",
        "validates against the schema",
        "role checks on every view",
    ):
        assert words in requirements, words


def test_a_wrong_name_is_caught():
    here = "tests/gxp/validation/test_controls.py"
    assert _missing(f"{here}::test_every_named_test_exists") is None
    assert _missing(f"{here}::test_every_named_test_exists[x]") is None
    assert "no test" in _missing(f"{here}::test_that_never_was")
    assert "no file" in _missing("tests/nowhere/test_x.py::test_y")
    assert "not a node id" in _missing("validation/controls.json")
