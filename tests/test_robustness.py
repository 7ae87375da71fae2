"""Arbitrary input either round-trips exactly or raises a ChemtokError — nothing else."""

from __future__ import annotations

from conftest import default_tokenizers
from hypothesis import given
from hypothesis import strategies as st

import chemtok

TOKENIZERS = default_tokenizers()
# Characters that matter to the grammars, mixed with anything Unicode has (surrogates too).
interesting = st.sampled_from(list("[]()%@+-=#$:/\\.<>*0123456789CcNnOHlBrS") + ["[START_SMILES]", "[END_SMILES]", "InChI=1S/"])
arbitrary = st.lists(st.one_of(interesting, st.characters()), max_size=60).map("".join)


def _roundtrip_or_refuse(tok, text: str) -> None:
    try:
        ids = tok.encode(text)
    except chemtok.TokenizationError as err:
        assert 0 <= err.position <= len(text)
        assert err.text == text
        return
    assert tok.decode(ids) == text


@given(st.sampled_from(sorted(TOKENIZERS)), arbitrary)
def test_hyp_arbitrary_input(name: str, text: str) -> None:
    _roundtrip_or_refuse(TOKENIZERS[name], text)


@given(st.sampled_from(sorted(TOKENIZERS)), arbitrary)
def test_hyp_fallback_is_always_lossless(name: str, text: str) -> None:
    tok = TOKENIZERS[name]
    try:
        ids = tok.encode(text, on_error="fallback")
    except chemtok.MarkerError:
        return  # markers are structure, not characters: fallback does not apply to them
    assert tok.decode(ids) == text


@given(st.lists(st.integers(-5, 30000), max_size=20))
def test_hyp_decode_arbitrary_ids(ids: list[int]) -> None:
    for tok in TOKENIZERS.values():
        try:
            assert isinstance(tok.decode(ids), str)
        except chemtok.DecodeError as err:
            assert 0 <= err.position < len(ids)
