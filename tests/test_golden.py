"""Golden files pin exact token boundaries and ids for representative inputs.

A vocabulary or grammar change shows up here as a reviewed diff, never as silently
shifted ids. Regenerate with ``pytest tests/test_golden.py --update-golden``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import default_tokenizers

GOLDEN = Path(__file__).parent / "golden"

INPUTS = {
    "smiles": [
        "C", "CCO", "ClCBr", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "C[C@@H](N)C(=O)O", "N[C@H](C)C(=O)O",
        "F/C=C/F", "F\\C=C/F", "C#N", "[Na+].[Cl-]", "[NH4+]", "[O-][N+](=O)c1ccccc1", "c1ccc2[nH]ccc2c1",
        "[2H]C([2H])([2H])O", "[13CH4]", "[238U]", "[002H]", "C%10CCCCC%10", "C%(123)CC%(123)",
        "C%(5000)CC%(5000)", "[Fe]<-N", "N->[Pt](Cl)(Cl)<-N", "[Co@OH15](F)(Cl)(Br)(I)(N)S",
        "[As@TB20](F)(Cl)(Br)(N)S", "[CH3:1][OH:2]>>[CH2:1]=[O:2]", "CCO>[H+]>CC=O", "[cH:6]1[cH:7]ccc[n:8]1",
        "[Te++++]1[O-]CC[O-]1", "[se]1cccc1", "[te]1cccc1", "C1=CC=CC=C1", "*C(*)=O", "[*:1]CC[*:2]",
        "c1cc[i+]cc1", "[C-H3]", "C[CH@](Br)Cl", "[Og]", "OS(=O)(=S)O", "C$C", "c:1:c:c:c:c:c:1",
    ],
    "inchi": [
        "InChI=1S/CH4/h1H4",
        "InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3",
        "InChI=1S/C9H8O4/c1-6(10)13-8-5-3-2-4-7(8)9(11)12/h2-5H,1H3,(H,11,12)",
        "InChI=1S/C3H7NO2/c1-2(4)3(5)6/h2H,4H2,1H3,(H,5,6)/t2-/m0/s1",
        "InChI=1S/Na.H2O/h;1H2/q+1;/p-1",
        "InChI=1/C5H5N5O/c6-5-9-3-2(4(11)10-5)7-1-8-3/h1H,(H4,6,7,8,9,10,11)/f/h8,10H,6H2",
        "InChI=1/C6H13N3O/c1-8(2)5-6(10)7-9(3)4/h5H,1-4H3/p+1/fC6H14N3O/h10H/q+1",
        "InChI=1/CH4N2O/c2-1(3)4/h(H4,2,3,4)/i/hD2/f/h2-3H2/i2D2",
        "InChI=1S/C4H8/c1-3-4-2/h3-4H,1-2H3/b4-3+",
        "InChI=1/C6H6O5/c7-1-2-3(5(8)9)4(2)6(10)11/h1,3-4,7H,(H,8,9)(H,10,11)/b2-1?/t3?,4?/i3+1/hD/b2-1-/f/h8,10H/i3+1,8D/bM",
        "InChI=1/2C7H6NO2.Cu/c2*8-6-4-2-1-3-5(6)7(9)10;/h2*1-4,8H,(H,9,10);/q2*-1;+1/p-2",
        "InChI=1S/C12345H2",
    ],
    "protein": ["M", "MKTAYIAKQRQISFVKSHFSRQ", "GIVEQCCTSICSLYQLENYCN", "MAX*BZJUO-", "mktayiakqr", "ACDEFGHIKLMNPQRSTVWY"],
    "dna": ["A", "ACGT", "ACGTacgtNNNN", "AUGGCCAUUGUAAUGGGCCGCUGAAAGGGUGCCCGAUAG", "RYSWKMBDHVN-", "%CAGG"],
    "chem": [
        "[START_SMILES]CCO[END_SMILES]",
        "Aspirin is [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES].",
        "Alanine: [START_I_SMILES]C[C@@H](N)C(=O)O[END_I_SMILES]",
        "[START_AMINO]MKTAYIAKQR[END_AMINO] binds [START_DNA]ACGTTGCA[END_DNA]",
        "Methane [START_INCHI]InChI=1S/CH4/h1H4[END_INCHI]",
        "<work>2 + 2 = 4</work> [START_REF]Taylor et al. 2022[END_REF]",
        "Carbon C in SMILES [START_SMILES]C[END_SMILES] and cysteine C [START_AMINO]C[END_AMINO].",
        "Unicode: 漢字, émigré, 🧪, α-helix at 37 °C.",
    ],
}
TOKENIZERS = default_tokenizers()


def _entry(name: str, text: str) -> dict[str, object]:
    tok = TOKENIZERS[name]
    return {"input": text, "tokens": tok.tokenize(text), "ids": tok.encode(text), "grammar": tok.grammar_tag}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_golden(name: str, update_golden: bool) -> None:
    path = GOLDEN / f"{name}.jsonl"
    current = [_entry(name, text) for text in INPUTS[name]]
    if update_golden:
        path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in current), encoding="utf-8")
    if not path.exists():
        pytest.fail(f"{path} is missing: run pytest tests/test_golden.py --update-golden and review the diff")
    stored = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [e["input"] for e in stored] == INPUTS[name], "golden inputs changed: regenerate with --update-golden"
    for old, new in zip(stored, current):
        assert new == old, f"{name} golden differs for {old['input']!r}: regenerate with --update-golden if intended"
