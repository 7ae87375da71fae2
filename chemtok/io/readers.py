"""Chunks of records for the pipeline: the fast line readers, Arrow-read tables, counts.

:func:`read_chunks` groups the records of one input into :class:`Chunk` objects of up
to ``chunk_size`` records: ``.smi``/``.txt`` through a line reader that makes no
:class:`~chemtok.io.records.Record` per line, CSV/TSV through ``pyarrow.csv`` (the
texts stay an Arrow array, see :class:`ArrowTexts`), every other format through
:func:`~chemtok.io.records.read_records`. A record that cannot be read is in the chunk
with its problem, never dropped.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, overload

from chemtok.io.formats import InputError, UsageError, label

if TYPE_CHECKING:
    import threading

    import numpy as np

from chemtok.io.records import (
    BLOCK_SIZE,
    decode_record,
    iter_blocks,
    iter_lines,
    open_input,
    open_parquet,
    parquet_record,
    read_records,
)

__all__ = ["ArrowTexts", "Chunk", "count_records", "read_chunks", "read_header"]



# -- chunks for the pipeline ----------------------------------------------------------------


@dataclass
class Chunk:
    """Consecutive records of one input: ``texts[i]`` is record ``numbers[i]``.

    ``problems`` maps the index of each unreadable record (``texts[i] is None``) to
    ``(why, raw bytes)``.
    """

    numbers: Sequence[int]
    texts: list[str | None] | ArrowTexts
    problems: dict[int, tuple[str, bytes | None]] = field(default_factory=dict)
    #: Set on the last chunk of an input that could not be read to its end (corrupt
    #: gzip, an I/O error): the problem of its last record, which stands for the rest.
    fault: str | None = None
    #: Bytes of the input file read when the chunk was made (compressed bytes for a
    #: gzip file), for progress without a second pass; ``None`` when not known.
    consumed: int | None = None
    #: With ``read_chunks(..., keep_columns=True)`` on a table input: the chunk's records
    #: with every column of the input, a ``pyarrow.Table`` row-aligned with ``texts``
    #: (CSV/TSV columns as strings, Parquet columns as stored; a failed record's row may
    #: be nulls); ``None`` otherwise, and for a Parquet file's unreadable rest.
    columns: Any = None
    #: With ``read_chunks(..., keep_columns=True)`` on a JSON Lines input: each record's
    #: whole object (keys in the line's order), row-aligned with ``texts``; ``None`` for
    #: a failed record, and when the objects were not asked for.
    objects: list[dict[str, Any] | None] | None = None

    def number_array(self) -> np.ndarray:
        import numpy as np

        if isinstance(self.numbers, range):
            return np.arange(self.numbers.start, self.numbers.stop, dtype=np.int64)
        return np.asarray(self.numbers, dtype=np.int64)



# Whitespace other than the line break: where a .smi line has a second field.
_INNER_SPACE = re.compile(r"[^\S\n]")


def _position(raw: IO[bytes]) -> int | None:
    try:
        return int(raw.tell())
    except (AttributeError, OSError, ValueError):  # a pipe
        return None


def _read_lines(path: str, fmt: str, chunk_size: int) -> Iterator[Chunk]:
    """The fast reader for one-record-per-line formats (``smi``, ``txt``).

    Reads megabyte blocks and decodes each block at once; only a block with bad bytes
    is decoded line by line, and only a ``.smi`` block with spaces or tabs is split
    line by line. Gives exactly what :func:`read_records` gives (same
    numbering, same first-field rule, same messages for bad bytes): a test holds the
    two together.
    """
    smi = fmt == "smi"
    first = 1  # number of texts[0]
    texts: list[str | None] = []
    problems: dict[int, tuple[str, bytes | None]] = {}

    def add(body: bytes) -> None:
        try:
            decoded = body.decode("utf-8")
        except UnicodeDecodeError:
            for raw in body.split(b"\n"):
                record = decode_record(0, raw.rstrip(b"\r"))
                if record.text is None:
                    problems[len(texts)] = (record.error or "unreadable record", record.raw)
                    texts.append(None)
                elif smi:
                    fields = record.text.split(None, 1)
                    texts.append(fields[0] if fields else "")
                else:
                    texts.append(record.text)
            return
        lines = decoded.split("\n")
        if smi:
            if _INNER_SPACE.search(decoded):  # names after the SMILES, or CRLF line ends
                lines = [fields[0] if (fields := line.split(None, 1)) else "" for line in lines]
        elif "\r" in decoded:
            lines = [line.rstrip("\r") for line in lines]
        texts.extend(lines)

    def flush(final: bool) -> Iterator[Chunk]:
        nonlocal first, texts, problems
        while len(texts) >= chunk_size or (final and texts):
            size = min(chunk_size, len(texts))
            taken = {i: p for i, p in problems.items() if i < size} if problems else {}
            yield Chunk(range(first, first + size), texts[:size], taken)
            first += size
            texts = texts[size:]
            if problems:
                problems = {i - size: p for i, p in problems.items() if i >= size}

    fault = None
    consumed: int | None = None
    try:
        with open_input(path) as handle:
            raw = getattr(handle, "fileobj", handle)  # under a GzipFile, the compressed file
            for block in iter_blocks(handle):
                add(block)
                consumed = _position(raw)
                for chunk in flush(False):
                    chunk.consumed = consumed
                    yield chunk
    except (OSError, EOFError, zlib.error) as err:
        fault = f"cannot read {label(path)}: {err}"
    for chunk in flush(True):
        chunk.consumed = consumed
        yield chunk
    if fault is not None:
        yield Chunk(range(first, first + 1), [None], {0: (fault, None)}, fault=fault)


def _read_generic(
    path: str,
    fmt: str,
    column: str | None,
    chunk_size: int,
    *,
    skip: int = 0,
    header: list[str] | None = None,
    objects: bool = False,
) -> Iterator[Chunk]:
    """Any format :func:`chemtok.io.read_records` reads, grouped into chunks.

    ``skip``: leave out records numbered up to ``skip`` (already given by the Arrow reader).
    ``header``: a CSV/TSV's column names, to keep every column (:attr:`Chunk.columns`);
    a row that does not have one field per name is then a failed record, since it
    cannot be written back as a row of that table.
    ``objects``: JSON Lines: keep each record's whole object (:attr:`Chunk.objects`).
    """
    numbers: list[int] = []  # the current chunk's, appended to as records arrive
    texts: list[str | None] = []
    rows: list[tuple[str, ...] | None] = []
    kept: list[dict[str, Any] | None] | None = [] if objects else None
    chunk = Chunk(numbers, texts, objects=kept)
    records = read_records(path, column=column, format=fmt, keep_fields=header is not None or objects)
    last = 0

    def full(chunk: Chunk) -> Chunk:
        if header is not None:
            chunk.columns = _rows_table(header, rows)
        return chunk

    while True:
        try:
            record = next(records)
            if record.number <= skip:
                last = record.number
                continue
        except StopIteration:
            break
        except (OSError, EOFError, zlib.error, InputError) as err:
            fault = str(err) if isinstance(err, InputError) else f"cannot read {label(path)}: {err}"
            chunk.problems[len(texts)] = (fault, None)
            numbers.append(last + 1)
            texts.append(None)
            rows.append(None)
            if kept is not None:
                kept.append(None)
            chunk.fault = fault
            yield full(chunk)
            return
        except ValueError as err:  # a missing column/field: the command line is wrong
            raise UsageError(str(err)) from None
        last = record.number
        problem = (record.error or "unreadable record") if record.text is None else None
        if header is not None:
            problem = problem or _row_problem(header, record.fields)
            rows.append(record.fields if problem is None else None)
        if problem is not None:
            chunk.problems[len(texts)] = (problem, record.raw)
        numbers.append(record.number)
        texts.append(record.text if problem is None else None)
        if kept is not None:
            kept.append(record.json_object)
        if len(texts) >= chunk_size:
            yield full(chunk)
            numbers, texts, rows = [], [], []
            kept = [] if objects else None
            chunk = Chunk(numbers, texts, objects=kept)
    if texts:
        yield full(chunk)


def _row_problem(header: list[str], fields: tuple[str, ...] | None) -> str | None:
    """Why a CSV/TSV row cannot be written back as a row of its table (``None``: it can)."""
    if fields is None:
        return "unreadable row"
    if len(fields) != len(header):
        return f"the row has {len(fields)} fields and the header {len(header)}: it cannot be written back as a row of that table"
    for name, value in zip(header, fields):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            return f"column {name!r} is not valid UTF-8 at character {err.start}"
    return None


def _rows_table(header: list[str], rows: list[tuple[str, ...] | None]) -> Any:
    """The rows of a CSV/TSV chunk as a table of strings (a failed row is all nulls)."""
    import pyarrow as pa

    arrays = [pa.array([row[i] if row is not None else None for row in rows], type=pa.string()) for i in range(len(header))]
    return pa.Table.from_arrays(arrays, names=list(header))



class ArrowTexts(Sequence["str | None"]):
    """The texts of a chunk read by pyarrow, kept as an Arrow string array.

    Behaves as the list of strings it stands for (``len``, indexing, slicing,
    iteration make Python strings only when asked), while :func:`chemtok.io.encoder.encode_chunk`
    hands :attr:`array` to the native engine's ``encode_arrow`` without any.
    """

    def __init__(self, array: Any) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, index: int) -> str | None: ...

    @overload
    def __getitem__(self, index: slice) -> list[str | None]: ...

    def __getitem__(self, index: int | slice) -> str | list[str | None] | None:
        if isinstance(index, slice):
            return self.to_list()[index]
        value: str | None = self.array[index].as_py()
        return value

    def __iter__(self) -> Iterator[str | None]:
        return iter(self.to_list())

    def to_list(self) -> list[str | None]:
        values: list[str | None] = self.array.to_pylist()
        return values


#: Bytes pyarrow parses per block: a few chunks of typical SMILES rows. A row longer
#: than this (a protein, a huge molecule) makes pyarrow give up, and the Python reader
#: takes over from there.
_ARROW_BLOCK = 1 << 22


def _read_table_arrow(path: str, fmt: str, column: str | None, chunk_size: int, *, keep_columns: bool = False) -> Iterator[Chunk]:
    """CSV/TSV through ``pyarrow.csv.open_csv``, as long as pyarrow reads the file cleanly.

    pyarrow parses and validates a block at a time in C++, and the column stays an
    Arrow array (:class:`ArrowTexts`). It is used only where it gives what the Python
    reader gives: the named (or first) column as strings, every line a row (empty lines
    too), quoted newlines kept. Anything pyarrow refuses (a row with too few or many
    fields, bytes that are not UTF-8, a row longer than a block, corrupt gzip) hands the
    rest of the file to the Python reader, from the first record not yet given, so a bad
    row is still a failed record with its number, exactly as before.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        header = read_header(path, fmt)
    except InputError:
        header = None
    kept = header if keep_columns else None
    if not header or len(set(header)) != len(header) or (column is not None and column not in header):
        yield from _read_generic(path, fmt, column, chunk_size, header=kept)  # the Python reader explains
        return
    name = column if column is not None else header[0]
    read = list(header) if keep_columns else [name]
    given = 0
    try:
        with open_input(path) as handle:
            source: Any = path if not isinstance(handle, gzip.GzipFile) else handle
            raw = getattr(handle, "fileobj", handle)
            reader = pacsv.open_csv(
                source,
                read_options=pacsv.ReadOptions(block_size=_ARROW_BLOCK, use_threads=True),
                parse_options=pacsv.ParseOptions(
                    delimiter="\t" if fmt == "tsv" else ",", newlines_in_values=True, ignore_empty_lines=False
                ),
                convert_options=pacsv.ConvertOptions(
                    include_columns=read, column_types=dict.fromkeys(read, pa.string()), strings_can_be_null=False
                ),
            )
            for batch in reader:
                array = batch.column(read.index(name))
                table = pa.Table.from_batches([batch]) if keep_columns else None
                consumed = _position(raw) if source is handle else None
                for start in range(0, len(array), chunk_size):
                    part = array.slice(start, chunk_size)
                    chunk = Chunk(range(given + 1, given + 1 + len(part)), ArrowTexts(part), consumed=consumed)
                    if table is not None:
                        chunk.columns = table.slice(start, chunk_size)
                    yield chunk
                    given += len(part)
            return
    except (pa.ArrowException, OSError, EOFError, zlib.error, KeyError):
        pass  # not a file pyarrow reads as the Python reader does: the Python reader goes on
    yield from _read_generic(path, fmt, column, chunk_size, skip=given, header=kept)


def read_chunks(path: str, fmt: str, column: str | None, chunk_size: int, *, keep_columns: bool = False) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_size`` consecutive records of one input.

    The fast line reader for smi/txt; pyarrow for CSV/TSV files (:func:`_read_table_arrow`,
    with the Python reader taking over where pyarrow refuses); the record reader of
    :func:`read_records` for the rest (JSON Lines stays on it: a malformed line must be
    one failed record, which a whole-block JSON parser cannot say).

    ``keep_columns=True`` (CSV, TSV and Parquet files) also gives each chunk's records
    with every column of the input (:attr:`Chunk.columns`), for outputs that write the
    other columns back (``chemtok annotate``); Parquet is then read a batch of
    ``chunk_size`` rows at a time with all its columns. On JSON Lines (a file or
    standard input) it gives each record's whole object (:attr:`Chunk.objects`).

    Raises:
        UsageError: ``keep_columns`` for standard input (its header is not known ahead),
            or a column the input does not have.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "chembl.csv")
        >>> _ = open(path, "w").write("chembl_id,smiles\\nCHEMBL545,CCO\\nCHEMBL25,CC(=O)Oc1ccccc1C(=O)O\\n")
        >>> chunk = next(read_chunks(path, "csv", "smiles", 100, keep_columns=True))
        >>> list(chunk.texts), chunk.columns.column("chembl_id").to_pylist()
        (['CCO', 'CC(=O)Oc1ccccc1C(=O)O'], ['CHEMBL545', 'CHEMBL25'])
    """
    if keep_columns and fmt in ("csv", "tsv", "parquet"):
        if path == "-":
            raise UsageError(f"the columns of a {fmt} table on standard input cannot be kept: read it from a file")
        if fmt == "parquet":
            return _read_parquet_columns(path, column, chunk_size)
        return _read_table_arrow(path, fmt, column, chunk_size, keep_columns=True)
    if keep_columns and fmt == "jsonl":
        return _read_generic(path, fmt, column, chunk_size, objects=True)
    if fmt in ("smi", "txt"):
        return _read_lines(path, fmt, chunk_size)
    if fmt in ("csv", "tsv") and path != "-":
        return _read_table_arrow(path, fmt, column, chunk_size)
    return _read_generic(path, fmt, column, chunk_size)



def _read_parquet_columns(path: str, column: str | None, chunk_size: int) -> Iterator[Chunk]:
    """Parquet with every column, ``chunk_size`` rows at a time (never the whole file)."""
    import pyarrow as pa

    parquet = open_parquet(path)
    names = parquet.schema_arrow.names
    if column is None or column not in names:
        raise UsageError(f"{path} needs column=... naming one of its columns {names}")
    index = names.index(column)
    number = 0
    batches = parquet.iter_batches(batch_size=chunk_size)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, pa.ArrowException) as err:  # a corrupt page: the rest is one failed record
            fault = f"cannot read {path} past record {number}: {err}"
            yield Chunk(range(number + 1, number + 2), [None], {0: (fault, None)}, fault=fault)
            return
        records = [parquet_record(number + 1 + i, value) for i, value in enumerate(batch.column(index).to_pylist())]
        problems: dict[int, tuple[str, bytes | None]] = {
            i: (r.error or "unreadable record", r.raw) for i, r in enumerate(records) if r.text is None
        }
        texts: list[str | None] = [r.text for r in records]
        yield Chunk(range(number + 1, number + 1 + len(records)), texts, problems, columns=pa.Table.from_batches([batch]))
        number += len(records)


def read_header(path: str, fmt: str) -> list[str] | None:
    """The column names of a table input (``None`` for formats without columns).

    CSV/TSV: the first row; JSON Lines: the keys of the first object (``[]`` when the
    first line is not one); Parquet: the schema's names. Reads only the start of the
    file; standard input has no header to look at ahead of the run (``None``).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "chembl.csv")
        >>> _ = open(path, "w").write("chembl_id,canonical_smiles\\nCHEMBL25,CC(=O)Oc1ccccc1C(=O)O\\n")
        >>> read_header(path, "csv")
        ['chembl_id', 'canonical_smiles']
    """
    if path == "-" or fmt not in ("csv", "tsv", "jsonl", "parquet"):
        return None
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except (OSError, pa.ArrowException) as err:
            raise InputError(f"cannot read {path} as Parquet: {err}") from None
    head = b""
    try:
        with open_input(path) as handle:
            # Small reads: a truncated gzip stream still shows its first line.
            while b"\n" not in head and b"\r" not in head and len(head) < BLOCK_SIZE:
                piece = handle.read(1 << 14)
                if not piece:
                    break
                head += piece
    except (OSError, EOFError, zlib.error) as err:
        if not head:
            raise InputError(f"cannot read {label(path)}: {err}") from None
    first = next(iter_lines(io.BytesIO(head)), b"")
    text = first.decode("utf-8", "replace")
    if fmt == "jsonl":
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return []
        return [str(key) for key in value] if isinstance(value, dict) else []
    return next(csv.reader([text], delimiter="\t" if fmt == "tsv" else ","), [])


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def count_records(paths: Sequence[str], formats: Sequence[str], stop: threading.Event) -> int | None:
    """Count the records of the inputs ahead of the tokenizer, for the ETA (files only)."""
    total = 0
    for path, fmt in zip(paths, formats):
        if path == "-":
            return None
        if fmt == "parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(path).metadata.num_rows
            continue
        if _is_gzip(path):
            return None  # counting would decompress it a second time: no ETA, progress by records
        lines = entries = 0
        marker = b"\n$$$$" if fmt == "sdf" else b"\n>"
        last = b"\n"  # as if a line ended just before the file: a leading ">" counts
        with open_input(path) as handle:
            while block := handle.read(1 << 22):
                if stop.is_set():
                    return None
                lines += block.count(b"\n")
                entries += (last + block).count(marker)
                last = block[-1:]
        if last != b"\n":
            lines += 1
        if fmt == "fasta":
            total += entries
        elif fmt == "sdf":
            total += max(entries, 1 if lines else 0)  # a .mol file has no $$$$
        elif fmt in ("csv", "tsv"):
            total += max(0, lines - 1)
        else:
            total += lines
    return total
