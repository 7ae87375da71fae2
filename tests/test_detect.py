"""chemtok.detect: what is found in unmarked text, and what is left alone."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import plain_text, smiles_like

import chemtok
from chemtok.detect import Detector, Span, detect


def found(text: str, **options: object) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.modality) for s in detect(text, **options)]  # type: ignore[arg-type]


# -- context cases --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a SMILES ending a sentence keeps its last atom, not the full stop
        ("Its SMILES is CCO.", [("CCO", "smiles")]),
        ("The SMILES string of ethylene glycol is OCCO, a diol.", [("OCCO", "smiles")]),
        ("SMILES: CC(C)O", [("CC(C)O", "smiles")]),
        # a line holding only a molecule
        ("Ethanol\nCCO\nboils at 78 C.", [("CCO", "smiles")]),
        ("OCCO", [("OCCO", "smiles")]),
        # a table cell
        ("| name | smiles |\n| ethanol | CCO |", [("CCO", "smiles")]),
        ("ethanol\tCCO\t46.07", [("CCO", "smiles")]),
        # structure speaks for itself, in parentheses or before a comma
        ("Aspirin (CC(=O)Oc1ccccc1C(=O)O) inhibits COX-1.", [("CC(=O)Oc1ccccc1C(=O)O", "smiles")]),
        ("Benzene, c1ccccc1, is aromatic.", [("c1ccccc1", "smiles")]),
        ("Salt: [Na+].[Cl-]", [("[Na+].[Cl-]", "smiles")]),
        ("What is the molecule [Sm+3]?", [("[Sm+3]", "smiles")]),
        # reaction SMILES
        ("The step CCO.CC(=O)O>[H+]>CCOC(C)=O.O gives ethyl acetate.", [("CCO.CC(=O)O>[H+]>CCOC(C)=O.O", "smiles")]),
        ("[CH3:1][OH:2]>>[CH2:1]=[O:2]", [("[CH3:1][OH:2]>>[CH2:1]=[O:2]", "smiles")]),
        # InChI, prefix-anchored, without the sentence's full stop
        ("Ethanol is InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3.", [("InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3", "inchi")]),
        # nucleotides and proteins
        ("The primer ATGGCGTACGTTAGCCTAGGAT binds.", [("ATGGCGTACGTTAGCCTAGGAT", "dna")]),
        ("An RNA AUGGCGUACGUUAGCCUAGGAU here.", [("AUGGCGUACGUUAGCCUAGGAU", "dna")]),
        ("Insulin B chain: FVNQHLCGSHLVEALYLVCGERGFFYTPKT.", [("FVNQHLCGSHLVEALYLVCGERGFFYTPKT", "protein")]),
        ('the protein sequences "APDHDVTQERDEVWVVGM" and more', [("APDHDVTQERDEVWVVGM", "protein")]),
    ],
)
def test_context_cases(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


# -- look-alikes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # molecular formulas
        "The formula is C24H38N4O8S4.",
        "Plants take up CO2 and release O2.",
        "Carbon tetrachloride (CCl4) and SF6 and N2O2 and P4O10.",
        "The sample was 10-20 mg/kg (n = 5) at p>0.05.",
        # abbreviations and gene/protein names
        "COX-1 and COX-2 make PGH2; NO and CN are ligands.",
        "BRCA1, TP53, IL-6, CD4 and NF-kB were measured in SCN cells.",
        "AMPK inhibitor compound C blocked it; compound N,N-diethyl-amine did not.",
        # IUPAC names
        "(S)-ropivacaine is a 2-methylpropan-1-ol derivative; 1,2-dimethylhydrazine (1,2-DMH).",
        "beta-D-glucosyl-(1->3)-4-O-acetyl-6-deoxy-2-O-methyl-alpha-L-talosyl",
        # English words that are valid SMILES
        "I think no one saw CC on the copy; Cs and No are elements. So on.",
        "II\nIII\nCC\nNO\n",
        # words of capitals
        "ETHNOPHARMACOLOGICAL RELEVANCE: FUNCTION of the SPACRCAN.",
        "ACKNOWLEDGEMENTS AND REFERENCES",
        # a radioligand name and a SELFIES string
        "[125I]PIC binding was reduced.",
        "[C][C][O] is a SELFIES string.",
        # an InChIKey is not an InChI
        "LFQSCWFLJHTTHZ-UHFFFAOYSA-N",
    ],
)
def test_look_alikes_are_not_detected(text: str) -> None:
    assert found(text) == []


def test_dna_and_protein_told_apart() -> None:
    text = "DNA ACGTACGTTTGACCAGTAGGCA and protein MKTAYIAKQRQISFVKSHFSRQLEERLG."
    assert [m for _, m in found(text)] == ["dna", "protein"]


def test_options() -> None:
    text = "Ethanol CC(O)C and ATGGCGTACGTTAGCCTAGGAT."
    assert [m for _, m in found(text, modalities=("dna",))] == ["dna"]
    assert [m for _, m in found(text, modalities=("smiles",))] == ["smiles"]
    assert found(text, min_length=30) == []
    assert [m for _, m in found(text, min_length={"smiles": 10})] == ["dna"]
    with pytest.raises(ValueError, match="choose from"):
        Detector(modalities=("selfies",))
    with pytest.raises(TypeError):
        detect(b"CCO")  # type: ignore[arg-type]


def test_span_fields() -> None:
    (span,) = detect("SMILES: CCO")
    assert span == Span(8, 11, "smiles", 0.7, "smiles-cue")
    (span,) = detect("see CC(=O)O")
    assert (span.score, span.cue) == (1.0, "structure")


def test_rdkit_confirmation() -> None:
    pytest.importorskip("rdkit")
    # Lexically and structurally fine, but carbon with five bonds: RDKit refuses it.
    text = "odd: C(C)(C)(C)(C)C here"
    assert found(text) == [("C(C)(C)(C)(C)C", "smiles")]
    assert found(text, rdkit=True) == []


# -- properties -----------------------------------------------------------------------


@given(st.lists(st.one_of(plain_text, smiles_like), max_size=6).map(" ".join))
def test_hyp_spans_are_ordered_disjoint_and_tokenize(text: str) -> None:
    spans = detect(text)
    tokenizers = {
        "smiles": chemtok.SmilesTokenizer(),
        "inchi": chemtok.InchiTokenizer(),
        "protein": chemtok.ProteinTokenizer(),
        "dna": chemtok.DnaTokenizer(),
    }
    for a, b in itertools.pairwise(spans):
        assert a.end <= b.start
    for span in spans:
        piece = text[span.start : span.end]
        assert piece and "".join(tokenizers[span.modality].tokenize(piece)) == piece
