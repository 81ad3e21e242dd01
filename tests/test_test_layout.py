"""The layout of tests/: test modules share helpers through helper modules, never through each other.

A test module that imports another test module runs that module's import-time work (and can
make pytest collect its tests twice); importing from conftest couples a test to fixtures'
plumbing. Shared code lives in helper modules such as tests/harness.py instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
TEST_MODULES = sorted(TESTS.glob("test_*.py"))


def _is_test_module(dotted: str) -> bool:
    """tests.test_x, or test_x as a top-level module name."""
    name = dotted.removeprefix("tests.")
    return name.startswith("test_") and "." not in name


def _is_conftest(dotted: str) -> bool:
    """tests.conftest, or conftest as a top-level module name."""
    return dotted in ("tests.conftest", "conftest")


def imported_modules(source: str) -> list[str]:
    """Every module an import statement anywhere in `source` names, relative ones spelled tests.x."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: inside tests/, the only package here
                base = f"tests.{base}" if base else "tests"
            found.append(base)
            if base == "tests":  # from tests import harness: each name may be a module
                found.extend(f"tests.{alias.name}" for alias in node.names)
    return found


def forbidden_imports(source: str, is_test_module: bool) -> list[str]:
    """The imports that break the layout: any test module, and conftest from a test module."""
    return [module for module in imported_modules(source)
            if _is_test_module(module) or (is_test_module and _is_conftest(module))]


@pytest.mark.parametrize("path", TEST_MODULES, ids=lambda path: path.name)
def test_test_modules_import_no_test_module_and_not_conftest(path: Path) -> None:
    assert forbidden_imports(path.read_text(), is_test_module=True) == []


@pytest.mark.parametrize("path", sorted(set(TESTS.glob("*.py")) - set(TEST_MODULES)), ids=lambda path: path.name)
def test_helper_modules_and_conftest_import_no_test_module(path: Path) -> None:
    assert forbidden_imports(path.read_text(), is_test_module=False) == []


def test_there_are_test_modules_to_check() -> None:
    assert len(TEST_MODULES) > 30
    assert TESTS / "test_test_layout.py" in TEST_MODULES


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tests.conftest import start_server", ["tests.conftest"]),
        ("from tests.test_health_server import http", ["tests.test_health_server"]),
        ("import tests.test_health_server", ["tests.test_health_server"]),
        ("from tests import conftest, harness", ["tests.conftest"]),
        ("from tests import test_workers", ["tests.test_workers"]),
        ("from .conftest import ROOT", ["tests.conftest"]),
        ("from . import test_reload", ["tests.test_reload"]),
        ("from conftest import ROOT", ["conftest"]),
        ("def f():\n    from tests.test_steering_engine import ecs_for\n", ["tests.test_steering_engine"]),
        ("from tests.harness import start_server\nfrom tests.ecs import ecs_for", []),
        ("from tests import steering_zone\nimport tests.backends", []),
        ("from gslb.wire.message import parse_query\nimport pytest", []),
    ],
)
def test_the_check_finds_what_it_should(source: str, expected: list[str]) -> None:
    assert forbidden_imports(source, is_test_module=True) == expected
