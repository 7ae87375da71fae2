"""Choose a table's record column safely, and explain a run whose first records all fail.

A CSV ``id,smiles`` read by its first column tokenizes the ids (``12345`` *is* valid
SMILES: five ring bonds), and an InChI table whose first column is SMILES fails on
every record. The grammar cannot catch the first case, so the column is chosen from
the header names (:func:`infer_column`): case-insensitive words such as ``smiles``,
``canonical_smiles``, ``CanonicalSMILES``, ``inchi``, ``std_inchi``, ``sequence``,
``dna_seq``, ``text``. A column whose name says it is an identifier, key or count
(``id``, ``mol_id``, ``InChIKey``, ``smiles_length``) is never chosen.

When the first records fail anyway, :func:`failure_hint` says "wrong column or
modality?" with the columns, and recommends ``--on-error fallback`` only when the
failing characters are a small minority of each record (:data:`FALLBACK_MAX_FOREIGN`,
measured by :func:`foreign_fraction`).

Example:
    >>> from chemtok.io.columns import infer_column
    >>> infer_column(["id", "smiles"], "smiles")
    ColumnChoice(name='smiles', index=1, modality='smiles', reason='its name')
    >>> infer_column(["smiles", "options", "inchi", "inchikey"], "inchi").name
    'inchi'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chemtok.base import ROUTER_MODALITY
from chemtok.errors import ChemtokError, TokenizationError
from chemtok.idspace import MODALITY_ORDER
from chemtok.registry import MODALITIES

__all__ = [
    "ColumnChoice",
    "ColumnChoiceError",
    "infer_column",
    "column_modalities",
    "modality_of_column",
    "foreign_fraction",
    "failure_hint",
    "FALLBACK_MAX_FOREIGN",
    "COLUMN_MODALITIES",
]

#: The modalities a column can be chosen for (the CLI's ``--modality`` values).
COLUMN_MODALITIES = MODALITIES

#: The largest share of a failing record's characters that may be foreign to the
#: grammar for ``--on-error fallback`` to be recommended (and only when no other grammar
#: reads the failing records cleanly). Real records of the right modality almost never
#: fail (none of 41,361 shared SMILES, 3,801 InChI, 313 proteins, 600 DNA records), and
#: when one does it is a stray character or two: a few percent of a molecule. Records
#: of another kind, measured on the shared data (min / median / max per record): text
#: as SMILES 68 / 72 / 75%, SMILES as protein 17 / 38 / 51%, text as protein
#: 15 / 17 / 29%, protein as DNA 7 / 34 / 47%, InChI as SMILES 4 / 11 / 17%, SMILES as
#: InChI 100% (no prefix). 10% refuses nearly all of them; the rest (InChI as SMILES,
#: a few proteins as DNA) read cleanly under another grammar, which the hint checks
#: too. It errs towards not recommending fallback for very short records (one bad
#: character in ``C§`` is 50%): byte tokens are lossless, but a whole column of them
#: teaches a model nothing, which is the silent garbage issue 11 reports.
FALLBACK_MAX_FOREIGN = 0.10

#: Modalities whose tokenizers have byte fallback; the text model has no fallback.
_GRAMMAR_MODALITIES = MODALITY_ORDER

# Words of a header name: "smiles"/"inchi" anywhere (case-insensitive, so "InChIKey" is
# inchi + Key and "canonicalsmiles" is canonical + smiles), else camelCase parts, runs
# of capitals, and digits. Anything else (_ - space .) separates.
_WORD = re.compile(
    r"(?i:smiles|inchi)"
    r"|[A-Z]+(?![a-z])"
    r"|[A-Z]?[a-z]+?(?=(?i:smiles|inchi)|[^a-z]|$)"
    r"|[0-9]+"
)

_SMILES_WORDS = frozenset({"smiles", "smi"})
#: Whole names that mean reaction SMILES (``rxn_smiles`` is covered by its words).
_SMILES_NAMES = frozenset({"rxn"})
_INCHI_WORDS = frozenset({"inchi"})
_SELFIES_WORDS = frozenset({"selfies"})
_SEQUENCE_WORDS = frozenset({"sequence", "sequences", "seq", "seqs"})
_PROTEIN_WORDS = frozenset({"protein", "proteins", "prot", "aa", "amino", "peptide", "peptides", "residues", "target"})
_NUCLEOTIDE_WORDS = frozenset(
    {"dna", "rna", "cdna", "mrna", "nucleotide", "nucleotides", "nt", "nucleic", "genomic", "gene"}
)
#: Words that are a nucleotide column on their own (``dna``, ``RNA``).
_NUCLEOTIDE_ALONE = frozenset({"dna", "rna"})
_TEXT_WORDS = frozenset(
    {
        "text",
        "texts",
        "abstract",
        "description",
        "sentence",
        "sentences",
        "content",
        "body",
        "paragraph",
        "passage",
        "caption",
    }
)
#: Words that make a column an identifier, a key or a statistic, never records: ``id``
#: (``12345`` is valid SMILES), ``InChIKey`` (a hash, not a tokenizable InChI),
#: ``smiles_length``, ``text_id``.
_NOT_RECORDS = frozenset(
    {
        "id", "ids", "key", "keys", "index", "idx", "no", "count", "counts", "num", "n", "number",
        "len", "length", "size", "valid", "validity", "aux", "hash", "type", "version", "status",
        "flag", "error", "errors", "token", "tokens", "url", "file", "path",
    }
)  # fmt: skip


class ColumnChoiceError(ChemtokError, ValueError):
    """No column, or more than one, could hold the records: the user must say which.

    A usage error: the message names the candidates (or lists the columns) and ends
    with the option to pass (``--column NAME``, ``--modality M``).

    Attributes:
        header: the table's column names.
        candidates: the columns that could hold the records (empty when none could).
        modality: the modality asked for, or ``None``.

    Example:
        >>> try:
        ...     infer_column(["SMILES", "canonical_smiles"], "smiles")
        ... except ColumnChoiceError as err:
        ...     print(err.candidates)
        ('SMILES', 'canonical_smiles')
    """

    def __init__(self, message: str, *, header: Sequence[str], candidates: Sequence[str], modality: str | None) -> None:
        self.header = tuple(header)
        self.candidates = tuple(candidates)
        self.modality = modality
        super().__init__(message)


@dataclass(frozen=True)
class ColumnChoice:
    """The column records are read from, and the modality they are tokenized as.

    Attributes:
        name: the column's name as the header spells it.
        index: its 0-based position in the header.
        modality: the modality to tokenize it with.
        reason: why it was chosen (``"its name"`` or ``"the only column"``).

    Example:
        >>> str(infer_column(["cid", "canonical_smiles"], None))
        "column 'canonical_smiles' as smiles (chosen by its name)"
    """

    name: str
    index: int
    modality: str
    reason: str

    def __str__(self) -> str:
        return f"column {self.name!r} as {self.modality} (chosen by {self.reason})"


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name.replace("\ufeff", ""))]


def column_modalities(name: str) -> frozenset[str]:
    """The modalities a column called ``name`` may hold, from its name alone.

    Case-insensitive, by words (``canonical_smiles``, ``CanonicalSMILES``,
    ``canonicalsmiles`` alike). A bare ``sequence``/``seq`` may be protein or DNA;
    a text column (``text``, ``abstract`` ...) may be plain text or ``mixed``. A name
    with an identifier or statistic word (``id``, ``key``, ``length`` ...) holds no
    records: the empty set.

    Example:
        >>> sorted(column_modalities("protein_sequence")), sorted(column_modalities("seq"))
        (['protein'], ['dna', 'protein'])
        >>> sorted(column_modalities("SELFIES")), sorted(column_modalities("canonical_selfies"))
        (['selfies'], ['selfies'])
        >>> column_modalities("InChIKey"), column_modalities("id")
        (frozenset(), frozenset())
    """
    words = set(_words(name))
    if not words or words & _NOT_RECORDS:
        return frozenset()
    found: set[str] = set()
    if words & _SMILES_WORDS or name.strip().lower() in _SMILES_NAMES:
        found.add("smiles")
    if words & _INCHI_WORDS:
        found.add("inchi")
    if words & _SELFIES_WORDS:
        found.add("selfies")
    if words & _SEQUENCE_WORDS:
        protein, nucleotide = bool(words & _PROTEIN_WORDS), bool(words & _NUCLEOTIDE_WORDS)
        if protein or not nucleotide:
            found.add("protein")
        if nucleotide or not protein:
            found.add("dna")
    elif words & _NUCLEOTIDE_ALONE:
        found.add("dna")
    if words & _TEXT_WORDS:
        found.update(("text", ROUTER_MODALITY))
    return frozenset(found)


def modality_of_column(name: str | None) -> str | None:
    """The one modality a column's name implies, or ``None`` when it implies none or several.

    Example:
        >>> modality_of_column("isomeric_smiles"), modality_of_column("std_inchi"), modality_of_column("seq")
        ('smiles', 'inchi', None)
    """
    if not name:
        return None
    found = column_modalities(name)
    if found == {"text", ROUTER_MODALITY}:
        return None
    return next(iter(found)) if len(found) == 1 else None


def _listed(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _only_modality(name: str, found: frozenset[str], header: Sequence[str]) -> str:
    if len(found) == 1:
        return next(iter(found))
    options = " or ".join(f"--modality {m}" for m in COLUMN_MODALITIES if m in found)
    raise ColumnChoiceError(
        f"column {name!r} may hold {' or '.join(m for m in COLUMN_MODALITIES if m in found)}; pass {options}",
        header=header,
        candidates=[name],
        modality=None,
    )


def infer_column(header: Sequence[str], modality: str | None) -> ColumnChoice:
    """Choose the column holding the records from the header names.

    With ``modality`` given, only columns whose names fit it count; without, any
    column whose name implies a modality counts and the modality follows from it.
    A table of one column takes that column (unless its name says it holds ids, or
    another modality).

    Args:
        header: the column names, in order (a leading BOM is ignored).
        modality: one of :data:`COLUMN_MODALITIES`, or ``None`` to infer it.

    Returns:
        The chosen column, its index and modality.

    Raises:
        ColumnChoiceError: several columns fit (the message names them and says to
            pass ``--column NAME``), none fits (it lists the columns), or the chosen
            column does not say which modality it holds.

    Example:
        >>> infer_column(["smiles", "features", "from_file"], None).modality
        'smiles'
        >>> infer_column(["accession", "description", "sequence"], "protein").name
        'sequence'
    """
    header = list(header)
    if modality is not None and modality not in COLUMN_MODALITIES:
        raise ColumnChoiceError(
            f"unknown modality {modality!r}; choose one of {', '.join(COLUMN_MODALITIES)}",
            header=header, candidates=[], modality=modality,
        )  # fmt: skip
    if not header:
        raise ColumnChoiceError("the table has no columns", header=header, candidates=[], modality=modality)
    kinds = [column_modalities(name) for name in header]
    fits = [i for i, found in enumerate(kinds) if found and (modality is None or modality in found)]
    wanted = f"{modality} records" if modality else "the records"
    if len(fits) == 1:
        i = fits[0]
        chosen = modality or _only_modality(header[i], kinds[i], header)
        return ColumnChoice(header[i], i, chosen, "its name")
    if len(fits) > 1:
        names = [header[i] for i in fits]
        raise ColumnChoiceError(
            f"several columns could hold {wanted}: {_listed(names)}; pass --column NAME to choose one",
            header=header, candidates=names, modality=modality,
        )  # fmt: skip
    others = [(header[i], kinds[i]) for i in range(len(header)) if kinds[i]]
    if len(header) == 1 and modality is not None and not others and not (set(_words(header[0])) & _NOT_RECORDS):
        return ColumnChoice(header[0], 0, modality, "the only column")
    message = f"no column name says it holds {wanted}; the columns are {_listed(header)}"
    if others:
        message += "; " + ", ".join(f"{name!r} looks like {'/'.join(sorted(found))}" for name, found in others)
    message += ". Pass --column NAME" + ("" if modality else " and --modality M")
    raise ColumnChoiceError(message, header=header, candidates=[], modality=modality)


def _tokenizer(tokenizer_or_modality: Any) -> Any:
    if isinstance(tokenizer_or_modality, str):
        from chemtok.registry import get_tokenizer

        return get_tokenizer(tokenizer_or_modality)
    return tokenizer_or_modality


def foreign_fraction(tokenizer_or_modality: Any, text: str) -> float:
    """The share of ``text``'s characters its grammar cannot cover (0.0 to 1.0).

    Tokenizes with ``on_error="fallback"`` and counts the characters spelled as
    byte-fallback tokens. An InChI without its ``InChI=`` prefix is wholly foreign
    (1.0): the InChI lexer would read the rest of a SMILES such as ``CCCCCC`` as
    element symbols, but a string without the prefix is no InChI at all. A tokenizer
    without byte fallback (the text model) reports 0.0: nothing in it is foreign.

    Args:
        tokenizer_or_modality: a chemtok tokenizer, or a modality name.
        text: one record.

    Example:
        >>> foreign_fraction("smiles", "CC(=O)O§")
        0.125
        >>> foreign_fraction("inchi", "c1ccccc1C(=O)O")
        1.0
    """
    from chemtok.vocab import byte_of_token

    if not text:
        return 0.0
    tok = _tokenizer(tokenizer_or_modality)
    try:
        tokens = tok.tokenize(text, on_error="fallback")
    except TokenizationError:  # not even fallback covers it (a marker error in mixed text)
        return 1.0
    except (TypeError, ValueError):  # no fallback policy (the text model): all or nothing
        try:
            tok.tokenize(text)
        except TokenizationError:
            return 1.0
        return 0.0
    foreign = 0
    run = bytearray()
    for token in [*tokens, ""]:
        value = byte_of_token(token)
        if value is not None:
            run.append(value)
            continue
        if run:
            foreign += len(bytes(run).decode("utf-8", "surrogatepass")) if _utf8(run) else len(run)
            run.clear()
    if getattr(tok, "name", None) == "inchi" and tokens and byte_of_token(tokens[0]) is not None:
        return 1.0
    return foreign / len(text)


def _utf8(run: bytearray) -> bool:
    try:
        bytes(run).decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


def _clean_modalities(texts: Sequence[str], skip: str) -> list[str]:
    """The grammar modalities that read every one of ``texts`` without a failure."""
    from chemtok.registry import get_tokenizer

    clean = []
    for modality in _GRAMMAR_MODALITIES:
        if modality == skip:
            continue
        tok = get_tokenizer(modality)
        try:
            for text in texts:
                tok.tokenize(text)
        except (TokenizationError, TypeError, ValueError):
            continue
        clean.append(modality)
    return clean


def failure_hint(
    texts: Sequence[str],
    *,
    modality: str,
    all_failed: bool,
    header: Sequence[str] | None = None,
    column: str | None = None,
    tokenizer: Any = None,
) -> str:
    """The advice to print under a failed record: which option to try, and which not.

    When the first records all failed (``all_failed``), the input is probably not
    what ``--modality`` says: the hint asks "wrong column or modality?", shows the
    columns (and any that look like ``modality``), and names the grammars that read
    the failing records cleanly. ``--on-error fallback`` is recommended only when no
    failing record is more than :data:`FALLBACK_MAX_FOREIGN` foreign to the grammar,
    and never for the text model (it has no byte fallback) or ``mixed``.

    Args:
        texts: the failing records (say, the first few).
        modality: the modality they were tokenized as.
        all_failed: whether every record read so far failed.
        header: the table's columns, when the input is a table.
        column: the column the records came from.
        tokenizer: the tokenizer that failed (default: the modality's default one).

    Example:
        >>> hint = failure_hint(["CCO", "c1ccccc1O"], modality="inchi", all_failed=True,
        ...                     header=["smiles", "options", "inchi", "inchikey"], column="smiles")
        >>> print(hint)  # doctest: +NORMALIZE_WHITESPACE
        Wrong column or modality? Every record so far failed as inchi, reading column 'smiles'
          of columns 'smiles', 'options', 'inchi', 'inchikey'.
          Column 'inchi' looks like inchi: pass --column inchi.
          The failing records read cleanly as smiles: pass --modality smiles.
          --on-error fallback is not recommended: up to 100% of a failing record's characters
          are foreign to the inchi grammar, and byte tokens would only hide that.
    """
    lines: list[str] = []
    present = [t for t in texts if t]
    # A record another grammar reads completely is of that modality, however few of its
    # characters are foreign here (an InChI read as SMILES is only 4-17% foreign).
    clean = _clean_modalities(present, modality) if present else []
    if all_failed:
        where = f", reading column {column!r}" if column is not None else ""
        columns = f" of columns {_listed(header)}" if header else ""
        lines.append(f"Wrong column or modality? Every record so far failed as {modality}{where}{columns}.")
        if header:
            fitting = [n for n in header if n != column and modality in column_modalities(n)]
            if len(fitting) == 1:
                lines.append(f"Column {fitting[0]!r} looks like {modality}: pass --column {fitting[0]}.")
            elif fitting:
                lines.append(f"Columns {_listed(fitting)} look like {modality}: pass --column NAME.")
    if clean:
        lines.append(f"The failing records read cleanly as {' or '.join(clean)}: pass --modality {clean[0]}.")
    skip = "--on-error skip --errors FILE to leave failing records out and list them"
    if modality not in _GRAMMAR_MODALITIES:
        lines.append(f"Pass {skip}.")
        return "\n  ".join(lines)
    tok = tokenizer if tokenizer is not None else modality
    worst = max((foreign_fraction(tok, t) for t in present), default=0.0)
    if worst <= FALLBACK_MAX_FOREIGN and not clean:
        lines.append(
            f"Pass --on-error fallback to keep uncovered characters as byte-fallback tokens (lossless), or {skip}."
        )
        return "\n  ".join(lines)
    reason = (
        f"up to {worst:.0%} of a failing record's characters are foreign to the {modality} grammar"
        if worst > FALLBACK_MAX_FOREIGN
        else f"the failing records are {' or '.join(clean)}, not {modality}"
    )
    lines.append(f"--on-error fallback is not recommended: {reason}, and byte tokens would only hide that.")
    if not all_failed:
        lines.append(f"Pass {skip}.")
    return "\n  ".join(lines)
