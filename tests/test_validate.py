"""RDKit round-trip checks report structure and never crash on odd input."""

from __future__ import annotations

import pytest

pytest.importorskip("rdkit")

import chemtok  # noqa: E402
from chemtok import validate  # noqa: E402


def test_smiles_exact_and_same_molecule() -> None:
    report = validate.check_smiles("C[C@@H](N)C(=O)O")
    assert report.exact and report.same_molecule and report.parsable and report.ok
    assert report.canonical_input == report.canonical_output


def test_reaction_smiles() -> None:
    report = validate.check_smiles("[CH3:1][OH:2]>>[CH2:1]=[O:2]")
    assert report.ok and report.parsable


def test_unparsable_is_reported_not_raised() -> None:
    report = validate.check_smiles("C1CC")  # unclosed ring: lexically fine, RDKit refuses
    assert report.exact and not report.parsable and report.same_molecule is None and report.ok
    assert "RDKit" in (report.error or "")


def test_tokenization_failure_is_reported() -> None:
    report = validate.check_smiles("c1c[nH]c2c1fccc2")
    assert report.output is None and not report.exact and not report.ok
    assert "position 11" in (report.error or "")


def test_inchi() -> None:
    report = validate.check_inchi("InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3")
    assert report.ok and report.parsable


def test_a_lossy_tokenizer_is_caught() -> None:
    class Lossy:
        def encode(self, text: str) -> list[int]:
            return [ord(c) for c in text.replace("Cl", "Br")]

        def decode(self, ids: list[int]) -> str:
            return "".join(map(chr, ids))

    report = validate.check_smiles("ClCCl", tokenizer=Lossy())
    assert not report.exact and report.same_molecule is False and not report.ok


def test_check_many_summary(data_dir) -> None:
    from chemtok.io import read_records

    texts = [r.text for r in read_records(data_dir / "smiles" / "moleculenet_esol.smi.gz")][:200]
    summary = validate.check_many(texts + ["FAIL"])
    assert summary.total == 201 and summary.exact == 200 and summary.same_molecule == 200
    assert summary.tokenization_failed == 1 and summary.failures[0][0] == 201
    assert summary.as_dict()["failures"][0]["record"] == 201
    with pytest.raises(ValueError):
        validate.check_many([], modality="protein")
    assert isinstance(chemtok.validate.RoundTripReport, type)
