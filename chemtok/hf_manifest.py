"""What a saved ``HFChemTokenizer`` directory holds, and checking it when it is loaded.

``save_pretrained`` writes, besides ``tokenizer_config.json``: ``chemtok.json`` (the
manifest: chemtok version, grammars, the id-space fingerprint, the blocks, and over a
base model the special-token roles), the base model's ``tokenizer.json`` as
``chemtok_base_tokenizer.json`` when there is one, and ``tokenization_chemtok.py`` for
``trust_remote_code``. Loading checks the options from ``tokenizer_config.json``
(:func:`check_options`), rebuilds the router (:func:`build_chem`) and refuses a
manifest whose fingerprint differs (:func:`check_manifest`). Nothing here imports
``transformers``; :mod:`chemtok.hf` does.

Example:
    >>> import tempfile
    >>> from chemtok.hf_manifest import build_chem, check_manifest, check_options, write_saved_files
    >>> check_options(None, "raise", True, "atom")  # the defaults pass
    >>> chem = build_chem(None, "raise", True, "atom")
    >>> chem.tokenize("[START_SMILES]c1ccccc1O[END_SMILES]")[:4]
    ['[START_SMILES]', 'c', '1', 'c']
    >>> manifest, loader = write_saved_files(chem, tempfile.mkdtemp(), filename_prefix=None, smiles_model="atom")
    >>> check_manifest(manifest, chem)  # the same id space: accepted
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chemtok.errors import DataFileError
from chemtok.router import ChemTokenizer, default_chem_tokenizer
from chemtok.text import TextTokenizer

__all__ = [
    "MANIFEST_FILE",
    "BASE_FILE",
    "REMOTE_CODE_FILE",
    "build_chem",
    "check_manifest",
    "check_options",
    "write_saved_files",
]

#: What ``save_pretrained`` writes besides ``tokenizer_config.json``.
MANIFEST_FILE = "chemtok.json"
BASE_FILE = "chemtok_base_tokenizer.json"
REMOTE_CODE_FILE = "tokenization_chemtok.py"
_MANIFEST_FORMAT = 1
_REMOTE_CODE = '''"""Loads chemtok's transformers tokenizer from the installed chemtok (pip install "chemtok[hf]")."""

from chemtok.hf import HFChemTokenizer  # noqa: F401
'''


def build_chem(
    base_file: str | None, on_error: str, strict_markers: bool, smiles_model: str, chemtok_file: str | None = None
) -> ChemTokenizer:
    """The router an ``HFChemTokenizer`` with these options wraps.

    The default options give the process-wide default router; ``base_file`` a router
    over that base model, with the special-token roles ``chemtok_file`` recorded when
    it is a saved directory's manifest (else found as :meth:`ChemTokenizer.from_base
    <chemtok.router.ChemTokenizer.from_base>` finds them).
    """
    default = base_file is None and on_error == "raise" and strict_markers and smiles_model == "atom"
    if default:
        return default_chem_tokenizer()
    kwargs: dict[str, Any] = {"on_error": on_error, "strict_markers": strict_markers}
    if smiles_model != "atom":
        from chemtok.smiles import SmilesTokenizer

        kwargs["smiles"] = SmilesTokenizer(model=smiles_model)
    if base_file is None:
        return ChemTokenizer(**kwargs)
    if chemtok_file is not None:  # a saved directory: the roles it recorded
        saved = _saved_base_special_tokens(chemtok_file)
        if saved is not None:
            kwargs["base_special_tokens"] = saved
        return ChemTokenizer(text=TextTokenizer.from_file(base_file), **kwargs)
    return ChemTokenizer.from_base(base_file, **kwargs)


def _saved_base_special_tokens(path: str) -> dict[str, str | None] | None:
    """The ``base_special_tokens`` a ``chemtok.json`` records (``None``: an older file)."""
    from chemtok.persist import read_json_file

    manifest = read_json_file(path)
    if not isinstance(manifest, dict):
        raise DataFileError(str(path), None, f"expected a JSON object, got {type(manifest).__name__}")
    saved = manifest.get("base_special_tokens")
    if saved is None:
        return None
    if not isinstance(saved, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in saved.items()):
        raise DataFileError(str(path), "base_special_tokens", "expected an object of role to token string")
    return dict(saved)


def check_manifest(path: str, chem: ChemTokenizer) -> None:
    """Refuse a saved ``chemtok.json`` whose id-space fingerprint is not ``chem``'s.

    Raises:
        DataFileError: the file is not a JSON object, lacks the fingerprint, or names
            another id space (its ids would silently change).
    """
    from chemtok.grammar import TableReader
    from chemtok.persist import read_json_file

    manifest = read_json_file(path)
    if not isinstance(manifest, dict):
        raise DataFileError(str(path), None, f"expected a JSON object, got {type(manifest).__name__}")
    saved = TableReader(str(path), manifest, error=DataFileError).get("id_space_fingerprint", str)
    if saved != chem.fingerprint:
        raise DataFileError(
            str(path),
            "id_space_fingerprint",
            f"the directory was saved by chemtok {manifest.get('chemtok_version')} with grammars "
            f"{manifest.get('grammar')} and another id space than this chemtok builds "
            f"({chem.grammar_tag}); its ids would silently change. Install the chemtok version "
            "that saved it, or re-save the tokenizer and retrain the embeddings",
        )


def check_options(chemtok_file: str | None, on_error: object, strict_markers: object, smiles_model: object) -> None:
    """Refuse option values of the wrong type (e.g. ``"strict_markers": "no"`` in a config).

    Loaded from a directory, the values come from its ``tokenizer_config.json``, and
    the error is a ``DataFileError`` naming that file and the key.
    """
    problems = []
    if not isinstance(strict_markers, bool):
        problems.append(("strict_markers", f"must be true or false, got {strict_markers!r}"))
    if on_error not in ("raise", "skip", "fallback"):
        problems.append(("on_error", f"must be one of ['raise', 'skip', 'fallback'], got {on_error!r}"))
    if not isinstance(smiles_model, str) or not smiles_model:
        problems.append(("smiles_model", f"must be a model name or path, got {smiles_model!r}"))
    if not problems:
        return
    key, problem = problems[0]
    if chemtok_file is not None:
        raise DataFileError(str(Path(chemtok_file).parent / "tokenizer_config.json"), key, problem)
    raise ValueError(f"HFChemTokenizer: {key} {problem}")


def write_saved_files(
    chem: ChemTokenizer, save_directory: str | os.PathLike[str], *, filename_prefix: str | None, smiles_model: str
) -> tuple[str, ...]:
    """Write ``chemtok.json`` (what to rebuild and its fingerprint), the base model's
    ``tokenizer.json`` if there is one, and the ``trust_remote_code`` loader; return their paths.

    ``filename_prefix`` is ``save_pretrained``'s (names start ``<prefix>-``).
    """
    from chemtok import __version__

    directory = Path(save_directory)
    prefix = f"{filename_prefix}-" if filename_prefix else ""
    written: list[str] = []
    base_name = None
    if chem.has_base:
        base_name = prefix + BASE_FILE
        (directory / base_name).write_text(chem.text.backend.to_str(), encoding="utf-8")
        written.append(str(directory / base_name))
    manifest = {
        "format": _MANIFEST_FORMAT,
        "chemtok_version": __version__,
        "grammar": chem.grammar_tag,
        "id_space_fingerprint": chem.fingerprint,
        "vocab_size": len(chem),
        "text_model": base_name or "chemtok default",
        "smiles_model": smiles_model,
        "blocks": {name: list(chem.block(name)) for name in chem.namespaces},
    }
    if chem.has_base:  # the roles may come from files that are not copied along
        manifest["base_special_tokens"] = chem.base_special_tokens
    manifest_path = directory / (prefix + MANIFEST_FILE)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    code_path = directory / REMOTE_CODE_FILE
    code_path.write_text(_REMOTE_CODE, encoding="utf-8")
    return (str(manifest_path), *written, str(code_path))
