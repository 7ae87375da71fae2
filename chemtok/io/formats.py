"""Input formats and the one set of modality rules, for the command line and ``bench``.

A file's format follows from its extension (``.gz`` ignored); its modality from the
extension, a column name, or (for ``bench``, which reads the shared corpora) the folder.

Example:
    >>> from chemtok.io.formats import detect_format, modality_for_format
    >>> detect_format("molecules.smi.gz"), modality_for_format("uniprot.faa")
    ('smi', 'protein')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from chemtok.io.columns import modality_of_column
from chemtok.registry import MODALITIES as _REGISTRY_MODALITIES

__all__ = [
    "format_by_suffix",
    "FORMATS",
    "INPUT_FORMATS",
    "MODALITIES",
    "TABLE_FORMATS",
    "InputError",
    "UsageError",
    "detect_format",
    "infer_modality",
    "label",
    "modality_for_format",
    "modality_of_column",
    "resolve_modality",
]

#: Values of ``--modality`` (:data:`chemtok.registry.MODALITIES`; ``mixed`` is the marker router).
MODALITIES = _REGISTRY_MODALITIES

#: Formats by file extension (after removing ``.gz``).
FORMATS = {
    ".smi": "smi",
    ".smiles": "smi",
    ".rsmi": "smi",
    ".txt": "txt",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".fasta": "fasta",
    ".fa": "fasta",
    ".faa": "fasta",
    ".fna": "fasta",
    ".parquet": "parquet",
    ".sdf": "sdf",
    ".sd": "sdf",
    ".mol": "sdf",
}
#: Format names, as ``--input-format`` accepts them.
INPUT_FORMATS = ("smi", "txt", "csv", "tsv", "jsonl", "fasta", "parquet", "sdf")
#: Formats with named columns (fields, SD properties for ``sdf``).
TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")


class UsageError(Exception):
    """A problem with the command line or the environment: exit status 2."""


class InputError(Exception):
    """An input could not be read (corrupt gzip, I/O error) or an output written: exit status 1."""


def label(path: str) -> str:
    """How messages name an input: ``standard input`` for ``-``, else the path."""
    return "standard input" if path == "-" else path


def _stripped_name(path: str | Path) -> str:
    name = Path(path).name.lower()
    return name[:-3] if name.endswith(".gz") else name


def detect_format(path: str | Path) -> str:
    """Return the format name for ``path`` from its extension (``.gz`` ignored).

    Raises:
        ValueError: the extension is not one chemtok reads; the message lists them.

    Example:
        >>> detect_format("ChEMBL_sample.csv")
        'csv'
    """
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix in FORMATS:
        return FORMATS[suffix]
    raise ValueError(
        f"cannot tell the format of {str(path)!r} from its extension; known: "
        f"{', '.join(sorted(FORMATS))} (optionally .gz). Pass the format explicitly."
    )


def modality_for_format(path: str | Path) -> str | None:
    """The modality a file's extension implies, or ``None`` when it does not say.

    Example:
        >>> modality_for_format("aspirin.smi"), modality_for_format("notes.txt")
        ('smiles', None)
    """
    suffix = Path(_stripped_name(path)).suffix
    if suffix in (".smi", ".smiles", ".rsmi"):
        return "smiles"
    if suffix == ".faa":
        return "protein"
    if suffix == ".fna":
        return "dna"
    if suffix in (".sdf", ".sd", ".mol"):
        return "smiles"  # RDKit's canonical SMILES of each molecule (see chemtok.io.sdf)
    return None


def infer_modality(path: str | Path) -> str:
    """The modality of a corpus file from its name and folders (what ``bench`` uses).

    The extension first (:func:`modality_for_format`); then a ``.tsv``/``.csv`` whose
    name or folder says ``inchi``/``smiles``, a ``.fasta``/``.fa`` under a
    ``protein(s)`` or ``dna``/``rna`` folder; ``.jsonl``/``.txt`` are text.

    Raises:
        ValueError: the path does not say; the message names ``--modality``.

    Example:
        >>> infer_modality("../shared/data/inchi/iupac_docs_examples.inchi.tsv")
        'inchi'
        >>> infer_modality("proteins/uniprot.faa.gz"), infer_modality("corpus.jsonl")
        ('protein', 'text')
    """
    by_extension = modality_for_format(path)
    if by_extension is not None:
        return by_extension
    name = _stripped_name(path)
    folders = [p.lower() for p in Path(path).parts[:-1]]
    suffix = Path(name).suffix
    if suffix in (".tsv", ".csv"):
        for modality in ("inchi", "smiles"):
            if modality in name or modality in folders:
                return modality
    if suffix in (".fasta", ".fa"):
        if "protein" in folders or "proteins" in folders:
            return "protein"
        if {"dna", "rna"} & set(folders):
            return "dna"
    if suffix in (".jsonl", ".txt"):
        return "text"
    raise ValueError(
        f"cannot tell the modality of {str(path)!r} from its name or folder; pass "
        f"--modality (modality=...) with one of {', '.join(MODALITIES)}"
    )


def resolve_modality(
    requested: str | None, inputs: Sequence[str], *, column: str | None = None, input_format: str | None = None
) -> str:
    """The modality to tokenize ``inputs`` with: ``--modality``, else what the files say.

    ``.smi``/``.smiles``/``.rsmi`` mean SMILES, ``.faa`` protein, ``.fna`` DNA; a
    column named ``smiles``/``*_smiles`` or ``inchi`` says so too
    (:func:`chemtok.io.columns.modality_of_column`, the one rule set); ``--input-format
    smi`` means SMILES. An SDF/MOL file means SMILES (RDKit's SMILES of each
    molecule), unless ``column`` names an SD property: then its name says, or ``--modality``. Anything else (``.csv``, ``.txt``, ``.fasta``, stdin ...) needs
    ``--modality``.

    Raises:
        UsageError: the inputs do not say, or say different things.

    Example:
        >>> resolve_modality(None, ["chembl.csv"], column="canonical_smiles")
        'smiles'
    """
    if requested:
        return requested
    by_column = modality_of_column(column)
    implied: dict[str, str | None] = {}
    for path in inputs:
        fmt = input_format if input_format is not None else (None if path == "-" else FORMATS.get(Path(_stripped_name(path)).suffix))
        if fmt == "sdf":
            implied[path] = "smiles" if column is None else by_column
        elif input_format is not None:
            implied[path] = "smiles" if input_format == "smi" else None
        else:
            implied[path] = None if path == "-" else modality_for_format(path)
    known = {m for m in implied.values() if m is not None}
    if len(known) > 1:
        listed = ", ".join(f"{p}: {m}" for p, m in implied.items() if m)
        raise UsageError(f"the inputs imply different modalities ({listed}); tokenize them separately or pass --modality")
    if known and None not in implied.values():
        return known.pop()
    if by_column is not None:
        return by_column
    if known:
        return known.pop()
    unclear = next(p for p, m in implied.items() if m is None)
    shown = "standard input" if unclear == "-" else repr(unclear)
    raise UsageError(
        f"cannot tell the modality of {shown} from its extension; "
        f"pass --modality {{{','.join(MODALITIES)}}} (mixed = text with [START_SMILES]-style markers)"
    )


def format_by_suffix(name: str, formats: Mapping[str, str]) -> str | None:
    """The format of the longest suffix of ``formats`` that ``name`` ends with (``-``: JSON Lines).

    Example:
        >>> format_by_suffix("uspto.marked.tsv.gz", {".tsv": "tsv", ".tsv.gz": "tsv", ".gz": "gzip"})
        'tsv'
    """
    if name == "-":
        return "jsonl"
    lower = name.lower()
    for suffix in sorted(formats, key=len, reverse=True):
        if lower.endswith(suffix):
            return formats[suffix]
    return None

