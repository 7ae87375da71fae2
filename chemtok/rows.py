"""Rows of ids as numpy arrays: ``(ids uint32, row_offsets int64)``, row i is ``ids[o[i]:o[i+1]]``.

What ``encode_batch(..., return_arrays=True)`` returns on every tokenizer: one flat id
buffer and the offsets of its rows, instead of a Python list per record.

Example:
    >>> import chemtok
    >>> from chemtok.rows import rows_to_arrays
    >>> tok = chemtok.SmilesTokenizer()
    >>> ids, offsets = rows_to_arrays([tok.encode("CCO"), [], tok.encode("C")])
    >>> ids.tolist(), offsets.tolist()
    ([262, 262, 264, 262], [0, 3, 3, 4])
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["collector_paused", "rows_to_arrays", "splice_rows"]


class _PauseState:
    """The pauses now open in this process, and whether the collector runs after them."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """No pause open, a fresh lock (also a child process's state after ``fork()``)."""
        self.lock = threading.Lock()
        self.open = 0
        self.resume = False


_PAUSES = _PauseState()


def _after_fork_in_child() -> None:
    # The threads whose pauses were open did not come along: the child's collector runs
    # as it did before they began (and a lock one of them held is not held here).
    if _PAUSES.open and _PAUSES.resume:
        gc.enable()
    _PAUSES.reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch's id lists are built.

    A batch of a million records is a million new lists; each full collection walks
    every id of every list built so far, although lists of ints cannot form a cycle
    (``benchmarks/README.md``, "Scaling to 1M documents": 1.4-2.4x faster with the
    collector paused, the same memory). Reference counting still frees everything.
    The collector resumes when the last overlapping pause ends, if it was enabled when
    the first began; a collector the caller disabled stays disabled.

    Example:
        >>> import gc
        >>> from chemtok.rows import collector_paused
        >>> with collector_paused():
        ...     rows = [[262, 262, 264] for _ in range(3)]   # CCO, three times
        >>> gc.isenabled()
        True
    """
    state = _PAUSES
    with state.lock:
        if state.open == 0:
            state.resume = gc.isenabled()
            gc.disable()
        state.open += 1
    try:
        yield
    finally:
        with state.lock:
            state.open -= 1
            if state.open == 0 and state.resume:
                gc.enable()


def rows_to_arrays(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Pack id lists into ``(ids uint32, row_offsets int64)``; row i is ``ids[o[i]:o[i+1]]``."""
    import numpy as np

    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    if rows:
        np.cumsum([len(r) for r in rows], out=offsets[1:])
    ids = np.fromiter((i for row in rows for i in row), dtype=np.uint32, count=int(offsets[-1]))
    return ids, offsets


def splice_rows(ids: np.ndarray, row_offsets: np.ndarray, rows: Mapping[int, Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, row_offsets)`` with the empty rows ``rows`` filled in (the rows a native
    batch left to the Python reference); the other rows keep their ids.

    Example:
        >>> import numpy as np
        >>> ids, offsets = splice_rows(np.array([7, 8], np.uint32), np.array([0, 1, 1, 2]), {1: [5, 6]})
        >>> ids.tolist(), offsets.tolist()
        ([7, 5, 6, 8], [0, 1, 3, 4])
    """
    if not rows:
        # Nothing to fill in: the native buffers as they are. A concatenation of the one
        # piece would copy every id while the original is still alive (2x the result
        # at the peak; benchmarks/README.md, "Scaling to 1M documents").
        return ids, row_offsets
    import numpy as np

    lengths = np.diff(row_offsets)
    pieces = []
    after = 0  # the first row not copied yet
    for row in sorted(rows):
        pieces.append(ids[row_offsets[after] : row_offsets[row]])
        pieces.append(np.asarray(rows[row], dtype=ids.dtype))
        lengths[row] = len(rows[row])
        after = row + 1
    pieces.append(ids[row_offsets[after] :])
    offsets = np.zeros(len(row_offsets), dtype=row_offsets.dtype)
    np.cumsum(lengths, out=offsets[1:])
    return np.concatenate(pieces), offsets
