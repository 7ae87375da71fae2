"""InchiTokenizer: layer tags start tokens, numbers are whole, formulas split by element."""

from __future__ import annotations

import pytest
from hypothesis import given
from strategies import inchi_like

import chemtok

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
    assert tokens[tokens.index("/i") : tokens.index("/i") + 6] == ["/i", "3", "+", "1", "/h", "D"]


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


# One case per layer rule of the InChI Technical Manual listed in grammars/inchi.toml:
# (rule, identifier, the tokens of its last layer(s)).
MANUAL_RULES = [
    ("prefix standard", "InChI=1S/CH4/h1H4", ["InChI=1S", "/", "C", "H4", "/h", "1", "H4"]),
    ("prefix non-standard", "InChI=1/CH4/h1H4", ["InChI=1", "/", "C", "H4", "/h", "1", "H4"]),
    ("prefix beta", "InChI=1B/CH4/h1H4", ["InChI=1B", "/", "C", "H4", "/h", "1", "H4"]),
    ("formula components and multiplier", "InChI=1S/C6H12O6.2Na", ["/", "C6", "H12", "O6", ".", "2", "Na"]),
    ("formula Zz pseudo-element", "InChI=1B/C3H6OZz2", ["/", "C3", "H6", "O", "Zz", "2"]),
    ("empty structure", "InChI=1S//", ["InChI=1S", "/", "/"]),
    ("/c bonds, branches, ring lists", "InChI=1S/C6H6/c1-2-4-6-5-3-1", ["/c", "1", "-", "2", "-", "4", "-", "6", "-", "5", "-", "3", "-", "1"]),
    ("/c multiplier", "InChI=1/2CH2O2/c2*2-1-3", ["/c", "2", "*", "2", "-", "1", "-", "3"]),
    ("/h ranges and mobile groups", "InChI=1S/C4H6O6/h1-2,5-6H,(H,7,8)(H,9,10)", ["/h", "1", "-", "2", ",", "5", "-", "6", "H", ",", "(", "H", ",", "7", ",", "8", ")", "(", "H", ",", "9", ",", "10", ")"]),
    ("/h mobile negative charge", "InChI=1/C2H3O2/h(H-,3,4)", ["/h", "(", "H", "-", ",", "3", ",", "4", ")"]),
    ("/q and /p", "InChI=1S/Na.H2O/h;1H2/q+1;/p-1", ["/q", "+", "1", ";", "/p", "-", "1"]),
    ("/q multiplier", "InChI=1/2C2H3O2.Ca/q2*-1;+2", ["/q", "2", "*", "-", "1", ";", "+", "2"]),
    ("/p alone: the proton", "InChI=1S/p+1", ["InChI=1S", "/p", "+", "1"]),
    ("/b parities", "InChI=1S/C9H12/b7-4-,8-5+,9-6-", ["/b", "7", "-", "4", "-", ",", "8", "-", "5", "+", ",", "9", "-", "6", "-"]),
    ("/b undefined ?", "InChI=1/C2H2Cl2/b2-1?", ["/b", "2", "-", "1", "?"]),
    ("/b unknown u (SLUUD)", "InChI=1/C2H2Cl2/b2-1u", ["/b", "2", "-", "1", "u"]),
    ("/t parities", "InChI=1S/C4H6O6/t1-,2-/m1/s1", ["/t", "1", "-", ",", "2", "-", "/m", "1", "/s", "1"]),
    ("/t undefined ?", "InChI=1S/C4H10O/t4?", ["/t", "4", "?"]),
    ("/t unknown u (SLUUD)", "InChI=1/C4H10O/t4u/m0/s1", ["/t", "4", "u", "/m", "0", "/s", "1"]),
    ("/t components", "InChI=1/C4H10O.C2H6O/t4-;/s2", ["/t", "4", "-", ";", "/s", "2"]),
    ("/m component periods", "InChI=1/C3H10N2/t3-/m1.0/s1", ["/m", "1", ".", "0", "/s", "1"]),
    ("/s racemic", "InChI=1/C4H10O/t4-/s3", ["/s", "3"]),
    ("/i mass shifts", "InChI=1/2CH2O2/i2+1;2-1", ["/i", "2", "+", "1", ";", "2", "-", "1"]),
    ("/i D and T counts", "InChI=1S/CH4/h1H4/i1D3", ["/i", "1", "D3"]),
    ("/i/h exchangeable H", "InChI=1/C3H10N2/i/hD2T", ["/i", "/h", "D2", "T"]),
    ("/i isotopic stereo", "InChI=1/C6H6O5/i3+1/b2-1-/t3u/m0", ["/i", "3", "+", "1", "/b", "2", "-", "1", "-", "/t", "3", "u", "/m", "0"]),
    ("/f fixed-H layer", "InChI=1/C3H10N2/f/h5H/i5D", ["/f", "/h", "5", "H", "/i", "5", "D"]),
    ("/f formula", "InChI=1/C2H3O2.Na/fC2H3O2.Na/q-1;m", ["/f", "C2", "H3", "O2", ".", "Na", "/q", "-", "1", ";", "m"]),
    ("/o transposition", "InChI=1/2CH2O2/f/h2*2H/o(1,2)", ["/o", "(", "1", ",", "2", ")"]),
    ("/r reconnected metals", "InChI=1/CH3.Li/h1H3;/rCH3Li/c1-2/h1H3", ["/r", "C", "H3", "Li", "/c", "1", "-", "2", "/h", "1", "H3"]),
    ("/z polymer", "InChI=1B/C6H11NOZz2/z101-1-8(10-7,9-5)", ["/z", "101", "-", "1", "-", "8", "(", "10", "-", "7", ",", "9", "-", "5", ")"]),
    ("/z copolymer", "InChI=1B/C8H8.C4H6/z200-9-12;330-1-12", ["/z", "200", "-", "9", "-", "12", ";", "330", "-", "1", "-", "12"]),
    ("abbreviations m M n", "InChI=1/C4H8O2/b3m/t2M/f/b3n/t3m", ["/b", "3", "m", "/t", "2", "M", "/f", "/b", "3", "n", "/t", "3", "m"]),
]


@pytest.mark.parametrize("rule, inchi, tail", MANUAL_RULES, ids=[r[0] for r in MANUAL_RULES])
def test_manual_rule(rule: str, inchi: str, tail: list[str]) -> None:
    tokens = tok.tokenize(inchi)
    assert tokens[-len(tail) :] == tail
    assert tok.decode(tok.encode(inchi)) == inchi
    reference = chemtok.InchiTokenizer(engine="python")
    assert reference.tokenize(inchi) == tokens and reference.encode(inchi) == tok.encode(inchi)


@pytest.mark.parametrize(
    "text, position",
    [
        ("AuxInfo=1/1/N:4,1,2,3,5,6/E:(5,6)/rA:6nCCCCOO", 0),  # the AuxInfo line is not an identifier
        ("InChI=1S/CH4/h1H4 ", 17),  # whitespace
        ("InChI=1S/CH4/t4x", 15),  # no such parity
    ],
)
def test_manual_refusals(text: str, position: int) -> None:
    with pytest.raises(chemtok.TokenizationError) as info:
        tok.encode(text)
    assert info.value.position == position


def test_new_tokens_keep_every_earlier_id() -> None:
    """Tokens added for the manual's rules come after every token shipped before them."""
    tokens = tok.vocabulary.tokens
    assert tokens[-4:] == ("/z", "Zz", "u", "n")
    assert tok.vocabulary.token_to_id["InChI=1S"] == 261 and tok.vocabulary.token_to_id["/"] == 264
