"""RDKit round-trip checks report structure and never crash on odd input."""

from __future__ import annotations

import pytest

pytest.importorskip("rdkit")
pytestmark = pytest.mark.rdkit

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
    number, failed = summary.failures[0]
    assert (number, failed.input, failed.output, failed.exact) == (201, "FAIL", None, False)
    assert "position 1" in (failed.error or "")
    entry = summary.as_dict()["failures"][0]
    assert (entry["record"], entry["input"], entry["output"], entry["error"]) == (201, "FAIL", None, failed.error)
    with pytest.raises(ValueError):
        validate.check_many([], modality="protein")


def test_long_records_are_skipped_not_parsable() -> None:
    long = "C" * (validate.DEFAULT_MAX_LENGTH + 1)
    report = validate.check_smiles(long)
    assert report.status == "skipped" and report.skipped
    assert not report.parsable and report.same_molecule is None and report.canonical_input is None
    assert report.exact  # the tokenizer round trip is still checked
    assert "max_length=5,000" in (report.error or "")
    assert validate.check_smiles("CCO", max_length=2).skipped
    assert not validate.check_smiles("CCO", max_length=3).skipped
    assert validate.check_inchi("InChI=1S/CH4/h1H4", max_length=5).skipped


def test_a_skipped_record_that_does_not_round_trip_is_still_a_failure() -> None:
    class Lossy:
        def encode(self, text: str) -> list[int]:
            return [ord(c) for c in text[:-1]]

        def decode(self, ids: list[int]) -> str:
            return "".join(map(chr, ids))

    report = validate.check_smiles("CCCC", tokenizer=Lossy(), max_length=2)
    assert report.skipped and not report.exact and not report.ok


def test_skipped_records_are_counted_apart() -> None:
    summary = validate.check_many(["CCO", "CCCCCC", "C1CC"], max_length=5)
    assert (summary.total, summary.skipped, summary.unparsable, len(summary.failures)) == (3, 1, 1, 0)
    result = summary.as_dict()
    assert result["skipped"] == 1 and result["unparsable_by_rdkit"] == 1
    assert result["skipped_records"] == [{"record": 2, "length": 6, "exact": True, "reason": summary.skipped_records[0][1].error}]
    with pytest.raises(ValueError):
        validate.check_many(["C"], max_length=-1)


@pytest.mark.parametrize(
    "smiles, read",
    [
        ("C😀", 1),  # RDKit drops an unknown trailing character and reads methane
        ("Cé", 1),
        ("C\x01", 1),
        ("CC O", 2),  # after whitespace RDKit reads a name
        ("CCO\tethanol", 3),
    ],
)
def test_rdkit_reading_a_prefix_is_a_disagreement(smiles: str, read: int) -> None:
    for tokenizer in (None, chemtok.SmilesTokenizer(on_error="fallback")):  # fallback: an exact round trip
        report = validate.check_smiles(smiles, tokenizer=tokenizer)
        assert report.rdkit_read == read and not report.parsable and not report.ok
        assert report.canonical_input is None and report.same_molecule is None
        assert f"RDKit read only the first {read} of {len(smiles)} characters" in (report.error or "")
    summary = validate.check_many([smiles, "CCO"])
    assert summary.rdkit_prefix == 1 and summary.unparsable == 0 and [n for n, _ in summary.failures] == [1]
    assert summary.as_dict()["failures"][0]["rdkit_read"] == read


def test_rdkit_reading_the_whole_string_is_not_a_prefix() -> None:
    assert validate.check_smiles("C[C@@H](N)C(=O)O").rdkit_read is None
    assert validate.check_smiles("CC§C").rdkit_read is None  # RDKit refuses it: unparsable, not a prefix
    assert not validate.check_smiles("CC§C").parsable


@pytest.mark.parametrize(
    "inchi, read",
    [("InChI=1S/CH4/h1H4\x00/c1", 17), ("InChI=1S/CH4\x00garbage", 12)],
)
def test_inchi_with_a_nul_is_read_only_up_to_it(inchi: str, read: int) -> None:
    for tokenizer in (None, chemtok.InchiTokenizer(on_error="fallback")):
        report = validate.check_inchi(inchi, tokenizer=tokenizer)
        assert report.rdkit_read == read and not report.parsable and not report.ok
