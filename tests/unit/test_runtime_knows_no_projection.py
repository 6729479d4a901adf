"""The projection runtime (worker, rebuild, replay, checkpoints) imports no projection: a projection
is handed to it where a process starts, so a second one needs no change to the runtime."""
import ast
from pathlib import Path

import projections.runtime

RUNTIME = Path(projections.runtime.__file__).parent


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_the_runtime_imports_only_the_runtime_from_projections():
    modules = sorted(RUNTIME.glob("*.py"))
    assert {m.stem for m in modules} >= {"worker", "rebuild", "checkpoints", "projection"}
    for module in modules:
        outside = {n for n in _imported(module)
                   if n.startswith("projections") and not n.startswith("projections.runtime")}
        assert not outside, f"{module.name} imports {outside}"
