"""Extending GPT-2, Llama 2 and Llama 3: the base model keeps its ids *and* its special tokens.

``from_base`` must not give BOS/EOS new, untrained rows: the base's own ``bos``/``eos``/
``unk`` keep their ids, only the roles it lacks get chemtok's tokens appended, its
special-token literals in text are read as the base reads them, and ``transformers``
wraps sequences with the base's post-processor template.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import BASELINES, DATA
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import plain_text

import chemtok
from chemtok.io import read_records
from chemtok.specials import find_special_tokens

#: What each base defines: ids of its bos/eos/unk, chemtok's tokens appended for the
#: roles it lacks (in markers.toml order), and one of its special-token literals.
EXPECTED: dict[str, dict[str, Any]] = {
    "gpt2": {"bos": 50256, "eos": 50256, "unk": None, "appended": ["<pad>", "<unk>", "<mask>"], "literal": "<|endoftext|>"},
    "llama2": {"bos": 1, "eos": 2, "unk": 0, "appended": ["<pad>", "<mask>"], "literal": "</s>"},
    "llama3": {"bos": 128000, "eos": 128001, "unk": None, "appended": ["<pad>", "<unk>", "<mask>"], "literal": "<|end_of_text|>"},
}
NAMES = list(EXPECTED)
_CACHE: dict[str, Any] = {}


def base_path(name: str) -> Path:
    path = BASELINES / name / "tokenizer.json"
    if not path.exists():
        pytest.skip(f"no baseline at {path}")
    return path


def bare(name: str) -> Any:
    """The base tokenizer as its model uses it (``tokenizers`` defaults)."""
    from tokenizers import Tokenizer

    if f"bare:{name}" not in _CACHE:
        _CACHE[f"bare:{name}"] = Tokenizer.from_file(str(base_path(name)))
    return _CACHE[f"bare:{name}"]


def extended(name: str) -> chemtok.ChemTokenizer:
    if f"chem:{name}" not in _CACHE:
        _CACHE[f"chem:{name}"] = chemtok.ChemTokenizer.from_base(base_path(name))
    tok: chemtok.ChemTokenizer = _CACHE[f"chem:{name}"]
    return tok


@pytest.fixture(scope="module")
def prose() -> list[str]:
    """Real prose without markers: PubMed abstracts, ChEBI and Mol-Instructions text."""
    if not DATA.is_dir():
        pytest.skip("shared data not found")
    texts = [r.text for r in read_records(DATA / "text" / "pubmed_biopython.jsonl", column="text") if r.text]
    for name, column in (("chebi20_molt5.jsonl.gz", "text"), ("mol_instructions_biotext.jsonl.gz", "input")):
        more = [r.text for r in read_records(DATA / "text" / name, column=column) if r.text]
        texts += random.Random(name).sample(more, 150)
    return [t for t in texts if "[START_" not in t and "[END_" not in t and "<work>" not in t and "</work>" not in t]


@pytest.mark.parametrize("name", NAMES)
def test_the_base_special_tokens_keep_their_ids(name: str) -> None:
    tok, want = extended(name), EXPECTED[name]
    base_size = bare(name).get_vocab_size(with_added_tokens=True)
    assert (tok.bos_token_id, tok.eos_token_id) == (want["bos"], want["eos"])
    assert tok.bos_token == bare(name).id_to_token(want["bos"]) and tok.eos_token == bare(name).id_to_token(want["eos"])
    # chemtok appends only what the base lacks, right after the base ids.
    assert tok.block("special") == (base_size, len(want["appended"]))
    assert [tok.id_to_token(base_size + i) for i in range(len(want["appended"]))] == want["appended"]
    assert tok.pad_token_id == base_size and tok.pad_token == "<pad>"
    assert tok.unk_token_id == (want["unk"] if want["unk"] is not None else base_size + want["appended"].index("<unk>"))
    assert tok.mask_token_id == base_size + want["appended"].index("<mask>")
    assert tok.special_token_ids[tok.bos_token] == want["bos"]
    assert set(tok.special_token_ids.values()) == {
        tok.bos_token_id, tok.eos_token_id, tok.pad_token_id, tok.unk_token_id, tok.mask_token_id,
    }  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_len_and_num_added_tokens_agree(name: str) -> None:
    tok = extended(name)
    base_size = bare(name).get_vocab_size(with_added_tokens=True)
    assert tok.block("text") == (0, base_size)
    assert len(tok) == tok.vocab_size == base_size + tok.num_added_tokens
    appended = [block for block in tok.namespaces if block != "text"]  # incl. selfies, appended_marker
    assert tok.num_added_tokens == sum(tok.block(block)[1] for block in appended)
    assert tok.block("marker")[0] == base_size + len(EXPECTED[name]["appended"])


@pytest.mark.parametrize("name", NAMES)
def test_prose_gets_exactly_the_base_ids(name: str, prose: list[str]) -> None:
    tok, base = extended(name), bare(name)
    want = [e.ids for e in base.encode_batch(prose, add_special_tokens=False)]
    got = tok.encode_batch(prose)
    assert got == want
    assert tok.decode_batch(got) == prose


@pytest.mark.parametrize("name", NAMES)
def test_special_literals_are_read_as_the_base_reads_them(name: str) -> None:
    tok, base, literal = extended(name), bare(name), EXPECTED[name]["literal"]
    bos = tok.bos_token
    texts = [literal, f"Done.{literal}Next", f"a {literal} b {literal}{literal}", f"{bos}x{literal}", f" {literal} \n"]
    for text in texts:
        ids = tok.encode(text)
        assert ids == base.encode(text, add_special_tokens=False).ids
        assert base.token_to_id(literal) in ids
        assert tok.decode(ids) == text  # lossless even where the base's decode is not (Llama 2)
        assert literal not in tok.decode(ids, skip_special_tokens=True)
    # Inside markers and around chemistry the literals keep working.
    mixed = f"Aspirin [START_SMILES]CC(=O)O[END_SMILES]{literal}[START_REF]x{literal}[END_REF]"
    ids = tok.encode(mixed)
    assert ids.count(base.token_to_id(literal)) == 2 and tok.decode(ids) == mixed


@pytest.mark.parametrize("name", NAMES)
def test_other_base_special_tokens_are_special_too(name: str) -> None:
    tok, base = extended(name), bare(name)
    for token_id, added in base.get_added_tokens_decoder().items():
        assert tok.namespace_of(token_id) == "text"
        assert tok.decode([token_id]) == added.content
        assert tok.decode([token_id], skip_special_tokens=True) == ""


@settings(max_examples=60)
@given(st.sampled_from(NAMES), st.lists(st.one_of(plain_text, st.just("")), min_size=1, max_size=4), st.data())
def test_hyp_text_with_literals_matches_the_base(name: str, runs: list[str], data: st.DataObject) -> None:
    base = bare(name)
    literals = [t.content for t in base.get_added_tokens_decoder().values() if t.special]
    text = "".join(run + data.draw(st.sampled_from(literals)) for run in runs)
    tok = extended(name)
    ids = tok.encode(text)
    assert ids == base.encode(text, add_special_tokens=False).ids
    assert tok.decode(ids) == text


def test_the_default_tokenizer_is_unchanged() -> None:
    tok = chemtok.ChemTokenizer()
    assert tok.special_token_ids == {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4}
    assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id, tok.unk_token_id, tok.mask_token_id) == (0, 1, 2, 3, 4)
    assert (tok.bos_token, tok.eos_token, tok.pad_token, tok.unk_token) == ("<s>", "</s>", "<pad>", "<unk>")
    assert tok.block("special") == (0, 5) and tok.base_special_tokens == {}
    # No base, no special literals: "<s>" in text is text.
    ids = tok.encode("a <s> b <|endoftext|>")
    assert tok.namespace_of(ids[0]) == "text" and all(tok.namespace_of(i) == "text" for i in ids)
    assert tok.decode(ids) == "a <s> b <|endoftext|>"


def copy_base(name: str, directory: Path, **files: dict[str, Any]) -> Path:
    """The base tokenizer.json in ``directory``, with config files beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "tokenizer.json"
    shutil.copyfile(base_path(name), path)
    for file_name, content in files.items():
        (directory / f"{file_name}.json").write_text(json.dumps(content))
    return path


def test_files_beside_the_base_name_its_special_tokens(tmp_path: Path) -> None:
    config = {"bos_token": "<|begin_of_text|>", "eos_token": {"content": "<|eot_id|>", "special": True}, "unk_token": None}
    mapping = {"pad_token": "<|reserved_special_token_0|>", "eos_token": "<|end_of_text|>"}
    path = copy_base("llama3", tmp_path, tokenizer_config=config, special_tokens_map=mapping)
    roles = find_special_tokens(chemtok.TextTokenizer.from_file(path), tmp_path)
    # tokenizer_config.json first; special_tokens_map.json for what it leaves out.
    assert roles == {"pad": "<|reserved_special_token_0|>", "bos": "<|begin_of_text|>", "eos": "<|eot_id|>"}
    tok = chemtok.ChemTokenizer.from_base(path)
    assert (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id) == (128000, 128009, 128002)
    offset, size = tok.block("special")
    assert (offset, size) == (128256, 2) and [tok.id_to_token(offset + i) for i in range(size)] == ["<unk>", "<mask>"]
    assert tok.unk_token_id == 128256
    assert tok.fingerprint != extended("llama3").fingerprint


def test_a_bad_file_beside_the_base_is_a_data_file_error(tmp_path: Path) -> None:
    path = copy_base("llama3", tmp_path, tokenizer_config={"pad_token": "[PAD]"})
    with pytest.raises(chemtok.DataFileError) as info:
        chemtok.ChemTokenizer.from_base(path)
    assert info.value.key == "pad_token" and "[PAD]" in str(info.value)
    (tmp_path / "tokenizer_config.json").write_text("{not json")
    with pytest.raises(chemtok.DataFileError, match=r"tokenizer_config\.json"):
        chemtok.ChemTokenizer.from_base(path)


def test_the_fingerprint_hashes_the_roles() -> None:
    llama3 = extended("llama3")
    text = llama3.text
    other = chemtok.ChemTokenizer(text=text, base_special_tokens={"bos": "<|begin_of_text|>", "eos": "<|eot_id|>"})
    blocks = ("special", "marker", "byte")
    assert [other.block(b) for b in blocks] == [llama3.block(b) for b in blocks]  # the same sizes
    assert other.eos_token_id == 128009 and other.fingerprint != llama3.fingerprint
    same = chemtok.ChemTokenizer(text=text, base_special_tokens=llama3.base_special_tokens)
    assert same.fingerprint == llama3.fingerprint


def test_explicit_roles_are_checked() -> None:
    text = extended("llama3").text
    with pytest.raises(ValueError, match="not in the base model"):
        chemtok.ChemTokenizer(text=text, base_special_tokens={"pad": "[PAD]"})
    with pytest.raises(ValueError, match="unknown role"):
        chemtok.ChemTokenizer(text=text, base_special_tokens={"sep": "<|end_of_text|>"})
    with pytest.raises(ValueError, match="needs a base"):
        chemtok.ChemTokenizer(base_special_tokens={"bos": "<s>"})
    # None or a missing role: chemtok's own token is appended.
    tok = chemtok.ChemTokenizer(text=text, base_special_tokens={"bos": "<|begin_of_text|>", "eos": None})
    assert tok.eos_token == "</s>" and tok.eos_token_id == tok.block("special")[0] + 1


# -- transformers ------------------------------------------------------------------


def hf_extended(name: str) -> Any:
    pytest.importorskip("transformers")
    from chemtok.hf import HFChemTokenizer

    if f"hf:{name}" not in _CACHE:
        _CACHE[f"hf:{name}"] = HFChemTokenizer.from_base(base_path(name))
    return _CACHE[f"hf:{name}"]


@pytest.mark.parametrize("name", NAMES)
def test_hf_reports_the_same_special_ids(name: str) -> None:
    hf, chem = hf_extended(name), extended(name)
    assert (hf.bos_token_id, hf.eos_token_id, hf.pad_token_id, hf.unk_token_id, hf.mask_token_id) == (
        chem.bos_token_id, chem.eos_token_id, chem.pad_token_id, chem.unk_token_id, chem.mask_token_id,
    )  # fmt: skip
    assert (hf.bos_token, hf.eos_token) == (chem.bos_token, chem.eos_token)
    assert len(hf) == len(chem) and hf.num_added_tokens == chem.num_added_tokens
    assert hf.chem.fingerprint == chem.fingerprint


@pytest.mark.parametrize("name", NAMES)
def test_hf_wraps_as_the_base_post_processor_does(name: str, prose: list[str]) -> None:
    hf, base = hf_extended(name), bare(name)
    a, b = prose[0], prose[1]
    options = {"return_token_type_ids": True, "return_special_tokens_mask": True}
    for ours, theirs in ((hf(a, **options), base.encode(a)), (hf(a, b, **options), base.encode(a, b))):
        assert ours["input_ids"] == theirs.ids  # Llama: BOS only (128000 / 1); GPT-2: nothing
        assert ours["token_type_ids"] == theirs.type_ids
        assert ours["special_tokens_mask"] == theirs.special_tokens_mask
    assert hf.num_special_tokens_to_add() == sum(base.encode("a").special_tokens_mask)
    marked = "Caffeine [START_SMILES]Cn1cnc2c1c(=O)n(C)c(=O)n2C[END_SMILES]"
    ids = hf(marked)["input_ids"]
    assert ids[: len(ids) - len(extended(name).encode(marked))] == ([] if name == "gpt2" else [EXPECTED[name]["bos"]])
    assert hf.decode(ids, skip_special_tokens=True) == marked


@pytest.mark.parametrize("name", ["llama3", "gpt2"])
def test_hf_save_and_load_keep_the_roles(name: str, tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from chemtok.hf import HFChemTokenizer

    # Roles from a config file that save_pretrained does not copy: chemtok.json keeps them.
    pad = {"llama3": "<|reserved_special_token_0|>", "gpt2": "<|endoftext|>"}[name]
    path = copy_base(name, tmp_path / "base", tokenizer_config={"pad_token": pad})
    tok = HFChemTokenizer.from_base(path)
    assert tok.pad_token_id == tok.chem.pad_token_id == bare(name).token_to_id(pad)
    tok.save_pretrained(tmp_path / "saved")
    loaded = HFChemTokenizer.from_pretrained(tmp_path / "saved")
    assert loaded.chem.fingerprint == tok.chem.fingerprint
    roles = ("bos_token_id", "eos_token_id", "pad_token_id")
    assert [getattr(loaded, r) for r in roles] == [getattr(tok, r) for r in roles]
    texts = ["Done.<|endoftext|>", "Aspirin [START_SMILES]CC(=O)O[END_SMILES]"]
    assert loaded(texts, padding=True)["input_ids"] == tok(texts, padding=True)["input_ids"]
