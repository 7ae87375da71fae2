"""TextTokenizer: the shipped byte-level BPE and any tokenizer.json, ids kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from strategies import plain_text

import chemtok

text = chemtok.TextTokenizer()


def test_default_model_is_lossless_and_splits_digits() -> None:
    sample = "The IC50 was 12.5 nM (n = 3) at 37 °C — see Fig. 2β."
    assert text.decode(text.encode(sample)) == sample
    tokens = text.tokenize("in 2024")
    assert [t for t in tokens if t.strip("Ġ").isdigit()] == ["2", "0", "2", "4"]


@given(plain_text)
def test_hyp_any_unicode_round_trips(sample: str) -> None:
    assert text.decode(text.encode(sample)) == sample


def test_lone_surrogate_is_refused_with_position() -> None:
    with pytest.raises(chemtok.TokenizationError) as info:
        text.encode("ab\ud800c")
    assert info.value.position == 2
    assert text.encode("ab\ud800c", on_error="skip") == text.encode("abc")
    with pytest.raises(ValueError, match="ChemTokenizer"):
        chemtok.TextTokenizer(on_error="fallback")


def test_special_token_literals_are_plain_text(baselines_dir) -> None:
    gpt2 = chemtok.TextTokenizer.from_file(baselines_dir / "gpt2" / "tokenizer.json")
    ids = gpt2.encode("a<|endoftext|>b")
    assert 50256 not in ids
    assert gpt2.decode(ids) == "a<|endoftext|>b"


@pytest.mark.parametrize("name", ["gpt2", "llama2", "llama3"])
def test_from_file_keeps_base_ids(baselines_dir, name: str) -> None:
    from tokenizers import Tokenizer

    path = baselines_dir / name / "tokenizer.json"
    ours = chemtok.TextTokenizer.from_file(path)
    theirs = Tokenizer.from_file(str(path))
    for sample in ["Hello world", "Aspirin is CC(=O)Oc1ccccc1C(=O)O.", " leading space", "Ünïcödé 漢字 🧪"]:
        assert ours.encode(sample) == theirs.encode(sample, add_special_tokens=False).ids
        assert ours.decode(ours.encode(sample)) == sample
    assert ours.vocab_size == theirs.get_vocab_size(with_added_tokens=True)


def test_gpt2_known_ids(baselines_dir) -> None:
    gpt2 = chemtok.TextTokenizer.from_file(baselines_dir / "gpt2" / "tokenizer.json")
    assert gpt2.encode("Hello world") == [15496, 995]


def test_bad_file_is_a_data_file_error(tmp_path) -> None:
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json")
    with pytest.raises(chemtok.DataFileError, match=r"tokenizer\.json"):
        chemtok.TextTokenizer.from_file(bad)


def test_non_lossless_model_is_refused(tmp_path) -> None:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    lower = Tokenizer(models.WordLevel({"hello": 0, "[UNK]": 1}, unk_token="[UNK]"))
    lower.normalizer = normalizers.Lowercase()
    lower.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = chemtok.TextTokenizer(lower)
    with pytest.raises(chemtok.TokenizationError) as info:
        tok.encode("Hello")
    assert info.value.position == 0


def lowercasing_model() -> chemtok.TextTokenizer:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    lower = Tokenizer(models.WordLevel({"hello": 0, "[UNK]": 1}, unk_token="[UNK]"))
    lower.normalizer = normalizers.Lowercase()
    lower.pre_tokenizer = pre_tokenizers.Whitespace()
    return chemtok.TextTokenizer(lower)


def test_batch_errors_carry_the_index_of_the_first_failing_text() -> None:
    with pytest.raises(chemtok.TokenizationError) as info:
        text.encode_batch(["ok", "ab\ud800c", "\udc80"])
    assert (info.value.index, info.value.position, info.value.text) == (1, 2, "ab\ud800c")
    with pytest.raises(chemtok.TokenizationError) as single:
        text.encode("ab\ud800c")
    assert single.value.index is None
    # A text the model cannot reproduce, before a lone surrogate, is the first failure.
    lower = lowercasing_model()
    with pytest.raises(chemtok.TokenizationError) as info:
        lower.encode_batch(["hello", "Hello", "a\ud800"])
    assert (info.value.index, info.value.position) == (1, 0) and "does not reproduce" in info.value.reason
    with pytest.raises(chemtok.TokenizationError) as info:
        lower.encode_batch(["hello", "a\ud800", "Hello"])
    assert (info.value.index, info.value.position) == (1, 1) and "surrogate" in info.value.reason
