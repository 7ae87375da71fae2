"""Look tokenizers up by name: ``get_tokenizer("smiles")``, cached per process.

Example:
    >>> import chemtok
    >>> chemtok.list_tokenizers()
    ['chem', 'dna', 'inchi', 'protein', 'smiles', 'text']
    >>> chemtok.get_tokenizer("smiles").tokenize("ClCBr")
    ['Cl', 'C', 'Br']
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from chemtok.errors import UnknownTokenizerError

__all__ = ["get_tokenizer", "list_tokenizers"]


def _factories() -> dict[str, Callable[[], Any]]:
    from chemtok.inchi import InchiTokenizer
    from chemtok.router import ChemTokenizer
    from chemtok.sequence import DnaTokenizer, ProteinTokenizer
    from chemtok.smiles import SmilesTokenizer
    from chemtok.text import TextTokenizer

    return {
        "chem": ChemTokenizer,
        "dna": DnaTokenizer,
        "inchi": InchiTokenizer,
        "protein": ProteinTokenizer,
        "smiles": SmilesTokenizer,
        "text": TextTokenizer,
    }


def list_tokenizers() -> list[str]:
    """Names accepted by :func:`get_tokenizer`."""
    return sorted(_factories())


@functools.lru_cache(maxsize=None)
def get_tokenizer(name: str) -> Any:
    """Return the default tokenizer registered as ``name`` (one instance per process).

    Raises:
        UnknownTokenizerError: ``name`` is not registered; the message lists the names.
    """
    factories = _factories()
    if name not in factories:
        raise UnknownTokenizerError(f"no tokenizer named {name!r}; choose one of {sorted(factories)}")
    return factories[name]()
