"""`import chemtok` stays light: no rdkit, transformers or numpy at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


def test_import_does_not_load_heavy_dependencies() -> None:
    code = (
        "import sys, chemtok\n"
        "heavy = [m for m in ('rdkit', 'transformers', 'numpy', 'torch') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names() -> None:
    import chemtok

    for name in chemtok.__all__:
        assert hasattr(chemtok, name), name
    assert issubclass(chemtok.TokenizationError, ValueError)
    assert issubclass(chemtok.MarkerError, chemtok.TokenizationError)
    assert chemtok.get_tokenizer("smiles") is chemtok.get_tokenizer("smiles")
    assert isinstance(chemtok.get_tokenizer("selfies"), chemtok.SelfiesTokenizer)
    try:
        chemtok.get_tokenizer("deepsmiles")
    except chemtok.UnknownTokenizerError as err:
        assert "choose one of" in str(err)
    else:  # pragma: no cover
        raise AssertionError("expected UnknownTokenizerError")


# -- the import graph -----------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[1] / "chemtok"
#: Outside the core: the application layer (readers/writers, command line, benchmarks,
#: transformers and Ray integrations), which may import the core but not vice versa.
APPLICATION = ("chemtok.__main__", "chemtok.io", "chemtok.cli", "chemtok.bench", "chemtok.metrics", "chemtok.hf", "chemtok.ray")
FORBIDDEN_IN_CORE = ("chemtok.io", "chemtok.cli", "chemtok.bench")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom, module: str, known: set[str]) -> set[str]:
    """The chemtok modules an import statement loads (``from chemtok import x`` names module x)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: resolve against the importing package
            package = module.split(".")[: len(module.split(".")) - node.level + (module in _PACKAGES)]
            base = ".".join([*package, base] if base else package)
        names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
    out = set()
    for imported in names:
        # `from chemtok.io import read_records` names a function: the module is chemtok.io.
        name = imported
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name.startswith("chemtok") and name != "chemtok":
            out.add(name)
    return out


_PACKAGES = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported: module level, try/if bodies, not TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                found.append(stmt)
            elif isinstance(stmt, ast.If):
                if not _is_type_checking(stmt.test):
                    visit(stmt.body)
                visit(stmt.orelse)
            elif isinstance(stmt, ast.Try):
                for block in (stmt.body, stmt.orelse, stmt.finalbody, *(h.body for h in stmt.handlers)):
                    visit(block)

    visit(tree.body)
    return found


def test_top_level_import_graph_has_no_cycles() -> None:
    modules = _modules()
    known = set(modules)
    graph = {
        name: sorted({t for node in _top_level_imports(tree) for t in _targets(node, name, known)} - {name})
        for name, tree in modules.items()
    }
    # A package's __init__ importing its own submodules is not a cycle of the package.
    for name in _PACKAGES:
        graph[name] = [t for t in graph[name] if not t.startswith(name + ".")] if name != "chemtok" else []
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert graph["chemtok.smiles"], "the graph has no edges: the parsing is broken"
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_core_never_imports_the_application_layer() -> None:
    offenders = []
    modules = _modules()
    known = set(modules)
    for name, tree in modules.items():
        if name == "chemtok" or name.startswith(APPLICATION):
            continue
        for node in ast.walk(tree):  # every import, inside functions too
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(node, name, known):
                    if target.startswith(FORBIDDEN_IN_CORE):
                        offenders.append(f"{name}:{node.lineno} imports {target}")
    assert offenders == []
