"""The core's compact merging (rust/chemtok-core/src/merges.rs) gives the ids of the
Python reference (``split_words`` + ``apply_merges``) on real SMILES, from a fresh
tokenizer (every word merged, none taken from the word cache).

Written as the oracle for a backtracking merge encoder (branch ``compactbt``, commits
d42c0a2 and d1acb76; see benchmarks/README.md, "Compact SMILES and single calls"), which
passed it on every record and was then taken out for not being faster. By default a
seeded sample of each SMILES file of ../shared/data runs; CHEMTOK_FULL_CORPUS=1 (or
``pytest -m corpus``) compares every record of every file.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import full_corpus_enabled, grammar_corpus_files
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import smiles_like

import chemtok
from chemtok import native
from chemtok.io import read_records

SAMPLE_SIZE = 2000
NOT_SMILES = {"FAIL", "c1c[nH]c2c1fccc2"}

pytestmark = pytest.mark.skipif(not native.available(), reason="chemtok._native is not built")

REFERENCE = chemtok.SmilesTokenizer(model="compact", engine="python")


@pytest.mark.corpus
@pytest.mark.parametrize(
    "path, column", [(p, c) for _, p, c in grammar_corpus_files(("smiles",))], ids=lambda v: Path(v).name if v else "-"
)
def test_native_compact_ids_equal_the_reference_on_real_smiles(
    request: pytest.FixtureRequest, path: str, column: str | None
) -> None:
    texts = [r.text for r in read_records(path, column=column) if r.text and r.text not in NOT_SMILES]
    if not full_corpus_enabled(request.config) and len(texts) > SAMPLE_SIZE:
        texts = random.Random(Path(path).name).sample(texts, SAMPLE_SIZE)
    assert texts, f"no records read from {path}"
    expected = REFERENCE.encode_batch(texts)
    # A fresh tokenizer: every word is merged, none comes from the cache.
    fresh = chemtok.SmilesTokenizer(model="compact", engine="native")
    got = fresh.encode_batch(texts, num_threads=1)
    bad = [t for t, a, b in zip(texts, got, expected) if a != b]
    assert not bad, f"{Path(path).name}: {len(bad)} of {len(texts)} records differ, e.g. {bad[:2]}"


@settings(max_examples=300, deadline=None)
@given(st.lists(smiles_like, min_size=1, max_size=6).map("".join))
def test_hyp_native_compact_ids_equal_the_reference(text: str) -> None:
    fresh = chemtok.SmilesTokenizer(model="compact", engine="native")
    assert fresh.encode(text) == REFERENCE.encode(text)
