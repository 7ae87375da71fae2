"""InchiTokenizer: layer tags start tokens, numbers are whole, formulas split by element."""

from __future__ import annotations

import pytest
from hypothesis import given

import chemtok
from strategies import inchi_like

tok = chemtok.InchiTokenizer()

ASPIRIN = "InChI=1S/C9H8O4/c1-6(10)13-8-5-3-2-4-7(8)9(11)12/h2-5H,1H3,(H,11,12)"


def test_layers_and_numbers() -> None:
    tokens = tok.tokenize(ASPIRIN)
    assert tokens[:5] == ["InChI=1S", "/", "C9", "H8", "O4"]
    assert "/c" in tokens and "/h" in tokens
    assert "10" in tokens and "13" in tokens  # atom numbers, not digit soup
    assert "".join(tokens) == ASPIRIN


def test_no_token_spans_two_layers() -> None:
    inchi = "InChI=1/C6H6O5/c7-1-2-3(5(8)9)4(2)6(10)11/h1,3-4,7H,(H,8,9)(H,10,11)/b2-1?/t3?,4?/i3+1/hD/b2-1-/f/h8,10H/i3+1,8D/bM"
    tokens = tok.tokenize(inchi)
    assert "".join(tokens) == inchi
    for token in tokens:
        assert "/" not in token[1:], token  # a slash only ever starts a token
    assert tokens[-2:] == ["/b", "M"]
    assert ["/i", "3", "+", "1", "/h", "D"] == tokens[tokens.index("/i") : tokens.index("/i") + 6]


@pytest.mark.parametrize(
    "inchi, tokens",
    [
        ("InChI=1S/CH4/h1H4", ["InChI=1S", "/", "C", "H4", "/h", "1", "H4"]),
        ("InChI=1/H2O/h1H2", ["InChI=1", "/", "H2", "O", "/h", "1", "H2"]),
        ("InChI=1S/Na.H2O/h;1H2/q+1;/p-1", ["InChI=1S", "/", "Na", ".", "H2", "O", "/h", ";", "1", "H2", "/q", "+", "1", ";", "/p", "-", "1"]),
        ("InChI=1S/C12345H2", ["InChI=1S", "/", "C", "1", "2", "3", "4", "5", "H2"]),
    ],
)
def test_known_segmentations(inchi: str, tokens: list[str]) -> None:
    assert tok.tokenize(inchi) == tokens


@pytest.mark.parametrize(
    "inchi, position",
    [("C9H8O4", 0), ("InChI=2S/CH4", 0), ("InChI=1S/CH4/x1", 13), ("InChI=1S/Xy", 9), ("InChI=1S/CH4 ", 12)],
)
def test_errors(inchi: str, position: int) -> None:
    with pytest.raises(chemtok.TokenizationError) as info:
        tok.encode(inchi)
    assert info.value.position == position
    assert info.value.modality == "inchi"


def test_fallback_keeps_everything() -> None:
    bad = "InChI=1S/CH4 é"
    assert tok.decode(tok.encode(bad, on_error="fallback")) == bad


@given(inchi_like())
def test_hyp_lossless(inchi: str) -> None:
    assert "".join(tok.tokenize(inchi)) == inchi
    assert tok.decode(tok.encode(inchi)) == inchi
