"""Imports only go down: every import of every module of ours, at module level or inside a function,
read with ``ast`` and checked against the layers.

The layers (the shared ARCHITECTURE.md, "Where things live"): the core ``icop`` at the bottom; ``graphs``
on it; ``deployments`` wrap core and graph classes in Ray Serve; ``workflows`` drive the graph and call the
deployments' handles; ``gateway`` talks to Temporal and so uses the workflows' input types, ids and
schedule/client helpers, but never the graph or the Serve deployments (those run in workers and replicas,
not in the API process); ``cluster`` is the top floor. ``emulators`` stand in for other companies'
services and import nothing of ours. ``bench`` may use anything but the tests, and the tests anything
but the benchmarks.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCT = frozenset({"icop", "graphs", "deployments", "workflows", "gateway", "cluster"})
OURS = PRODUCT | {"emulators", "bench", "tests", "dashboard"}

# What each top-level package may import of ours, besides itself.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "icop": frozenset(),
    "graphs": frozenset({"icop"}),
    "deployments": frozenset({"icop", "graphs"}),
    "workflows": frozenset({"icop", "graphs", "deployments"}),
    "gateway": frozenset({"icop", "workflows"}),
    "cluster": PRODUCT | {"emulators"},
    "emulators": frozenset(),
    "dashboard": frozenset({"icop", "gateway"}),  # dashboard/scripts/openapi.py writes the API's schema
    "bench": PRODUCT | {"emulators"},
    "tests": PRODUCT | {"emulators"},
}

# Arrows known to point the wrong way, as (file, imported module): each is a debt to pay by moving what
# it reaches for down a floor. An entry that no longer occurs fails the test, so the set only shrinks.
KNOWN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Arrow:
    file: str  # relative to the repository root
    line: int
    module: str  # the absolute module imported

    @property
    def source(self) -> str:
        return self.file.split("/")[0]

    @property
    def target(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.source} imports {self.module}"


SKIP_DIRS = frozenset({"node_modules", "__pycache__", "build", "dist"})


def python_files(top: Path = ROOT) -> Iterator[Path]:
    """Our Python files (no hidden folders, no dependencies or build output)."""
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        yield from (Path(folder) / f for f in sorted(files) if f.endswith(".py"))


def _package_of(rel: str) -> list[str]:
    """The dotted package a file's relative imports start from (``a/b/c.py`` → ``a.b``)."""
    parts = rel.removesuffix(".py").split("/")
    return parts[:-1]


def arrows_in(source: str, rel: str) -> Iterator[Arrow]:
    """Every import in ``source`` (the file at ``rel``): top level, in functions, under ``TYPE_CHECKING``,
    relative ones made absolute."""
    for node in ast.walk(ast.parse(source, rel)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Arrow(rel, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if not node.level:
                if node.module:
                    yield Arrow(rel, node.lineno, node.module)
                continue
            package = _package_of(rel)
            prefix = ".".join(package[: len(package) - node.level + 1])
            # ``from . import x``: each name may be a module of the package
            names = [node.module] if node.module else [a.name for a in node.names]
            for name in names:
                yield Arrow(rel, node.lineno, f"{prefix}.{name}" if prefix else name)


def all_arrows() -> list[Arrow]:
    found = []
    for path in python_files():
        rel = path.relative_to(ROOT).as_posix()
        found += [a for a in arrows_in(path.read_text(encoding="utf-8"), rel) if a.target in OURS]
    return found


def forbidden(arrow: Arrow) -> bool:
    if arrow.target == arrow.source:
        return False
    return arrow.target not in MAY_IMPORT[arrow.source]


def test_every_package_of_ours_has_a_rule() -> None:
    with_python = {f.relative_to(ROOT).parts[0] for f in python_files()}
    assert with_python - OURS == set(), "a new top-level folder of Python code needs its row in MAY_IMPORT"
    assert set(MAY_IMPORT) == OURS


def test_imports_only_go_down() -> None:
    found = all_arrows()
    assert len(found) > 500, "the walk found too few imports of ours: it is not reading the tree"
    wrong = [a for a in found if forbidden(a) and (a.file, a.module) not in KNOWN_EXCEPTIONS]
    assert not wrong, "imports that point up or across the layers:\n" + "\n".join(map(str, wrong))


def test_known_exceptions_still_exist() -> None:
    """An exception that no longer occurs is removed from the list, so it cannot come back unnoticed."""
    present = {(a.file, a.module) for a in all_arrows()}
    assert sorted(KNOWN_EXCEPTIONS - present) == []


def test_the_walk_sees_function_level_and_relative_imports() -> None:
    """The checker itself: a nested import and relative imports are found, made absolute, and judged."""
    source = (
        "def f():\n    from gateway.config import X\n\nfrom ...gateway import app\nfrom .. import types\n"
    )
    found = sorted((a.line, a.module) for a in arrows_in(source, "workflows/activities/probe.py"))
    assert found == [(2, "gateway.config"), (4, "gateway"), (5, "workflows.types")]
    judged = {a.module: forbidden(a) for a in arrows_in(source, "workflows/activities/probe.py")}
    assert judged == {"gateway.config": True, "gateway": True, "workflows.types": False}
