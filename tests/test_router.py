"""ChemTokenizer: marker routing, one id space, base models kept first, errors placed."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import marked_text, plain_text

import chemtok
from chemtok.dialects import load_markers

router = chemtok.ChemTokenizer()


def test_public_contract() -> None:
    assert router.tokenize("[START_SMILES]CCO[END_SMILES]") == ["[START_SMILES]", "C", "C", "O", "[END_SMILES]"]
    text = "Aspirin [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES] inhibits COX; insulin [START_AMINO]GIVEQCC[END_AMINO]."
    assert router.decode(router.encode(text)) == text


def test_every_marker_pair_routes_to_its_modality() -> None:
    for pair in load_markers().pairs:
        content = {"smiles": "CCO", "inchi": "InChI=1S/CH4/h1H4", "protein": "MKT", "dna": "ACGT", "selfies": "[C][O]", "text": "note"}[
            pair.modality
        ]
        segments = router.split(f"x {pair.start}{content}{pair.end} y")
        assert [s.modality for s in segments] == ["text", "marker", pair.modality, "marker", "text"]
        assert "".join(s.text for s in segments) == f"x {pair.start}{content}{pair.end} y"


def test_namespaces_are_separate() -> None:
    smiles_c = router.encode("[START_SMILES]C[END_SMILES]")[1]
    protein_c = router.encode("[START_AMINO]C[END_AMINO]")[1]
    dna_c = router.encode("[START_DNA]C[END_DNA]")[1]
    assert len({smiles_c, protein_c, dna_c}) == 3
    assert router.namespace_of(smiles_c) == "smiles"
    assert router.namespace_of(protein_c) == "protein"
    assert router.token_to_id("C", "smiles") == smiles_c


def test_id_space_layout_default() -> None:
    specials = load_markers().special_tokens
    assert router.block("special") == (0, len(specials))
    assert router.block("marker")[0] == len(specials)
    offset, size = router.block("text")
    assert size == chemtok.TextTokenizer().vocab_size
    assert router.block("byte") == (offset + size, 256)
    assert router.special_token_ids["<pad>"] == 0
    assert router.namespaces[-2:] == ("selfies", "appended_marker")  # appended: earlier ids stay
    assert len(router) == sum(router.block(n)[1] for n in router.namespaces)


def test_text_inside_ref_and_work_may_hold_chemistry() -> None:
    text = "<work>mass of [START_SMILES]O[END_SMILES] is 18</work> [START_REF]Smith 2020[END_REF]"
    modalities = [s.modality for s in router.split(text)]
    assert modalities == ["marker", "text", "marker", "smiles", "marker", "text", "marker", "text", "marker", "text", "marker"]
    assert router.decode(router.encode(text)) == text


@pytest.mark.parametrize(
    "text, position, fragment",
    [
        ("a [START_SMILES]CCO", 2, "never closed"),
        ("a CCO[END_SMILES]", 5, "never opened"),
        ("[START_SMILES]C[START_AMINO]M[END_AMINO][END_SMILES]", 15, "inside the smiles segment"),
        ("[START_SMILES]CC[END_AMINO]", 16, "inside the smiles segment"),
        ("<work><work>x</work></work>", 6, "nested"),
        ("a [START_FOO]x[END_FOO]", 2, "unknown marker"),
        ("[START_REF]x[END_SMILES]", 12, "closes '[START_REF]'"),
    ],
)
def test_marker_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(chemtok.MarkerError) as info:
        router.encode(text)
    err = info.value
    assert isinstance(err, chemtok.TokenizationError)
    assert err.position == position
    assert fragment in str(err)
    assert "strict_markers=False" in str(err)


def test_lenient_markers_become_text() -> None:
    lenient = chemtok.ChemTokenizer(strict_markers=False)
    for text in ["a [START_SMILES]CCO", "a CCO[END_SMILES]", "a [START_FOO]x[END_FOO]", "<work><work>x</work></work>"]:
        assert lenient.decode(lenient.encode(text)) == text


def test_segment_errors_are_placed_in_the_whole_input() -> None:
    text = "See [START_SMILES]c1c[nH]c2c1fccc2[END_SMILES]."
    with pytest.raises(chemtok.TokenizationError) as info:
        router.encode(text)
    assert info.value.position == text.index("fccc2")
    assert info.value.text == text and info.value.modality == "smiles"
    assert router.decode(router.encode(text, on_error="fallback")) == text


def test_surrogates_in_text_fall_back_to_bytes() -> None:
    text = "odd \udc80 byte [START_SMILES]C[END_SMILES] \ud83d"
    with pytest.raises(chemtok.TokenizationError) as info:
        router.encode(text)
    assert info.value.position == 4
    assert router.decode(router.encode(text, on_error="fallback")) == text
    assert router.decode(router.encode(text, on_error="skip")) == text.replace("\udc80", "").replace("\ud83d", "")


def test_specials_decode_literally_or_skip() -> None:
    ids = [router.special_token_ids["<s>"], *router.encode("hi"), router.special_token_ids["</s>"]]
    assert router.decode(ids) == "<s>hi</s>"
    assert router.decode(ids, skip_special_tokens=True) == "hi"
    with pytest.raises(chemtok.DecodeError):
        router.decode([len(router)])


def test_base_model_ids_stay_first(baselines_dir) -> None:
    from tokenizers import Tokenizer

    for name in ("gpt2", "llama3"):
        path = baselines_dir / name / "tokenizer.json"
        base = Tokenizer.from_file(str(path))
        tok = chemtok.ChemTokenizer.from_base(path)
        plain = "Caffeine is a stimulant found in coffee; 1,3,7-trimethylxanthine."
        assert tok.encode(plain) == base.encode(plain, add_special_tokens=False).ids
        assert tok.block("text") == (0, base.get_vocab_size(with_added_tokens=True))
        # The blocks tile the id space in order; what is added is every block but the base
        # model's, each modality and marker block the size it has without a base model.
        blocks = [tok.block(ns) for ns in tok.namespaces]
        assert [offset for offset, _ in blocks] == [sum(size for _, size in blocks[:i]) for i in range(len(blocks))]
        assert sum(size for _, size in blocks) == len(tok)
        added = sum(size for ns, (_, size) in zip(tok.namespaces, blocks) if ns != "text")
        assert tok.num_added_tokens == len(tok) - base.get_vocab_size(with_added_tokens=True) == added
        for ns in ("marker", "byte", "smiles", "inchi", "protein", "dna"):
            assert tok.block(ns)[1] == router.block(ns)[1], (name, ns)
        mixed = f"{plain} [START_SMILES]Cn1cnc2c1c(=O)n(C)c(=O)n2C[END_SMILES]"
        ids = tok.encode(mixed)
        assert tok.decode(ids) == mixed
        # The prose keeps the base model's ids, the SMILES gets chemtok's, the markers theirs.
        enc = tok.encode_with_offsets(mixed)
        assert enc.ids == ids
        start, end = mixed.index("[START_SMILES]"), mixed.index("[END_SMILES]")
        where = [
            "text" if b <= start else "marker" if a >= end or a == start else "smiles" for a, b in enc.offsets
        ]
        assert [tok.namespace_of(i) for i in ids] == where, name


@given(marked_text())
def test_hyp_router_lossless(text: str) -> None:
    segments = router.split(text)
    assert "".join(s.text for s in segments) == text
    assert router.decode(router.encode(text)) == text


TEXT_MODEL = chemtok.TextTokenizer()


@given(plain_text)
def test_hyp_plain_text_is_the_text_model(text: str) -> None:
    offset = router.block("text")[0]
    assert router.encode(text) == [offset + i for i in TEXT_MODEL.encode(text)]


# -- batch errors: the first failing text, with its index --------------------------

BAD_PARTS = {
    "marker": ["a [START_SMILES]CCO", "CCO[END_SMILES]", "[START_FOO]x[END_FOO]", "<work><work>x</work></work>"],
    "smiles": ["[START_SMILES]c1c[nH]c2c1fccc2[END_SMILES]", "[START_SMILES]CC§[END_SMILES]"],
    "inchi": ["[START_INCHI]InChI=1S/C2H6O/c1-2-3§[END_INCHI]", "[START_INCHI]InChI=1S/CH4/h1H4 x[END_INCHI]"],
    "protein": ["[START_AMINO]MKT1AY[END_AMINO]"],
    "dna": ["[START_DNA]ACGTZ[END_DNA]"],
    "surrogate": ["odd \udc80 text", "\ud83d"],
}
PYTHON_ROUTER = chemtok.ChemTokenizer(engine="python")


def single_errors(tok: chemtok.ChemTokenizer, texts: list[str]) -> list[chemtok.TokenizationError | None]:
    errors: list[chemtok.TokenizationError | None] = []
    for text in texts:
        try:
            tok.encode(text)
        except chemtok.TokenizationError as err:
            errors.append(err)
        else:
            errors.append(None)
    return errors


def assert_first_failure(tok: chemtok.ChemTokenizer, texts: list[str], **options: object) -> None:
    """``encode_batch`` raises what ``encode`` of the first failing text raises, plus ``.index``."""
    singles = single_errors(tok, texts)
    first = next((i for i, err in enumerate(singles) if err is not None), None)
    if first is None:
        assert tok.encode_batch(texts, **options) is not None
        return
    want = singles[first]
    assert want is not None and want.index is None  # single-text calls name no record
    with pytest.raises(chemtok.TokenizationError) as info:
        tok.encode_batch(texts, **options)
    err = info.value
    assert (type(err), err.text, err.position, err.modality, err.reason) == (
        type(want), want.text, want.position, want.modality, want.reason,
    )  # fmt: skip
    assert err.index == first and f"in text {first} of the batch" in str(err)


part = st.one_of(plain_text, marked_text(), *(st.sampled_from(parts) for parts in BAD_PARTS.values()))
failing_texts = st.lists(st.lists(part, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=6)


@given(failing_texts)
def test_hyp_batch_error_is_the_first_failing_text(texts: list[str]) -> None:
    assert_first_failure(router, texts)
    assert_first_failure(PYTHON_ROUTER, texts)


@given(failing_texts)
def test_hyp_batch_error_with_arrays(texts: list[str]) -> None:
    assert_first_failure(router, texts, return_arrays=True)


def test_earlier_segment_error_beats_a_later_marker_error() -> None:
    texts = ["fine", "[START_SMILES]CC§[END_SMILES]", "[START_SMILES]CC"]
    with pytest.raises(chemtok.TokenizationError) as info:
        router.encode_batch(texts)
    assert type(info.value) is chemtok.TokenizationError and info.value.modality == "smiles"
    assert (info.value.index, info.value.position) == (1, 16)
    with pytest.raises(chemtok.MarkerError) as marker:
        router.encode_batch(texts[2:] + texts[:2])
    assert marker.value.index == 0
    with pytest.raises(chemtok.TokenizationError) as single:
        router.encode(texts[1])
    assert single.value.index is None


def test_within_a_text_the_leftmost_failure_wins_whatever_the_batch() -> None:
    # The protein batch fails on text 0 first, but text 1's own first failure is its SMILES.
    texts = ["[START_AMINO]MK1[END_AMINO]", "[START_SMILES]C§[END_SMILES] [START_AMINO]M1[END_AMINO] \ud800"]
    assert_first_failure(router, texts[1:])
    with pytest.raises(chemtok.TokenizationError) as info:
        router.encode_batch(["fine", texts[1]])
    assert (info.value.index, info.value.modality) == (1, "smiles")


def test_single_modality_arrays_carry_the_index() -> None:
    texts = ["[START_SMILES]CCO[END_SMILES]"] * 3 + ["[START_SMILES]C§[END_SMILES]"]
    with pytest.raises(chemtok.TokenizationError) as info:
        router.encode_batch(texts, return_arrays=True)
    assert (info.value.index, info.value.position, info.value.text) == (3, 15, texts[3])


def test_batch_errors_encode_each_modality_once() -> None:
    tok = chemtok.ChemTokenizer(engine="python")  # the Python path batches per modality
    calls: collections.Counter[str] = collections.Counter()

    def spy(name: str, method: Any) -> Any:
        def counted(texts: list[str], **options: Any) -> Any:
            calls[name] += 1
            return method(texts, **options)

        return counted

    for name, modality in tok.modalities.items():
        modality.encode_batch = spy(name, modality.encode_batch)  # type: ignore[method-assign]
    tok.text.encode_batch = spy("text", tok.text.encode_batch)  # type: ignore[method-assign]
    good = "Aspirin [START_SMILES]CCO[END_SMILES] and [START_AMINO]MKT[END_AMINO]."
    texts = [good] * 5 + ["[START_AMINO]MK1[END_AMINO]", "[START_SMILES]C§[END_SMILES]", "[START_SMILES]CC"]
    with pytest.raises(chemtok.TokenizationError) as info:
        tok.encode_batch(texts)
    assert (info.value.index, info.value.modality) == (5, "protein")
    assert calls == {"smiles": 1, "protein": 1, "text": 1}


def test_text_model_errors_are_placed_and_indexed() -> None:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    lower = Tokenizer(models.WordLevel({"hello": 0, "[UNK]": 1}, unk_token="[UNK]"))
    lower.normalizer = normalizers.Lowercase()
    lower.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = chemtok.ChemTokenizer(text=chemtok.TextTokenizer(lower))
    texts = ["hello", "[START_SMILES]CCO[END_SMILES]Hello", "x \ud800"]
    assert_first_failure(tok, texts)
    with pytest.raises(chemtok.TokenizationError) as info:
        tok.encode_batch(texts)
    assert (info.value.index, info.value.position, info.value.modality) == (1, texts[1].index("Hello"), "text")
