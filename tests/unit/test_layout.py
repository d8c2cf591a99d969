"""The shape of the code base: rooms by capability, one-way imports, no circles, small modules.

These read the source as text and as syntax trees (nothing is imported), so they hold for every module,
including ones no other test loads.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("assistant", "knowledge", "ui")
#: generated or data-like modules that may be long
LONG_ALLOWED = {"knowledge/demo/build_demo.py", "knowledge/demo/_demo_catalog.py"}
MAX_LINES = 400
MAX_TOP_LEVEL = 10
MAX_ANY = 40


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the three packages (migrations excluded)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if "migrations" in rel.parts:
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(module: str, path: Path) -> set[str]:
    """Modules of ours that ``module`` imports at run time, inside functions included; imports under
    ``if TYPE_CHECKING:`` (annotations only) are left out."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                for sub in ast.walk(child):
                    skip.add(id(sub))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    ours = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module and not module.startswith(name + "."):
            ours.add(name)
    return ours


GRAPH = {module: _imported(module, path) for module, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles() -> None:
    """Counted: every import, inside functions too (not those under TYPE_CHECKING). Not counted: a module
    importing its own package's ``__init__`` (Python runs it first anyway; it only re-exports)."""
    assert _cycles() == []


def test_assistant_and_knowledge_import_nothing_from_ui() -> None:
    wrong = {m: sorted(t for t in GRAPH[m] if t.split(".")[0] == "ui")
             for m in GRAPH if m.split(".")[0] in ("assistant", "knowledge")}
    assert {m: t for m, t in wrong.items() if t} == {}


def test_knowledge_imports_nothing_from_assistant() -> None:
    wrong = {m: sorted(t for t in GRAPH[m] if t.split(".")[0] == "assistant")
             for m in GRAPH if m.split(".")[0] == "knowledge"}
    assert {m: t for m, t in wrong.items() if t} == {}


def test_ui_uses_services_not_the_store() -> None:
    """Nothing in ui/ reaches past the services into the store or the database library."""
    offenders = {}
    for module, path in MODULES.items():
        if not module.startswith("ui"):
            continue
        text = path.read_text()
        bad = sorted(t for t in GRAPH[module] if t == "assistant.store" or t.startswith("assistant.store."))
        if re.search(r"^\s*(from|import) sqlalchemy", text, re.M):
            bad.append("sqlalchemy")
        if bad:
            offenders[module] = bad
    assert offenders == {}


def test_assistant_top_level_is_small() -> None:
    top = sorted(p.name for p in (ROOT / "assistant").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_TOP_LEVEL, top


def test_no_two_modules_or_public_classes_share_a_name() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    classes: dict[str, list[str]] = defaultdict(list)
    for module, path in MODULES.items():
        if path.name != "__init__.py":
            by_name[path.stem].append(module)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                classes[node.name].append(module)
    assert {n: m for n, m in by_name.items() if len(m) > 1} == {}
    assert {n: m for n, m in classes.items() if len(m) > 1} == {}


def test_modules_are_small() -> None:
    long = {}
    for path in MODULES.values():
        rel = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES and rel not in LONG_ALLOWED:
            long[rel] = lines
    assert long == {}


def test_any_is_rare() -> None:
    count = sum(len(re.findall(r":\s*Any\b", p.read_text())) for p in MODULES.values())
    assert count < MAX_ANY, f"{count} ': Any' annotations in the packages"


STRICT_FLAGS = ("disallow_any_generics", "disallow_subclassing_any", "disallow_untyped_calls",
                "disallow_untyped_defs", "disallow_incomplete_defs", "check_untyped_defs",
                "disallow_untyped_decorators", "warn_return_any", "no_implicit_reexport", "strict_equality",
                "extra_checks")


@pytest.mark.parametrize("package", ["assistant.turn", "ui"])
def test_strict_typing_is_configured(package: str) -> None:
    """mypy checks these packages with every flag of ``--strict`` (scripts/test.sh runs mypy over the packages)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config.get("warn_redundant_casts") and config.get("warn_unused_configs")
    overrides = [o for o in config.get("overrides", []) if f"{package}.*" in o["module"]]
    assert overrides, f"no strict override for {package}"
    assert all(overrides[0].get(flag) is True for flag in STRICT_FLAGS)
