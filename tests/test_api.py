"""The small API every tokenizer shares: vocab access, one id contract, save/load, pickles."""

from __future__ import annotations

import json
import pickle
import pickletools
from pathlib import Path
from typing import Any

import pytest

import chemtok
from chemtok.errors import DataFileError, DecodeError
from chemtok.persist import STATE_FILE

SAMPLES = {
    "smiles": "CC(=O)Oc1ccccc1C(=O)O.[Na+]>>[13CH3:1]Cl",
    "smiles-compact": "CC(=O)Oc1ccccc1C(=O)O.c1ccncc1",
    "inchi": "InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3",
    "protein": "MKTAYIAKQRqisfvk*",
    "dna": "ACGTUNacgtn",
    "text": "Aspirin inhibits COX-1 at 10 µM.",
    "chem": "Aspirin [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES] and [START_AMINO]MKT[END_AMINO].",
}


def _make(name: str) -> Any:
    return {
        "smiles": chemtok.SmilesTokenizer,
        "smiles-compact": lambda: chemtok.SmilesTokenizer(model="compact"),
        "inchi": chemtok.InchiTokenizer,
        "protein": chemtok.ProteinTokenizer,
        "dna": chemtok.DnaTokenizer,
        "text": chemtok.TextTokenizer,
        "chem": chemtok.ChemTokenizer,
    }[name]()


@pytest.fixture(scope="module")
def tokenizers() -> dict[str, Any]:
    return {name: _make(name) for name in SAMPLES}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_len_vocab_and_id_contract(tokenizers: dict[str, Any], name: str) -> None:
    tok = tokenizers[name]
    vocab = tok.get_vocab()
    assert isinstance(vocab, dict) and len(tok) == tok.vocab_size
    assert len(set(vocab.values())) == len(vocab) <= len(tok)
    assert all(0 <= i < len(tok) for i in vocab.values())
    vocab.clear()  # a copy: the tokenizer is unchanged
    assert tok.get_vocab()
    for bad in (-1, -len(tok), len(tok), len(tok) + 10**6, -(2**70), 2**70):
        with pytest.raises(DecodeError):
            tok.id_to_token(bad)
    ids = tok.encode(SAMPLES[name])
    tokens = [tok.id_to_token(i) for i in ids]
    assert len(tokens) == len(ids)
    if name != "chem":  # the router's token_to_id needs a namespace (below)
        assert [tok.token_to_id(t) for t in tokens] == ids
        assert tok.token_to_id("\x00 no such token") is None
        assert all(tok.get_vocab()[t] == i for t, i in zip(tokens, ids))


def test_router_token_to_id_takes_the_namespace(tokenizers: dict[str, Any]) -> None:
    chem = tokenizers["chem"]
    carbon, cysteine = chem.token_to_id("C", "smiles"), chem.token_to_id("C", "protein")
    assert None not in (carbon, cysteine) and carbon != cysteine
    assert chem.id_to_token(carbon) == chem.id_to_token(cysteine) == "C"
    assert chem.namespace_of(carbon) == "smiles" and chem.namespace_of(cysteine) == "protein"
    assert chem.token_to_id("[START_SMILES]", "marker") == chem.encode("[START_SMILES]C[END_SMILES]")[0]
    assert chem.token_to_id("<0x66>", "byte") == chem.block("byte")[0] + 0x66
    assert chem.token_to_id("<unk>", "special") == chem.special_token_ids["<unk>"]
    for missing in (None, "smile", "Smiles"):
        with pytest.raises(ValueError, match=r"special.*marker.*text.*byte.*smiles.*inchi.*protein.*dna"):
            chem.token_to_id("C", missing)
    with pytest.raises(ValueError, match="namespace"):
        chem.token_to_id("C")
    vocab = chem.get_vocab()
    assert vocab["smiles:C"] == carbon and vocab["protein:C"] == cysteine and vocab["[START_SMILES]"] < len(chem)


def test_router_vocab_matches_the_hf_class(tokenizers: dict[str, Any]) -> None:
    pytest.importorskip("transformers")
    from chemtok.hf import HFChemTokenizer

    assert HFChemTokenizer().get_vocab() == tokenizers["chem"].get_vocab()


# -- save / load ---------------------------------------------------------------------------------


def _round_trip(tok: Any, directory: Path, **kwargs: Any) -> Any:
    saved = tok.save(directory)
    assert (Path(saved) / STATE_FILE).is_file()
    loaded = chemtok.load(saved, **kwargs)
    assert type(loaded) is type(tok)
    assert loaded.fingerprint == tok.fingerprint
    return loaded


@pytest.mark.parametrize("name", list(SAMPLES))
def test_save_load_round_trip(tokenizers: dict[str, Any], tmp_path: Path, name: str) -> None:
    tok = tokenizers[name]
    loaded = _round_trip(tok, tmp_path)
    assert loaded.encode(SAMPLES[name]) == tok.encode(SAMPLES[name])
    assert type(tok).load(tmp_path).fingerprint == tok.fingerprint


def test_save_load_chem_with_base_model_and_compact_smiles(baselines_dir: Path, tmp_path: Path) -> None:
    tok = chemtok.ChemTokenizer.from_base(
        baselines_dir / "gpt2" / "tokenizer.json",
        smiles=chemtok.SmilesTokenizer(model="compact"),
        on_error="fallback",
        strict_markers=False,
    )
    loaded = _round_trip(tok, tmp_path / "saved", engine="python")
    text = SAMPLES["chem"] + " [START_FOO] \ud800 [START_SMILES]C\u00e9[END_SMILES]"
    assert loaded.encode(text) == tok.encode(text)
    assert loaded.has_base and loaded.on_error == "fallback" and loaded.strict_markers is False
    assert loaded.modalities["smiles"].engine == "python"
    assert chemtok.ChemTokenizer.load(tmp_path / "saved").encode(text) == tok.encode(text)


def test_save_load_a_trained_compact_model_and_custom_markers(tmp_path: Path, data_dir: Path) -> None:
    from dataclasses import replace

    from chemtok.dialects import load_markers
    from chemtok.markers import MarkerPair

    lines = (data_dir / "smiles").glob("*.smi")
    corpus = [line.split()[0] for path in sorted(lines)[:1] for line in path.read_text().splitlines()[:300] if line.strip() and not line.startswith("#")]
    model = chemtok.train_compact_model(corpus, vocab_size=len(chemtok.SmilesTokenizer()) - 256 - 5 + 40)
    model_path = model.save(tmp_path / "model")
    smiles = chemtok.SmilesTokenizer(model=str(model_path))
    shipped = load_markers()
    markers = replace(shipped, pairs=(*shipped.pairs, MarkerPair("<mol>", "</mol>", "smiles")))
    tok = chemtok.ChemTokenizer(smiles=smiles, markers=markers)
    loaded = _round_trip(tok, tmp_path / "saved")
    model_path.unlink()  # the saved directory holds its own copy
    text = "<mol>" + corpus[0] + "</mol> and [START_SMILES]" + corpus[1] + "[END_SMILES]"
    assert loaded.encode(text) == tok.encode(text)
    assert loaded.markers == markers and loaded.modalities["smiles"].merges == smiles.merges


def test_save_load_custom_vocabulary(tmp_path: Path) -> None:
    from chemtok.vocab import Vocabulary

    shipped = chemtok.InchiTokenizer().vocabulary
    extended = Vocabulary((*shipped.tokens, "C99"), name="inchi")
    tok = chemtok.InchiTokenizer(vocabulary=extended)
    loaded = _round_trip(tok, tmp_path)
    assert loaded.vocabulary.tokens == extended.tokens


def test_text_from_file_round_trip(baselines_dir: Path, tmp_path: Path) -> None:
    tok = chemtok.TextTokenizer.from_file(baselines_dir / "gpt2" / "tokenizer.json")
    loaded = _round_trip(tok, tmp_path)
    assert loaded.encode("Hello world") == [15496, 995]
    assert loaded.source == tok.source


@pytest.mark.parametrize(
    "change, key",
    [
        (lambda s: s.update(format="other"), "format"),
        (lambda s: s.update(format_version=99), "format_version"),
        (lambda s: s.update(format_version="1"), "format_version"),
        (lambda s: s.update({"class": "Nope"}), "class"),
        (lambda s: s.update(fingerprint="0" * 64), "fingerprint"),
        (lambda s: s.update(options="abc"), "options"),
        (lambda s: s["options"].update(strict_markers="no"), "options.strict_markers"),
        (lambda s: s["options"].update(on_error="ignore"), "options.on_error"),
        (lambda s: s["options"].update(markers={"name": "markers"}), "options.markers.version"),
        (lambda s: s["options"].pop("smiles"), "options.smiles"),
    ],
)
def test_broken_saved_state_names_file_and_key(tmp_path: Path, change: Any, key: str) -> None:
    chemtok.ChemTokenizer().save(tmp_path)
    state_path = tmp_path / STATE_FILE
    state = json.loads(state_path.read_text())
    change(state)
    state_path.write_text(json.dumps(state))
    with pytest.raises(DataFileError) as info:
        chemtok.load(tmp_path)
    assert info.value.key == key and info.value.file == str(state_path)


def test_broken_saved_files(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read"):
        chemtok.load(tmp_path / "nothing here")
    (tmp_path / STATE_FILE).write_bytes(b"\xff")
    with pytest.raises(DataFileError, match="not UTF-8"):
        chemtok.load(tmp_path)
    (tmp_path / STATE_FILE).write_text("[" * 100_000)
    with pytest.raises(DataFileError, match="nested too deeply"):
        chemtok.load(tmp_path)
    (tmp_path / STATE_FILE).write_text("[]")
    with pytest.raises(DataFileError, match="expected an object"):
        chemtok.load(tmp_path)
    chemtok.SmilesTokenizer().save(tmp_path)
    with pytest.raises(DataFileError, match=r"not a InchiTokenizer|not a Inchi"):
        chemtok.InchiTokenizer.load(tmp_path)


def test_broken_saved_vocabulary(tmp_path: Path) -> None:
    from chemtok.vocab import Vocabulary

    shipped = chemtok.InchiTokenizer().vocabulary
    chemtok.InchiTokenizer(vocabulary=Vocabulary((*shipped.tokens, "C99"), name="inchi")).save(tmp_path)
    vocab_path = next(p for p in tmp_path.iterdir() if p.name != STATE_FILE)
    data = json.loads(vocab_path.read_text())
    data["tokens"][7] = data["tokens"][6]
    vocab_path.write_text(json.dumps(data))
    with pytest.raises(DataFileError) as info:
        chemtok.load(tmp_path)
    assert info.value.key == "tokens[7]" and info.value.file == str(vocab_path)


# -- pickles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SAMPLES))
def test_pickle_round_trip_gives_identical_ids(tokenizers: dict[str, Any], name: str) -> None:
    tok = tokenizers[name]
    copy = pickle.loads(pickle.dumps(tok))
    assert copy.fingerprint == tok.fingerprint and copy.encode(SAMPLES[name]) == tok.encode(SAMPLES[name])
    assert repr(copy) == repr(tok)


#: Pickle opcodes that would carry a table: lists, integers (ids), strings past 255 characters.
TABLE_OPCODES = {
    "EMPTY_LIST", "LIST", "APPEND", "APPENDS", "BININT", "BININT1", "BININT2", "LONG1", "LONG4",
    "BINUNICODE", "BINUNICODE8", "BINBYTES", "BINBYTES8", "BYTEARRAY8",
}  # fmt: skip


def _opcodes(obj: Any) -> list[tuple[str, Any]]:
    return [(op.name, arg) for op, arg, _ in pickletools.genops(pickle.dumps(obj))]


def test_default_tokenizers_pickle_small() -> None:
    # A default tokenizer travels as "build the default", not as its tables.
    for tok in (chemtok.ChemTokenizer(), chemtok.SmilesTokenizer(model="compact")):
        assert {name for name, _ in _opcodes(tok)} & TABLE_OPCODES == set(), tok


def test_a_model_from_a_path_pickles_without_the_file(tmp_path: Path) -> None:
    from chemtok.compact import load_compact_model

    path = load_compact_model("compact").save(tmp_path / "m")
    tok = chemtok.SmilesTokenizer(model=str(path), engine="python")
    blob = pickle.dumps(tok)
    path.unlink()
    load_compact_model.cache_clear()
    copy = pickle.loads(blob)
    assert copy.model == str(path) and copy.encode("c1ccccc1CCO") == tok.encode("c1ccccc1CCO")
    assert copy.engine == "python"


def test_llama3_router_pickles_as_its_base_model_and_options(baselines_dir: Path) -> None:
    # What shipping the router to a worker costs is what it carries: the base model's JSON,
    # as tokenizers.Tokenizer carries it, once; no vocabulary, id space or grammar tables
    # (they rebuild from cache).
    from tokenizers import Tokenizer

    path = baselines_dir / "llama3" / "tokenizer.json"
    chem = chemtok.ChemTokenizer.from_base(path)
    text = SAMPLES["chem"]
    copy = pickle.loads(pickle.dumps(chem))
    assert copy.fingerprint == chem.fingerprint and copy.encode(text) == chem.encode(text)
    carried = [(name, arg) for name, arg in _opcodes(chem) if name in TABLE_OPCODES]
    assert carried == [("BINUNICODE", Tokenizer.from_file(str(path)).to_str())]


def test_hf_class_keeps_the_id_contract() -> None:
    pytest.importorskip("transformers")
    from chemtok.hf import HFChemTokenizer

    tok = HFChemTokenizer()
    assert tok.convert_ids_to_tokens(0) == "<pad>"
    for bad in (-1, len(tok)):
        with pytest.raises(DecodeError):
            tok.convert_ids_to_tokens(bad)


def test_a_loaded_compact_model_names_its_file(tmp_path: Path) -> None:
    from chemtok.compact import load_compact_model

    path = load_compact_model("compact").save(tmp_path / "m")
    loaded = _round_trip(chemtok.SmilesTokenizer(model=str(path)), tmp_path / "saved")
    assert Path(loaded.model).parent == tmp_path / "saved"
    assert chemtok.SmilesTokenizer(model=loaded.model).fingerprint == loaded.fingerprint
