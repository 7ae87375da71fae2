"""Documented examples run: README code blocks and every docstring example."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re

import pytest
from conftest import ROOT, SHARED

import chemtok

README = ROOT / "README.md"
#: Optional dependencies (extras) a module may need; without them its examples skip.
OPTIONAL = {"transformers", "datasets", "matplotlib", "rdkit"}


def readme_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


@pytest.mark.parametrize("index", range(len(readme_blocks())))
def test_readme_example(index: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    block = readme_blocks()[index]
    if "../shared" in block and not SHARED.is_dir():
        pytest.skip("needs ../shared")
    if "validate" in block:
        pytest.importorskip("rdkit")
    monkeypatch.chdir(ROOT)  # README paths are relative to the repository root
    exec(compile(block, f"README.md block {index}", "exec"), {})


def modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(chemtok.__path__, "chemtok.") if not m.name.startswith("chemtok._"))


@pytest.mark.parametrize("name", modules())
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name in OPTIONAL:
            pytest.skip(f"{name} needs the optional {err.name}")
        raise
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
