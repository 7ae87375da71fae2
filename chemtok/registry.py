"""Look tokenizers up by name: ``get_tokenizer("smiles")``, cached per process.

:func:`load_tokenizer` is the one factory of the command line and ``chemtok bench``: a
modality name and options (engine, SMILES model, text model, policy) to a new tokenizer,
so ``--modality smiles`` means the same model everywhere.

Example:
    >>> import chemtok
    >>> chemtok.list_tokenizers()
    ['dna', 'inchi', 'mixed', 'protein', 'selfies', 'smiles', 'text']
    >>> chemtok.get_tokenizer("chem") is chemtok.get_tokenizer("mixed")  # an alias of the router
    True
    >>> chemtok.get_tokenizer("smiles").tokenize("ClCBr")
    ['Cl', 'C', 'Br']
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from chemtok.base import ROUTER_ALIASES, ROUTER_MODALITY
from chemtok.errors import UnknownTokenizerError
from chemtok.idspace import MODALITY_ORDER

if TYPE_CHECKING:
    from chemtok.base import Engine

__all__ = ["MODALITIES", "canonical_modality", "get_tokenizer", "list_tokenizers", "load_tokenizer"]

#: Modalities :func:`load_tokenizer` builds (the command line's ``--modality`` values):
#: the grammar modalities, the text model, and the marker router over text
#: (:data:`~chemtok.base.ROUTER_MODALITY`, ``"mixed"``).
MODALITIES = (*MODALITY_ORDER, "text", ROUTER_MODALITY)


def canonical_modality(name: str) -> str:
    """``name`` with the router's aliases (:data:`~chemtok.base.ROUTER_ALIASES`) resolved.

    Example:
        >>> canonical_modality("chem"), canonical_modality("smiles")
        ('mixed', 'smiles')
    """
    return ROUTER_MODALITY if name in ROUTER_ALIASES else name


def _factories() -> dict[str, Callable[[], Any]]:
    from chemtok.inchi import InchiTokenizer
    from chemtok.router import ChemTokenizer
    from chemtok.selfies import SelfiesTokenizer
    from chemtok.sequence import DnaTokenizer, ProteinTokenizer
    from chemtok.smiles import SmilesTokenizer
    from chemtok.text import TextTokenizer

    return {
        ROUTER_MODALITY: ChemTokenizer,
        "dna": DnaTokenizer,
        "inchi": InchiTokenizer,
        "protein": ProteinTokenizer,
        "selfies": SelfiesTokenizer,
        "smiles": SmilesTokenizer,
        "text": TextTokenizer,
    }


def list_tokenizers() -> list[str]:
    """Names accepted by :func:`get_tokenizer`."""
    return sorted(_factories())


def get_tokenizer(name: str) -> Any:
    """Return the default tokenizer registered as ``name`` (one instance per process).

    ``name`` is one of :func:`list_tokenizers` or an alias of the router (``"chem"``).

    Raises:
        UnknownTokenizerError: ``name`` is not registered; the message lists the names.
    """
    return _default_tokenizer(canonical_modality(name))


@functools.cache
def _default_tokenizer(name: str) -> Any:
    factories = _factories()
    if name not in factories:
        raise UnknownTokenizerError(f"no tokenizer named {name!r}; choose one of {sorted(factories)}")
    return factories[name]()


def load_tokenizer(
    modality: str,
    tokenizer_dir: str | os.PathLike[str] | None = None,
    *,
    engine: str = "auto",
    strict_markers: bool = True,
    smiles_model: Any = "atom",
    on_error: str = "raise",
    markers: str | None = None,
) -> Any:
    """The tokenizer for ``modality``, optionally with a saved text model from ``tokenizer_dir``.

    Args:
        modality: one of :data:`MODALITIES` (or a router alias, ``"chem"``).
        tokenizer_dir: a directory holding a Hugging Face ``tokenizer.json`` (or the
            file itself), the text model of ``text`` or ``mixed``; the grammar
            modalities always use the built-in grammars and vocabularies.
        engine: ``auto``, ``native`` or ``python``.
        strict_markers: ``mixed``: unknown or unbalanced markers fail the record.
        smiles_model: ``atom``, ``compact``, a directory written by ``chemtok train
            smiles``, or a SMILES tokenizer, for ``smiles`` and the SMILES segments
            of ``mixed``.
        on_error: the grammar tokenizers' default policy (``raise`` or ``fallback``).
        markers: ``mixed``: the marker dialect (``galactica``, ``tags``, ``naturelm``,
            ``biot5``) or the path of a marker table; ``None`` is Galactica's.

    Example:
        >>> load_tokenizer("smiles").tokenize("CC(=O)O")
        ['C', 'C', '(', '=', 'O', ')', 'O']

    Raises:
        ValueError: unknown modality, an unusable ``tokenizer_dir`` or
            ``smiles_model``, or ``engine="native"`` when the native core is not
            built (the message says which).
    """
    import chemtok

    modality = canonical_modality(modality)
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; choose one of {', '.join(MODALITIES)}")
    table = None
    if markers is not None:
        if modality != ROUTER_MODALITY:
            raise ValueError(f"--markers chooses the markers of --modality mixed; --modality {modality} has none")
        from chemtok.dialects import load_markers

        try:
            table = load_markers(markers)
        except chemtok.ChemtokError as err:  # no such dialect, or a broken table file
            raise ValueError(f"--markers {markers}: {err}") from None
    policy: dict[str, Any] = {} if on_error == "raise" else {"on_error": on_error}
    engine_name = cast("Engine", engine)  # each tokenizer's constructor checks it
    text_model = None
    if tokenizer_dir is not None:
        path = Path(tokenizer_dir)
        file = path / "tokenizer.json" if path.is_dir() else path
        if modality not in ("text", ROUTER_MODALITY):
            raise ValueError(
                f"--tokenizer loads a text model (tokenizer.json) for --modality text or {ROUTER_MODALITY}; "
                f"--modality {modality} always uses chemtok's built-in {modality} grammar"
            )
        if not file.is_file():
            raise ValueError(f"--tokenizer {tokenizer_dir}: no tokenizer.json found there")
        try:
            text_model = chemtok.TextTokenizer.from_file(file)
        except chemtok.ChemtokError as err:
            raise ValueError(f"--tokenizer {tokenizer_dir}: {err}") from None
    try:
        if modality == "text":
            return text_model if text_model is not None else chemtok.TextTokenizer()
        classes = {
            "inchi": chemtok.InchiTokenizer,
            "protein": chemtok.ProteinTokenizer,
            "dna": chemtok.DnaTokenizer,
            "selfies": chemtok.SelfiesTokenizer,
        }
        if modality in classes:
            return classes[modality](engine=engine_name, **policy)
        if isinstance(smiles_model, str):
            smiles = chemtok.SmilesTokenizer(engine=engine_name, model=smiles_model, **policy)
        else:
            smiles = smiles_model
        if modality == ROUTER_MODALITY:
            return chemtok.ChemTokenizer(
                text=text_model,
                smiles=smiles,
                strict_markers=strict_markers,
                engine=engine_name,
                markers=table,
                **policy,
            )
        return smiles
    except ImportError as err:  # engine="native" without the native core
        raise ValueError(str(err)) from None
    except RecursionError:  # a deeply nested --smiles-model file
        raise ValueError(f"--smiles-model {smiles_model}: the model file is nested too deeply to read") from None
