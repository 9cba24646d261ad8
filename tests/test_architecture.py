"""House rules: imports go only downward (the room table in docs/architecture.md), no circles, small modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "deforum"
TABLE_ROW = re.compile(r"^\| `(?P<room>[a-z_.]+)` \|.*\| (?P<allowed>[^|]+) \|$")
MAX_MODULE_LINES = 400
ENTRY = "entry"


def room_table(text: str) -> dict[str, set[str]]:
    """{room: rooms it may import} from the architecture document's table ("every room" allows all)."""
    rows = {m["room"]: m["allowed"].strip() for line in text.splitlines() if (m := TABLE_ROW.match(line.strip()))}
    rooms = set(rows)
    return {room: rooms if allowed == "every room" else {a.strip() for a in allowed.split(",") if a.strip() != "—"}
            for room, allowed in rows.items()}


TABLE = room_table((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))


def module_name(path: Path) -> str:
    """The dotted module name of a file in the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room_of(module: str) -> str:
    """The room holding a module (the longest matching room name); entry points and namespaces are their own."""
    if module in ("deforum", "deforum.integrations") or module.endswith(".__main__"):
        return ENTRY
    rest = module.removeprefix("deforum.")
    matches = [room for room in TABLE if rest == room or rest.startswith(room + ".")]
    if not matches:
        raise AssertionError(f"{module} lies in no room of docs/architecture.md")
    return max(matches, key=len)


def imports_of(path: Path) -> list[tuple[str, int]]:
    """(imported deforum module, line) for every import in a file, lazy ones included; the version is free."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "deforum":
            if node.module == "deforum" and {alias.name for alias in node.names} == {"__version__"}:
                continue
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] == "deforum"]
    return found


def resolve(name: str, modules: set[str]) -> str:
    """The module an imported name lives in (``pkg.mod.func`` → ``pkg.mod``)."""
    while name not in modules and "." in name:
        name = name.rpartition(".")[0]
    return name


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    """{module: deforum modules it imports}."""
    names = set(MODULES)
    return {module: {target for name, _ in imports_of(path) if (target := resolve(name, names)) != module}
            for module, path in MODULES.items()}


def upward_imports(modules: dict[str, Path]) -> list[str]:
    """Every import not allowed by the room table, as 'module:line: room imports room (name)'."""
    problems = []
    names = set(modules)
    for module, path in sorted(modules.items()):
        source = room_of(module)
        if source == ENTRY:
            continue
        for name, line in imports_of(path):
            target = room_of(resolve(name, names))
            if target != source and target not in TABLE[source]:
                problems.append(f"{module}:{line}: {source} imports {target} ({name})")
    return problems


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules, or None (iterative depth-first search)."""
    state: dict[str, int] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_every_room_of_the_table_exists_and_every_module_has_a_room() -> None:
    assert {"models", "core", "integrations.webui", "ui", "cli"} <= set(TABLE)
    for room in TABLE:
        assert (PACKAGE / room.replace(".", "/")).exists() or (PACKAGE / f"{room.replace('.', '/')}.py").exists()
    assert all(room_of(module) for module in MODULES)


def test_imports_go_only_downward() -> None:
    assert upward_imports(MODULES) == []


def test_there_is_no_import_circle() -> None:
    assert find_circle(import_graph()) is None


def test_no_module_is_over_the_line_limit() -> None:
    long = {str(path.relative_to(ROOT)): n for path in MODULES.values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


@pytest.mark.parametrize("graph, circle", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": set(), "c": {"a"}}, None),
])
def test_the_circle_finder_finds_circles(graph: dict[str, set[str]], circle: list[str] | None) -> None:
    assert find_circle(graph) == circle


def test_the_room_check_sees_a_lazy_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from deforum.core.run import run_render\n", encoding="utf-8")
    problems = upward_imports({**MODULES, "deforum.models.probe": module})
    assert [p for p in problems if "probe" in p] == [
        "deforum.models.probe:2: models imports core (deforum.core.run.run_render)"]
