"""The import graph of bot/, handlers/ and storage/, built from the source: no cycles, and the layers hold.

Every import counts, wherever it stands: at the top, inside a function, or under `if TYPE_CHECKING:` (a cycle
hidden there is still a cycle a newcomer has to untangle). The layers (README, "How it works"):
- the pure core (order facts, policies, the state machine, job kinds and keys, Block Kit, report figures, the
  throttle and pacing maths) imports nothing impure of ours and no I/O library;
- storage imports nothing of bot/ but enums;
- bot/jobs (the worker infrastructure) imports no feature;
- only bot/cli/demo.py and bot/cli/devstack.py import sandbox/;
- only the composition root (bot/app.py, bot/slack.py) imports handlers/.
"""

from __future__ import annotations

import ast
import enum
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "storage")
OURS = (*PACKAGES, "sandbox", "bench", "tests")

PURE = ("bot.approvals", "bot.blocks", "bot.reports", "bot.shopify.throttle", "bot.shopify.documents",
        "bot.shopify.draft_documents", "bot.jobs.pacing", "bot.shipstation.throttle", "bot.shipstation.model",
        "bot.features.shipstation.plan", "bot.features.shipstation.line")
# Libraries that do I/O, keep a clock or a database: none of them belongs in the pure core.
IMPURE_LIBRARIES = ("aiohttp", "asyncio", "sqlalchemy", "sqlmodel", "alembic", "asyncpg", "aiosqlite", "socket",
                    "subprocess", "time", "os", "pathlib", "slack_sdk.web", "slack_bolt", "apscheduler", "shopify")
MAY_IMPORT_SANDBOX = {"bot.cli.demo", "bot.cli.devstack"}
MAY_IMPORT_HANDLERS = {"bot.app", "bot.slack"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:  # Alembic's scripts are loaded by path, not imported
                found[module_name(path)] = path
    return found


MODULES = sources()


def is_pure(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in PURE)


def imports(name: str, path: Path) -> Iterator[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every import statement in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                yield base, alias.name, node.lineno


def resolve(base: str, taken: str | None) -> str:
    """The module an import reaches: `from a.b import c` is module a.b.c when c is a module, else a.b."""
    if taken and f"{base}.{taken}" in MODULES:
        return f"{base}.{taken}"
    return base


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for base, taken, _ in imports(name, path):
            target = resolve(base, taken)
            if target in MODULES and target != name:
                edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
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


def test_the_graph_sees_every_kind_of_import():
    # The rules below are only as good as the graph: a function-level import and a TYPE_CHECKING one count.
    assert "bot.runtime" in MODULES and "bot.jobs.worker" in MODULES
    sample = ast.parse("if TYPE_CHECKING:\n    from bot.runtime import Runtime\n"
                       "def f():\n    from bot.jobs import worker\n")
    seen = [(n.module, n.names[0].name) for n in ast.walk(sample) if isinstance(n, ast.ImportFrom)]
    assert seen == [("bot.runtime", "Runtime"), ("bot.jobs", "worker")]
    assert resolve("bot.jobs", "worker") == "bot.jobs.worker" and resolve("bot.runtime", "Runtime") == "bot.runtime"
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    found = cycles(graph())
    assert not found, "import cycles (each line is one set of modules that import each other):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def violations() -> Iterator[str]:
    for name, path in sorted(MODULES.items()):
        for base, taken, line in imports(name, path):
            target = resolve(base, taken)
            where = f"{path.relative_to(ROOT)}:{line}: {name} imports {target}"
            top = target.split(".")[0]
            if is_pure(name):
                if top in OURS and not is_pure(target):
                    yield f"{where} (the pure core imports only the pure core)"
                if any(target == lib or target.startswith(lib + ".") for lib in IMPURE_LIBRARIES):
                    yield f"{where} (the pure core does no I/O and reads no clock)"
            if name.startswith("storage") and top == "bot":
                thing = getattr(importlib.import_module(target), taken or "", None)
                if not (isinstance(thing, type) and issubclass(thing, enum.Enum)):
                    yield f"{where}.{taken} (storage may take enums from bot/, nothing else)"
            if name.startswith("bot.jobs") and target.startswith("bot.features"):
                yield f"{where} (the worker infrastructure imports no feature)"
            if top == "sandbox" and name not in MAY_IMPORT_SANDBOX:
                yield f"{where} (only bot/cli/demo.py and bot/cli/devstack.py may import sandbox/)"
            if top == "handlers" and not name.startswith("handlers") and name not in MAY_IMPORT_HANDLERS:
                yield f"{where} (only the composition root imports handlers/)"
            if name.startswith(("storage", "bot.features", "bot.jobs")) and top == "bot" and \
                    target.startswith("bot.cli"):
                yield f"{where} (the command line sits on top: nothing below imports it)"


def test_the_layers_hold():
    found = list(violations())
    assert not found, "\n".join(found)


@pytest.mark.parametrize("folder", ["approvals", "blocks", "reports", "features", "cli", "jobs", "shopify"])
def test_bot_reads_as_wiring_core_features_and_cli(folder):
    assert (ROOT / "bot" / folder / "__init__.py").exists()


def test_every_feature_declares_its_job_kinds_in_one_place():
    features = sorted(p.name for p in (ROOT / "bot" / "features").iterdir()
                      if p.is_dir() and (p / "__init__.py").exists())
    assert features == ["flood", "home", "install", "internal_orders", "privacy", "reconcile", "reporting", "requests",
                        "shipstation", "timers", "upkeep"]
    for feature in features:
        assert (ROOT / "bot" / "features" / feature / "jobs.py").exists(), f"{feature} has no jobs.py"
