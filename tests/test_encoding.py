"""encode_with_offsets: ids equal encode, tokens equal tokenize, spans tile the input.

The rules under test (chemtok/encoding.py): a character spread over several tokens
belongs to the token that completes it (the ones before get an empty span at its
start); under on_error="skip" the dropped characters belong to no token.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import BASELINES
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import inchi_like, marked_text, plain_text, sequence_like, smiles_like

import chemtok
from chemtok.encoding import Encoding, tile_text_model_offsets
from chemtok.io import read_records
from chemtok.vocab import byte_of_token

Span = tuple[int, int]

SMILES = chemtok.SmilesTokenizer()
COMPACT = chemtok.SmilesTokenizer(model="compact")
INCHI = chemtok.InchiTokenizer()
PROTEIN = chemtok.ProteinTokenizer()
DNA = chemtok.DnaTokenizer()
TEXT = chemtok.TextTokenizer()
ROUTER = chemtok.ChemTokenizer()
GRAMMAR_CASES = [
    (SMILES, smiles_like),
    (COMPACT, smiles_like),
    (INCHI, inchi_like()),
    (PROTEIN, sequence_like("protein")),
    (DNA, sequence_like("dna")),
]
GRAMMAR_IDS = ["smiles", "compact", "inchi", "protein", "dna"]
#: Any string, lone surrogates included.
anything = st.text(max_size=60)


def assert_tiles(text: str, offsets: Sequence[Span]) -> None:
    """Consecutive, non-overlapping, from 0 to len(text)."""
    pos = 0
    for start, end in offsets:
        assert start == pos and end >= start, (offsets, text)
        pos = end
    assert pos == len(text), (offsets, text)


def assert_in_order_with_gaps(text: str, offsets: Sequence[Span]) -> None:
    """In order and non-overlapping, but possibly with gaps (on_error="skip")."""
    pos = 0
    for start, end in offsets:
        assert pos <= start <= end <= len(text), (offsets, text)
        pos = end


def assert_contract(tok: Any, text: str, enc: Encoding, **options: str) -> None:
    assert enc.ids == tok.encode(text, **options)
    assert enc.tokens == tok.tokenize(text, **options) == [tok.id_to_token(i) for i in enc.ids]
    assert len(enc) == len(enc.ids) == len(enc.offsets) == len(enc.modalities)


def assert_spells(text: str, enc: Encoding) -> None:
    """A grammar token is the exact substring its span covers; a byte token a (part of a) character."""
    for token, (start, end) in zip(enc.tokens, enc.offsets):
        if byte_of_token(token) is None:
            assert text[start:end] == token
        else:
            assert end - start <= 1


# -- the type -----------------------------------------------------------------------------


def test_encoding_is_a_frozen_exported_result() -> None:
    assert chemtok.Encoding is Encoding and "Encoding" in chemtok.__all__
    enc = SMILES.encode_with_offsets("CCO")
    with pytest.raises(dataclasses.FrozenInstanceError):
        enc.ids = []  # type: ignore[misc]
    assert not hasattr(enc, "__dict__")  # slots
    with pytest.raises(ValueError, match="one token, offset and modality per id"):
        Encoding([1, 2], ["C"], [(0, 1)], ["smiles"])


# -- exact expectations ---------------------------------------------------------------------


def test_acetic_acid() -> None:
    enc = SMILES.encode_with_offsets("CC(=O)O")
    assert enc.offsets == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7)]
    assert enc.tokens == ["C", "C", "(", "=", "O", ")", "O"]
    assert enc.modalities == ["smiles"] * 7


def test_multi_character_tokens() -> None:
    enc = SMILES.encode_with_offsets("ClC[C@@H](Br)C%10CC%10")
    assert [(t, o) for t, o in zip(enc.tokens, enc.offsets)][:4] == [
        ("Cl", (0, 2)), ("C", (2, 3)), ("[C@@H]", (3, 9)), ("(", (9, 10)),
    ]  # fmt: skip
    assert enc.offsets[-1] == (19, 22) and enc.tokens[-1] == "%10"
    spelled = SMILES.encode_with_offsets("[CH3:12]O")  # an atom class spelled from its parts
    assert list(zip(spelled.tokens, spelled.offsets)) == [("[", (0, 1)), ("CH3", (1, 4)), (":12", (4, 7)), ("]", (7, 8)), ("O", (8, 9))]
    inchi = INCHI.encode_with_offsets("InChI=1S/CH4O/c1-2/h2H,1H3")
    assert inchi.offsets[:4] == [(0, 8), (8, 9), (9, 10), (10, 12)] and inchi.modalities[0] == "inchi"


def test_compact_tokens_are_runs_of_units() -> None:
    smiles = "CC(=O)Oc1ccccc1C(=O)O"
    enc = COMPACT.encode_with_offsets(smiles)
    assert len(enc) == 3 and [smiles[a:b] for a, b in enc.offsets] == enc.tokens
    assert_tiles(smiles, enc.offsets)


def test_byte_fallback_character_belongs_to_its_last_byte() -> None:
    tok = chemtok.SmilesTokenizer(on_error="fallback")
    enc = tok.encode_with_offsets("C℃O")  # ℃ is three UTF-8 bytes
    assert enc.tokens == ["C", "<0xE2>", "<0x84>", "<0x83>", "O"]
    assert enc.offsets == [(0, 1), (1, 1), (1, 1), (1, 2), (2, 3)]
    lone = tok.encode_with_offsets("C\ud800")  # a lone surrogate: three bytes too
    assert lone.offsets == [(0, 1), (1, 1), (1, 1), (1, 2)]


def test_skip_leaves_the_dropped_characters_out() -> None:
    tok = chemtok.SmilesTokenizer(on_error="skip")
    enc = tok.encode_with_offsets("CféO")
    assert enc.tokens == ["C", "O"] and enc.offsets == [(0, 1), (3, 4)]
    # A bracket that fails is dropped one character at a time; the next '[' is a token.
    enc = tok.encode_with_offsets("[[13CH4]")
    assert enc.offsets[0] == (1, 2) and enc.tokens[0] == "["
    text = chemtok.TextTokenizer(on_error="skip").encode_with_offsets("a\ud800 b")
    assert text.ids == chemtok.TextTokenizer().encode("a b")
    assert_in_order_with_gaps("a\ud800 b", text.offsets)
    assert all(not (a <= 1 < b) or text.tokens[i] == "a" for i, (a, b) in enumerate(text.offsets))


def test_text_pieces_of_one_character() -> None:
    text = "mp (57 ℃) 😀"
    enc = TEXT.encode_with_offsets(text)
    assert_contract(TEXT, text, enc)
    assert_tiles(text, enc.offsets)
    assert enc.modalities == ["text"] * len(enc)
    # the emoji's four byte pieces: three empty spans, then the one that completes it
    assert enc.offsets[-4:] == [(10, 10), (10, 10), (10, 10), (10, 11)]
    assert_streamed(TEXT, text, enc)


def test_tiling_fix_ups() -> None:
    # GPT-2 reports every piece of a character with the whole character...
    assert tile_text_model_offsets(" ℃)", [(0, 2), (1, 2), (1, 2), (2, 3)]) == [(0, 1), (1, 1), (1, 2), (2, 3)]
    # ... Llama 2 its lone dummy prefix with the first character ...
    assert tile_text_model_offsets("12", [(0, 1), (0, 1), (1, 2)]) == [(0, 0), (0, 1), (1, 2)]
    # ... and trim_offsets leaves the space out of "Ġworld": it joins that token.
    assert tile_text_model_offsets("Hello world", [(0, 5), (6, 11)], 3) == [(3, 8), (8, 14)]
    assert tile_text_model_offsets("", []) == []


def test_router_markers_and_segments() -> None:
    text = "Aspirin [START_SMILES]CC(=O)O[END_SMILES] and [START_AMINO]GIV[END_AMINO]."
    enc = ROUTER.encode_with_offsets(text)
    assert_contract(ROUTER, text, enc)
    assert_tiles(text, enc.offsets)
    rows = [(text[a:b], m) for (a, b), m in zip(enc.offsets, enc.modalities)]
    assert ("[START_SMILES]", "marker") in rows and ("[END_AMINO]", "marker") in rows
    start = rows.index(("[START_SMILES]", "marker"))
    assert rows[start + 1 : start + 8] == [(c, "smiles") for c in ["C", "C", "(", "=", "O", ")", "O"]]
    assert rows[-6:] == [
        ("[START_AMINO]", "marker"), ("G", "protein"), ("I", "protein"), ("V", "protein"), ("[END_AMINO]", "marker"), (".", "text"),
    ]  # fmt: skip
    assert ROUTER.encode_with_offsets("") == Encoding([], [], [], [])


def test_errors_are_those_of_encode() -> None:
    for tok, text in [
        (ROUTER, "a [START_SMILES]CCf[END_SMILES]"),
        (ROUTER, "a [START_SMILES]CC"),
        (ROUTER, "text \ud800 here"),
        (SMILES, "c1c[nH]c2c1fccc2"),
        (TEXT, "ok \udc80"),
    ]:
        with pytest.raises(chemtok.TokenizationError) as want:
            tok.encode(text)
        with pytest.raises(type(want.value)) as got:
            tok.encode_with_offsets(text)
        assert (got.value.position, got.value.modality, str(got.value)) == (
            want.value.position, want.value.modality, str(want.value),
        )  # fmt: skip
    with pytest.raises(TypeError):
        SMILES.encode_with_offsets(b"CCO")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="on_error"):
        SMILES.encode_with_offsets("CCO", on_error="drop")  # type: ignore[arg-type]


# -- properties -----------------------------------------------------------------------------


@pytest.mark.parametrize(("tok", "strategy"), GRAMMAR_CASES, ids=GRAMMAR_IDS)
@given(data=st.data())
def test_hyp_grammar_tokenizers(tok: Any, strategy: st.SearchStrategy[str], data: st.DataObject) -> None:
    text = data.draw(strategy)
    enc = tok.encode_with_offsets(text)
    assert_contract(tok, text, enc)
    assert_tiles(text, enc.offsets)
    assert [text[a:b] for a, b in enc.offsets] == enc.tokens
    assert enc.modalities == [tok.name] * len(enc)


REFERENCE = chemtok.SmilesTokenizer(engine="python")


@given(text=smiles_like, policy=st.sampled_from(["raise", "fallback", "skip"]))
def test_hyp_reference_and_native_agree(text: str, policy: str) -> None:
    if policy != "raise":
        text += "é℃"  # uncovered characters, as byte tokens or dropped
    options: dict[str, Any] = {"on_error": policy}
    assert REFERENCE.encode_with_offsets(text, **options) == SMILES.encode_with_offsets(text, **options)


@pytest.mark.parametrize("tok", [t for t, _ in GRAMMAR_CASES], ids=GRAMMAR_IDS)
@given(text=anything)
def test_hyp_fallback_tiles_any_string(tok: Any, text: str) -> None:
    enc = tok.encode_with_offsets(text, on_error="fallback")
    assert_contract(tok, text, enc, on_error="fallback")
    assert_tiles(text, enc.offsets)
    assert_spells(text, enc)


@pytest.mark.parametrize("tok", [SMILES, INCHI, PROTEIN], ids=["smiles", "inchi", "protein"])
@given(text=anything)
def test_hyp_skip_drops_exactly_the_uncovered_characters(tok: Any, text: str) -> None:
    enc = tok.encode_with_offsets(text, on_error="skip")
    assert_contract(tok, text, enc, on_error="skip")
    assert_in_order_with_gaps(text, enc.offsets)
    assert_spells(text, enc)
    covered = {i for a, b in enc.offsets for i in range(a, b)}
    fallback = tok.encode_with_offsets(text, on_error="fallback")
    spelled_as_bytes = {a for t, (a, b) in zip(fallback.tokens, fallback.offsets) if byte_of_token(t) is not None and b > a}
    assert covered == set(range(len(text))) - spelled_as_bytes


@given(text=anything)
def test_hyp_compact_skip_in_order(text: str) -> None:
    tok = chemtok.SmilesTokenizer(model="compact", on_error="skip")
    enc = tok.encode_with_offsets(text)
    assert_contract(tok, text, enc)
    assert_in_order_with_gaps(text, enc.offsets)


def assert_streamed(tok: chemtok.TextTokenizer, text: str, enc: Encoding) -> None:
    """Each token's span ends where a streaming decoder's output ends after that token.

    When the decoded prefix ends inside a character (U+FFFD: GPT-2 style decoders write
    one for the incomplete trailing bytes, Llama 2's byte fallback one per byte of the
    unfinished run) only the part before the first U+FFFD is compared.
    """
    for k, (_, end) in enumerate(enc.offsets):
        streamed = tok.decode(enc.ids[: k + 1])
        if "\ufffd" in streamed:
            clean = streamed[: streamed.index("\ufffd")]
            assert text[:end].startswith(clean), (k, enc.tokens)
        else:
            assert text[:end] == streamed, (k, enc.tokens)


def text_models() -> list[chemtok.TextTokenizer]:
    models = [TEXT]
    for name in ("gpt2", "llama2", "llama3"):
        path = BASELINES / name / "tokenizer.json"
        if path.exists():
            models.append(chemtok.TextTokenizer.from_file(path))
    return models


TEXT_MODELS = text_models()


@pytest.mark.parametrize("tok", TEXT_MODELS, ids=[t.source.split("/")[-2] for t in TEXT_MODELS])
@given(text=st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\ufffd"), max_size=40))
def test_hyp_text_span_is_what_the_token_completes(tok: chemtok.TextTokenizer, text: str) -> None:
    try:
        want = tok.encode(text)
    except chemtok.TokenizationError:  # a model that cannot reproduce this text (not the default)
        assume(False)
    enc = tok.encode_with_offsets(text)
    assert enc.ids == want and enc.tokens == tok.tokenize(text)
    assert_tiles(text, enc.offsets)
    assert_streamed(tok, text, enc)


@given(text=marked_text())
def test_hyp_router(text: str) -> None:
    enc = ROUTER.encode_with_offsets(text)
    assert_contract(ROUTER, text, enc)
    assert_tiles(text, enc.offsets)
    segments = ROUTER.split(text)
    for token, (start, end), modality in zip(enc.tokens, enc.offsets, enc.modalities):
        segment = next(s for s in segments if s.start <= start and end <= s.end and (start < s.end or end == start))
        if modality == "marker":
            assert (segment.modality, text[start:end], token) == ("marker", segment.text, segment.text)
        elif end > start:
            assert segment.modality == modality
    # every segment is covered by tokens of its modality
    for segment in segments:
        inside = [m for (a, b), m in zip(enc.offsets, enc.modalities) if segment.start <= a and b <= segment.end and b > a]
        assert inside and set(inside) == {segment.modality}


@pytest.mark.parametrize("policy", ["fallback", "skip"])
@given(
    parts=st.lists(
        st.tuples(st.sampled_from(["", "[START_SMILES]", "[END_SMILES]", "[START_AMINO]", "[END_AMINO]"]), anything),
        max_size=4,
    )
)
def test_hyp_router_lossy_inputs(policy: str, parts: list[tuple[str, str]]) -> None:
    """Any string with markers (lone surrogates, uncovered characters) under fallback and skip."""
    tok = chemtok.ChemTokenizer(on_error=policy, strict_markers=False)  # type: ignore[arg-type]
    text = "".join(marker + body for marker, body in parts)
    enc = tok.encode_with_offsets(text)
    assert_contract(tok, text, enc)
    if policy == "fallback":
        assert_tiles(text, enc.offsets)
    else:
        assert_in_order_with_gaps(text, enc.offsets)


@given(text=plain_text)
def test_hyp_router_with_a_base_model(text: str) -> None:
    if not (BASELINES / "llama2" / "tokenizer.json").exists():
        pytest.skip("baselines not found")
    tok = _llama2_router()
    marked = f"{text}[START_SMILES]CCO[END_SMILES]{text}"
    try:
        want = tok.encode(marked)
    except chemtok.TokenizationError:
        assume(False)
    enc = tok.encode_with_offsets(marked)
    assert enc.ids == want
    assert_tiles(marked, enc.offsets)


_ROUTERS: dict[str, chemtok.ChemTokenizer] = {}


def _llama2_router() -> chemtok.ChemTokenizer:
    if "llama2" not in _ROUTERS:
        _ROUTERS["llama2"] = chemtok.ChemTokenizer.from_base(BASELINES / "llama2" / "tokenizer.json")
    return _ROUTERS["llama2"]


# -- real data --------------------------------------------------------------------------------

REAL = [
    ("smiles", "smiles/moleculenet_bace.smi.gz", None, SMILES),
    ("smiles", "smiles/reactions_chemprop_tests.rsmi", None, SMILES),
    ("smiles", "smiles/hard_cases.smi.gz", None, chemtok.SmilesTokenizer(on_error="fallback")),
    ("compact", "smiles/rdkit_zinc_znp50k.smi.gz", None, COMPACT),
    ("inchi", "inchi/iupac_docs_examples.inchi.tsv", "inchi", INCHI),
    ("protein", "protein/nonstandard_residues.fasta", None, chemtok.ProteinTokenizer(on_error="fallback")),
    ("dna", "dna/biopython_tests_dna.fasta.gz", None, DNA),
    ("text", "text/pubmed_biopython.jsonl", "text", TEXT),
    ("chem", "text/galactica_style_constructed.jsonl.gz", "text", ROUTER),
    ("chem", "text/chebi20_molt5.jsonl.gz", "text", chemtok.ChemTokenizer(on_error="fallback", strict_markers=False)),
]


@pytest.mark.parametrize(("name", "path", "column", "tok"), REAL, ids=[f"{n}-{Path(p).name}" for n, p, _, _ in REAL])
def test_real_records(data_dir: Path, name: str, path: str, column: str | None, tok: Any) -> None:
    records = read_records(data_dir / path, column=column)
    texts = [r.text for r in itertools.islice(records, 40) if r.text is not None]
    assert texts
    for text in texts:
        enc = tok.encode_with_offsets(text)
        assert_contract(tok, text, enc)
        assert_tiles(text, enc.offsets)
        if name not in ("text", "chem"):
            assert_spells(text, enc)
