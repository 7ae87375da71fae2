"""Read records from the file formats chemistry and biology datasets come in.

``read_records(path)`` yields one :class:`Record` per input record, numbered from 1
in file order, for ``.smi``/``.rsmi`` (first whitespace field of each line),
``.txt`` (whole line), ``.csv``/``.tsv`` (a named column), ``.jsonl`` (a named
field), ``.fasta`` (the sequence of each entry), ``.parquet`` (a named column) and
``.sdf``/``.sd``/``.mol`` (RDKit's SMILES of each molecule, or a named SD property;
see :mod:`chemtok.io.sdf`);
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
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from chemtok.io.formats import FORMATS, InputError, detect_format

if TYPE_CHECKING:
    import pyarrow.parquet as pq

__all__ = ["BLOCK_SIZE", "Record", "decode_record", "iter_blocks", "iter_lines", "open_input", "parquet_record", "read_records"]


@dataclass(frozen=True)
class Record:
    """One input record.

    Attributes:
        number: 1-based position of the record in its input.
        text: the record's string, or ``None`` when it could not be decoded.
        error: why the record could not be read (``None`` when ``text`` is set).
        raw: the undecoded bytes, kept only for unreadable records.
        fields: every field of a CSV/TSV row, in header order (only when
            :func:`read_records` is asked for them with ``keep_fields=True``).
        json_object: the whole object of a JSON Lines line, its keys in the line's
            order (only with ``keep_fields=True``; ``text`` is its field ``column``).
    """

    number: int
    text: str | None
    error: str | None = None
    raw: bytes | None = None
    fields: tuple[str, ...] | None = None
    json_object: dict[str, Any] | None = None


def open_input(path: str | Path) -> IO[bytes]:
    """``path`` (``-`` = standard input) opened for reading bytes, gunzipped when it starts like gzip.

    The one opener of every reader (and of the record counter).
    """
    if str(path) == "-":
        stream: IO[bytes] = sys.stdin.buffer
        head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
        if head == GZIP_MAGIC:
            return binary_io(gzip.GzipFile(fileobj=stream))
        return stream
    file = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    if file.peek(2)[:2] != GZIP_MAGIC:
        return file
    file.close()
    # gzip.open opens (and closes with itself) its own file: no unclosed-file ResourceWarning.
    return binary_io(gzip.open(path, "rb"))


GZIP_MAGIC = b"\x1f\x8b"


def binary_io(stream: gzip.GzipFile) -> IO[bytes]:
    """A ``GzipFile`` as the ``IO[bytes]`` it implements (typeshed types it as ``BufferedIOBase``)."""
    return cast("IO[bytes]", stream)


def decode_record(number: int, raw: bytes) -> Record:
    try:
        return Record(number, raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        return Record(number, None, f"not valid UTF-8 at byte {err.start}: {err.reason}", raw)


_BOM = b"\xef\xbb\xbf"
#: Bytes per read of the line readers.
BLOCK_SIZE = 1 << 20


def iter_blocks(handle: IO[bytes]) -> Iterator[bytes]:
    """The input as blocks of whole lines, ``\\n``-separated, without the last line end.

    The one rule for line ends: LF, CRLF and a lone CR each end a line (a CR-only
    file has as many records as lines). A UTF-8 byte order mark at the start is
    dropped. ``b"".join`` of the blocks with ``\\n`` is the file with normalised line ends.
    """
    pending = b""
    first = True
    while True:
        block = handle.read(BLOCK_SIZE)
        if not block:
            break
        if first:
            first = False
            if block.startswith(_BOM[: len(block)]) and len(block) < len(_BOM):
                block += handle.read(len(_BOM))
            if block.startswith(_BOM):
                block = block[len(_BOM) :]
        block = pending + block
        hold = b""
        if block.endswith(b"\r"):  # maybe the first half of a CRLF split between reads
            block, hold = block[:-1], b"\r"
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        cut = block.rfind(b"\n")
        if cut < 0:
            pending = block + hold
            continue
        pending = block[cut + 1 :] + hold
        yield block[:cut]
    if pending:
        yield pending[:-1] if pending.endswith(b"\r") else pending


def iter_lines(handle: IO[bytes]) -> Iterator[bytes]:
    """The lines of ``handle`` without their line ends (see :func:`iter_blocks`)."""
    for block in iter_blocks(handle):
        yield from block.split(b"\n")


def read_records(
    path: str | Path, *, column: str | None = None, format: str | None = None, keep_fields: bool = False
) -> Iterator[Record]:
    """Yield the records of ``path`` in order, numbered from 1.

    Args:
        path: a file path, or ``"-"`` for standard input.
        column: the column (CSV/TSV/Parquet), field (JSONL) or SD property (SDF)
            holding the strings; CSV/TSV default to the first column, JSONL/Parquet
            require it (the command line chooses it with
            :func:`chemtok.io.columns.infer_column`), SDF defaults to the SMILES.
        format: one of ``smi txt csv tsv jsonl fasta parquet sdf``; by default from the
            extension (standard input defaults to ``txt``).
        keep_fields: CSV/TSV: also keep every field of each row in :attr:`Record.fields`;
            JSON Lines: each line's whole object in :attr:`Record.json_object`, and a
            line whose object would not be written back as it was is a failed record
            (a key named twice: one value would be lost; a number that does not fit
            a double exactly, such as ``0.1000000000000000055`` or ``1e400``). For
            writers that keep the other columns or fields, such as ``chemtok annotate``.

    Raises:
        ValueError: unknown format, or a named column that does not exist.
        chemtok.io.sdf.RDKitRequiredError: an SDF/MOL input without RDKit installed.
    """
    fmt = format or ("txt" if str(path) == "-" else detect_format(path))
    if fmt == "parquet":
        yield from _read_parquet(path, column)
        return
    if fmt == "sdf":
        from chemtok.io.sdf import read_sdf

        yield from read_sdf(sys.stdin.buffer if str(path) == "-" else path, prop=column)
        return
    with open_input(path) as handle:
        if fmt == "smi":
            for number, line in enumerate(iter_lines(handle), 1):
                record = decode_record(number, line)
                if record.text is not None:
                    fields = record.text.split(None, 1)
                    record = Record(number, fields[0] if fields else "")
                yield record
        elif fmt == "txt":
            for number, line in enumerate(iter_lines(handle), 1):
                yield decode_record(number, line)
        elif fmt in ("csv", "tsv"):
            yield from _read_table(handle, "\t" if fmt == "tsv" else ",", column, str(path), fields=keep_fields)
        elif fmt == "jsonl":
            yield from _read_jsonl(handle, column, str(path), objects=keep_fields)
        elif fmt == "fasta":
            yield from _read_fasta(handle)
        else:
            raise ValueError(f"unknown format {fmt!r}; known: {sorted(set(FORMATS.values()))}")


_MAX_FIELD = (1 << 31) - 1


def _read_table(handle: IO[bytes], delimiter: str, column: str | None, label: str, *, fields: bool = False) -> Iterator[Record]:
    # utf-8-sig: a byte order mark at the start is not part of the first column's name.
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
    # No field is too long to read: a long sequence or a big molecule is a record.
    csv.field_size_limit(max(csv.field_size_limit(), _MAX_FIELD))
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as err:
        raise InputError(f"cannot read the header of {label}: {err}") from None
    if column is None:
        index = 0
    elif column in header:
        index = header.index(column)
    else:
        raise ValueError(f"{label} has no column {column!r}; its columns are {header}")
    number = 0
    while True:
        number += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield Record(number, None, f"unreadable row: {err}")
            continue
        value = row[index] if index < len(row) else ""
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raw = value.encode("utf-8", "surrogateescape")
            yield decode_record(number, raw)
            continue
        yield Record(number, value, fields=tuple(row) if fields else None)


def _read_jsonl(handle: IO[bytes], column: str | None, label: str, *, objects: bool = False) -> Iterator[Record]:
    if column is None:
        raise ValueError(f"{label} is JSON Lines: name the field that holds the strings (column=...)")
    # Kept objects are written back: a repeated key (of which json.loads keeps the last
    # value) or a number a double cannot hold is found while parsing, so that no value
    # is lost or changed unseen.
    loads = _loads_kept if objects else json.loads
    for number, line in enumerate(iter_lines(handle), 1):
        record = decode_record(number, line)
        if record.text is None:
            yield record
            continue
        try:
            parsed = loads(record.text)
            value = parsed[column]
        except RecursionError:
            yield Record(number, None, "JSON nested too deeply on this line", line)
            continue
        except _NotKept as err:
            yield Record(number, None, err.problem, line)
            continue
        except (ValueError, KeyError, TypeError) as err:
            problem = f"field {column!r} missing" if isinstance(err, (KeyError, TypeError)) else "not valid JSON"
            yield Record(number, None, f"{problem} on this line", line)
            continue
        if not isinstance(value, str):
            yield Record(number, None, f"field {column!r} is {type(value).__name__}, not a string", line)
            continue
        yield Record(number, value, json_object=parsed if objects else None)


class _NotKept(Exception):
    """A JSON Lines object that cannot be written back as it was (raised from inside :func:`json.loads`)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _NotKept(f"an object on this line names the key {key!r} more than once: one value would be lost")
            seen.add(key)
    return obj


def _exact_float(text: str) -> float:
    value = float(text)
    # repr is the shortest spelling of the double: equal as decimals, the number is kept
    # (1e3 is written back 1000.0); otherwise digits beyond a double's would be lost.
    if Decimal(repr(value)) != Decimal(text):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise _NotKept(f"the number {shown} on this line does not fit a double exactly: it would be written back as {json.dumps(value)}")
    return value


def _loads_kept(text: str) -> Any:
    """``json.loads`` for an object written back: :class:`_NotKept` where a value would not survive."""
    return json.loads(text, object_pairs_hook=_unique_pairs, parse_float=_exact_float)


def _read_fasta(handle: IO[bytes]) -> Iterator[Record]:
    """One record per ``>`` entry: its sequence lines joined.

    Text before the first header (or a file without any) is a failed record of its
    own, numbered like an entry, never dropped; blank lines there are not records.
    """
    number = 0
    chunks: list[bytes] | None = None
    preamble: list[bytes] = []
    for line in iter_lines(handle):
        if line.startswith(b">"):
            if chunks is not None:
                yield decode_record(number, b"".join(chunks))
            elif preamble:
                number += 1
                yield Record(number, None, "text before the first '>' header: not a FASTA entry", b"\n".join(preamble))
            number += 1
            chunks = []
        elif chunks is not None:
            chunks.append(line.strip())
        elif line.strip():
            preamble.append(line)
    if chunks is not None:
        yield decode_record(number, b"".join(chunks))
    elif preamble:
        yield Record(number + 1, None, "no '>' header: not a FASTA file (text before the first header)", b"\n".join(preamble))


def open_parquet(path: str | Path) -> pq.ParquetFile:
    """A ``pyarrow.parquet.ParquetFile``, or :class:`InputError` naming ``path``."""
    try:
        import pyarrow.parquet as pq
    except ImportError as err:  # pragma: no cover - pyarrow is a dependency of the CLI extra
        raise ValueError("reading Parquet needs pyarrow: pip install pyarrow") from err
    import pyarrow as pa

    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as err:  # not Parquet, truncated, corrupt
        raise InputError(f"cannot read {path} as Parquet: {err}") from None


def _read_parquet(path: str | Path, column: str | None) -> Iterator[Record]:
    import pyarrow as pa

    parquet = open_parquet(path)
    names = parquet.schema_arrow.names
    if column is None or column not in names:
        raise ValueError(f"{path} needs column=... naming one of its columns {names}")
    number = 0
    batches = parquet.iter_batches(columns=[column])
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, pa.ArrowException) as err:  # a corrupt page
            raise InputError(f"cannot read {path} past record {number}: {err}") from None
        for value in batch.column(0).to_pylist():
            number += 1
            yield parquet_record(number, value)


def parquet_record(number: int, value: object) -> Record:
    """The record a Parquet cell holds: a string, UTF-8 bytes, or a failed record (null, a number...)."""
    if isinstance(value, str):
        return Record(number, value)
    if isinstance(value, bytes):
        return decode_record(number, value)
    return Record(number, None, f"value is {type(value).__name__}, not a string")
