"""``splice_rows``: the native buffers with the reference's rows filled in.

With nothing to fill in, the buffers are returned as they are: a copy would hold every
id twice at the peak (benchmarks/README.md, "Scaling to 1M documents").
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import chemtok
from chemtok.rows import rows_to_arrays, splice_rows

ROWS = st.lists(st.lists(st.integers(0, 2**32 - 1), max_size=6), max_size=12)


def test_nothing_deferred_returns_the_native_buffers_uncopied() -> None:
    ids, offsets = chemtok.SmilesTokenizer().encode_batch(["CCO", "c1ccccc1", "C#N"], return_arrays=True)
    spliced_ids, spliced_offsets = splice_rows(ids, offsets, {})
    assert spliced_ids is ids
    assert spliced_offsets is offsets


@given(ROWS, st.data())
def test_splicing_equals_the_arrays_of_the_filled_rows(rows: list[list[int]], data: st.DataObject) -> None:
    deferred = data.draw(st.sets(st.integers(0, max(len(rows) - 1, 0)), max_size=len(rows)) if rows else st.just(set()))
    emptied = [[] if i in deferred else row for i, row in enumerate(rows)]
    ids, offsets = rows_to_arrays(emptied)
    spliced_ids, spliced_offsets = splice_rows(ids, offsets, {i: rows[i] for i in deferred})
    expected_ids, expected_offsets = rows_to_arrays(rows)
    assert spliced_ids.dtype == expected_ids.dtype
    assert spliced_ids.tolist() == expected_ids.tolist()
    assert spliced_offsets.tolist() == expected_offsets.tolist()
