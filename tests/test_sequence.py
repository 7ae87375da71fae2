"""Protein and DNA tokenizers: one token per letter, case kept."""

from __future__ import annotations

import pytest
from hypothesis import given

import chemtok
from strategies import sequence_like

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
