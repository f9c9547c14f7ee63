"""The test suite's own layout: test modules share helpers through tests/helpers.py and fixtures
in tests/conftest.py, never by importing one another (which runs a module's set-up twice, hides
dependencies and breaks when a test file is split or renamed)."""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def imports_of_test_modules(source: str) -> list[str]:
    """The test_* modules a source file imports (relative or as tests.test_*), at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level and module.split(".")[0].startswith("test_"):
                found.append(module)
            elif module.startswith("tests.test_"):
                found.append(module)
            elif (node.level and not module) or module == "tests":
                found += [alias.name for alias in node.names if alias.name.startswith("test_")]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("tests.test_")]
    return found


def test_the_check_sees_every_form_of_import():
    source = ("from .test_a import x\nfrom tests.test_b import y\nfrom . import test_c\nimport tests.test_d\n"
              "def f():\n    from .test_e import z\n"
              "from .helpers import register\nfrom .chat import actions_in\nfrom bot import test_like\n")
    assert imports_of_test_modules(source) == ["test_a", "tests.test_b", "test_c", "tests.test_d", "test_e"]


def test_no_test_module_imports_another():
    offenders = {path.name: found for path in sorted(TESTS.rglob("test_*.py"))
                 if (found := imports_of_test_modules(path.read_text(encoding="utf-8")))}
    assert not offenders, f"move shared helpers to tests/helpers.py or tests/conftest.py: {offenders}"
