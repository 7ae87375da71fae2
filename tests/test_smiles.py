"""SmilesTokenizer: atom-level lexemes, closed vocabulary, errors with positions."""

from __future__ import annotations

import csv
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import bracket_atom, smiles_like

import chemtok
from chemtok.grammar import load_smiles_grammar
from chemtok.smiles import smiles_base_tokens

tok = chemtok.SmilesTokenizer()


@pytest.mark.parametrize(
    "smiles, tokens",
    [
        ("ClCBr", ["Cl", "C", "Br"]),
        ("CCO", ["C", "C", "O"]),
        ("c1ccccc1", ["c", "1", "c", "c", "c", "c", "c", "1"]),
        ("C%10CC%10", ["C", "%10", "C", "C", "%10"]),
        ("C%(5000)CC%(5000)", ["C", "%(", "5", "0", "0", "0", ")", "C", "C", "%(", "5", "0", "0", "0", ")"]),
        ("N->[Fe]<-N", ["N", "->", "[Fe]", "<-", "N"]),
        ("CC>>CC", ["C", "C", ">>", "C", "C"]),
        ("CC>O>CC", ["C", "C", ">", "O", ">", "C", "C"]),
        ("[Na+].[Cl-]", ["[Na+]", ".", "[Cl-]"]),
        ("F/C=C\\F", ["F", "/", "C", "=", "C", "\\", "F"]),
        ("C$C", ["C", "$", "C"]),
        ("c:1:c", ["c", ":", "1", ":", "c"]),
        ("*C", ["*", "C"]),
        ("[te]1cccc1", ["[te]", "1", "c", "c", "c", "c", "1"]),
    ],
)
def test_known_segmentations(smiles: str, tokens: list[str]) -> None:
    assert tok.tokenize(smiles) == tokens
    assert tok.decode(tok.encode(smiles)) == smiles


def test_unseen_bracket_atoms_are_spelled_from_parts() -> None:
    # Not in the vocabulary as a whole: isotope, core and class become their own tokens.
    assert tok.tokenize("[CH3:12]") == ["[", "CH3", ":12", "]"]
    assert tok.tokenize("[002H]") == ["[", "0", "0", "2", "H", "]"]
    assert tok.tokenize("[NH4+:005]") == ["[", "NH4+", ":", "0", "0", "5", "]"]
    assert tok.tokenize("[Og@OH30H9+15:200]") == ["[", "Og", "@OH30", "H9", "+15", ":200", "]"]
    assert tok.tokenize("[Og+99]") == ["[", "Og", "+", "9", "9", "]"]
    assert tok.tokenize("[Ag------]") == ["[", "Ag", "-", "-", "-", "-", "-", "-", "]"]


def test_property_order_is_free_but_each_once() -> None:
    # The OpenSMILES spec quotes [C-H3] and [CH@]; they are lexically clear, so kept.
    assert "".join(tok.tokenize("[C-H3]")) == "[C-H3]"
    assert "".join(tok.tokenize("C[CH@](Br)Cl")) == "C[CH@](Br)Cl"
    with pytest.raises(chemtok.TokenizationError) as info:
        tok.encode("[CHH]")
    assert info.value.position == 3
    assert "at most one hydrogen count" in str(info.value)


@pytest.mark.parametrize(
    "smiles, position, fragment",
    [
        ("FAIL", 1, "no SMILES lexeme"),
        ("c1c[nH]c2c1fccc2", 11, "no SMILES lexeme"),
        ("C[CH3", 1, "not closed"),
        ("C[Xx]", 2, "element symbol"),
        ("[C@TB21]", 6, "chirality"),
        ("C%1", 1, "no SMILES lexeme"),
        ("C%(123456)", 1, "no SMILES lexeme"),
        ("CC O", 2, "no SMILES lexeme"),
        ("[f]", 1, "element symbol"),
    ],
)
def test_errors_name_the_position(smiles: str, position: int, fragment: str) -> None:
    with pytest.raises(chemtok.TokenizationError) as info:
        tok.encode(smiles)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.position, err.modality, err.text) == (position, "smiles", smiles)
    assert fragment in str(err)
    lines = str(err).splitlines()
    caret_line = next(line for line in lines if line.strip() == "^")
    assert caret_line.index("^") - 4 == position  # caret under the character
    assert 'on_error="fallback"' in str(err)


def test_fallback_and_skip_policies() -> None:
    smiles = "c1c[nH]c2c1fccc2"
    tokens = tok.tokenize(smiles, on_error="fallback")
    assert "<0x66>" in tokens  # the 'f'
    assert tok.decode(tok.encode(smiles, on_error="fallback")) == smiles
    assert tok.decode(tok.encode(smiles, on_error="skip")) == smiles.replace("f", "")
    assert tok.decode(tok.encode("CC§O", on_error="fallback")) == "CC§O"
    assert chemtok.SmilesTokenizer(on_error="fallback").tokenize("Cé") == ["C", "<0xC3>", "<0xA9>"]
    with pytest.raises(ValueError, match="on_error must be one of"):
        tok.encode("C", on_error="ignore")  # type: ignore[arg-type]


def test_vocabulary_is_closed_over_every_bracket_symbol() -> None:
    g = load_smiles_grammar()
    base = set(smiles_base_tokens(g))
    assert base <= set(tok.vocab)
    for symbol in g.bracket_symbols:
        for atom in (f"[{symbol}]", f"[{symbol}@@]", f"[53{symbol}H5+2]", f"[{symbol}@OH12H-3:77]"):
            tokens = tok.tokenize(atom)
            assert "".join(tokens) == atom
            assert all(t in tok.vocab for t in tokens)


def test_unknown_token_is_never_emitted_for_valid_input() -> None:
    unk = tok.token_to_id("<unk>")
    assert unk is not None
    assert unk not in tok.encode("[2H][C@@H]1CC[Os@OH5+3:9]CC1>>[13CH3-]%(100)CC%(100)")


@given(smiles_like)
def test_hyp_lossless(smiles: str) -> None:
    tokens = tok.tokenize(smiles)
    assert "".join(tokens) == smiles
    assert tok.decode(tok.encode(smiles)) == smiles


@given(bracket_atom())
def test_hyp_bracket_atoms_closed(atom: str) -> None:
    ids = tok.encode(atom)
    assert tok.decode(ids) == atom
    assert all(tok.id_to_token(i) != "<unk>" and not tok.id_to_token(i).startswith("<0x") for i in ids)


@given(st.lists(smiles_like, max_size=8))
def test_hyp_batch_equals_map(batch: list[str]) -> None:
    assert tok.encode_batch(batch) == [tok.encode(s) for s in batch]


def test_opensmiles_spec_examples(data_dir) -> None:
    """Every spec example round-trips, the ones the spec calls invalid too: lexically each
    is SMILES; validity is RDKit's call."""
    path = data_dir / "smiles" / "opensmiles_spec_examples.tsv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(lines) - 1 == 214  # one example a line after the header; no quoting joined two
    invalid = [row["smiles"] for row in rows if re.search(r"invalid|illegal", row["context"], re.IGNORECASE)]
    assert len(invalid) == 8
    for row in rows:
        smiles = row["smiles"]
        assert "".join(tok.tokenize(smiles)) == smiles, row  # a refusal raises TokenizationError: the test fails
        assert tok.decode(tok.encode(smiles)) == smiles, row


def test_repr_and_sizes() -> None:
    assert repr(tok).startswith("<SmilesTokenizer model='atom' grammar smiles@1")
    assert len(tok) == tok.vocab_size == len(tok.vocab)
    assert tok.id_to_token(tok.token_to_id("Cl")) == "Cl"
