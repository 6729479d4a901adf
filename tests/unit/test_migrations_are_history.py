"""Migrations are history: each holds its DDL as literal text and imports nothing of the project
but `infra` (alembic, sqlalchemy and the standard library aside). A migration that imported
today's projection code would change whenever that code changes, and would put `infra` above
`projections` in the import graph. (That a fresh `alembic upgrade head` equals the declared tables
is tests/integration/test_tables.py.)"""
import ast
import sys
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[2] / "infra" / "migrations" / "versions"
ALLOWED = {"infra", "alembic", "sqlalchemy", "__future__"} | set(sys.stdlib_module_names)


def imported(source: str) -> set[str]:
    """Top-level packages a module imports: import statements and importlib.import_module("...")."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("." if node.level else node.module)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args and isinstance(node.args[0], ast.Constant)):
            found.add(node.args[0].value)
    return {name if name == "." else name.split(".")[0] for name in found}


def test_imported_names_are_found_in_each_form():
    source = ("import os\nfrom projections import tables\nimport domain.deal\nfrom . import x\n"
              "import importlib\nm = importlib.import_module('services.api')\n")
    assert imported(source) == {"os", "projections", "domain", ".", "importlib", "services"}


def test_no_migration_imports_project_code_but_infra():
    migrations = sorted(VERSIONS.glob("[0-9]*.py"))
    assert len(migrations) >= 23
    offending = {path.name: sorted(imported(path.read_text()) - ALLOWED) for path in migrations}
    assert {name: bad for name, bad in offending.items() if bad} == {}
