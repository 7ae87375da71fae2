"""What a benchmark reads: its inputs (files, modality, column) and baselines (``tokenizer.json``).

The modality of a file is inferred by the shared rules of :mod:`chemtok.io.formats`;
this module adds what only ``chemtok bench`` needs: the default column, the summary
group (``reactions`` for ``.rsmi``, ``mixed`` for text with markers), the seeded
sample of records, and the chemical units of each record.

Example:
    >>> from chemtok.bench.inputs import group_of, record_units
    >>> group_of("uspto.rsmi", "smiles")
    'reactions'
    >>> record_units("smiles", "CCO", None)
    ([(0, 1), (1, 2), (2, 3)], [])
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chemtok.base import ROUTER_MODALITY
from chemtok.bench.metrics import Span, inchi_layer_spans, smiles_lexeme_spans
from chemtok.io.formats import infer_modality

__all__ = [
    "CHEMTOK",
    "COMPACT",
    "GROUPS",
    "MODALITIES",
    "Baseline",
    "InputSpec",
    "default_column",
    "group_of",
    "infer_modality",
    "parse_baseline",
    "read_texts",
    "record_units",
    "sha256_of",
    "split_segments",
    "stripped_name",
]


#: Modalities an input can have; ``text`` is mixed text routed at markers.
MODALITIES = ("smiles", "inchi", "protein", "dna", "text")
#: Summary groups, in display order: ``reactions`` are SMILES inputs from ``.rsmi``
#: files; text inputs are ``mixed`` when some record has a marker, else ``text``.
GROUPS = ("smiles", "reactions", "inchi", "protein", "dna", ROUTER_MODALITY, "text")
#: Name of chemtok's own rows (atom-level SMILES, the default model).
CHEMTOK = "chemtok"
#: Name of the rows of chemtok's compact SMILES model (``SmilesTokenizer(model="compact")``).
COMPACT = "chemtok-compact"


@dataclass(frozen=True)
class InputSpec:
    """One input file, with its modality and column when they should not be inferred.

    Attributes:
        path: the file, as it will appear in the results (``input``).
        modality: one of :data:`MODALITIES`, or ``None`` to infer it from the path.
        column: the CSV/TSV column or JSONL field holding the strings, or ``None``
            for the default (the modality's name for tables, ``"text"`` for JSONL).
    """

    path: str
    modality: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class Baseline:
    """A baseline ``tokenizer.json``, identified by its SHA-256."""

    name: str
    path: str
    sha256: str


def stripped_name(path: str | Path) -> str:
    name = Path(path).name.lower()
    return name.removesuffix(".gz")


def default_column(path: str | Path, modality: str) -> str | None:
    suffix = Path(stripped_name(path)).suffix
    if suffix in (".tsv", ".csv", ".parquet"):
        return "smiles" if modality == "text" else modality
    if suffix == ".jsonl":
        return "text"
    return None


def group_of(spec_path: str, modality: str, has_markers: bool = False) -> str:
    if modality == "smiles" and Path(stripped_name(spec_path)).suffix == ".rsmi":
        return "reactions"
    if modality == "text" and has_markers:
        return ROUTER_MODALITY
    return modality


def parse_baseline(spec: str) -> tuple[str, str]:
    """Split a ``NAME=PATH`` baseline argument; a bare ``PATH`` is named after its folder.

    Example:
        >>> parse_baseline("gpt2=../shared/baselines/gpt2/tokenizer.json")
        ('gpt2', '../shared/baselines/gpt2/tokenizer.json')
        >>> parse_baseline("../shared/baselines/llama3/tokenizer.json")
        ('llama3', '../shared/baselines/llama3/tokenizer.json')
    """
    name, sep, path = spec.partition("=")
    if not sep:
        path = spec
        parent = Path(path).parent.name
        name = parent if Path(path).name == "tokenizer.json" and parent else Path(path).stem
    name, path = name.strip(), path.strip()
    if not name or not path:
        raise ValueError(f"--baseline expects NAME=PATH (e.g. gpt2=path/to/tokenizer.json), got {spec!r}")
    if name == CHEMTOK or name.startswith(CHEMTOK + "+"):
        raise ValueError(f"baseline name {name!r} is reserved for chemtok's own rows; choose another")
    return name, path


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_texts(path: str, column: str | None, max_records: int | None, seed: int) -> tuple[list[str], int, int]:
    """(texts, records available, unreadable records); a seeded sample when capped."""
    from chemtok.io import read_records

    texts: list[str] = []
    unreadable = 0
    for record in read_records(path, column=column):
        if record.text is None:
            unreadable += 1
        elif record.text:
            texts.append(record.text)
    available = len(texts)
    if max_records is not None and available > max_records:
        rng = random.Random(f"{seed}:{stripped_name(path)}:{column}")
        texts = [texts[i] for i in sorted(rng.sample(range(available), max_records))]
    return texts, available, unreadable


def split_segments(router: Any, text: str) -> list[Any]:
    from chemtok.errors import MarkerError
    from chemtok.markers import Segment

    try:
        return list(router.split(text))
    except MarkerError:
        return [Segment("text", 0, len(text), text)] if text else []


def record_units(modality: str, text: str, segments: Sequence[Any] | None) -> tuple[list[Span], list[Span]]:
    """(SMILES lexeme spans, InChI layer spans) of a record."""
    if modality == "smiles":
        return smiles_lexeme_spans(text), []
    if modality == "inchi":
        return [], inchi_layer_spans(text)
    if modality == "text" and segments:
        lexemes: list[Span] = []
        layers: list[Span] = []
        for seg in segments:
            if seg.modality == "smiles":
                lexemes.extend((a + seg.start, b + seg.start) for a, b in smiles_lexeme_spans(seg.text))
            elif seg.modality == "inchi":
                layers.extend((a + seg.start, b + seg.start) for a, b in inchi_layer_spans(seg.text))
        return lexemes, layers
    return [], []
