"""``ChemTokenizer(detect=True).encode_with_offsets``: spans into the caller's text, not the annotated one."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import marked_text, plain_text, sequence_like, smiles_like

import chemtok
from chemtok.encoding import Encoding, shift_over_insertions

# Text with chemistry detection finds (and misses), with markers the text wrote itself,
# and any characters at all (lone surrogates included: they take the fallback path).
texts = st.one_of(
    st.lists(
        st.one_of(
            plain_text,
            smiles_like,
            marked_text(),
            sequence_like("protein"),
            st.text(alphabet="ACGT", min_size=18, max_size=30),
            st.sampled_from(["Its SMILES is CCO.", "SMILES: OCCO", "c1ccccc1", "InChI=1S/CH4/h1H4.", "\nCCN\n", "é℃"]),
        ),
        max_size=6,
    ).map(" ".join),
    st.text(),
)


@functools.cache
def _detecting(on_error: str = "raise") -> chemtok.ChemTokenizer:
    return chemtok.ChemTokenizer(detect=True, on_error=on_error)  # type: ignore[arg-type]


def _pieces(text: str, enc: Encoding) -> list[tuple[str, str, str]]:
    return [(token, text[a:b], kind) for token, (a, b), kind in zip(enc.tokens, enc.offsets, enc.modalities)]


def check_spans(tok: chemtok.ChemTokenizer, text: str, enc: Encoding) -> None:
    """What every detect=True Encoding must hold for ``text`` (lossless policies)."""
    assert enc.ids == tok.encode(text)
    assert enc.tokens == [tok.id_to_token(i) for i in enc.ids]
    pos = 0
    for j, (token_id, (start, end), kind) in enumerate(zip(enc.ids, enc.offsets, enc.modalities)):
        assert 0 <= start <= end <= len(text)
        assert start == pos  # monotone, no gap, no overlap
        pos = end
        assert (kind == "transient") == (tok.namespace_of(token_id) == "transient")
        if kind == "transient":
            assert start == end  # a transient marker holds no character of the input
            assert tok.decode([token_id]) == ""
        elif kind != "text" and tok.namespace_of(token_id) != "byte":
            # markers and grammar tokens spell their characters exactly (byte-fallback
            # pieces aside, whose character belongs to the piece completing it)
            assert text[start:end] == tok.decode([token_id])
        # The streaming rule of chemtok.encoding: once token j arrives, the decoder can
        # print text[:end]. Byte-level BPE pieces may hold parts of a character, so the
        # prefix decodes to text[:end] plus at most the replacement of an unfinished one.
        decoded = tok.decode(enc.ids[: j + 1])
        assert decoded.startswith(text[:end])
        assert decoded[end:] in ("", "\ufffd")
    assert pos == len(text)
    assert "".join(text[a:b] for a, b in enc.offsets) == text
    assert tok.decode(enc.ids) == text


@given(texts)
def test_hyp_detect_offsets_tile_the_original_text(text: str) -> None:
    tok = _detecting("fallback")
    check_spans(tok, text, tok.encode_with_offsets(text))


@given(texts)
def test_hyp_detect_offsets_raise_as_encode_does(text: str) -> None:
    tok = _detecting()
    try:
        expected = tok.encode(text)
    except chemtok.TokenizationError as err:
        with pytest.raises(chemtok.TokenizationError) as info:
            tok.encode_with_offsets(text)
        assert info.value.position == err.position
        return
    enc = tok.encode_with_offsets(text)
    assert enc.ids == expected
    check_spans(tok, text, enc)


def test_detect_offsets_smiles_ending_a_sentence() -> None:
    tok = _detecting()
    text = "Its SMILES is CCO."
    enc = tok.encode_with_offsets(text)
    assert _pieces(text, enc)[-6:] == [
        ("[START_SMILES]", "", "transient"),
        ("C", "C", "smiles"),
        ("C", "C", "smiles"),
        ("O", "O", "smiles"),
        ("[END_SMILES]", "", "transient"),
        (".", ".", "text"),
    ]
    assert enc.offsets[-6:] == [(14, 14), (14, 15), (15, 16), (16, 17), (17, 17), (17, 18)]
    check_spans(tok, text, enc)


def test_detect_offsets_protein_run_and_written_markers() -> None:
    tok = _detecting()
    protein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"
    text = f"Insulin [START_SMILES]CCO[END_SMILES] and the chain {protein} fold."
    enc = tok.encode_with_offsets(text)
    check_spans(tok, text, enc)
    pieces = _pieces(text, enc)
    # the markers the text wrote span themselves and keep their ordinary ids
    assert ("[START_SMILES]", "[START_SMILES]", "marker") in pieces
    start = text.index(protein)
    residues = [(a, b) for (a, b), kind in zip(enc.offsets, enc.modalities) if kind == "protein"]
    assert residues == [(start + i, start + i + 1) for i in range(len(protein))]
    transient = [(enc.tokens[j], enc.offsets[j]) for j, kind in enumerate(enc.modalities) if kind == "transient"]
    assert transient == [("[START_AMINO]", (start, start)), ("[END_AMINO]", (start + len(protein), start + len(protein)))]


def test_detect_offsets_without_chemistry_equal_the_plain_router() -> None:
    text = "Benzene boils at 80 °C."
    assert _detecting().encode_with_offsets(text) == chemtok.ChemTokenizer().encode_with_offsets(text)


def test_detect_offsets_error_in_the_callers_coordinates() -> None:
    text = "Aspirin CC(=O)Oc1ccccc1C(=O)O and [START_SMILES]C§[END_SMILES]"
    with pytest.raises(chemtok.TokenizationError) as info:
        _detecting().encode_with_offsets(text)
    assert info.value.position == text.index("§")


def test_detect_offsets_under_skip_leave_gaps_only_where_characters_are_dropped() -> None:
    tok = _detecting("skip")
    text = "Ethanol CCO\ud800 and [START_SMILES]C§C[END_SMILES]."
    enc = tok.encode_with_offsets(text)
    assert enc.ids == tok.encode(text)
    covered = {i for a, b in enc.offsets for i in range(a, b)}
    assert set(range(len(text))) - covered == {text.index("\ud800"), text.index("§")}
    assert all(a2 >= b1 for (_, b1), (a2, _) in zip(enc.offsets, enc.offsets[1:]))


def test_shift_over_insertions() -> None:
    # "a[S]CC[E]b": pieces of 3 at 1 and 6 (positions in the longer string)
    spans = [(0, 1), (1, 4), (4, 5), (5, 6), (6, 9), (9, 10)]
    assert shift_over_insertions(spans, [(1, 3), (6, 3)]) == [(0, 1), (1, 1), (1, 2), (2, 3), (3, 3), (3, 4)]
    assert shift_over_insertions([(0, 2)], []) == [(0, 2)]
    # an empty span just before a piece stays where it is
    assert shift_over_insertions([(0, 0), (0, 3), (3, 4)], [(0, 3)]) == [(0, 0), (0, 0), (0, 1)]
