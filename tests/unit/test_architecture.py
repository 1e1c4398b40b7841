"""The package's floors hold: the core is the ground floor (it imports nothing from the rest of
agora), no module imports another that imports it back — function-level imports included (a cycle
hidden inside a function is still a cycle a newcomer trips on) — and no module reaches into
another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "agora"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    name = ".".join(("agora", *parts))
    return name.removesuffix(".__init__")


def imports() -> dict[str, set[str]]:
    """Every agora module and the agora modules it imports, wherever in the file."""
    found: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        names: set[str] = set()
        here = module_name(path).split(".")
        package = here if path.name == "__init__.py" else here[:-1]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or node.level):
                module = node.module or ""
                if node.level:  # from . import x, from ..core import y
                    base = package[: len(package) - node.level + 1]
                    module = ".".join([*base, *([module] if module else [])])
                if module.split(".")[0] == "agora":
                    names.add(module)
                    names.update(f"{module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names if a.name.split(".")[0] == "agora")
        found[module_name(path)] = names
    known = set(found)
    return {name: {i for i in names if i in known and i != name} for name, names in found.items()}


def test_the_package_is_read() -> None:
    graph = imports()
    assert "agora.core.pipeline" in graph and "agora.engine.engine" in graph
    assert "agora.core.post" in graph["agora.core.pipeline"]  # edges are found


def test_the_core_imports_nothing_from_the_rest() -> None:
    upward = {
        name: sorted(i for i in targets if not i.startswith("agora.core"))
        for name, targets in imports().items()
        if name.startswith("agora.core")
    }
    assert {name: found for name, found in upward.items() if found} == {}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert cycles(imports()) == []


def test_a_cycle_is_found() -> None:
    """The check itself can fail: a made-up graph with a cycle through three modules."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


#: Private names of the standard library's own API (a namedtuple's ``_replace``).
STANDARD = {"_replace", "_asdict", "_fields", "_make"}


def reaches_in(text: str, label: str) -> list[str]:
    """``x._name`` in a module's ``text`` where ``_name`` is not defined in that module: a
    private name of another module's class or object (``self._name`` is a class's own, or its
    base class's, and stays allowed)."""
    tree = ast.parse(text, label)
    defined: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            defined.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
    return [
        f"{label}:{node.lineno}: .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and private(node.attr)
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        and node.attr not in defined
        and node.attr not in STANDARD
    ]


def test_no_module_reaches_into_another_modules_private_names() -> None:
    """The benchmarks, the console and the wall use each other's public hooks: a private name
    may change without a look outside its module."""
    found = [
        line
        for path in sorted(ROOT.rglob("*.py"))
        for line in reaches_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == []


def test_reaching_in_is_found() -> None:
    """The check itself can fail: another object's private name is found, the module's own are
    not."""
    text = (
        "def f(engine):\n"
        "    return engine._inbox, engine.stats._replace(n=1)\n"
        "class A:\n"
        "    def __init__(self):\n"
        "        self._own = 1\n"
        "    def _step(self, other):\n"
        "        return other._own, self._step, self._base\n"
    )
    assert reaches_in(text, "probe.py") == ["probe.py:2: ._inbox"]
