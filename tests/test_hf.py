"""chemtok.hf: the transformers tokenizer over ChemTokenizer, save/load, base models, datasets.

Skipped when transformers (the ``chemtok[hf]`` extra) is absent; the datasets test also
needs ``datasets``, the ``"pt"`` test ``torch``.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")

from conftest import BASELINES, DATA, ROOT

import chemtok
from chemtok.hf import HFChemTokenizer
from chemtok.idspace import MODALITY_ORDER
from chemtok.io import read_records

GALACTICA = DATA / "text" / "galactica_style_constructed.jsonl.gz"
DOCS = [
    "Aspirin [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES] inhibits COX-1.",
    "Insulin chain A: [START_AMINO]GIVEQCCTSICSLYQLENYCN[END_AMINO]",
    "plain prose, no markers — naïve café 123",
    "[START_INCHI]InChI=1S/CH4O/c1-2/h2H,1H3[END_INCHI] and [START_DNA]ACGTacgtNN[END_DNA]",
    "",
]


@pytest.fixture(scope="module")
def tok() -> HFChemTokenizer:
    return HFChemTokenizer()


@pytest.fixture(scope="module")
def chem() -> chemtok.ChemTokenizer:
    return chemtok.ChemTokenizer()


@pytest.fixture(scope="module")
def corpus_docs() -> list[str]:
    if not GALACTICA.exists():
        pytest.skip("shared data not found")
    texts = [r.text for r in read_records(GALACTICA, column="text") if r.text is not None]
    return random.Random("hf").sample(texts, 200)


def test_ids_are_chemtok_ids(tok: HFChemTokenizer, chem: chemtok.ChemTokenizer, corpus_docs: list[str]) -> None:
    texts = DOCS + corpus_docs
    want = chem.encode_batch(texts)
    assert tok(texts, add_special_tokens=False)["input_ids"] == want
    assert [tok.encode(t, add_special_tokens=False) for t in texts[:20]] == want[:20]
    assert tok(texts)["input_ids"] == [[tok.bos_token_id, *ids, tok.eos_token_id] for ids in want]


def test_special_tokens_are_chemtoks(tok: HFChemTokenizer, chem: chemtok.ChemTokenizer) -> None:
    ids = chem.special_token_ids
    assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id, tok.unk_token_id, tok.mask_token_id) == (
        ids["<pad>"], ids["<s>"], ids["</s>"], ids["<unk>"], ids["<mask>"],
    )  # fmt: skip
    assert (tok.bos_token, tok.eos_token, tok.pad_token, tok.mask_token) == ("<s>", "</s>", "<pad>", "<mask>")
    assert len(tok) == tok.vocab_size == len(chem)


def test_token_strings_are_unique_and_namespaced(tok: HFChemTokenizer, chem: chemtok.ChemTokenizer) -> None:
    vocab = tok.get_vocab()
    assert len(vocab) == len(chem) and sorted(vocab.values()) == list(range(len(chem)))
    ids = tok.encode("[START_SMILES]C[END_SMILES][START_AMINO]C[END_AMINO]", add_special_tokens=False)
    assert tok.convert_ids_to_tokens(ids) == [
        "[START_SMILES]", "smiles:C", "[END_SMILES]", "[START_AMINO]", "protein:C", "[END_AMINO]",
    ]  # fmt: skip
    assert tok.convert_tokens_to_ids(["smiles:C", "protein:C", "<s>"]) == [ids[1], ids[4], tok.bos_token_id]
    byte_offset, _ = chem.block("byte")
    assert tok.convert_ids_to_tokens(byte_offset + 0x66) == "byte:<0x66>"
    text_offset, _ = chem.block("text")
    assert tok.convert_ids_to_tokens(text_offset + 100) == chem.id_to_token(text_offset + 100)


def test_padding_and_truncation_shapes(tok: HFChemTokenizer, chem: chemtok.ChemTokenizer) -> None:
    lengths = [len(ids) + 2 for ids in chem.encode_batch(DOCS)]
    batch = tok(DOCS, padding=True, return_tensors="np")
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (len(DOCS), max(lengths))
    assert batch["attention_mask"].sum(axis=1).tolist() == lengths
    assert (batch["input_ids"][batch["attention_mask"] == 0] == tok.pad_token_id).all()

    batch = tok(DOCS, padding=True, truncation=True, max_length=8, return_tensors="np")
    assert batch["input_ids"].shape == (len(DOCS), 8)
    assert batch["attention_mask"].sum(axis=1).tolist() == [min(n, 8) for n in lengths]
    assert (batch["input_ids"][:, 0] == tok.bos_token_id).all()
    first = batch["input_ids"][0]
    assert first[-1] == tok.eos_token_id and first[1:7].tolist() == chem.encode(DOCS[0])[:6]

    batch = tok(DOCS, padding="max_length", max_length=64, return_tensors="np")
    assert batch["input_ids"].shape == (len(DOCS), 64)
    batch = tok(DOCS, padding=True, pad_to_multiple_of=16, return_tensors="np")
    assert batch["input_ids"].shape[1] % 16 == 0

    single = tok(DOCS[0], return_tensors="np")
    assert single["input_ids"].shape == (1, lengths[0])

    left = tok(DOCS[:3], padding=True, padding_side="left", return_tensors="np")
    assert (left["input_ids"][:, -1] == tok.eos_token_id).all()


def test_pt_tensors(tok: HFChemTokenizer) -> None:
    torch = pytest.importorskip("torch")
    batch = tok(DOCS, padding=True, truncation=True, max_length=16, return_tensors="pt")
    assert isinstance(batch["input_ids"], torch.Tensor) and tuple(batch["input_ids"].shape) == (len(DOCS), 16)


def test_offsets_point_at_the_characters_of_each_token(
    tok: HFChemTokenizer, chem: chemtok.ChemTokenizer, corpus_docs: list[str]
) -> None:
    texts = DOCS + corpus_docs[:50]
    batch = tok(texts, return_offsets_mapping=True, padding=True)
    for text, ids, offsets, mask in zip(texts, batch["input_ids"], batch["offset_mapping"], batch["attention_mask"]):
        assert len(offsets) == len(ids)
        previous_end = 0
        for token_id, (start, end), real in zip(ids, offsets, mask):
            if not real or token_id in (tok.bos_token_id, tok.eos_token_id):
                assert (start, end) == (0, 0)
                continue
            assert start == previous_end <= end <= len(text)  # the spans tile the text
            previous_end = end
            namespace = chem.namespace_of(token_id)
            if namespace in ("marker", *MODALITY_ORDER):
                assert text[start:end] == chem.id_to_token(token_id)
            elif end == start:  # a byte-level piece that does not complete its character
                assert ord(text[start]) >= 0x80
        assert previous_end == len(text)
    # padded positions are (0, 0) on either side
    left = tok(DOCS[:3], padding=True, padding_side="left", return_offsets_mapping=True)
    shortest = min(range(3), key=lambda i: sum(left["attention_mask"][i]))
    assert left["offset_mapping"][shortest][0] == (0, 0)


def test_offsets_with_fallback_bytes() -> None:
    tok = HFChemTokenizer(on_error="fallback")
    text = "x [START_SMILES]CCfé[END_SMILES]"
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    pieces = [text[a:b] for a, b in enc["offset_mapping"]]
    # é is two UTF-8 bytes: the second completes it and gets its span
    assert pieces[-6:] == ["C", "C", "f", "", "é", "[END_SMILES]"]
    assert enc["offset_mapping"][-3:-1] == [(len(text) - 13, len(text) - 13), (len(text) - 13, len(text) - 12)]
    assert tok.decode(enc["input_ids"]) == text


def test_decode_equals_chemtok(tok: HFChemTokenizer, chem: chemtok.ChemTokenizer, corpus_docs: list[str]) -> None:
    texts = DOCS + corpus_docs[:50]
    batch = tok(texts, padding=True)["input_ids"]
    for text, ids in zip(texts, batch):
        assert tok.decode(ids, skip_special_tokens=True) == chem.decode(ids, skip_special_tokens=True) == text
        assert tok.decode(ids) == chem.decode(ids)
    assert tok.batch_decode(batch, skip_special_tokens=True) == texts
    assert tok.decode(np.array(batch[0]), skip_special_tokens=True) == texts[0]
    ids = chem.encode(DOCS[0])
    assert tok.convert_tokens_to_string(tok.convert_ids_to_tokens(ids)) == DOCS[0]


def test_pairs_special_tokens_mask_and_token_types(tok: HFChemTokenizer, chem: chemtok.ChemTokenizer) -> None:
    enc = tok("[START_SMILES]CCO[END_SMILES]", "ethanol", return_special_tokens_mask=True, return_token_type_ids=True)
    a, b = chem.encode("[START_SMILES]CCO[END_SMILES]"), chem.encode("ethanol")
    assert enc["input_ids"] == [tok.bos_token_id, *a, tok.eos_token_id, *b, tok.eos_token_id]
    assert enc["special_tokens_mask"] == [1, *[0] * len(a), 1, *[0] * len(b), 1]
    assert enc["token_type_ids"] == [0] * (len(a) + 2) + [1] * (len(b) + 1)


def test_overflowing_tokens_are_ids(tok: HFChemTokenizer, chem: chemtok.ChemTokenizer) -> None:
    enc = tok(DOCS[0], truncation=True, max_length=6, return_overflowing_tokens=True)
    ids = chem.encode(DOCS[0])
    assert enc["input_ids"] == [tok.bos_token_id, *ids[:4], tok.eos_token_id]
    assert enc["overflowing_tokens"] == ids[4:]


def test_refusals_are_chemtoks(tok: HFChemTokenizer) -> None:
    with pytest.raises(chemtok.MarkerError):
        tok("[START_SMILES]CCO")
    with pytest.raises(ValueError, match="pre-split"):
        tok(["CC", "O"], is_split_into_words=True)
    with pytest.raises(ValueError, match="closed"):
        tok.add_tokens(["[START_DEEPSMILES]"])  # [START_SELFIES] is in the id space now
    assert tok.add_special_tokens({"pad_token": "<pad>"}) == 0  # already there: fine


def test_save_and_load_round_trip(tok: HFChemTokenizer, tmp_path: Path, corpus_docs: list[str]) -> None:
    from transformers import AutoTokenizer

    tok.save_pretrained(tmp_path)
    assert {"tokenizer_config.json", "chemtok.json", "tokenization_chemtok.py"} <= set(os.listdir(tmp_path))
    assert not (tmp_path / "tokenizer.json").exists()  # nothing a stock fast tokenizer would misread
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "HFChemTokenizer"
    texts = DOCS + corpus_docs[:50]
    for loaded in (HFChemTokenizer.from_pretrained(tmp_path), AutoTokenizer.from_pretrained(tmp_path)):
        assert isinstance(loaded, HFChemTokenizer)
        assert loaded(texts, padding=True)["input_ids"] == tok(texts, padding=True)["input_ids"]
        assert loaded.get_vocab() == tok.get_vocab() and loaded.pad_token_id == tok.pad_token_id


def test_options_survive_the_round_trip(tmp_path: Path) -> None:
    tok = HFChemTokenizer(on_error="fallback", strict_markers=False, model_max_length=128, padding_side="left")
    tok.save_pretrained(tmp_path)
    loaded = HFChemTokenizer.from_pretrained(tmp_path)
    assert (loaded.chem.on_error, loaded.chem.strict_markers) == ("fallback", False)
    assert (loaded.model_max_length, loaded.padding_side) == (128, "left")
    assert loaded("[START_SMILES]Cf")["input_ids"] == tok("[START_SMILES]Cf")["input_ids"]


def test_a_changed_id_space_is_refused(tmp_path: Path) -> None:
    HFChemTokenizer().save_pretrained(tmp_path)
    manifest = json.loads((tmp_path / "chemtok.json").read_text())
    manifest["id_space_fingerprint"] = "0" * 64
    (tmp_path / "chemtok.json").write_text(json.dumps(manifest))
    with pytest.raises(chemtok.DataFileError, match="id space"):
        HFChemTokenizer.from_pretrained(tmp_path)


def test_autotokenizer_with_trust_remote_code_needs_no_chemtok_import(tmp_path: Path) -> None:
    saved = tmp_path / "tok"
    HFChemTokenizer().save_pretrained(saved)
    code = (
        "import sys, json\n"
        "from transformers import AutoTokenizer\n"
        "assert 'chemtok' not in sys.modules\n"
        f"tok = AutoTokenizer.from_pretrained({str(saved)!r}, trust_remote_code=True)\n"
        "print(json.dumps([type(tok).__name__, tok('[START_SMILES]CCO[END_SMILES]')['input_ids']]))\n"
    )
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
        timeout=600, check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    name, ids = json.loads(out.stdout.strip().splitlines()[-1])
    assert name == "HFChemTokenizer" and ids == HFChemTokenizer()("[START_SMILES]CCO[END_SMILES]")["input_ids"]


BASES = ["gpt2", "llama3", "llama2"]


@pytest.fixture(scope="module")
def plain_texts() -> list[str]:
    """Prose without markers: PubMed abstracts and ChEBI descriptions."""
    if not DATA.is_dir():
        pytest.skip("shared data not found")
    texts = [r.text for r in read_records(DATA / "text" / "pubmed_biopython.jsonl", column="text") if r.text]
    chebi = [r.text for r in read_records(DATA / "text" / "chebi20_molt5.jsonl.gz", column="text") if r.text]
    texts += random.Random("plain").sample(chebi, 300)
    return [t for t in texts if "[START_" not in t and "<work>" not in t] + ["", " ", "a  b\n\nc", "<s> </s>"]


@pytest.mark.parametrize("name", BASES)
def test_from_base_keeps_the_base_ids_for_plain_text(name: str, plain_texts: list[str], tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    path = BASELINES / name / "tokenizer.json"
    if not path.exists():
        pytest.skip(f"no baseline at {path}")
    base = Tokenizer.from_file(str(path))  # as the base reads text: "<s>" in text is its special token
    base_size = base.get_vocab_size(with_added_tokens=True)
    tok = HFChemTokenizer.from_base(path)
    assert tok.chem.block("text") == (0, base_size)
    assert tok.num_added_tokens == len(tok) - base_size > 0
    want = [e.ids for e in base.encode_batch(plain_texts, add_special_tokens=False)]
    assert tok(plain_texts, add_special_tokens=False)["input_ids"] == want
    appended = [i for i in tok.chem.special_token_ids.values() if i >= base_size]  # the specials the base lacks
    assert appended and all(tok.chem.namespace_of(i) == "special" for i in appended)
    assert (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id) == (
        tok.chem.bos_token_id, tok.chem.eos_token_id, tok.chem.pad_token_id,
    )  # fmt: skip
    for string, index in base.get_vocab(with_added_tokens=True).items():
        assert tok.convert_ids_to_tokens(index) in (string, f"text:{string}")
    mixed = "Aspirin [START_SMILES]CC(=O)O[END_SMILES] works."
    ids = tok.encode(mixed, add_special_tokens=False)
    assert any(i >= base_size for i in ids) and tok.decode(ids) == mixed

    tok.save_pretrained(tmp_path)
    assert (tmp_path / "chemtok_base_tokenizer.json").exists()
    loaded = HFChemTokenizer.from_pretrained(tmp_path)
    assert loaded.chem.fingerprint == tok.chem.fingerprint
    assert loaded(plain_texts[:50] + [mixed])["input_ids"] == tok(plain_texts[:50] + [mixed])["input_ids"]


def test_llama2_keeps_its_special_tokens() -> None:
    path = BASELINES / "llama2" / "tokenizer.json"
    if not path.exists():
        pytest.skip("no Llama 2 baseline")
    tok = HFChemTokenizer.from_base(path)
    assert tok.convert_ids_to_tokens([0, 1, 2]) == ["<unk>", "<s>", "</s>"]
    assert (tok.unk_token_id, tok.bos_token_id, tok.eos_token_id) == (0, 1, 2)
    assert tok.chem.special_token_ids["<s>"] == 1 and tok.convert_ids_to_tokens(tok.pad_token_id) == "<pad>"


def test_datasets_map_on_parquet(tmp_path: Path, corpus_docs: list[str], chem: chemtok.ChemTokenizer) -> None:
    datasets = pytest.importorskip("datasets")
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "galactica_sample.parquet"
    pq.write_table(pa.table({"text": corpus_docs}), path)
    ds = datasets.load_dataset("parquet", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache"))

    # The fast path: one ChemTokenizer.encode_batch call per batch of rows.
    ids = ds.map(lambda batch: {"input_ids": chem.encode_batch(batch["text"])}, batched=True)
    assert ids["input_ids"] == chem.encode_batch(corpus_docs)

    # Through the transformers tokenizer, ready for a data collator.
    tok = HFChemTokenizer()
    enc = ds.map(lambda b: tok(b["text"], truncation=True, max_length=64), batched=True, remove_columns=["text"])
    assert enc.column_names == ["input_ids", "attention_mask"]
    assert all(len(row) <= 64 for row in enc["input_ids"])
    assert enc["input_ids"][0] == tok(corpus_docs[0], truncation=True, max_length=64)["input_ids"]


def _readme_hf_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Hugging Face\n(.*?)^## ", readme, re.DOTALL | re.MULTILINE)
    return re.findall(r"```py\n(.*?)```", match.group(1), re.DOTALL) if match else []


@pytest.mark.parametrize("index", range(len(_readme_hf_blocks())))
def test_readme_hf_example(index: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The README's ```py blocks need transformers/datasets, so they run here, not in test_docs."""
    block = _readme_hf_blocks()[index]
    if "datasets" in block:
        datasets = pytest.importorskip("datasets")
        monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")  # read at import
    if "../shared" in block and not DATA.is_dir():
        pytest.skip("needs ../shared")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets"))
    exec(compile(block, f"README.md Hugging Face block {index}", "exec"), {"__name__": "readme"})


def test_auto_tokenizer_after_import_chemtok_hf(tmp_path: Path) -> None:
    """The README's one line, `import chemtok.hf`, is what AutoTokenizer needs (no trust_remote_code)."""
    HFChemTokenizer().save_pretrained(tmp_path)
    code = (
        "import sys, chemtok\n"
        "assert 'transformers' not in sys.modules  # import chemtok stays light\n"
        "import chemtok.hf\n"
        "from transformers import AutoTokenizer\n"
        f"tok = AutoTokenizer.from_pretrained({str(tmp_path)!r})\n"
        "print(type(tok).__name__, tok('[START_SMILES]CCO[END_SMILES]', add_special_tokens=False)['input_ids'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = chemtok.ChemTokenizer().encode("[START_SMILES]CCO[END_SMILES]")
    assert out.stdout.split(" ", 1) == ["HFChemTokenizer", f"{expected}\n"]
