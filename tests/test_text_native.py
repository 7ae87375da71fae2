"""The native byte-level BPE gives the ids of ``tokenizers`` (issue 13, text BPE).

Parity on every string of the shared text corpora (a seeded sample by default, every
record with ``CHEMTOK_FULL_CORPUS=1``) and on arbitrary Unicode for chemtok's text
model, GPT-2 and Llama 3; the structural losslessness the native engine relies on
instead of a decode check (pieces tile the text, ``decode(encode(x)) == x``); and the
engine choice, errors, pickling and saving of ``TextTokenizer``.
"""

from __future__ import annotations

import gzip
import json
import pickle
import random
from pathlib import Path
from typing import Any

import pytest
from conftest import BASELINES, DATA, full_corpus_enabled
from hypothesis import given
from hypothesis import strategies as st

import chemtok
from chemtok.errors import DataFileError, TokenizationError
from chemtok.text import TextTokenizer

pytest.importorskip("chemtok._native")

MODELS = ("chemtok", "gpt2", "llama3")
#: Texts per corpus file in the default run.
SAMPLE = 400

_CACHE: dict[tuple[str, str], TextTokenizer] = {}


def model(name: str, engine: str) -> TextTokenizer:
    """The ``name`` model on ``engine`` (built once per session)."""
    if (name, engine) not in _CACHE:
        if name == "chemtok":
            tok = TextTokenizer(engine=engine)  # type: ignore[arg-type]
        else:
            path = BASELINES / name / "tokenizer.json"
            if not path.exists():
                pytest.skip(f"{path} not found (set CHEMTOK_SHARED)")
            tok = TextTokenizer.from_file(path, engine=engine)  # type: ignore[arg-type]
        _CACHE[name, engine] = tok
    return _CACHE[name, engine]


def corpus_strings(path: Path) -> list[str]:
    """Every non-empty string field of every record of a JSONL(.gz) file."""
    opener: Any = gzip.open if path.suffix == ".gz" else open
    out: list[str] = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            out.extend(v for v in json.loads(line).values() if isinstance(v, str) and v)
    return out


TEXT_FILES = sorted(p.name for p in (DATA / "text").glob("*.jsonl*")) if (DATA / "text").is_dir() else []


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("file", TEXT_FILES)
def test_corpus_ids_equal_tokenizers(name: str, file: str, request: pytest.FixtureRequest) -> None:
    texts = corpus_strings(DATA / "text" / file)
    if not full_corpus_enabled(request.config) and len(texts) > SAMPLE:
        texts = random.Random(file).sample(texts, SAMPLE)
    native, reference = model(name, "native"), model(name, "tokenizers")
    assert native.engine == "native" and reference.engine == "tokenizers"
    got = native.encode_batch(texts, num_threads=2)
    want = reference.encode_batch(texts)
    for text, a, b in zip(texts, got, want):
        assert a == b, text[:200]
    ids, offsets = native.encode_batch_arrays(texts, num_threads=2)
    assert [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(texts))] == want


#: Fragments the pre-tokenizer patterns treat specially, mixed into arbitrary text.
FRAGMENTS = [
    " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\r", "\u00a0", "\u3000", "\u2028", "\x0b", "\x85",
    "'s", "'S", "'t", "'re", "'RE", "'ve", "'m", "'ll", "'LL", "'d", "'D", "'x", "'", "ſ", "'ſ",
    "0", "7", "12", "1234", "٣٤", "²", "½", "Ⅻ", "a", "Benzene", " the", "é", "e\u0301", "\u0301",
    "😀", "👩‍🔬", "!!", " (", ")", ".", "<|endoftext|>", "<|begin_of_text|>", "<s>", "°C", "中文", "Ġ",
]  # fmt: skip
unicode_text = st.lists(
    st.one_of(st.text(st.characters(exclude_categories=("Cs",))), st.sampled_from(FRAGMENTS)), max_size=12
).map("".join)


@pytest.mark.parametrize("name", MODELS)
@given(text=unicode_text)
def test_arbitrary_unicode_ids_equal_tokenizers_and_round_trip(name: str, text: str) -> None:
    native = model(name, "native")
    ids = native.encode(text)
    assert ids == model(name, "tokenizers").encode(text)
    assert native.decode(ids) == text


@pytest.mark.parametrize("name", MODELS)
@given(text=unicode_text)
def test_pieces_tile_the_text(name: str, text: str) -> None:
    engine = model(name, "native")._native
    assert engine is not None
    pieces = engine.pieces(text)
    assert "".join(pieces) == text
    assert all(pieces)


@pytest.mark.parametrize("name", MODELS)
@given(ids=st.lists(st.integers(min_value=0), max_size=20), data=st.data())
def test_decode_of_any_ids_equals_tokenizers(name: str, ids: list[int], data: st.DataObject) -> None:
    native = model(name, "native")
    ids = [i % native.vocab_size for i in ids]
    assert native.decode(ids) == model(name, "tokenizers").decode(ids)


@pytest.mark.parametrize("name", MODELS)
def test_batches_on_one_and_two_threads_equal_single_calls(name: str) -> None:
    native = model(name, "native")
    texts = ["Aspirin (acetylsalicylic acid) is 2-acetoxybenzoic acid.", "", "  x\n\n", "It's 37 °C"] * 25
    rows = [native.encode(t) for t in texts]
    assert native.encode_batch(texts, num_threads=1) == rows
    assert native.encode_batch(texts, num_threads=2) == rows


@pytest.mark.parametrize("name", MODELS)
@given(word=st.text(st.sampled_from("abcdeéxyzAB"), min_size=65, max_size=400), data=st.data())
def test_long_pieces_merge_as_tokenizers_does(name: str, word: str, data: st.DataObject) -> None:
    # Pieces over 64 bytes take the heap path of the merge loop.
    filler = data.draw(st.sampled_from([" " * 130, "!" * 90, "\n" * 70, "2" * 100, "-=" * 40]))
    text = f"{word} {filler}x{word}"
    native = model(name, "native")
    assert native.encode(text) == model(name, "tokenizers").encode(text)
    assert native.decode(native.encode(text)) == text


def test_special_token_literals_are_plain_text() -> None:
    gpt2 = model("gpt2", "native")
    ids = gpt2.encode("end<|endoftext|>")
    assert 50256 not in ids and ids == model("gpt2", "tokenizers").encode("end<|endoftext|>")
    assert gpt2.decode([50256]) == "<|endoftext|>"
    llama3 = model("llama3", "native")
    assert llama3.decode([128000]) == "<|begin_of_text|>" == model("llama3", "tokenizers").decode([128000])


def test_the_engines_reported() -> None:
    assert chemtok.TextTokenizer().engine == "native"
    for name in MODELS:
        assert model(name, "auto").engine == "native"
    assert model("gpt2", "tokenizers").engine == "tokenizers"
    llama2 = BASELINES / "llama2" / "tokenizer.json"
    if not llama2.exists():
        pytest.skip("llama2 baseline not found")
    assert TextTokenizer.from_file(llama2).engine == "tokenizers"
    with pytest.raises(DataFileError, match="engine='tokenizers'") as err:
        TextTokenizer.from_file(llama2, engine="native")
    assert err.value.key == "model.byte_fallback"
    with pytest.raises(ValueError, match="engine must be one of"):
        TextTokenizer(engine="python")  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ["native", "tokenizers"])
def test_lone_surrogates_are_refused_or_skipped_alike(engine: str) -> None:
    tok = model("gpt2", engine)
    with pytest.raises(TokenizationError) as err:
        tok.encode_batch(["fine", "bad \ud800 here"])
    assert (err.value.index, err.value.position) == (1, 4)
    assert tok.encode("a\udc00b", on_error="skip") == tok.encode("ab")
    ids, offsets = tok.encode_batch_arrays(["a\udc00b", "c"], on_error="skip")
    assert ids[offsets[0] : offsets[1]].tolist() == tok.encode("ab")


@pytest.mark.parametrize("name", ["chemtok", "gpt2"])
def test_pickle_and_save_keep_the_engine_and_ids(name: str, tmp_path: Path) -> None:
    tok = model(name, "native")
    text = "Caffeine (1,3,7-trimethylxanthine) melts at 235 °C."
    again = pickle.loads(pickle.dumps(tok))
    assert again.engine == "native" and again.encode(text) == tok.encode(text)
    loaded = TextTokenizer.load(tok.save(tmp_path / name))
    assert loaded.engine == "native" and loaded.encode(text) == tok.encode(text)
    assert TextTokenizer.load(tmp_path / name, engine="python").engine == "tokenizers"
    assert pickle.loads(pickle.dumps(model(name, "tokenizers"))).engine == "tokenizers"
    engine = tok._native
    assert engine is not None and pickle.loads(pickle.dumps(engine)).encode(text) == tok.encode(text)


def test_offsets_and_arrow_on_the_native_engine() -> None:
    pa = pytest.importorskip("pyarrow")
    tok = model("llama3", "native")
    text = "Ethanol boils at 78 °C; it's C2H5OH."
    enc = tok.encode_with_offsets(text)
    assert enc.ids == tok.encode(text)
    assert "".join(text[a:b] for a, b in enc.offsets) == text
    out = tok.encode_arrow(pa.array([text, None, "x"]))
    assert out.column("ids").to_pylist() == [tok.encode(text), None, tok.encode("x")]
