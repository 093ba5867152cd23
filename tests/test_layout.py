"""The tree keeps the shape the README's map describes: layers without import cycles, no class too
big to read in one sitting, a short top level for the kernel, and a start-up that imports only the
process and protocol modules and the shell.

Read from the source with ``ast`` (imports inside functions count too), and for start-up from a
fresh interpreter.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kernel", "console")
MAX_CLASS_LINES = 400
MAX_KERNEL_TOP_LEVEL = 15
# the kernel's language layer: what it may not import (the process and protocol modules, zmq)
LANGUAGE = ("kernel.execution", "kernel.display", "kernel.services", "kernel.magics", "kernel.ipython")
PROTOCOL = ("kernel.app", "kernel.wire", "kernel.dispatch", "kernel.embed", "kernel.iostream",
            "kernel.comms", "kernel.language", "kernel.debugger", "kernel.subshells", "zmq")


def module_files() -> dict[str, Path]:
    """Every module of both packages by dotted name (a package by its ``__init__``)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported_names(name: str, path: Path) -> Iterator[str]:
    """Absolute names of what ``name`` imports anywhere in its source (functions included)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports. An import of ``a.b.c`` also initialises ``a.b``;
    a module's own packages are initialised before it, so an edge to them is never a cycle."""
    files = module_files()
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets = set()
        for imported in imported_names(name, path):
            parts = imported.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                if prefix in files and prefix != name and not name.startswith(prefix + "."):
                    targets.add(prefix)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert "kernel.app" in graph and "console.cli" in graph
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_class_over_400_lines() -> None:
    too_big = []
    for name, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_CLASS_LINES:
                    too_big.append(f"{name}.{node.name}: {length} lines")
    assert too_big == []


def test_kernel_top_level_is_short() -> None:
    top = sorted(p.name for p in (ROOT / "kernel").glob("*.py"))
    assert len(top) <= MAX_KERNEL_TOP_LEVEL, top


def test_language_layer_imports_no_process_or_protocol_module() -> None:
    crossings = []
    for name, path in module_files().items():
        if name.startswith(LANGUAGE):
            for imported in imported_names(name, path):
                if imported.startswith(PROTOCOL):
                    crossings.append(f"{name} imports {imported}")
    assert crossings == []


STARTUP = """
import json, sys
import kernel.app
print(json.dumps(sorted(m for m in sys.modules if m == "kernel" or m.startswith("kernel."))))
"""


@pytest.mark.timeout(30)
def test_startup_imports_only_process_modules_and_the_shell() -> None:
    out = subprocess.run([sys.executable, "-c", STARTUP], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [
        "kernel", "kernel.app", "kernel.comms", "kernel.connection", "kernel.dispatch",
        "kernel.display", "kernel.display.formatting", "kernel.execution",
        "kernel.execution.shell", "kernel.execution.tracebacks", "kernel.iostream", "kernel.log",
        "kernel.sockets", "kernel.threads", "kernel.wire",
    ]
