"""RDKit round-trip checks: does the tokenizer give back the same string and molecule?

For a SMILES (or reaction SMILES) the check tokenizes, decodes, and asks two things:
is the output the same string, and does RDKit read input and output as the same
molecule (equal canonical SMILES)? For an InChI: the same string, and RDKit reads both
to the same InChI. For a SELFIES: the same string, and the ``selfies`` package decodes
input and output to SMILES that RDKit reads as the same molecule. Strings RDKit (or the
SELFIES decoder) cannot read are reported as such, never raised.

Two limits keep a check honest:

* **Length.** RDKit's canonicalisation is quadratic in the size of the molecule (and
  its recursion overflows the stack on very long chains), so a record longer than
  ``max_length`` characters (default :data:`DEFAULT_MAX_LENGTH`) is not given to RDKit:
  its report has ``status == "skipped"`` with the reason, is never counted as parsable,
  and is counted apart in a :class:`ValidationSummary`. The tokenizer round trip is
  still checked (it is linear), so a long record that does not round-trip is still a
  failure.
* **Prefixes.** RDKit stops reading at some characters without an error: after
  whitespace (the rest is a name or CXSMILES extension), before trailing characters
  it does not know (``"C😀"`` reads as methane), and at a NUL (its parsers take C
  strings, so ``"InChI=1S/CH4\x00..."`` reads as the text before the NUL). When a
  string holds a character the grammar does not cover and RDKit reads the text before
  it as the same molecule as the whole string, or when it holds a NUL, RDKit did not
  read the whole input: the report says so (``rdkit_read`` is the number of
  characters RDKit read) and counts as a disagreement, not as a parsed molecule.

RDKit (and ``selfies``) are imported when a check runs, not when chemtok is imported.

Example:
    >>> from chemtok import validate
    >>> report = validate.check_smiles("C[C@@H](N)C(=O)O")      # doctest: +SKIP
    >>> report.exact, report.same_molecule, report.ok            # doctest: +SKIP
    (True, True, True)
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chemtok.errors import ChemtokError, TokenizationError

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "RoundTripReport",
    "ValidationSummary",
    "check_smiles",
    "check_inchi",
    "check_selfies",
    "check_many",
    "rdkit_parses",
    "rdkit_quiet",
]

#: Records longer than this many characters are not given to RDKit (status "skipped").
#: Measured on this project's 2-core machine (RDKit 2026.09, MolFromSmiles + MolToSmiles):
#: a 1,000-atom chain takes 0.03 s, 5,000 atoms 0.55 s, 10,000 atoms 2.3 s, and a
#: 20,000-atom chain crashes the process (stack overflow). 5,000 keeps every check under
#: a second and covers every record of the shared corpora (the longest is 3,428).
DEFAULT_MAX_LENGTH = 5000


@dataclass(frozen=True)
class RoundTripReport:
    """The result of one round-trip check.

    Attributes:
        input: the string checked.
        modality: ``"smiles"``, ``"inchi"`` or ``"selfies"``.
        output: ``decode(encode(input))``, or ``None`` when tokenization failed.
        exact: ``output == input``.
        parsable: RDKit could read the input.
        same_molecule: RDKit reads input and output as the same molecule (canonical
            SMILES or InChI equal; for SELFIES, the canonical SMILES of what the
            ``selfies`` decoder makes of each); ``None`` when the input cannot be read.
        canonical_input: RDKit's canonical form of the input (``None`` if unreadable;
            a canonical SMILES for SELFIES).
        canonical_output: RDKit's canonical form of the output.
        error: why tokenization or RDKit failed, if it did, or why RDKit was skipped.
        status: ``"checked"``, or ``"skipped"`` when the input is longer than
            ``max_length`` and RDKit was not run (``parsable`` is then ``False`` and
            ``same_molecule`` ``None``; ``error`` says why).
        rdkit_read: when RDKit read only the first characters of the input and
            ignored the rest, how many it read (``parsable`` is then ``False``: RDKit
            parsed another string); ``None`` when it read all of it or nothing.
    """

    input: str
    modality: str
    output: str | None
    exact: bool
    parsable: bool
    same_molecule: bool | None
    canonical_input: str | None = None
    canonical_output: str | None = None
    error: str | None = None
    status: str = "checked"
    rdkit_read: int | None = None

    @property
    def skipped(self) -> bool:
        """RDKit was not run on this record (too long); see ``error``."""
        return self.status == "skipped"

    @property
    def ok(self) -> bool:
        """Exact round trip, and no molecule-level disagreement RDKit could see.

        RDKit reading only a prefix of the input is a disagreement.
        """
        return self.exact and self.same_molecule is not False and self.rdkit_read is None


@dataclass
class ValidationSummary:
    """Counts over many checks, and every report that was not ``ok`` or was skipped.

    ``unparsable`` counts records RDKit was run on and could not read; ``skipped``
    records (longer than ``max_length``) and ``rdkit_prefix`` records (RDKit read only
    a prefix, also listed in ``failures``) are counted apart from it.
    """

    total: int = 0
    exact: int = 0
    same_molecule: int = 0
    unparsable: int = 0
    tokenization_failed: int = 0
    skipped: int = 0
    rdkit_prefix: int = 0
    failures: list[tuple[int, RoundTripReport]] = field(default_factory=list)
    skipped_records: list[tuple[int, RoundTripReport]] = field(default_factory=list)

    def add(self, number: int, report: RoundTripReport) -> None:
        self.total += 1
        self.exact += report.exact
        self.same_molecule += bool(report.same_molecule)
        self.tokenization_failed += report.output is None
        if report.skipped:
            self.skipped += 1
            self.skipped_records.append((number, report))
        elif report.rdkit_read is not None:
            self.rdkit_prefix += 1
        else:
            self.unparsable += not report.parsable
        if not report.ok:
            self.failures.append((number, report))

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "exact_roundtrip": self.exact,
            "same_molecule": self.same_molecule,
            "unparsable_by_rdkit": self.unparsable,
            "rdkit_read_only_a_prefix": self.rdkit_prefix,
            "skipped": self.skipped,
            "tokenization_failed": self.tokenization_failed,
            "failures": [
                {
                    "record": number,
                    "input": r.input,
                    "output": r.output,
                    "exact": r.exact,
                    "same_molecule": r.same_molecule,
                    "rdkit_read": r.rdkit_read,
                    "error": r.error,
                }
                for number, r in self.failures
            ],
            "skipped_records": [
                {"record": number, "length": len(r.input), "exact": r.exact, "reason": r.error}
                for number, r in self.skipped_records
            ],
        }


def _rdkit(module: str) -> Any:
    """Import an RDKit module typed ``Any``.

    RDKit's bundled stubs (``rdkit-stubs``) lack functions called here
    (``RDLogger.DisableLog``, ``AllChem.ReactionToSmiles``) and leave others untyped
    (``Chem.MolFromInchi``), so its names are not checked statically.
    """
    return importlib.import_module(module)


@contextlib.contextmanager
def rdkit_quiet() -> Iterator[None]:
    """Silence RDKit's parser messages inside the block (restored afterwards)."""
    RDLogger = _rdkit("rdkit.RDLogger")

    RDLogger.DisableLog("rdApp.*")
    try:
        yield
    finally:
        RDLogger.EnableLog("rdApp.*")


def _is_reaction(smiles: str) -> bool:
    return ">" in smiles.replace("->", "").replace("<-", "")  # dative bonds are not arrows


def _canonical_smiles(smiles: str) -> tuple[str | None, str | None]:
    """RDKit's canonical form of a molecule or reaction SMILES, or ``(None, why)``."""
    Chem = _rdkit("rdkit.Chem")
    AllChem = _rdkit("rdkit.Chem.AllChem")

    try:
        if _is_reaction(smiles):
            reaction = AllChem.ReactionFromSmarts(smiles, useSmiles=True)
            if reaction is None:
                return None, "RDKit cannot parse this reaction SMILES"
            return AllChem.ReactionToSmiles(reaction), None
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            return None, "RDKit cannot parse this SMILES"
        return Chem.MolToSmiles(mol), None
    except Exception as err:  # RDKit raises bare RuntimeError/ValueError on odd input
        return None, f"RDKit failed: {err}"


def rdkit_parses(smiles: str) -> bool:
    """RDKit reads ``smiles``: a molecule it sanitizes, or a reaction (messages silenced).

    Example:
        >>> from chemtok.validate import rdkit_parses
        >>> rdkit_parses("CC(=O)O"), rdkit_parses("C(C)(C)(C)(C)C")   # pentavalent carbon
        (True, False)
    """
    with rdkit_quiet():
        try:
            if _is_reaction(smiles):
                return _rdkit("rdkit.Chem.AllChem").ReactionFromSmarts(smiles, useSmiles=True) is not None
            return _rdkit("rdkit.Chem").MolFromSmiles(smiles) is not None
        except (ValueError, RuntimeError):  # RDKit raises these on odd input
            return False


def _canonical_inchi(inchi: str) -> tuple[str | None, str | None]:
    Chem = _rdkit("rdkit.Chem")

    try:
        mol = Chem.MolFromInchi(inchi, sanitize=True)
        if mol is None:
            return None, "RDKit cannot read this InChI"
        return Chem.MolToInchi(mol), None
    except Exception as err:
        return None, f"RDKit failed: {err}"


def _canonical_selfies(selfies: str) -> tuple[str | None, str | None]:
    """RDKit's canonical SMILES of the molecule the ``selfies`` package decodes, or ``(None, why)``."""
    try:
        sf = importlib.import_module("selfies")
    except ImportError:
        raise ImportError(
            "checking SELFIES needs the selfies package: pip install selfies (or chemtok[selfies])"
        ) from None
    try:
        smiles = sf.decoder(selfies)
    except Exception as err:  # selfies.DecoderError, and bare errors on odd input
        return None, f"the selfies decoder failed: {str(err).splitlines()[0]}"
    if not smiles:
        return None, "the selfies decoder gives no molecule"
    canonical, why = _canonical_smiles(smiles)
    if canonical is None:
        return None, f"{why} (decoded: {smiles!r})"
    return canonical, None


def _check(
    text: str, modality: str, tokenizer: Any, canonical: Callable[[str], tuple[str | None, str | None]], max_length: int
) -> RoundTripReport:
    try:
        output: str | None = tokenizer.decode(tokenizer.encode(text))
        error = None
    except ChemtokError as err:
        output, error = None, str(err).splitlines()[0]
    exact = output == text
    if len(text) > max_length:
        skipped = (
            f"not given to RDKit: {len(text):,} characters is more than max_length={max_length:,} "
            "(RDKit's canonicalisation time grows with the square of the length)"
        )
        return RoundTripReport(
            input=text,
            modality=modality,
            output=output,
            exact=exact,
            parsable=False,
            same_molecule=None,
            error="; ".join(problem for problem in (error, skipped) if problem),
            status="skipped",
        )
    with rdkit_quiet():
        canon_in, why = canonical(text)
        read = None if canon_in is None else _prefix_read(text, modality, canon_in, canonical)
        canon_out = None
        if canon_in is not None and read is None and output is not None:
            canon_out, _ = canonical(output)
    if read is not None:
        rest = text[read:]
        why = (
            f"RDKit read only the first {read} of {len(text)} characters ({canon_in!r}) "
            f"and ignored the rest, from {rest[:1]!r}"
        )
        canon_in = None
    same = None if canon_in is None else (canon_out == canon_in)
    return RoundTripReport(
        input=text,
        modality=modality,
        output=output,
        exact=exact,
        parsable=canon_in is not None,
        same_molecule=same,
        canonical_input=canon_in,
        canonical_output=canon_out,
        error="; ".join(problem for problem in (error, why) if problem) or None,
        rdkit_read=read,
    )


def _prefix_read(
    text: str, modality: str, canon: str, canonical: Callable[[str], tuple[str | None, str | None]]
) -> int | None:
    """How many characters of ``text`` RDKit read, when it ignored the rest; else ``None``.

    RDKit parsed ``text`` to ``canon``. Its parsers take C strings, so a NUL ends what
    they read. Otherwise, where the grammar's reference tokenizer first refuses a
    character, RDKit may have stopped silently: if the text before that character reads
    as the same molecule, the rest was ignored.
    """
    from chemtok.registry import get_tokenizer

    nul = text.find("\x00")
    if nul >= 0:
        return nul
    try:
        get_tokenizer(modality).tokenize(text)
    except TokenizationError as err:
        stop = err.position
    else:
        return None
    if 0 < stop < len(text) and canonical(text[:stop])[0] == canon:
        return stop
    return None

def _max_length(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"max_length must be a non-negative integer, got {value!r}")
    return value


def check_smiles(smiles: str, *, tokenizer: Any = None, max_length: int = DEFAULT_MAX_LENGTH) -> RoundTripReport:
    """Round-trip one SMILES or reaction SMILES through ``tokenizer`` and RDKit.

    Args:
        smiles: the string to check.
        tokenizer: anything with ``encode``/``decode``; default ``SmilesTokenizer()``.
        max_length: longer strings are not given to RDKit; the report is ``"skipped"``.

    Example:
        >>> from chemtok import validate
        >>> validate.check_smiles("C" * 6000).status      # doctest: +SKIP
        'skipped'
        >>> validate.check_smiles("CC O").rdkit_read        # doctest: +SKIP
        2
    """
    if tokenizer is None:
        from chemtok.registry import get_tokenizer

        tokenizer = get_tokenizer("smiles")
    return _check(smiles, "smiles", tokenizer, _canonical_smiles, _max_length(max_length))


def check_inchi(inchi: str, *, tokenizer: Any = None, max_length: int = DEFAULT_MAX_LENGTH) -> RoundTripReport:
    """Round-trip one InChI through ``tokenizer`` (default ``InchiTokenizer()``) and RDKit.

    ``max_length`` as for :func:`check_smiles`.

    Example:
        >>> from chemtok import validate
        >>> validate.check_inchi("InChI=1S/CH4/h1H4\x00/c1").rdkit_read    # doctest: +SKIP
        17
    """
    if tokenizer is None:
        from chemtok.registry import get_tokenizer

        tokenizer = get_tokenizer("inchi")
    return _check(inchi, "inchi", tokenizer, _canonical_inchi, _max_length(max_length))


def check_selfies(selfies: str, *, tokenizer: Any = None, max_length: int = DEFAULT_MAX_LENGTH) -> RoundTripReport:
    """Round-trip one SELFIES through ``tokenizer`` (default ``SelfiesTokenizer()``), ``selfies`` and RDKit.

    The molecule check decodes input and output with ``selfies.decoder`` and compares
    RDKit's canonical SMILES of the two. ``max_length`` as for :func:`check_smiles`.

    Raises:
        ImportError: the ``selfies`` package is not installed.

    Example:
        >>> from chemtok import validate
        >>> report = validate.check_selfies("[C][C][O]")      # doctest: +SKIP
        >>> report.ok, report.canonical_input                  # doctest: +SKIP
        (True, 'CCO')
    """
    if tokenizer is None:
        from chemtok.registry import get_tokenizer

        tokenizer = get_tokenizer("selfies")
    return _check(selfies, "selfies", tokenizer, _canonical_selfies, _max_length(max_length))


def check_many(
    strings: Iterable[str], *, modality: str = "smiles", tokenizer: Any = None, max_length: int = DEFAULT_MAX_LENGTH
) -> ValidationSummary:
    """Check many strings; the summary numbers records from 1 in input order.

    Example:
        >>> from chemtok import validate
        >>> summary = validate.check_many(["CCO", "C" * 6000])   # doctest: +SKIP
        >>> summary.total, summary.skipped, len(summary.failures)  # doctest: +SKIP
        (2, 1, 0)
    """
    checks = {"smiles": check_smiles, "inchi": check_inchi, "selfies": check_selfies}
    if modality not in checks:
        raise ValueError(f"modality must be 'smiles', 'inchi' or 'selfies', got {modality!r}")
    check = checks[modality]
    limit = _max_length(max_length)
    summary = ValidationSummary()
    for number, text in enumerate(strings, 1):
        summary.add(number, check(text, tokenizer=tokenizer, max_length=limit))
    return summary
