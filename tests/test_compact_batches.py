"""Compact batches merge several lexed texts at once (``Merges::apply_rows``, 16 texts per
block, rust/chemtok-core/src/merges.rs): rows that fail, rows left empty and rows of
several merge words must keep their own ids, under every ``on_error`` policy, in lists,
arrays and Arrow batches, on one thread and two; the Python reference decides.

(tests/test_native.py checks the same policies on batches of at most 12 texts, inside
one block.)
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import smiles_lexeme

import chemtok
from chemtok import native
from chemtok.errors import TokenizationError

MAX_EXAMPLES = int(os.environ.get("CHEMTOK_MAX_EXAMPLES", "200"))

pytestmark = pytest.mark.skipif(not native.available(), reason="chemtok._native is not built")

REFERENCE = chemtok.SmilesTokenizer(model="compact", engine="python")
#: One long-lived tokenizer: later examples meet words cached by earlier ones.
NATIVE = chemtok.SmilesTokenizer(model="compact", engine="native")

# Mostly SMILES lexemes; sometimes a character no rule covers (a failing row under
# "raise", byte tokens under "fallback", dropped under "skip").
piece = st.one_of(smiles_lexeme, smiles_lexeme, smiles_lexeme, st.sampled_from(["?", "x", " ", "é", "€"]))
text = st.lists(piece, max_size=30).map("".join)
# Past one block of 16 texts, sometimes many blocks.
texts = st.lists(text, min_size=17, max_size=80)


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """``("ok", result)`` or the facts of the TokenizationError raised."""
    try:
        return ("ok", call())
    except TokenizationError as err:
        return ("error", err.index, err.position, err.reason, err.text)


def rows(arrays: tuple[Any, Any]) -> list[list[int]]:
    ids, offsets = arrays
    return [ids[a:b].tolist() for a, b in itertools.pairwise(offsets.tolist())]


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(texts, st.sampled_from(["raise", "fallback", "skip"]))
def test_hyp_compact_batches_of_many_blocks_equal_the_reference(batch: list[str], policy: str) -> None:
    expected = outcome(lambda: REFERENCE.encode_batch(batch, on_error=policy))
    fresh = chemtok.SmilesTokenizer(model="compact", engine="native")  # an empty word cache
    assert outcome(lambda: fresh.encode_batch(batch, on_error=policy, num_threads=1)) == expected
    for threads in (1, 2):
        lists = outcome(lambda n=threads: NATIVE.encode_batch(batch, on_error=policy, num_threads=n))
        assert lists == expected
        arrays = outcome(
            lambda n=threads: rows(NATIVE.encode_batch(batch, on_error=policy, num_threads=n, return_arrays=True))
        )
        assert arrays == expected


@settings(max_examples=max(1, MAX_EXAMPLES // 4), deadline=None)
@given(texts)
def test_hyp_compact_arrow_rows_keep_their_ids_around_failed_rows(batch: list[str]) -> None:
    pa = pytest.importorskip("pyarrow")
    from chemtok.arrow import encode_arrow

    out = encode_arrow(NATIVE, pa.array(batch), on_error="raise", num_threads=2)
    got_ids = out.column("ids").to_pylist()
    errors = out.column("error").to_pylist()
    for row, (smiles, ids, error) in enumerate(zip(batch, got_ids, errors, strict=True)):
        expected = outcome(lambda s=smiles: REFERENCE.encode(s, on_error="raise"))
        if expected[0] == "ok":
            assert (ids, error) == (expected[1], None), row
        else:
            assert error is not None and ids is None, row
