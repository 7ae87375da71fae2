"""The core's per-thread merge-word cache (rust/chemtok-core/src/merges.rs) never
changes ids: words met again, across calls, batches and threads, get the ids a fresh
tokenizer and the Python reference give. (Caches of different merge tables on one
thread are kept apart: the Rust test merges_match_the_reference_on_random_tables runs
many tables over the same units on one thread.)"""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import smiles_like

import chemtok
from chemtok import native

MAX_EXAMPLES = int(os.environ.get("CHEMTOK_MAX_EXAMPLES", "200"))

pytestmark = pytest.mark.skipif(not native.available(), reason="chemtok._native is not built")

REFERENCE = chemtok.SmilesTokenizer(model="compact", engine="python")
#: One long-lived tokenizer: its word cache fills across every example.
WARM = chemtok.SmilesTokenizer(model="compact", engine="native")


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(st.lists(smiles_like, min_size=1, max_size=8), st.integers(min_value=1, max_value=4))
def test_hyp_repeated_words_get_the_ids_of_fresh_ones(texts: list[str], copies: int) -> None:
    batch = [t for t in texts for _ in range(copies)] + texts[::-1]
    expected = REFERENCE.encode_batch(batch)
    fresh = chemtok.SmilesTokenizer(model="compact", engine="native")  # an empty cache
    assert fresh.encode_batch(batch, num_threads=1) == expected
    for threads in (1, 2):
        assert WARM.encode_batch(batch, num_threads=threads) == expected
        ids, offsets = WARM.encode_batch(batch, num_threads=threads, return_arrays=True)
        assert [ids[a:b].tolist() for a, b in itertools.pairwise(offsets.tolist())] == expected
    assert [WARM.encode(t) for t in batch] == expected

