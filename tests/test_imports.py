"""`import chemtok` stays light: no rdkit, transformers or numpy at import time."""

from __future__ import annotations

import subprocess
import sys


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
    try:
        chemtok.get_tokenizer("selfies")
    except chemtok.UnknownTokenizerError as err:
        assert "choose one of" in str(err)
    else:  # pragma: no cover
        raise AssertionError("expected UnknownTokenizerError")
