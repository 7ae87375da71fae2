"""RDKit round-trip checks: does the tokenizer give back the same string and molecule?

For a SMILES (or reaction SMILES) the check tokenizes, decodes, and asks two things:
is the output the same string, and does RDKit read input and output as the same
molecule (equal canonical SMILES)? For an InChI: the same string, and RDKit reads both
to the same InChI. Strings RDKit cannot parse are reported as such, never raised.

RDKit is imported when a check runs, not when chemtok is imported.

Example:
    >>> from chemtok import validate
    >>> report = validate.check_smiles("C[C@@H](N)C(=O)O")      # doctest: +SKIP
    >>> report.exact, report.same_molecule, report.ok            # doctest: +SKIP
    (True, True, True)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from chemtok.errors import ChemtokError

__all__ = ["RoundTripReport", "ValidationSummary", "check_smiles", "check_inchi", "check_many", "rdkit_quiet"]


@dataclass(frozen=True)
class RoundTripReport:
    """The result of one round-trip check.

    Attributes:
        input: the string checked.
        modality: ``"smiles"`` or ``"inchi"``.
        output: ``decode(encode(input))``, or ``None`` when tokenization failed.
        exact: ``output == input``.
        parsable: RDKit could read the input.
        same_molecule: RDKit reads input and output as the same molecule (canonical
            SMILES or InChI equal); ``None`` when RDKit cannot read the input.
        canonical_input: RDKit's canonical form of the input (``None`` if unreadable).
        canonical_output: RDKit's canonical form of the output.
        error: why tokenization or RDKit failed, if it did.
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

    @property
    def ok(self) -> bool:
        """Exact round trip, and no molecule-level disagreement RDKit could see."""
        return self.exact and self.same_molecule is not False


@dataclass
class ValidationSummary:
    """Counts over many checks, and every report that was not ``ok`` or not parsable."""

    total: int = 0
    exact: int = 0
    same_molecule: int = 0
    unparsable: int = 0
    tokenization_failed: int = 0
    failures: list[tuple[int, RoundTripReport]] = field(default_factory=list)

    def add(self, number: int, report: RoundTripReport) -> None:
        self.total += 1
        self.exact += report.exact
        self.same_molecule += bool(report.same_molecule)
        self.unparsable += not report.parsable
        self.tokenization_failed += report.output is None
        if not report.ok:
            self.failures.append((number, report))

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "exact_roundtrip": self.exact,
            "same_molecule": self.same_molecule,
            "unparsable_by_rdkit": self.unparsable,
            "tokenization_failed": self.tokenization_failed,
            "failures": [
                {
                    "record": number,
                    "input": r.input,
                    "output": r.output,
                    "exact": r.exact,
                    "same_molecule": r.same_molecule,
                    "error": r.error,
                }
                for number, r in self.failures
            ],
        }


@contextlib.contextmanager
def rdkit_quiet() -> Iterator[None]:
    """Silence RDKit's parser messages inside the block (restored afterwards)."""
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    try:
        yield
    finally:
        RDLogger.EnableLog("rdApp.*")


def _canonical_smiles(smiles: str) -> tuple[str | None, str | None]:
    """RDKit's canonical form of a molecule or reaction SMILES, or ``(None, why)``."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    try:
        if ">" in smiles.replace("->", "").replace("<-", ""):
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


def _canonical_inchi(inchi: str) -> tuple[str | None, str | None]:
    from rdkit import Chem

    try:
        mol = Chem.MolFromInchi(inchi, sanitize=True)
        if mol is None:
            return None, "RDKit cannot read this InChI"
        return Chem.MolToInchi(mol), None
    except Exception as err:
        return None, f"RDKit failed: {err}"


def _check(text: str, modality: str, tokenizer: Any, canonical: Any) -> RoundTripReport:
    try:
        output: str | None = tokenizer.decode(tokenizer.encode(text))
        error = None
    except ChemtokError as err:
        output, error = None, str(err).splitlines()[0]
    exact = output == text
    with rdkit_quiet():
        canon_in, why = canonical(text)
        canon_out = None
        if canon_in is not None and output is not None:
            canon_out, _ = canonical(output)
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
        error=error or why,
    )


def check_smiles(smiles: str, *, tokenizer: Any = None) -> RoundTripReport:
    """Round-trip one SMILES or reaction SMILES through ``tokenizer`` and RDKit.

    Args:
        smiles: the string to check.
        tokenizer: anything with ``encode``/``decode``; default ``SmilesTokenizer()``.
    """
    if tokenizer is None:
        from chemtok.registry import get_tokenizer

        tokenizer = get_tokenizer("smiles")
    return _check(smiles, "smiles", tokenizer, _canonical_smiles)


def check_inchi(inchi: str, *, tokenizer: Any = None) -> RoundTripReport:
    """Round-trip one InChI through ``tokenizer`` (default ``InchiTokenizer()``) and RDKit."""
    if tokenizer is None:
        from chemtok.registry import get_tokenizer

        tokenizer = get_tokenizer("inchi")
    return _check(inchi, "inchi", tokenizer, _canonical_inchi)


def check_many(strings: Iterable[str], *, modality: str = "smiles", tokenizer: Any = None) -> ValidationSummary:
    """Check many strings; the summary numbers records from 1 in input order."""
    if modality not in ("smiles", "inchi"):
        raise ValueError(f"modality must be 'smiles' or 'inchi', got {modality!r}")
    check = check_smiles if modality == "smiles" else check_inchi
    summary = ValidationSummary()
    for number, text in enumerate(strings, 1):
        summary.add(number, check(text, tokenizer=tokenizer))
    return summary
