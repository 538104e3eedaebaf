"""The import graph of the project: no circles, and each part knows only the parts below it.

The graph is read from the source with `ast` (nothing is imported), so a test
fails the moment an import that breaks the layering is written, even one
inside a function. The layers, bottom up:

    config  <  db  <  intake  <  verification, scheduling  <  calls  <  backoffice  <  sportello

`intake` knows nothing of `verification` (nor `verification` of `db`); the
verification rules are pure: they import no reader, no image or PDF library,
no database. Only `sportello/` knows every part.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "db", "intake", "verification", "scheduling", "calls", "backoffice", "sportello")

# What each top-level package may import from the project (itself always).
ALLOWED = {
    "config": set(),
    "db": {"config"},
    "intake": {"config", "db"},
    "verification": {"intake"},  # intake.cms: the CMS container of a signed PDF
    "scheduling": {"config", "db", "intake"},  # intake.outgoing: its mails go through the outbox
    # verification.images.faces: the face finder of the document photos, reused at the call
    "calls": {"config", "db", "intake", "verification", "scheduling"},
    "backoffice": {"config", "db", "intake", "verification", "scheduling", "calls"},
    "sportello": {"config", "db", "intake", "verification", "scheduling", "calls", "backoffice"},
}

# The pure core of verification: the rules and the evidence they read.
PURE = ("verification.rules", "verification.evidence", "verification.findings",
        "verification.codice_fiscale", "verification.names", "verification.mrz.text", "verification.verdict",
        "calls.decision", "calls.liveness")
PURE_THIRD_PARTY = {"codicefiscale"}  # a table of names and places, no I/O


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return mods


MODULES = _modules()


def _project_module(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(project modules, other top-level modules) imported anywhere in the file."""
    ours, others = set(), set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from a.b import c` imports a.b.c when c is a module, else a.b
            names = [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            target = _project_module(name)
            if target:
                ours.add(target)
            else:
                others.add(name.partition(".")[0])
    return ours, others


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _edges(name: str) -> set[str]:
    return GRAPH[name][0] - {name}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in _edges(v):
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

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read():
    # The checks below mean something only if the graph holds the known edges.
    assert "verification.rules.identity" in MODULES and "backoffice.templating" in MODULES
    assert "verification.evidence" in _edges("verification.rules.identity")
    assert "db.models" in _edges("backoffice.intake_failures")


def test_no_import_circles():
    assert _cycles() == [], "import circles (each a set of modules that import each other)"


def test_a_circle_would_be_found(monkeypatch):
    a, b = "verification.names", "verification.codice_fiscale"
    monkeypatch.setitem(GRAPH, a, (GRAPH[a][0] | {b}, GRAPH[a][1]))
    monkeypatch.setitem(GRAPH, b, (GRAPH[b][0] | {a}, GRAPH[b][1]))
    assert sorted([a, b]) in _cycles()


@pytest.mark.parametrize("package", PACKAGES)
def test_each_part_imports_only_the_parts_below_it(package):
    wrong = sorted(f"{m} -> {t}" for m in GRAPH if m.partition(".")[0] == package
                   for t in _edges(m) if t.partition(".")[0] not in ALLOWED[package] | {package})
    assert wrong == []


def test_only_sportello_knows_every_part():
    knows_all = {"intake", "verification", "backoffice"}
    for package in PACKAGES:
        reached = {t.partition(".")[0] for m in GRAPH if m.partition(".")[0] == package for t in _edges(m)} - {package}
        assert (knows_all <= reached) == (package == "sportello"), package


def _closure(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(_edges(m))
    return seen


def test_the_rules_import_nothing_that_does_io():
    stdlib = set(sys.stdlib_module_names)
    io_stdlib = {"os", "io", "pathlib", "socket", "subprocess", "sqlite3", "shutil", "tempfile", "urllib", "http"}
    for rule in [m for m in MODULES if m.startswith(PURE)]:
        reached = _closure(rule)
        # a package's __init__ runs first, but only modules count here
        impure = sorted(m for m in reached if not m.startswith(PURE) and MODULES[m].name != "__init__.py")
        assert impure == [], f"{rule} reaches {impure}"
        others = set().union(*(GRAPH[m][1] for m in reached if m.startswith(PURE)))
        foreign = sorted(o for o in others if o not in stdlib and o not in PURE_THIRD_PARTY and o != "__future__")
        assert foreign == [], f"{rule} imports {foreign}"
        assert sorted(others & io_stdlib) == [], rule
