"""Protein and DNA tokenizers: one token per letter, case kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from strategies import sequence_like

import chemtok
from chemtok.sequence import SequenceTokenizer

protein = chemtok.ProteinTokenizer()
dna = chemtok.DnaTokenizer()


def test_protein_alphabet() -> None:
    seq = "MKTAYIAKQRQISFVKSHFSRQBZJUOX*-"
    assert protein.tokenize(seq) == list(seq)
    assert protein.decode(protein.encode(seq)) == seq


def test_soft_masked_lowercase_survives() -> None:
    assert dna.decode(dna.encode("ACGTacgtNNnn")) == "ACGTacgtNNnn"
    assert dna.encode("a") != dna.encode("A")


def test_modalities_have_their_own_alphabets() -> None:
    with pytest.raises(chemtok.TokenizationError) as info:
        dna.encode("ACGTE")
    assert (info.value.position, info.value.modality) == (4, "dna")
    with pytest.raises(chemtok.TokenizationError) as info:
        protein.encode("MKT AYI")
    assert info.value.position == 3


@given(sequence_like("protein"))
def test_hyp_protein_lossless(seq: str) -> None:
    assert protein.decode(protein.encode(seq)) == seq


@given(sequence_like("dna"))
def test_hyp_dna_lossless(seq: str) -> None:
    assert dna.decode(dna.encode(seq)) == seq


# One case per rule listed in grammars/protein.toml and grammars/dna.toml:
# (rule, sequence); each must round-trip, one token per character, identically in
# both engines.
PROTEIN_RULES = [
    ("20 standard residues", "ACDEFGHIKLMNPQRSTVWY"),
    ("ambiguity and rare residues B Z J U O X", "BZJUOX"),
    ("translation stop", "MKTAYIAK*"),
    ("FASTA gap", "MKT--AYI"),
    ("alignment gap '.' (A2M/Stockholm)", "MKT..AYI"),
    ("both gaps and lowercase inserts (A2M)", "MK-t.ay..I-"),
]
DNA_RULES = [
    ("bases A C G T U", "ACGTU"),
    ("ambiguity codes", "RYSWKMBDHVN"),
    ("FASTA gap", "ACG--T"),
    ("alignment gap '.'", "ACG..T"),
    ("MASE alignment mark", "ACG%T"),
    ("soft-masked lowercase and gaps", "ACgt.n-N"),
]


@pytest.mark.parametrize("rule, seq", PROTEIN_RULES, ids=[r[0] for r in PROTEIN_RULES])
def test_protein_rule(rule: str, seq: str) -> None:
    assert protein.tokenize(seq) == list(seq)
    assert protein.decode(protein.encode(seq)) == seq
    assert chemtok.ProteinTokenizer(engine="python").encode(seq) == protein.encode(seq)


@pytest.mark.parametrize("rule, seq", DNA_RULES, ids=[r[0] for r in DNA_RULES])
def test_dna_rule(rule: str, seq: str) -> None:
    assert dna.tokenize(seq) == list(seq)
    assert dna.decode(dna.encode(seq)) == seq
    assert chemtok.DnaTokenizer(engine="python").encode(seq) == dna.encode(seq)


@pytest.mark.parametrize(
    "tokenizer, seq, position",
    [
        (protein, "MKT1AY", 3),  # digits are positions, not residues
        (protein, "MKT~AY", 3),
        (dna, "ACG*T", 3),  # a stop is not a nucleotide
        (dna, "ACGEFT", 3),  # amino-acid-only letters
        (dna, "ACG T", 3),
    ],
)
def test_sequence_refusals(tokenizer: SequenceTokenizer, seq: str, position: int) -> None:
    with pytest.raises(chemtok.TokenizationError) as info:
        tokenizer.encode(seq)
    assert info.value.position == position


def test_gap_dot_keeps_every_earlier_id() -> None:
    """'.' was added after ids shipped: it takes the id after the lowercase letters."""
    for tokenizer, last_lower in ((protein, "x"), (dna, "n")):
        tokens = tokenizer.vocabulary.tokens
        assert tokens[-1] == "."
        assert tokens[-2] == last_lower
    assert dna.encode("a") == [279] and protein.encode("M") == [271]  # as in tests/golden


def test_appended_characters_are_checked(tmp_path: Path) -> None:
    from chemtok.grammar import load_sequence_grammar

    base = 'name = "dna"\nversion = 1\nalphabet = ["A", "C", "-"]\nkeep_lowercase = true\n'
    good = tmp_path / "good.toml"
    good.write_text(base + 'appended = [".", "G"]\n')
    assert load_sequence_grammar("dna", str(good)).symbols == ("A", "C", "-", "a", "c", ".", "G", "g")
    assert load_sequence_grammar("dna", str(good)).letters == "AC-.G"
    for bad, problem in (('appended = ["-"]\n', "already in the alphabet"), ('appended = [".."]\n', "single characters")):
        path = tmp_path / "bad.toml"
        path.write_text(base + bad)
        with pytest.raises(chemtok.GrammarError, match=problem):
            load_sequence_grammar("dna", str(path))


@pytest.mark.parametrize("name", ["protein", "dna"])
def test_refusal_lists_the_appended_characters_in_both_engines(name: str) -> None:
    from chemtok import native

    engines = ["python", "native"] if native.available() else ["python"]
    reasons = []
    for engine in engines:
        tokenizer = SequenceTokenizer(name, engine=engine)
        with pytest.raises(chemtok.TokenizationError) as info:
            tokenizer.encode("AC1")
        reasons.append(info.value.reason)
    letters = tokenizer.grammar.letters
    assert letters.endswith(".") and reasons == [f"not a letter of the {name} alphabet {letters}"] * len(engines)
