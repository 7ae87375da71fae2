"""Safe column choice and the "wrong column or modality?" hint (chemtok.io.columns)."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest
from conftest import DATA as SHARED

from chemtok.io.columns import (
    FALLBACK_MAX_FOREIGN,
    ColumnChoice,
    ColumnChoiceError,
    column_modalities,
    failure_hint,
    foreign_fraction,
    infer_column,
    modality_of_column,
)

# The headers of the shared tables and JSON Lines files (first line / first object's keys).
SHARED_HEADERS = {
    "inchi/generated_rdkit_standard.tsv.gz": ["smiles", "options", "inchi", "inchikey"],
    "inchi/generated_rdkit_nonstandard.tsv.gz": ["smiles", "options", "inchi", "inchikey"],
    "inchi/iupac_regression_reference.inchi.tsv.gz": ["inchi", "inchikey", "auxinfo"],
    "inchi/rdkit_pubchem_hard_set.inchi.tsv.gz": ["inchi", "inchikey"],
    "inchi/iupac_docs_examples.inchi.tsv": ["inchi", "inchikey", "document"],
    "smiles/hard_cases.tsv.gz": ["smiles", "features", "from_file"],
    "smiles/opensmiles_spec_examples.tsv": ["smiles", "context"],
}


def _tsv_header(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return handle.readline().rstrip("\n").split("\t")


@pytest.mark.parametrize("name", sorted(SHARED_HEADERS))
def test_the_shared_headers_are_what_the_tests_assume(name: str) -> None:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    assert _tsv_header(path) == SHARED_HEADERS[name]


@pytest.mark.parametrize(
    ("header", "modality", "expected"),
    [
        (["smiles", "options", "inchi", "inchikey"], "inchi", ("inchi", 2, "inchi")),
        (["smiles", "options", "inchi", "inchikey"], "smiles", ("smiles", 0, "smiles")),
        (["inchi", "inchikey", "auxinfo"], None, ("inchi", 0, "inchi")),
        (["inchi", "inchikey"], "inchi", ("inchi", 0, "inchi")),
        (["inchi", "inchikey", "document"], None, ("inchi", 0, "inchi")),
        (["smiles", "features", "from_file"], None, ("smiles", 0, "smiles")),
        (["smiles", "context"], "smiles", ("smiles", 0, "smiles")),
        # JSON Lines keys of the shared text files
        (["source", "split", "cid", "smiles", "smiles_unescaped", "text"], "text", ("text", 5, "text")),
        (["source", "split", "cid", "smiles", "smiles_unescaped", "text"], "mixed", ("text", 5, "mixed")),
        (["constructed", "template", "from", "text"], "mixed", ("text", 3, "mixed")),
        (["source", "pmid", "title", "text"], "text", ("text", 3, "text")),
        (
            ["source", "accession", "entry_name", "description", "organism", "comments", "keywords", "sequence"],
            "protein",
            ("sequence", 7, "protein"),
        ),
        (
            ["source", "accession", "entry_name", "description", "organism", "comments", "keywords", "sequence"],
            "text",
            ("description", 3, "text"),
        ),
        # MoleculeNet / ChEMBL / PubChem style
        (["Compound ID", "measured log solubility", "smiles"], None, ("smiles", 2, "smiles")),
        (["mol_id", "smiles", "A", "B"], None, ("smiles", 1, "smiles")),
        (
            ["molregno", "canonical_smiles", "standard_inchi", "standard_inchi_key"],
            "smiles",
            ("canonical_smiles", 1, "smiles"),
        ),
        (
            ["molregno", "canonical_smiles", "standard_inchi", "standard_inchi_key"],
            "inchi",
            ("standard_inchi", 2, "inchi"),
        ),
        (["CID", "IsomericSMILES", "InChIKey"], None, ("IsomericSMILES", 1, "smiles")),
        (["CID", "InChI", "InChIKey"], None, ("InChI", 1, "inchi")),
        (["id", "rxn_smiles", "yield"], None, ("rxn_smiles", 1, "smiles")),
        (["reaction_smiles", "class"], "smiles", ("reaction_smiles", 0, "smiles")),
        (["rxn", "yield"], None, ("rxn", 0, "smiles")),
        (["name", "aa_seq"], None, ("aa_seq", 1, "protein")),
        (["Target Sequence", "Drug"], "protein", ("Target Sequence", 0, "protein")),
        (["gene", "dna_sequence"], None, ("dna_sequence", 1, "dna")),
        (["id", "nucleotide_sequence"], "dna", ("nucleotide_sequence", 1, "dna")),
        (["RNA", "label"], None, ("RNA", 0, "dna")),
        (["seq_id", "seq"], "dna", ("seq", 1, "dna")),
        (["pmid", "abstract"], "text", ("abstract", 1, "text")),
        (["\ufeffsmiles", "id"], "smiles", ("\ufeffsmiles", 0, "smiles")),  # a BOM the reader left in
        (["SMILES"], None, ("SMILES", 0, "smiles")),
        (["structure"], "smiles", ("structure", 0, "smiles")),  # the only column
    ],
)
def test_infer_column_on_realistic_headers(
    header: list[str], modality: str | None, expected: tuple[str, int, str]
) -> None:
    choice = infer_column(header, modality)
    assert (choice.name, choice.index, choice.modality) == expected


def test_issue_example_id_smiles_csv_chooses_smiles_never_the_ids() -> None:
    header = next(csv.reader(io.StringIO("id,smiles\n12345,CCO\n")))
    assert infer_column(header, "smiles") == ColumnChoice("smiles", 1, "smiles", "its name")
    assert column_modalities("id") == frozenset()


@pytest.mark.parametrize(
    "name",
    [
        "id",
        "ID",
        "mol_id",
        "Compound ID",
        "smiles_id",
        "inchikey",
        "InChIKey",
        "standard_inchi_key",
        "InChI_AuxInfo",
        "smiles_length",
        "num_smiles",
        "text_id",
    ],
)
def test_ids_keys_and_statistics_are_never_chosen(name: str) -> None:
    assert column_modalities(name) == frozenset()
    with pytest.raises(ColumnChoiceError):
        infer_column([name], "smiles")


def test_several_candidates_is_an_error_naming_them() -> None:
    with pytest.raises(ColumnChoiceError) as caught:
        infer_column(["source", "cid", "smiles", "smiles_unescaped", "text"], "smiles")
    err = caught.value
    assert isinstance(err, ValueError)
    assert err.candidates == ("smiles", "smiles_unescaped")
    assert str(err) == (
        "several columns could hold smiles records: 'smiles', 'smiles_unescaped'; pass --column NAME to choose one"
    )


def test_case_variants_of_one_name_are_two_candidates() -> None:
    with pytest.raises(ColumnChoiceError, match="'SMILES', 'smiles'"):
        infer_column(["SMILES", "smiles"], None)


def test_without_modality_columns_of_two_modalities_are_ambiguous() -> None:
    with pytest.raises(ColumnChoiceError) as caught:
        infer_column(["smiles", "options", "inchi", "inchikey"], None)
    assert caught.value.candidates == ("smiles", "inchi")
    assert "pass --column NAME" in str(caught.value)


def test_no_candidate_lists_the_columns() -> None:
    with pytest.raises(ColumnChoiceError) as caught:
        infer_column(["source", "task", "instruction", "input", "output"], "text")
    assert str(caught.value) == (
        "no column name says it holds text records; the columns are 'source', 'task', 'instruction', 'input', "
        "'output'. Pass --column NAME"
    )
    assert caught.value.candidates == ()


def test_no_candidate_names_the_columns_of_other_modalities() -> None:
    with pytest.raises(ColumnChoiceError) as caught:
        infer_column(["id", "inchi"], "smiles")
    assert str(caught.value) == (
        "no column name says it holds smiles records; the columns are 'id', 'inchi'; 'inchi' looks like inchi. "
        "Pass --column NAME"
    )


def test_the_only_column_is_not_taken_when_it_names_another_modality() -> None:
    with pytest.raises(ColumnChoiceError, match="'inchi' looks like inchi"):
        infer_column(["inchi"], "smiles")


def test_the_only_column_needs_a_modality_when_its_name_says_none() -> None:
    with pytest.raises(ColumnChoiceError, match=r"Pass --column NAME and --modality M"):
        infer_column(["structure"], None)


@pytest.mark.parametrize(
    ("header", "options"),
    [(["seq"], "--modality protein or --modality dna"), (["text"], "--modality text or --modality mixed")],
)
def test_a_column_of_two_possible_modalities_asks_for_one(header: list[str], options: str) -> None:
    with pytest.raises(ColumnChoiceError) as caught:
        infer_column(header, None)
    assert str(caught.value).endswith(f"pass {options}")


def test_empty_header_and_unknown_modality_are_errors() -> None:
    with pytest.raises(ColumnChoiceError, match="no columns"):
        infer_column([], "smiles")
    with pytest.raises(ColumnChoiceError, match="unknown modality 'deepsmiles'"):
        infer_column(["smiles"], "deepsmiles")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("smiles", "smiles"),
        ("canonicalsmiles", "smiles"),
        ("CanonicalSMILES", "smiles"),
        ("smiles_canonical", "smiles"),
        ("std_inchi", "inchi"),
        ("StdInChI", "inchi"),
        ("protein_sequence", "protein"),
        ("dna", "dna"),
        ("sequence", None),
        ("text", None),
        ("InChIKey", None),
        ("label", None),
        (None, None),
    ],
)
def test_modality_of_column(name: str | None, expected: str | None) -> None:
    assert modality_of_column(name) == expected


# -- foreign characters and the hint ----------------------------------------------------------


@pytest.mark.parametrize(
    ("modality", "text", "expected"),
    [
        ("smiles", "CC(=O)O", 0.0),
        ("smiles", "CC(=O)O\u00a7", 1 / 8),
        ("smiles", "ethanol", 5 / 7),  # e t h a l are foreign; n and o are aromatic atoms
        ("inchi", "InChI=1S/CH4/h1H4", 0.0),
        ("inchi", "CCCCCCCCCCCCCCCC", 1.0),  # no prefix: the lexer alone would find 1 of 16 foreign
        ("dna", "ACGTACGTMKVL", 1 / 12),  # M K V are IUPAC ambiguity codes; L is not
        ("protein", "MKV*", 0.0),
        ("protein", "MKV1", 1 / 4),
        ("smiles", "", 0.0),
    ],
)
def test_foreign_fraction(modality: str, text: str, expected: float) -> None:
    import chemtok

    assert foreign_fraction(modality, text) == pytest.approx(expected)
    assert foreign_fraction(chemtok.get_tokenizer(modality), text) == pytest.approx(expected)


def test_the_text_model_has_nothing_foreign() -> None:
    assert foreign_fraction("text", "ethanol \u00a7 CCO") == 0.0


def test_foreign_fraction_counts_characters_not_bytes() -> None:
    assert foreign_fraction("smiles", "CC\u00e9") == pytest.approx(1 / 3)  # é is two UTF-8 bytes, one character


def test_hint_for_a_stray_character_recommends_fallback() -> None:
    hint = failure_hint(["CC(=O)Oc1ccccc1C(=O)O\u2013"], modality="smiles", all_failed=False)
    assert foreign_fraction("smiles", "CC(=O)Oc1ccccc1C(=O)O\u2013") <= FALLBACK_MAX_FOREIGN
    assert hint.startswith("Pass --on-error fallback")
    assert "Wrong column" not in hint


def test_issue_example_inchi_tsv_forced_onto_its_smiles_column() -> None:
    """``--modality inchi`` on a TSV whose first column is SMILES: the InChI column is chosen;
    forced onto the SMILES column, the hint says wrong column and does not recommend fallback."""
    header = ["smiles", "options", "inchi", "inchikey"]
    assert infer_column(header, "inchi").name == "inchi"
    texts = ["COc1c(OC)c(OC(C)=O)c2cc(Cl)ccc2c1OC(C)=O", "CCO", "CCCCCCCCCCCCCCCC(=O)O"]
    hint = failure_hint(texts, modality="inchi", all_failed=True, header=header, column="smiles")
    assert hint.splitlines()[0] == (
        "Wrong column or modality? Every record so far failed as inchi, reading column 'smiles' of columns "
        "'smiles', 'options', 'inchi', 'inchikey'."
    )
    assert "Column 'inchi' looks like inchi: pass --column inchi." in hint
    assert "read cleanly as smiles" in hint
    assert "--on-error fallback is not recommended" in hint
    assert "Pass --on-error fallback" not in hint


def test_issue_example_id_column_forced_under_smiles_is_caught_by_column_choice_not_the_grammar() -> None:
    import chemtok

    # ids are valid SMILES (ring bonds): no failure, no hint; only the header can refuse them
    assert chemtok.get_tokenizer("smiles").tokenize("12345") == ["1", "2", "3", "4", "5"]
    assert infer_column(["id", "smiles"], "smiles").name == "smiles"


def test_inchi_read_as_smiles_is_not_offered_fallback_even_when_little_is_foreign() -> None:
    inchi = "InChI=1S/C16H15ClO6/c1-8(18)22-13-11-6-5-10(17)7-12(11)14(23-9(2)19)16(21-4)15(13)20-3/h5-7H,1-4H3"
    assert foreign_fraction("smiles", inchi) <= FALLBACK_MAX_FOREIGN  # why the cross-check is needed
    hint = failure_hint([inchi], modality="smiles", all_failed=True, header=["inchi"], column="inchi")
    assert "read cleanly as inchi: pass --modality inchi" in hint
    assert "Pass --on-error fallback" not in hint
    assert "the failing records are inchi, not smiles" in hint


def test_text_read_as_smiles_is_mostly_foreign() -> None:
    texts = ["The molecule is a member of the class of pterocarpans."]
    hint = failure_hint(texts, modality="smiles", all_failed=False)
    assert "Wrong column" not in hint
    assert "not recommended: up to" in hint and "foreign to the smiles grammar" in hint
    assert hint.endswith("Pass --on-error skip --errors FILE to leave failing records out and list them.")


def test_text_and_mixed_never_get_fallback_advice() -> None:
    for modality in ("text", "mixed"):
        hint = failure_hint(["[START_SMILES]CCO"], modality=modality, all_failed=False)
        assert "fallback" not in hint


def test_hint_lists_several_fitting_columns() -> None:
    hint = failure_hint(
        ["x"], modality="smiles", all_failed=True, header=["x", "smiles", "canonical_smiles"], column="x"
    )
    assert "Columns 'smiles', 'canonical_smiles' look like smiles: pass --column NAME." in hint


def test_a_protein_read_as_dna_is_sent_to_the_protein_grammar() -> None:
    protein = "MKVLAAGIVALLLAAGCSSSKEETKPAEEAPKAEEPAAEEAPAETAAPAAETPAPAETETKTEETAAE"
    hint = failure_hint([protein], modality="dna", all_failed=True, header=["name", "sequence"], column="sequence")
    assert "read cleanly as protein: pass --modality protein" in hint
    assert "Pass --on-error fallback" not in hint
