"""Read records from the file formats chemistry and biology datasets come in.

``read_records(path)`` yields one :class:`Record` per input record, numbered from 1
in file order, for ``.smi``/``.rsmi`` (first whitespace field of each line),
``.txt`` (whole line), ``.csv``/``.tsv`` (a named column), ``.jsonl`` (a named
field), ``.fasta`` (the sequence of each entry) and ``.parquet`` (a named column);
any of them except Parquet may be gzip-compressed (``.gz``), and ``-`` reads standard
input. A record whose bytes are not UTF-8 is yielded with ``error`` set instead of
stopping the file: a bad record is reported, never lost.

Example:
    >>> from chemtok.io import read_records
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "mols.smi")
    >>> _ = open(path, "w").write("CCO ethanol\\nc1ccccc1 benzene\\n")
    >>> [(r.number, r.text) for r in read_records(path)]
    [(1, 'CCO'), (2, 'c1ccccc1')]
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterator, Sequence

from chemtok.io.formats import FORMATS, InputError, UsageError, detect_format, label

if TYPE_CHECKING:
    import threading

    import numpy as np

__all__ = ["Record", "Chunk", "read_records", "read_chunks", "count_records", "open_input"]

@dataclass(frozen=True)
class Record:
    """One input record.

    Attributes:
        number: 1-based position of the record in its input.
        text: the record's string, or ``None`` when it could not be decoded.
        error: why the record could not be read (``None`` when ``text`` is set).
        raw: the undecoded bytes, kept only for unreadable records.
    """

    number: int
    text: str | None
    error: str | None = None
    raw: bytes | None = None


def open_input(path: str | Path) -> IO[bytes]:
    """``path`` (``-`` = standard input) opened for reading bytes, gunzipped when it starts like gzip.

    The one opener of every reader (and of the record counter).
    """
    if str(path) == "-":
        stream: IO[bytes] = sys.stdin.buffer
        head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
    else:
        file = open(path, "rb")
        head = file.peek(2)[:2]
        stream = file
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=stream)  # type: ignore[return-value]
    return stream


def _decode(number: int, raw: bytes) -> Record:
    try:
        return Record(number, raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        return Record(number, None, f"not valid UTF-8 at byte {err.start}: {err.reason}", raw)


def _strip_newline(line: bytes) -> bytes:
    return line.rstrip(b"\r\n")


def read_records(
    path: str | Path, *, column: str | None = None, format: str | None = None
) -> Iterator[Record]:
    """Yield the records of ``path`` in order, numbered from 1.

    Args:
        path: a file path, or ``"-"`` for standard input.
        column: the column (CSV/TSV/Parquet) or field (JSONL) holding the strings;
            CSV/TSV default to the first column, JSONL/Parquet require it.
        format: one of ``smi txt csv tsv jsonl fasta parquet``; by default from the
            extension (standard input defaults to ``txt``).

    Raises:
        ValueError: unknown format, or a named column that does not exist.
    """
    fmt = format or ("txt" if str(path) == "-" else detect_format(path))
    if fmt == "parquet":
        yield from _read_parquet(path, column)
        return
    with open_input(path) as handle:
        if fmt == "smi":
            for number, line in enumerate(handle, 1):
                record = _decode(number, _strip_newline(line))
                if record.text is not None:
                    fields = record.text.split(None, 1)
                    record = Record(number, fields[0] if fields else "")
                yield record
        elif fmt == "txt":
            for number, line in enumerate(handle, 1):
                yield _decode(number, _strip_newline(line))
        elif fmt in ("csv", "tsv"):
            yield from _read_table(handle, "\t" if fmt == "tsv" else ",", column, str(path))
        elif fmt == "jsonl":
            yield from _read_jsonl(handle, column, str(path))
        elif fmt == "fasta":
            yield from _read_fasta(handle)
        else:
            raise ValueError(f"unknown format {fmt!r}; known: {sorted(set(FORMATS.values()))}")


def _read_table(handle: IO[bytes], delimiter: str, column: str | None, label: str) -> Iterator[Record]:
    text = io.TextIOWrapper(handle, encoding="utf-8", errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    if column is None:
        index = 0
    elif column in header:
        index = header.index(column)
    else:
        raise ValueError(f"{label} has no column {column!r}; its columns are {header}")
    for number, row in enumerate(reader, 1):
        value = row[index] if index < len(row) else ""
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raw = value.encode("utf-8", "surrogateescape")
            yield _decode(number, raw)
            continue
        yield Record(number, value)


def _read_jsonl(handle: IO[bytes], column: str | None, label: str) -> Iterator[Record]:
    if column is None:
        raise ValueError(f"{label} is JSON Lines: name the field that holds the strings (column=...)")
    for number, line in enumerate(handle, 1):
        record = _decode(number, _strip_newline(line))
        if record.text is None:
            yield record
            continue
        try:
            value = json.loads(record.text)[column]
        except (ValueError, KeyError, TypeError) as err:
            problem = f"field {column!r} missing" if isinstance(err, (KeyError, TypeError)) else "not valid JSON"
            yield Record(number, None, f"{problem} on this line", line)
            continue
        if not isinstance(value, str):
            yield Record(number, None, f"field {column!r} is {type(value).__name__}, not a string", line)
            continue
        yield Record(number, value)


def _read_fasta(handle: IO[bytes]) -> Iterator[Record]:
    number = 0
    chunks: list[bytes] | None = None
    for line in handle:
        line = _strip_newline(line)
        if line.startswith(b">"):
            if chunks is not None:
                yield _decode(number, b"".join(chunks))
            number += 1
            chunks = []
        elif chunks is not None:
            chunks.append(line.strip())
    if chunks is not None:
        yield _decode(number, b"".join(chunks))


def _read_parquet(path: str | Path, column: str | None) -> Iterator[Record]:
    try:
        import pyarrow.parquet as pq
    except ImportError as err:  # pragma: no cover - pyarrow is a dependency of the CLI extra
        raise ValueError("reading Parquet needs pyarrow: pip install pyarrow") from err
    parquet = pq.ParquetFile(path)
    names = parquet.schema_arrow.names
    if column is None or column not in names:
        raise ValueError(f"{path} needs column=... naming one of its columns {names}")
    number = 0
    for batch in parquet.iter_batches(columns=[column]):
        for value in batch.column(0).to_pylist():
            number += 1
            if isinstance(value, str):
                yield Record(number, value)
            elif isinstance(value, bytes):
                yield _decode(number, value)
            else:
                yield Record(number, None, f"value is {type(value).__name__}, not a string")


# -- chunks for the pipeline ----------------------------------------------------------------


@dataclass
class Chunk:
    """Consecutive records of one input: ``texts[i]`` is record ``numbers[i]``.

    ``problems`` maps the index of each unreadable record (``texts[i] is None``) to
    ``(why, raw bytes)``.
    """

    numbers: Sequence[int]
    texts: list[str | None]
    problems: dict[int, tuple[str, bytes | None]] = field(default_factory=dict)

    def number_array(self) -> np.ndarray:
        import numpy as np

        if isinstance(self.numbers, range):
            return np.arange(self.numbers.start, self.numbers.stop, dtype=np.int64)
        return np.asarray(self.numbers, dtype=np.int64)



# Whitespace other than the line break: where a .smi line has a second field.
_INNER_SPACE = re.compile(r"[^\S\n]")


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
                record = _decode(0, raw.rstrip(b"\r"))
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

    try:
        with open_input(path) as handle:
            pending = b""
            while True:
                block = handle.read(1 << 20)
                if not block:
                    break
                block = pending + block
                cut = block.rfind(b"\n")
                if cut < 0:
                    pending = block
                    continue
                pending = block[cut + 1 :]
                add(block[:cut])
                yield from flush(False)
            if pending:
                add(pending)
    except (OSError, EOFError) as err:
        raise InputError(f"cannot read {label(path)}: {err}") from None
    yield from flush(True)


def _read_generic(path: str, fmt: str, column: str | None, chunk_size: int) -> Iterator[Chunk]:
    """Any format :func:`chemtok.io.read_records` reads, grouped into chunks."""
    chunk: Chunk = Chunk([], [])
    records = read_records(path, column=column, format=fmt)
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except ValueError as err:  # a missing column/field: the command line is wrong
            raise UsageError(str(err)) from None
        except (OSError, EOFError) as err:
            raise InputError(f"cannot read {label(path)}: {err}") from None
        if record.text is None:
            chunk.problems[len(chunk.texts)] = (record.error or "unreadable record", record.raw)
        chunk.numbers.append(record.number)  # type: ignore[attr-defined]
        chunk.texts.append(record.text)
        if len(chunk.texts) >= chunk_size:
            yield chunk
            chunk = Chunk([], [])
    if chunk.texts:
        yield chunk



def read_chunks(path: str, fmt: str, column: str | None, chunk_size: int) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_size`` consecutive records of one input (the fast line reader for smi/txt)."""
    if fmt in ("smi", "txt"):
        return _read_lines(path, fmt, chunk_size)
    return _read_generic(path, fmt, column, chunk_size)



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
        lines = entries = 0
        last = b"\n"  # as if a line ended just before the file: a leading ">" counts
        with open_input(path) as handle:
            while block := handle.read(1 << 22):
                if stop.is_set():
                    return None
                lines += block.count(b"\n")
                entries += (last + block).count(b"\n>")
                last = block[-1:]
        if last != b"\n":
            lines += 1
        if fmt == "fasta":
            total += entries
        elif fmt in ("csv", "tsv"):
            total += max(0, lines - 1)
        else:
            total += lines
    return total
