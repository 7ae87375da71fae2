"""The compact SMILES model: learned merges that never cut an atom, still lossless."""

from __future__ import annotations

import random
import statistics

import pytest
from conftest import full_corpus_enabled
from hypothesis import given
from strategies import smiles_like

import chemtok
from chemtok.compact import CompactModel, WordRules, load_compact_model, split_words, train_compact_model
from chemtok.io import read_records

atom = chemtok.SmilesTokenizer(engine="python")
compact = chemtok.SmilesTokenizer(model="compact")
RULES = WordRules.for_grammar(atom.grammar)
HELD_OUT = [  # MoleculeNet files: their strings were removed from the training data
    "moleculenet_bace", "moleculenet_bbbp", "moleculenet_clintox", "moleculenet_esol", "moleculenet_freesolv",
    "moleculenet_hiv", "moleculenet_lipophilicity", "moleculenet_sider", "moleculenet_tox21",
]


def assert_whole_units(smiles: str) -> None:
    """Every compact token is a whole run of units inside one merge word."""
    units = atom.tokenize(smiles)
    tokens = compact.tokenize(smiles)
    assert "".join(tokens) == smiles
    words = split_words(units, RULES)
    boundaries, word_ends, pos = {0}, {0}, 0
    for word in words:
        for unit in word:
            pos += len(unit)
            boundaries.add(pos)
        word_ends.add(pos)
    start = 0
    for token in tokens:
        end = start + len(token)
        assert start in boundaries and end in boundaries, (smiles, token)
        inner_word_ends = {e for e in word_ends if start < e < end}
        assert not inner_word_ends, f"{token!r} crosses a word boundary in {smiles!r}"
        start = end


@pytest.mark.parametrize(
    "smiles",
    ["CC(=O)Oc1ccccc1C(=O)O", "[CH3:1][OH:2]>>[CH2:1]=[O:2]", "[Na+].[Cl-]", "C%(5000)CC%(5000)", "c1ccc2c(c1)[nH]c1ccccc12"],
)
def test_examples_are_whole_units(smiles: str) -> None:
    assert_whole_units(smiles)


def test_shipped_model_merges_aspirin_into_its_groups() -> None:
    aspirin = "CC(=O)Oc1ccccc1C(=O)O"
    assert compact.tokenize(aspirin) == ["CC(=O)O", "c1ccccc1", "C(=O)O"]  # acetoxy, the ring, the acid
    assert_whole_units(aspirin)


def test_spelled_brackets_never_merge_with_neighbours() -> None:
    tokens = compact.tokenize("[CH3:7][OH:8]")
    assert all(t.count("[") <= 1 and not t.startswith("]") for t in tokens)
    assert "".join(tokens) == "[CH3:7][OH:8]"


@given(smiles_like)
def test_hyp_lossless_and_whole_units(smiles: str) -> None:
    assert_whole_units(smiles)
    assert compact.decode(compact.encode(smiles)) == smiles


def test_closed_vocabulary_and_arrays() -> None:
    batch = ["CCO", "[2H][C@@H]1CC[Os@OH5+3:9]CC1>>[13CH3-]%(100)CC%(100)", "N#N"]
    ids, offsets = compact.encode_batch(batch, return_arrays=True)
    assert offsets.tolist()[-1] == len(ids)
    rows = compact.encode_batch(batch)
    assert [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(3)] == rows
    unk = compact.token_to_id("<unk>")
    assert all(unk not in row and compact.decode(row) == text for row, text in zip(rows, batch))


def test_router_uses_the_compact_model() -> None:
    router = chemtok.ChemTokenizer(smiles=compact)
    text = "Aspirin [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES] works."
    assert router.decode(router.encode(text)) == text
    tokens = router.tokenize(text)
    assert tokens[tokens.index("[START_SMILES]") + 1 : tokens.index("[END_SMILES]")] == compact.tokenize(
        "CC(=O)Oc1ccccc1C(=O)O"
    )


def test_training_is_deterministic_and_respects_words(data_dir) -> None:
    texts = [r.text for r in read_records(data_dir / "smiles" / "reactions_rdkit_uspto_mapped.rsmi.gz")][:300]
    size = len(atom.unit_vocabulary) - 256 - 5 + 150
    first = train_compact_model(texts, size, tokenizer=atom)
    second = train_compact_model(texts, size, tokenizer=atom)
    assert first.merges == second.merges
    # The whole budget is used: 300 reactions hold more than 150 pairs seen twice.
    assert len(first.merges) == first.info["merges"] == size - first.info["atom_tokens"] == 150
    assert len(chemtok.SmilesTokenizer(model=first, engine="python").vocabulary) == len(atom.unit_vocabulary) + 150
    for left, right in first.merges:
        for part in (left, right):
            assert part not in RULES.separators
        assert not (left.endswith("]") and right.startswith("[")), "a merge joins two bracket atoms' parts"
    with pytest.raises(ValueError, match="vocab_size"):
        train_compact_model(texts, 10, tokenizer=atom)
    with pytest.raises(ValueError, match="atom-level"):
        train_compact_model(texts, size, tokenizer=compact)


def test_saved_model_round_trip(tmp_path, data_dir) -> None:
    texts = [r.text for r in read_records(data_dir / "smiles" / "moleculenet_esol.smi.gz")]
    model = train_compact_model(texts, len(atom.unit_vocabulary) - 261 + 100, tokenizer=atom)
    path = model.save(tmp_path)
    assert load_compact_model(str(tmp_path)) == model == CompactModel.from_json(path.read_text(), str(path))
    tok = chemtok.SmilesTokenizer(model=str(tmp_path))
    assert tok.decode(tok.encode(texts[0])) == texts[0]
    with pytest.raises(ValueError, match="unknown SMILES model"):
        chemtok.SmilesTokenizer(model="nonexistent-model")


@pytest.mark.corpus
def test_held_out_drug_like_half_of_llama3(request, data_dir, baselines_dir) -> None:
    """On files held out of training: ≤ half of Llama 3's tokens, exact round trip."""
    from tokenizers import Tokenizer

    llama3 = Tokenizer.from_file(str(baselines_dir / "llama3" / "tokenizer.json"))
    full = full_corpus_enabled(request.config)
    for name in HELD_OUT:
        texts = [r.text for r in read_records(data_dir / "smiles" / f"{name}.smi.gz")]
        if not full and len(texts) > 2000:
            texts = random.Random(name).sample(texts, 2000)
        ours = compact.encode_batch(texts)
        theirs = [len(e.ids) for e in llama3.encode_batch(texts, add_special_tokens=False)]
        assert compact.decode_batch(ours) == texts
        ratio = statistics.mean(map(len, ours)) / statistics.mean(theirs)
        assert ratio <= 0.5, f"{name}: compact/Llama-3 = {ratio:.2f}"


@pytest.mark.corpus
def test_every_smiles_file_round_trips(request, data_dir) -> None:
    full = full_corpus_enabled(request.config)
    for path in sorted((data_dir / "smiles").iterdir()):
        column = "smiles" if path.name.endswith((".tsv", ".tsv.gz")) else None
        texts = [r.text for r in read_records(path, column=column) if r.text not in ("FAIL", "c1c[nH]c2c1fccc2")]
        if not full and len(texts) > 1500:
            texts = random.Random(path.name).sample(texts, 1500)
        rows = compact.encode_batch(texts)
        bad = [t for t, row in zip(texts, rows) if compact.decode(row) != t]
        assert not bad, f"{path.name}: {len(bad)} records differ, e.g. {bad[:2]}"
