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


def test_only_gateway_contract_flags_client_classes_outside_the_gateway(tmp_path, monkeypatch):
    """The custom import-linter contract (tests/import_contracts.py) sees through `from … import`."""
    from types import SimpleNamespace

    from .import_contracts import OnlyGatewayContract

    package = tmp_path / "botx"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "gateway.py").write_text("from linebot.v3.messaging import ApiClient, MessagingApi\n")
    (package / "cards.py").write_text("from linebot.v3.messaging import FlexMessage, TextMessage\n")
    (package / "sneaky.py").write_text("import os\nfrom linebot.v3.messaging import (\n    TextMessage,\n"
                                       "    MessagingApi,\n)\nfrom linebot.v3.messaging.api import messaging_api\n")
    (package / "roundabout.py").write_text("import linebot.v3.messaging as m\nfrom linebot.v3 import messaging\n"
                                           "from linebot.v3.messaging.configuration import Configuration\n"
                                           "from linebot.v3.messaging.models import TextMessage\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    contract = OnlyGatewayContract(
        name="test", session_options={},
        contract_options={"package": "linebot.v3.messaging", "names": ["ApiClient", "MessagingApi"],
                          "allowed": ["botx.gateway"]})
    graph = SimpleNamespace(modules={"botx", "botx.gateway", "botx.cards", "botx.sneaky", "botx.roundabout"})
    # Only modules under "bot" are read; this fake package is named so that it counts.
    check = contract.check(graph, verbose=False)
    assert not check.kept
    assert check.metadata["violations"] == [
        "botx.roundabout (l.1) imports linebot.v3.messaging",
        "botx.roundabout (l.2) imports linebot.v3.messaging",
        "botx.roundabout (l.3) imports linebot.v3.messaging.configuration.Configuration",
        "botx.sneaky (l.2) imports linebot.v3.messaging.MessagingApi",
        "botx.sneaky (l.6) imports linebot.v3.messaging.api.messaging_api",
    ]


def test_every_module_of_bot_has_a_layer():
    """A module missing from the layers contract would be checked by nothing (docs/ARCHITECTURE.md)."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    [layers] = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    named = {name.strip() for layer in layers["layers"] for name in layer.replace("|", ":").split(":")}
    modules = {p.stem for p in (root / "bot").glob("*.py") if p.stem != "__init__"}
    packages = {p.parent.name for p in (root / "bot").glob("*/__init__.py")}
    unplaced = (modules | packages) - named - {"locales"}
    assert not unplaced, f"add these to the layers in pyproject.toml: {sorted(unplaced)}"
