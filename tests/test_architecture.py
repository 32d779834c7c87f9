"""The shape of the code, checked: no import cycles between installer modules, no front end that
imports another, no module grown past about 400 lines, and a module map in docs/architecture.md
that names every module in the tree."""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "installer"
MAX_LINES = 420                 # "about 400": a little slack, not a licence to grow
# front ends: each may use the session layer and the engine, never another front end
FRONT_ENDS = {"installer.cli", "installer.boot", "installer.image_install", "installer.wizard_backend"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def walk(tree: ast.AST):
    """Every node, except under `if TYPE_CHECKING:` (annotations only, never run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                todo.extend(child.orelse)
            else:
                todo.append(child)


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Installer modules this module imports anywhere in its body (function-level imports
    count: a lazy import that closes a cycle is still a cycle)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:
                    found.add(sub)          # `from . import x` of a module x
                elif target in known:
                    found.add(target)
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports(name, path, known) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_installer_modules():
    # the package's own __init__ is where `python -m installer` starts; its subpackages' __init__
    # import their members by design (steps/__init__ lists the steps), which is not a cycle
    # unless a member imports the package back
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_front_end_imports_another():
    edges = graph()
    wrong = {f"{a} imports {b}" for a in FRONT_ENDS for b in edges.get(a, ()) if b in FRONT_ENDS}
    assert not wrong, sorted(wrong)


def test_no_module_is_much_over_400_lines():
    long = {name: len(p.read_text().splitlines()) for name, p in modules().items()}
    over = {name: n for name, n in long.items() if n > MAX_LINES}
    assert not over, over


def test_the_module_map_names_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`(installer/[\w/]+\.py)`", text))
    tree = {str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")}
    # a package's members may be described together by naming the package directory
    dirs = set(re.findall(r"`(installer/[\w/]+)/`", text))
    covered = {f for f in tree if f in named or any(f.startswith(d + "/") for d in dirs)}
    missing = sorted(tree - covered)
    assert not missing, f"docs/architecture.md does not name: {missing}"
    stale = sorted(f for f in named if f not in tree)
    assert not stale, f"docs/architecture.md names modules that do not exist: {stale}"


@pytest.mark.parametrize("name", ["installer.cli", "installer.boot"])
def test_front_ends_import_without_urwid_loaded(name):
    """The urwid wizard is loaded only when it is used: the boot path and the CLI stay importable
    (and fast) without it."""
    import subprocess
    import sys
    code = f"import sys, {name}; print('urwid' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
