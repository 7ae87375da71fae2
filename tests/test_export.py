"""Exported tokenizer.json files: built-in components only, same ids as chemtok without chemtok.

The corpus test writes each modality's file, then a subprocess that cannot import
chemtok (an import blocker, checked through ``sys.modules``) loads it with stock
``tokenizers`` and ``transformers.PreTrainedTokenizerFast`` and compares ids with
chemtok's on a seeded sample of every file of that modality in ``../shared/data``
(every record with CHEMTOK_FULL_CORPUS=1 or ``pytest -m corpus``).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, full_corpus_enabled
from hypothesis import given
from hypothesis import strategies as st
from strategies import inchi_like, sequence_like, smiles_like

import chemtok
from chemtok.export import pre_tokenizer_patterns, read_metadata, to_tokenizers, tokenizer_json
from chemtok.io import read_records

SAMPLE_SIZE = 3000
TOKENIZERS = {
    "smiles": chemtok.SmilesTokenizer(),
    "inchi": chemtok.InchiTokenizer(),
    "protein": chemtok.ProteinTokenizer(),
    "dna": chemtok.DnaTokenizer(),
}
EXPORTED = {name: to_tokenizers(tok) for name, tok in TOKENIZERS.items()}
BUILTIN_TYPES = {"Sequence", "Split", "WordLevel", "ByteFallback", "Fuse"}


def _types(node: object) -> set[str]:
    """Every component ``type`` named anywhere in a tokenizer.json tree."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            found.add(node["type"])
        for value in node.values():
            found |= _types(value)
    elif isinstance(node, list):
        for value in node:
            found |= _types(value)
    return found


@pytest.mark.parametrize("name", sorted(TOKENIZERS))
def test_file_uses_only_builtin_components(name: str, tmp_path: Path) -> None:
    tok = TOKENIZERS[name]
    path = tok.save_tokenizer_json(tmp_path / f"{name}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert _types({k: v for k, v in data.items() if k != "added_tokens"}) <= BUILTIN_TYPES
    assert data["normalizer"] is None and data["post_processor"] is None
    for split in data["pre_tokenizer"]["pretokenizers"]:
        assert split["type"] == "Split" and "Regex" in split["pattern"], "a bare str pattern is matched literally"
        assert split["behavior"] == "Isolated"
    assert data["model"]["vocab"] == tok.vocab and data["model"]["unk_token"] == "<unk>"
    assert [t["content"] for t in data["added_tokens"]] == list(tok.special_tokens)
    meta = read_metadata(path)
    assert meta is not None
    assert meta["grammar"] == tok.grammar_tag and meta["vocabulary_fingerprint"] == tok.fingerprint
    assert meta["modality"] == name and meta["vocabulary_size"] == len(tok)


def test_save_into_a_directory_and_to_tokenizers(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    smiles = TOKENIZERS["smiles"]
    path = smiles.save_tokenizer_json(tmp_path)
    assert path == tmp_path / "tokenizer.json"
    loaded = Tokenizer.from_file(str(path))  # the metadata key does not bother tokenizers
    assert loaded.to_str() == smiles.to_tokenizers().to_str()
    assert tokenizer_json(smiles)["model"]["chemtok"]["format"] == 1


# Hand-picked corners of the closed-vocabulary rules, with chemtok's tokens spelled out
# for a few so the expected boundaries are visible here.
SMILES_CASES = {
    "[13CH3:12]C(=O)O": ["[", "13", "CH3", ":12", "]", "C", "(", "=", "O", ")", "O"],
    "C%(123)CC%(123)": ["C", "%(123)", "C", "C", "%(123)"],
    "C%(5000)C": ["C", "%(", "5", "0", "0", "0", ")", "C"],
    "[Te++++]": ["[", "Te", "+", "+", "+", "+", "]"],
    "[C:1H3]": ["[", "C", ":1", "H3", "]"],
    "[013C]": ["[", "0", "1", "3", "C", "]"],
    "[CH3:1234]": ["[", "CH3", ":", "1", "2", "3", "4", "]"],
    "N->[Pt]<-N": ["N", "->", "[Pt]", "<-", "N"],
}
SMILES_MORE = [
    "[C@TB12H]", "[2H+]", "[Pt@SP1H2+3:7]", "[H+]", "[HH]", "[C+0]", "[C--]", "[C---]", "[Zn++]",
    "[Zn+++]", "[C@@H:1]", "[13C@@H]", "[C-16]", "[C+16]", "[*:1]", "[*]", "[2*]", "[H:2]", "C%10%99",
    "CC(=O)Cl.OCC>>CC(=O)OCC", "C>O>C", "[se]1cccc1", "[Cl-:1]", "C=C/C\\C", "C$C", "c1:c:c:c:c:c1",
    "[Sc]", "[Hg+2]", "[Co@OH25]", "[0C]", "[999U]", "[U:0]", "",
]  # fmt: skip
INCHI_CASES = [
    "InChI=1S/CH4O/c1-2/h2H,1H3",
    "InChI=1/C2H6O/c1-2-3/h3H,2H2,1H3/i/hD",
    "InChI=1S/C1234H5000Cl3/c1234-12/q+1;m",
    "InChI=1S/Co2Cl0120/t0012-,1000+/m1/s1",
    "InChI=1B/Ts2Og/f/h9h/r/o(1,2)",
]


@pytest.mark.parametrize("text", [*SMILES_CASES, *SMILES_MORE])
def test_smiles_corners(text: str) -> None:
    tok = TOKENIZERS["smiles"]
    encoding = EXPORTED["smiles"].encode(text, add_special_tokens=False)
    assert encoding.tokens == tok.tokenize(text)
    assert encoding.ids == tok.encode(text)
    if text in SMILES_CASES:
        assert encoding.tokens == SMILES_CASES[text]
    assert EXPORTED["smiles"].decode(encoding.ids) == text


@pytest.mark.parametrize("text", INCHI_CASES)
def test_inchi_corners(text: str) -> None:
    tok = TOKENIZERS["inchi"]
    assert EXPORTED["inchi"].encode(text).tokens == tok.tokenize(text)
    assert EXPORTED["inchi"].decode(tok.encode(text)) == text


def _check_same(name: str, text: str) -> None:
    tok, exported = TOKENIZERS[name], EXPORTED[name]
    try:
        want = tok.encode(text)
    except chemtok.TokenizationError:
        exported.encode(text)  # refused input: no ids to match, but no crash either
        return
    assert exported.encode(text, add_special_tokens=False).ids == want, (text, tok.tokenize(text))
    assert exported.decode(want) == text


@given(smiles_like)
def test_hyp_smiles_same_ids(text: str) -> None:
    _check_same("smiles", text)


@given(inchi_like())
def test_hyp_inchi_same_ids(text: str) -> None:
    _check_same("inchi", text)


@given(st.sampled_from(["protein", "dna"]), st.data())
def test_hyp_sequences_same_ids(name: str, data: st.DataObject) -> None:
    _check_same(name, data.draw(sequence_like(name)))


@given(st.text(max_size=40), st.sampled_from(sorted(TOKENIZERS)))
def test_hyp_refused_input_does_not_crash(text: str, name: str) -> None:
    encoding = EXPORTED[name].encode(text)
    assert all(0 <= i < len(TOKENIZERS[name]) for i in encoding.ids)


def test_fallback_ids_decode_with_the_exported_file() -> None:
    smiles = TOKENIZERS["smiles"]
    ids = smiles.encode("c1c[nH]c2c1fccc2é", on_error="fallback")
    assert EXPORTED["smiles"].decode(ids) == "c1c[nH]c2c1fccc2é"


def test_what_cannot_be_exported(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="HFChemTokenizer"):
        to_tokenizers(chemtok.ChemTokenizer())  # type: ignore[arg-type]
    compact = chemtok.SmilesTokenizer(model="compact")  # ships with chemtok: failing to build it is a bug
    with pytest.raises(ValueError, match="model='atom'"):
        compact.save_tokenizer_json(tmp_path / "compact.json")
    with pytest.raises(ValueError, match="model='atom'"):
        to_tokenizers(compact)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_patterns_are_generated_from_the_vocabulary() -> None:
    """Learned tokens change the patterns: with only the grammar's base tokens, a
    bracket atom the shipped vocabulary holds whole is spelled from its parts by both."""
    from chemtok.smiles import smiles_base_tokens
    from chemtok.vocab import Vocabulary

    smiles = TOKENIZERS["smiles"]
    base = Vocabulary.with_standard_blocks(smiles.special_tokens, smiles_base_tokens(smiles.grammar), name="base")
    small = chemtok.SmilesTokenizer(vocabulary=base, engine="python")
    assert pre_tokenizer_patterns(small) != pre_tokenizer_patterns(smiles)
    exported = to_tokenizers(small)
    assert exported.encode("C[C@@H](N)O").tokens == ["C", "[", "C", "@@", "H", "]", "(", "N", ")", "O"]
    for text in [*SMILES_CASES, *SMILES_MORE]:
        assert exported.encode(text).tokens == small.tokenize(text), text


# -- the corpus, loaded in a process that cannot import chemtok -------------------------

CHILD = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class NoChemtok(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "chemtok" or name.startswith("chemtok."):
                raise ImportError("this process must not import chemtok")
            return None

    sys.meta_path.insert(0, NoChemtok())
    import numpy as np
    from tokenizers import Tokenizer
    try:
        from transformers import PreTrainedTokenizerFast
    except ImportError:
        PreTrainedTokenizerFast = None

    jobs = json.load(open(sys.argv[1], encoding="utf-8"))
    report = {"fast_available": PreTrainedTokenizerFast is not None, "files": {}}
    for job in jobs:
        texts = json.load(open(job["texts"], encoding="utf-8"))
        ids, offsets = np.load(job["ids"]), np.load(job["offsets"])
        want = [ids[offsets[i]:offsets[i + 1]].tolist() for i in range(len(texts))]
        engines = {"tokenizers": Tokenizer.from_file(job["tokenizer"])}
        got = {"tokenizers": [e.ids for e in engines["tokenizers"].encode_batch(texts, add_special_tokens=False)]}
        if PreTrainedTokenizerFast is not None:
            fast = PreTrainedTokenizerFast(tokenizer_file=job["tokenizer"], unk_token="<unk>", pad_token="<pad>")
            got["transformers"] = fast(texts, add_special_tokens=False)["input_ids"]
        decoded = engines["tokenizers"].decode_batch(want, skip_special_tokens=False)
        result = {"checked": len(texts), "decode_mismatches": sum(d != t for d, t in zip(decoded, texts))}
        for engine, rows in got.items():
            bad = [t for t, g, w in zip(texts, rows, want) if g != w]
            result[engine] = {"mismatches": len(bad), "examples": bad[:3]}
        report["files"][job["name"]] = result
    assert not any(m == "chemtok" or m.startswith("chemtok.") for m in sys.modules), "chemtok was imported"
    report["chemtok_imported"] = False
    print(json.dumps(report))
    """
)


#: The corpus records that are not lexically SMILES: a word, and an aromatic 'f' (no such element).
NOT_SMILES = {"smiles": {"FAIL", "c1c[nH]c2c1fccc2"}}


def _corpus_files(modality: str) -> list[tuple[Path, str | None]]:
    files = []
    for path in sorted((DATA / modality).iterdir()):
        column = ("inchi" if modality == "inchi" else "smiles") if path.name.endswith((".tsv", ".tsv.gz")) else None
        files.append((path, column))
    return files


@pytest.mark.corpus
@pytest.mark.parametrize("modality", sorted(TOKENIZERS))
def test_exported_file_matches_chemtok_on_the_corpus_without_chemtok(
    request: pytest.FixtureRequest, modality: str, tmp_path: Path, data_dir: Path
) -> None:
    tok = TOKENIZERS[modality]
    tokenizer_path = tok.save_tokenizer_json(tmp_path / f"{modality}_tokenizer.json")
    full = full_corpus_enabled(request.config)
    jobs, refused = [], set()
    for index, (path, column) in enumerate(_corpus_files(modality)):
        texts = [r.text for r in read_records(path, column=column) if r.text is not None]
        if not full and len(texts) > SAMPLE_SIZE:
            texts = random.Random(f"export:{path.name}").sample(texts, SAMPLE_SIZE)
        accepted = []
        for text in texts:  # inputs the grammar refuses need not match
            try:
                tok.encode(text)
            except chemtok.TokenizationError:
                refused.add(text)
                continue
            accepted.append(text)
        ids, offsets = tok.encode_batch(accepted, return_arrays=True)
        stem = tmp_path / f"job{index}"
        Path(f"{stem}.texts.json").write_text(json.dumps(accepted), encoding="utf-8")
        np.save(f"{stem}.ids.npy", ids)
        np.save(f"{stem}.offsets.npy", offsets)
        jobs.append(
            {
                "name": path.name + (f":{column}" if column else ""),
                "texts": f"{stem}.texts.json",
                "ids": f"{stem}.ids.npy",
                "offsets": f"{stem}.offsets.npy",
                "tokenizer": str(tokenizer_path),
            }
        )
    assert refused <= NOT_SMILES.get(modality, set()), f"chemtok refused {modality} records: {sorted(refused)}"
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    (tmp_path / "child.py").write_text(CHILD, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "child.py"), str(tmp_path / "jobs.json")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["chemtok_imported"] is False
    engines = ["tokenizers", "transformers"] if report["fast_available"] else ["tokenizers"]
    checked = 0
    for name, result in report["files"].items():
        checked += result["checked"]
        assert result["decode_mismatches"] == 0, name
        for engine in engines:
            assert result[engine]["mismatches"] == 0, (name, engine, result[engine]["examples"])
    assert checked > 0
    print(f"{modality}: {checked} records, 0 mismatches ({', '.join(engines)}); full corpus: {full}")
