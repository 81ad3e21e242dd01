"""The package structure of docs/architecture.md, checked from the code.

The import graph is read with `ast` (nothing is imported), counting every import: at the top of
a module, inside functions and under `TYPE_CHECKING`. It must have no cycle, and no package may
import from a package in a higher layer or from another package of its own layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gslb"
MAX_LINES = 450

# Lowest first; the same order as docs/architecture.md. Packages on one line are independent.
LAYERS: list[tuple[str, ...]] = [
    ("gslb",),  # the package itself: its version
    ("common",),
    ("config",),
    ("wire",),
    ("geo", "checks"),
    ("zones",),
    ("health",),
    ("steering",),
    ("engine",),
    ("updates", "dnssec"),
    ("dns",),
    ("api",),
    ("server", "prober"),
    ("commands",),
    ("cli",),
    ("__main__",),
]
LAYER_OF = {part: index for index, parts in enumerate(LAYERS) for part in parts}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every gslb module and the gslb modules it imports."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = name.split(".") if is_package else name.split(".")[:-1]
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def part_of(module: str) -> str:
    """The top-level package (or module) below gslb: 'gslb.dns.handler' -> 'dns'."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


def test_every_part_has_a_layer() -> None:
    parts = {part_of(module) for module in import_graph()}
    assert parts - set(LAYER_OF) == set(), "add new packages to LAYERS and docs/architecture.md"


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_goes_up_or_across_a_layer() -> None:
    wrong = []
    for module, imported in import_graph().items():
        for target in imported:
            mine, theirs = part_of(module), part_of(target)
            if mine == theirs:
                continue
            if LAYER_OF[theirs] > LAYER_OF[mine] or (LAYER_OF[theirs] == LAYER_OF[mine]):
                wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []


def test_the_server_never_imports_the_prober() -> None:
    """Only the commands that assemble a process may plug the prober in (health.local_prober)."""
    importers = sorted(module for module, imported in import_graph().items()
                       if any(part_of(t) == "prober" for t in imported) and part_of(module) != "prober")
    assert importers == ["gslb.cli", "gslb.commands.serve"]


def test_no_module_is_too_long() -> None:
    long = {module_name(path): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_layers_are_written_down_in_order() -> None:
    """docs/architecture.md lists the same layers, lowest first."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    positions = [text.index(f"`gslb/{parts[0]}/`") for parts in LAYERS[1:] if (PACKAGE / parts[0]).is_dir()]
    assert positions == sorted(positions)
