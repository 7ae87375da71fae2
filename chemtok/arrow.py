"""Arrow in, Arrow out: encode a ``pyarrow`` string column into row-aligned ``ids`` and ``error``.

:func:`encode_arrow` takes a ``StringArray``, ``LargeStringArray`` or ``ChunkedArray``
of either and returns a ``pyarrow.RecordBatch`` with one row per input row:

* ``ids`` (``list<uint32>``): the token ids, null where the row is null or failed;
* ``error`` (``string``): null where the row succeeded, else the message of the
  :class:`~chemtok.errors.ChemtokError` that ``tok.encode(row)`` raises (what failed,
  the position with a caret, the argument that changes the behaviour).

One bad row never fails the batch: records stay aligned with their ids, so a
pipeline can write the good rows and report the bad ones. The ``on_error`` policy is
the tokenizer's (``"fallback"`` and ``"skip"`` make grammar refusals succeed).

Two paths give the same result:

* the **native path**, for a :class:`~chemtok.base.GrammarTokenizer` running on the Rust
  core: the core reads the array's validity bitmap, offsets and data through the buffer
  protocol (no Python string per row), encodes the rows in parallel with the GIL
  released, and hands back flat numpy arrays that become the ``ids`` list array without
  a copy. Only a failed row's text becomes a Python string, to write its message here
  (the core returns the row, position and reason code; the code's message comes from
  the one table in :mod:`chemtok.reasons`, and the rest of the message from
  :class:`~chemtok.errors.TokenizationError`).
* the **reference path**, for every other tokenizer with ``encode_batch`` (the router,
  the text model, the Python engine): ``encode_batch`` over the rows, and on a batch
  error the failing row (``err.index``) is recorded and the rest encoded on.

A ``list<uint32>`` column holds at most 2**31 - 1 ids per chunk; past that ``ids`` is
``large_list<uint32>``.

Example:
    >>> import pyarrow as pa
    >>> import chemtok
    >>> from chemtok.arrow import encode_arrow
    >>> batch = encode_arrow(chemtok.SmilesTokenizer(), pa.array(["CCO", None, "C§C"]))
    >>> batch.column("ids").to_pylist()
    [[262, 262, 264], None, None]
    >>> print(batch.column("error")[2].as_py().splitlines()[0].split(":")[0])
    grammar 'smiles' cannot tokenize '§' at position 1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chemtok.base import GrammarTokenizer, check_on_error
from chemtok.errors import ChemtokError, TokenizationError
from chemtok.rows import splice_rows

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

__all__ = ["ERROR", "IDS", "encode_arrow"]

#: Column names of the result.
IDS = "ids"
ERROR = "error"

# Row status codes of NativeEngine.encode_arrow_buffers (rust/chemtok-py/src/lib.rs).
_ROW_OK = 0
_ROW_OUT_OF_BOUNDS = 3
_INT32_MAX = 2**31 - 1


def encode_arrow(
    tok: Any, array: Any, *, on_error: str | None = None, num_threads: int | None = None
) -> pa.RecordBatch:
    """Encode every row of a ``pyarrow`` string array; return ``ids`` and ``error`` columns.

    Args:
        tok: any chemtok tokenizer with ``encode_batch`` (a modality tokenizer, the
            :class:`~chemtok.ChemTokenizer` router, a :class:`~chemtok.TextTokenizer`).
            A :class:`~chemtok.base.GrammarTokenizer` on the native engine takes the
            fast path (see the module docstring).
        array: a ``pyarrow`` ``string`` or ``large_string`` array, or a
            ``ChunkedArray`` of them (sliced arrays are fine); a ``null`` array counts
            as all-null strings.
        on_error: override the tokenizer's policy (``"raise"``, ``"fallback"``,
            ``"skip"``); under ``"raise"`` a refused row is reported in ``error``.
        num_threads: threads for the native engine (``None``: all cores).

    Returns:
        A ``RecordBatch`` of ``len(array)`` rows with columns ``ids``
        (``list<uint32>``) and ``error`` (``string``).

    Raises:
        TypeError: ``array`` is not an Arrow string array.
        ValueError: an unknown ``on_error``, or an array whose offsets point outside
            its data (a corrupt array; ``array.validate(full=True)`` says more).

    Example:
        >>> import pyarrow as pa
        >>> import chemtok
        >>> from chemtok.arrow import encode_arrow
        >>> smiles = pa.chunked_array([["c1ccccc1O"], ["[Na+].[Cl-]", "C1CC"]])
        >>> out = encode_arrow(chemtok.SmilesTokenizer(), smiles)
        >>> out.num_rows, out.column("error").null_count
        (3, 3)
    """
    import pyarrow as pa

    from chemtok.router import ChemTokenizer

    chunks = _string_chunks(pa, array)
    # A grammar tokenizer's Rust engine, or a ChemTokenizer's Rust router, reads the
    # Arrow buffers in place; anything else (a text model, a duck-typed tokenizer) goes
    # through its own encode_batch.
    engine = tok.native_engine if isinstance(tok, GrammarTokenizer) else None
    # detect=True marks each text before routing it: its own encode_batch does both.
    router = tok.native_engine if isinstance(tok, ChemTokenizer) and not tok.detect else None
    if engine is not None:
        policy = tok.on_error if on_error is None else check_on_error(on_error)
        parts = [_encode_native(pa, engine, chunk, policy, num_threads) for chunk in chunks]
    elif router is not None:
        policy = tok.on_error if on_error is None else check_on_error(on_error)
        parts = [_encode_router(pa, tok, router, chunk, policy, num_threads) for chunk in chunks]
    else:
        parts = [_encode_reference(pa, tok, chunk, on_error, num_threads) for chunk in chunks]
    return _combine(pa, parts)


def _string_chunks(pa: Any, array: Any) -> list[Any]:
    """The chunks of ``array`` as ``string``/``large_string`` arrays, or ``TypeError``."""
    if isinstance(array, pa.ChunkedArray):
        chunks = list(array.chunks)
        kind = array.type
    elif isinstance(array, pa.Array):
        chunks = [array]
        kind = array.type
    else:
        raise TypeError(
            "encode_arrow expects a pyarrow StringArray, LargeStringArray or ChunkedArray, "
            f"got {type(array).__name__}; wrap Python lists with pyarrow.array(texts)"
        )
    if pa.types.is_null(kind) or pa.types.is_string_view(kind):
        return [chunk.cast(pa.string()) for chunk in chunks]
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise TypeError(f"encode_arrow expects string or large_string values, got {kind}; cast the column first")
    return chunks


def _buffers_call(pa: Any, engine: Any, chunk: Any, policy: str, num_threads: int | None) -> tuple[Any, ...]:
    """``engine.encode_arrow_buffers`` over ``chunk``'s own buffers (no copy of the texts)."""
    validity, offsets, data = chunk.buffers()[:3]
    return tuple(
        engine.encode_arrow_buffers(
            len(chunk),
            chunk.offset,
            pa.types.is_large_string(chunk.type),
            validity if chunk.null_count else None,
            offsets,
            b"" if data is None else data,
            policy,
            num_threads,
        )
    )


def _encode_native(pa: Any, engine: Any, chunk: Any, policy: str, num_threads: int | None) -> tuple[Any, Any]:
    """``(ids, error)`` of one chunk through the Rust core, reading the Arrow buffers in place."""
    import numpy as np

    ids, row_offsets, status, failures = _buffers_call(pa, engine, chunk, policy, num_threads)
    _check_bounds(np, status)
    rows = [row for row, _, _ in failures]
    # The same message tok.encode(text) raises: TokenizationError formats it.
    messages = [
        str(TokenizationError(chunk[row].as_py(), position, engine.modality, engine.reason(code)))
        for row, position, code in failures
    ]
    return _list_array(pa, np, ids, row_offsets, status == _ROW_OK), _sparse_strings(pa, np, len(chunk), rows, messages)


def _encode_router(pa: Any, tok: Any, router: Any, chunk: Any, policy: str, num_threads: int | None) -> tuple[Any, Any]:
    """``(ids, error)`` of one chunk through the Rust router, reading the Arrow buffers in place.

    The rows the router leaves to the reference (refused ones, lone surrogates, markers of
    a modality without a native engine)
    are encoded by ``tok`` itself (the Python path): their ids are spliced in, or their
    error message is the row's ``error``.
    """
    import numpy as np

    ids, row_offsets, status, reference = _buffers_call(pa, router, chunk, policy, num_threads)
    _check_bounds(np, status)
    valid = status == _ROW_OK
    failed: list[int] = []
    messages: list[str] = []
    encoded: dict[int, list[int]] = {}
    for row in reference:
        row_ids, message = _encode_row(tok, chunk[row].as_py(), {"on_error": policy})
        if row_ids is not None:
            encoded[row] = row_ids
            valid[row] = True
        else:
            failed.append(row)
            messages.append(message or "")
    if encoded:
        ids, row_offsets = splice_rows(ids, row_offsets, encoded)
    return _list_array(pa, np, ids, row_offsets, valid), _sparse_strings(pa, np, len(chunk), failed, messages)


def _check_bounds(np: Any, status: np.ndarray) -> None:
    """Refuse an array whose rows point outside its buffers."""
    bad = np.flatnonzero(status == _ROW_OUT_OF_BOUNDS)
    if bad.size:
        raise ValueError(
            f"the Arrow array is corrupt: row {int(bad[0])} has offsets or validity outside its buffers "
            "(array.validate(full=True) says more)"
        )


def _list_array(pa: Any, np: Any, ids: np.ndarray, row_offsets: np.ndarray, valid: np.ndarray) -> Any:
    """The ``list<uint32>`` array over ``ids`` (no copy of them); rows not ``valid`` are null."""
    length = len(valid)
    if int(row_offsets[-1]) <= _INT32_MAX:
        list_type, offsets = pa.list_(pa.uint32()), row_offsets.astype(np.int32)
    else:
        list_type, offsets = pa.large_list(pa.uint32()), row_offsets
    null_count = length - int(np.count_nonzero(valid))
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if null_count else None
    values = pa.Array.from_buffers(pa.uint32(), len(ids), [None, pa.py_buffer(ids)])
    return pa.Array.from_buffers(
        list_type, length, [bitmap, pa.py_buffer(offsets)], null_count=null_count, children=[values]
    )


def _sparse_strings(pa: Any, np: Any, length: int, rows: Sequence[int], messages: Sequence[str]) -> Any:
    """A ``string`` array of ``length`` nulls with ``messages`` at ``rows`` (ascending)."""
    if not rows:
        return pa.nulls(length, pa.string())
    encoded = [message.encode("utf-8") for message in messages]
    lengths = np.zeros(length, dtype=np.int64)
    lengths[list(rows)] = [len(e) for e in encoded]
    offsets = np.zeros(length + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    valid = np.zeros(length, dtype=bool)
    valid[list(rows)] = True
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), length, buffers, null_count=length - len(rows))


def _encode_reference(
    pa: Any, tok: Any, chunk: Any, on_error: str | None, num_threads: int | None
) -> tuple[Any, Any]:
    """``(ids, error)`` of one chunk through ``tok.encode_batch`` (any tokenizer)."""
    texts: list[str | None] = chunk.to_pylist()
    ids: list[list[int] | None] = [None] * len(texts)
    errors: list[str | None] = [None] * len(texts)
    options: dict[str, Any] = {}
    if on_error is not None:
        options["on_error"] = on_error
    if num_threads is not None:
        options["num_threads"] = num_threads
    present = {i: text for i, text in enumerate(texts) if text is not None}  # nulls stay null
    rows = list(present)
    start = 0
    while start < len(rows):
        part = rows[start:]
        try:
            encoded = tok.encode_batch([present[i] for i in part], **options)
        except ChemtokError as err:
            failed = getattr(err, "index", None)
            if not isinstance(failed, int) or not 0 <= failed < len(part):
                # A tokenizer whose batch errors do not say which record: row by row.
                for i in part:
                    ids[i], errors[i] = _encode_row(tok, present[i], options)
                break
            if failed:
                for i, row_ids in zip(part, tok.encode_batch([present[i] for i in part[:failed]], **options)):
                    ids[i] = row_ids
            errors[part[failed]] = _row_message(tok, present[part[failed]], err, options)
            start += failed + 1
            continue
        for i, row_ids in zip(part, encoded):
            ids[i] = list(row_ids)
        break
    return pa.array(ids, type=pa.list_(pa.uint32())), pa.array(errors, type=pa.string())


def _encode_row(tok: Any, text: str, options: dict[str, Any]) -> tuple[list[int] | None, str | None]:
    """``(ids, None)`` or ``(None, message)`` of one text."""
    try:
        return list(tok.encode_batch([text], **options)[0]), None
    except ChemtokError as err:
        return None, _row_message(tok, text, err, options)


def _row_message(tok: Any, text: str, err: ChemtokError, options: dict[str, Any]) -> str:
    """The message ``tok.encode(text)`` raises: a batch error may also name its index."""
    single = {key: value for key, value in options.items() if key == "on_error"}
    try:
        tok.encode(text, **single)
    except ChemtokError as own:
        return str(own)
    return str(err)


def _combine(pa: Any, parts: list[tuple[Any, Any]]) -> pa.RecordBatch:
    """One ``RecordBatch`` of the chunks' ``(ids, error)`` columns, in order."""
    if not parts:
        ids, errors = pa.array([], type=pa.list_(pa.uint32())), pa.array([], type=pa.string())
    elif len(parts) == 1:
        ids, errors = parts[0]
    else:
        id_parts = [p[0] for p in parts]
        total = sum(len(a.values) for a in id_parts)
        if total > _INT32_MAX or any(pa.types.is_large_list(a.type) for a in id_parts):
            id_parts = [a.cast(pa.large_list(pa.uint32())) for a in id_parts]
        ids = pa.concat_arrays(id_parts)
        errors = pa.concat_arrays([p[1] for p in parts])
    return pa.RecordBatch.from_arrays([ids, errors], names=[IDS, ERROR])
