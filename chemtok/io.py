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
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

__all__ = ["Record", "read_records", "detect_format", "FORMATS", "modality_for_format"]

#: Formats by file extension (after removing ``.gz``).
FORMATS = {
    ".smi": "smi",
    ".smiles": "smi",
    ".rsmi": "smi",
    ".txt": "txt",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".fasta": "fasta",
    ".fa": "fasta",
    ".faa": "fasta",
    ".fna": "fasta",
    ".parquet": "parquet",
}


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


def detect_format(path: str | Path) -> str:
    """Return the format name for ``path`` from its extension (``.gz`` ignored).

    Raises:
        ValueError: the extension is not one chemtok reads; the message lists them.
    """
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix in FORMATS:
        return FORMATS[suffix]
    raise ValueError(
        f"cannot tell the format of {str(path)!r} from its extension; known: "
        f"{', '.join(sorted(FORMATS))} (optionally .gz). Pass the format explicitly."
    )


def modality_for_format(path: str | Path) -> str | None:
    """The modality a file's extension implies, or ``None`` when it does not say."""
    name = str(path).lower().removesuffix(".gz")
    if name.endswith((".smi", ".smiles", ".rsmi")):
        return "smiles"
    if name.endswith((".faa",)):
        return "protein"
    if name.endswith((".fna",)):
        return "dna"
    return None


def _open_binary(path: str | Path) -> IO[bytes]:
    if str(path) == "-":
        stream = sys.stdin.buffer
        head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
        return gzip.GzipFile(fileobj=stream) if head == b"\x1f\x8b" else stream
    handle = open(path, "rb")
    if handle.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=handle)
    return handle


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
    with _open_binary(path) as handle:
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
