"""Marker dialects: the shipped marker tables by name, and custom tables, loaded and checked.

A marker table says which strings open and close a modality's span in text. chemtok
ships four dialects in ``grammars/``: ``galactica`` (``[START_SMILES]`` ...
``[END_SMILES]``, ``grammars/markers.toml``), ``tags`` (``<SMILES>`` ... ``</SMILES>``),
``naturelm`` (``<mol>``, ``<protein>``) and ``biot5`` (``<bom>``/``<eom>`` around SELFIES).
A custom table is a TOML or JSON file of the same shape. Tables are read with the
grammar readers of :mod:`chemtok.grammar`; what a table is and how its markers are found
in text is :mod:`chemtok.markers`.

Example:
    >>> from chemtok.dialects import load_markers
    >>> [pair.start for pair in load_markers("naturelm").pairs][:2]
    ['<mol>', '<protein>']
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from chemtok.errors import DataFileError, GrammarError
from chemtok.grammar import FileError, TableReader, read_grammar_file
from chemtok.markers import MODALITIES, MarkerPair, MarkerTable, check_marker_pattern

__all__ = ["MARKER_DIALECTS", "load_markers", "markers_from_table"]


#: The shipped marker dialects: name -> file in ``grammars/`` (without ``.toml``).
MARKER_DIALECTS = {
    "galactica": "markers",
    "tags": "markers_tags",
    "naturelm": "markers_naturelm",
    "biot5": "markers_biot5",
}


@functools.cache
def load_markers(name: str | None = None) -> MarkerTable:
    """Load a shipped marker dialect by name, or a custom table from a file (cached).

    Args:
        name: ``None`` or ``"galactica"`` for Galactica's ``[START_SMILES]`` table
            (``grammars/markers.toml``); ``"tags"`` (``<SMILES>...</SMILES>``, as
            SMolInstruct and Intern-S1 write them), ``"naturelm"`` (``<mol>``,
            ``<protein>``, ``<dna>``, ``<rna>``) or ``"biot5"`` (``<bom>``/``<eom>``
            around SELFIES, ``<bop>``/``<eop>`` around proteins); or the path of a
            custom table, TOML (``.toml``) or JSON (``.json``, e.g. written by
            :meth:`~chemtok.markers.MarkerTable.as_dict`).

    A custom table may change the markers and the unknown-marker pattern, not the
    special tokens: every modality vocabulary starts with the shipped ones.

    Raises:
        GrammarError: a shipped table is broken.
        DataFileError: ``name`` is neither a dialect nor a readable file (the message
            lists the dialects), or a custom table is wrong; names the file and key.

    Example:
        >>> from chemtok.dialects import load_markers
        >>> load_markers().pairs[0].start
        '[START_SMILES]'
        >>> load_markers("biot5").pairs[0].start, load_markers("biot5").pairs[0].modality
        ('<bom>', 'selfies')
    """
    if name is None or name in MARKER_DIALECTS:
        file = MARKER_DIALECTS[name or "galactica"]
        label, table = read_grammar_file(file, None, error=GrammarError)
        return markers_from_table(label, table, shipped=True)
    path = Path(name)
    if not (path.suffix in (".toml", ".json") or path.exists() or len(path.parts) > 1):
        raise DataFileError(
            name, None, f"no marker dialect named {name!r}; choose one of {sorted(MARKER_DIALECTS)}, "
            "or give the path of a marker table (.toml or .json)"
        )
    if path.suffix == ".json":
        from chemtok.persist import read_json_file

        return markers_from_table(str(path), read_json_file(path))
    label, table = read_grammar_file("markers", path, error=DataFileError)
    return markers_from_table(label, table)


def markers_from_table(label: str, table: Any, *, shipped: bool = False, prefix: str = "") -> MarkerTable:
    """Check a marker table given as data (a parsed ``markers.toml``, or saved JSON).

    Args:
        label: the file it came from, for error messages.
        table: the parsed table.
        shipped: ``True`` for the shipped ``grammars/markers.toml`` (errors are then
            ``GrammarError``); a custom table must list the shipped special tokens.
        prefix: the dotted key of the table inside ``label`` (``"options.markers."``).

    Raises:
        DataFileError: (``GrammarError`` when ``shipped``) a key is missing, of the
            wrong type or wrong; an empty marker, a marker listed twice, special tokens
            other than the shipped ones, or an ``unknown_marker_pattern`` outside the
            linear-time subset (see :func:`check_marker_pattern`).
    """
    error: FileError = GrammarError if shipped else DataFileError
    if not isinstance(table, dict):
        raise error(label, prefix.rstrip(".") or None, f"expected a table, got {type(table).__name__}")
    top = TableReader(label, table, prefix, error=error)
    version = top.header("markers")
    specials = top.strings("special_tokens")
    pattern = top.get("unknown_marker_pattern", str, check_marker_pattern)
    if shipped:
        dialect = top.get("dialect", str, lambda v: None if v in MARKER_DIALECTS else f"must be one of {list(MARKER_DIALECTS)}")
    else:
        dialect = top.get("dialect", str, _check_dialect_name) if "dialect" in table else "custom"
    pairs = []
    for i, entry in enumerate(top.get("pairs", list, lambda v: None if v else "must not be empty")):
        if not isinstance(entry, dict):
            raise error(label, f"{prefix}pairs[{i}]", "expected a table")
        item = TableReader(label, entry, f"{prefix}pairs[{i}].", error=error)
        modality = item.get(
            "modality", str, lambda v: None if v in MODALITIES else f"must be one of {list(MODALITIES)}"
        )
        nonempty = lambda v: None if v else "a marker must not be empty"  # noqa: E731
        pad = item.get("pad", str, _check_pad) if "pad" in entry else ""
        appended = item.get("appended", bool) if "appended" in entry else False
        pairs.append(
            MarkerPair(item.get("start", str, nonempty), item.get("end", str, nonempty), modality, pad, appended)
        )
    seen: set[str] = set(specials)
    for pair in pairs:
        for marker in (pair.start, pair.end):
            if marker in seen:
                raise error(label, f"{prefix}pairs", f"marker {marker!r} is listed twice")
            seen.add(marker)
    if not (shipped and dialect == "galactica") and specials != load_markers().special_tokens:
        raise error(
            label,
            f"{prefix}special_tokens",
            f"must be {list(load_markers().special_tokens)}, the special tokens every modality "
            "vocabulary starts with; a custom table may change the markers, not the special tokens",
        )
    return MarkerTable(version, specials, tuple(pairs), pattern, source=label, dialect=dialect)


def _check_dialect_name(name: str) -> str | None:
    if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
        return f"must be a name of letters, digits, '-' and '_', got {name!r}"
    return None


def _check_pad(pad: str) -> str | None:
    if not pad.isspace():
        return f"must be whitespace characters (what a dataset writes between a marker and its content), got {pad!r}"
    return None
