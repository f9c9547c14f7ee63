"""A custom import-linter contract (pyproject.toml, [tool.importlinter]): one module talks to LINE.

import-linter sees an external package as one node (`linebot`), so "only the gateway imports
linebot.v3.messaging's API classes" cannot be a plain `forbidden` contract: message models come
from the same package and every layer that builds messages imports them. This contract reads the
import statements themselves: outside the allowed modules, nothing may import the Messaging API's
client classes (or its `api` subpackage), while message models stay free to import.
"""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from importlinter import Contract, ContractCheck, fields, output


def _imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) for every `from m import n` and `import m` in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, "") for alias in node.names]
    return found


class OnlyGatewayContract(Contract):
    type_name = "only_gateway"

    package = fields.StringField()  # the external package, e.g. linebot.v3.messaging
    names = fields.ListField(subfield=fields.StringField())  # client classes only the gateway may import
    allowed = fields.ListField(subfield=fields.StringField())  # modules that may (the gateway)

    def check(self, graph, verbose: bool) -> ContractCheck:
        package, names, allowed = str(self.package), set(self.names), set(self.allowed)
        violations = []
        for module in sorted(graph.modules):
            if module in allowed or not module.startswith("bot"):
                continue
            spec = importlib.util.find_spec(module)
            if spec is None or not spec.origin or not spec.origin.endswith(".py"):
                continue
            for line, imported, name in _imports(Path(spec.origin)):
                if self._reaches_client(imported, name, package, names):
                    violations.append(f"{module} (l.{line}) imports {imported}{'.' + name if name else ''}")
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    @staticmethod
    def _reaches_client(imported: str, name: str, package: str, names: set[str]) -> bool:
        """A client class by name, the package as a module (`m.MessagingApi` would be unseen), or
        any submodule but `models`."""
        parent, _dot, leaf = package.rpartition(".")
        if imported == package:
            return name in names or name == ""
        if imported == parent and name == leaf:  # from linebot.v3 import messaging
            return True
        if imported.startswith(package + "."):
            return not imported.startswith(package + ".models")
        return False

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            output.print_error(violation)
