"""Register :class:`chemtok.hf.HFChemTokenizer` with ``transformers`` once it is imported.

``AutoTokenizer.from_pretrained(dir)`` on a directory saved by ``HFChemTokenizer`` works
after ``import chemtok`` without chemtok importing ``transformers`` itself (which would
cost every user its import time): if ``transformers`` is already imported the class is
registered at once; otherwise a finder at the front of ``sys.meta_path`` waits for the
first ``import transformers``, lets it run, then registers the class and removes itself.
Nothing else about the import changes; a failure to register is a warning, never an
import error in the user's code.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any

__all__ = ["install"]


def _register() -> None:
    try:
        import chemtok.hf  # noqa: F401  (registers on import)
    except Exception as err:  # never break the user's `import transformers`
        warnings.warn(f"chemtok could not register HFChemTokenizer with transformers: {err}", stacklevel=3)


class _AfterTransformersImport(importlib.abc.MetaPathFinder):
    """Find ``transformers`` with the other finders, then register after it executes."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != "transformers":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _register()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Register now if ``transformers`` is loaded, else when it first is (idempotent)."""
    if "transformers" in sys.modules:
        _register()
    elif not any(isinstance(finder, _AfterTransformersImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterTransformersImport())
