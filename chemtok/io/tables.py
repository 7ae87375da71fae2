"""Write records that are rows of named columns: Parquet, CSV/TSV, JSON Lines or ``.txt``.

``chemtok annotate`` writes text, not token ids: an annotated Parquet, CSV or TSV input
keeps its other columns, so its records go out as rows of a ``pyarrow`` table through a
:class:`TableWriter`. Like the id writers of :mod:`chemtok.io.writers`, it commits through
an :class:`~chemtok.io.commit.OutputSet`: nothing is visible before :meth:`TableWriter.finalize`,
and a run that stops leaves the older file of that name as it was.

Example:
    >>> from chemtok.io.tables import table_output_format
    >>> table_output_format("chebi.marked.parquet")
    'parquet'
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chemtok.io.formats import format_by_suffix

if TYPE_CHECKING:
    from chemtok.io.commit import OutputSet

__all__ = ["TABLE_OUTPUT_FORMATS", "TableWriter", "json_line", "table_output_format", "utf8_problem"]

#: Formats of :class:`TableWriter`, by extension (``-`` is JSON Lines on standard output).
TABLE_OUTPUT_FORMATS: dict[str, str] = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "tsv",
    ".tsv.gz": "tsv",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".txt": "txt",
}


def table_output_format(path: str | os.PathLike[str]) -> str:
    """The :class:`TableWriter` format (``parquet``, ``csv``, ``tsv``, ``jsonl``, ``txt``) of ``path``.

    Raises:
        ValueError: an extension :class:`TableWriter` does not write; the message lists them.

    Example:
        >>> table_output_format("pubchem.marked.tsv.gz"), table_output_format("-")
        ('tsv', 'jsonl')
    """
    name = str(path)
    found = format_by_suffix(name, TABLE_OUTPUT_FORMATS)
    if found is None:
        raise ValueError(
            f"cannot write {name!r}: use one of {', '.join(TABLE_OUTPUT_FORMATS)} (or '-' for JSON Lines on standard output)"
        )
    return found


def json_line(obj: Mapping[str, Any]) -> bytes:
    """``obj`` as one line of JSON Lines: ``json.dumps(obj, ensure_ascii=False)`` in UTF-8 and a line end.

    Keys stay in order and values as they are (nested values, numbers, nulls); the
    line is what :meth:`TableWriter.write_json_lines` takes.

    Raises:
        ValueError: a string in ``obj`` holds a lone surrogate (JSON can spell one as
            ``\\ud800``, UTF-8 cannot hold it); the message names it.

    Example:
        >>> json_line({"cid": 702, "text": "Ethanol, [START_SMILES]CCO[END_SMILES]", "tags": ["é"]})
        b'{"cid": 702, "text": "Ethanol, [START_SMILES]CCO[END_SMILES]", "tags": ["\\xc3\\xa9"]}\\n'
    """
    text = json.dumps(obj, ensure_ascii=False)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(utf8_problem(text)) from None


def utf8_problem(text: str) -> str | None:
    """Why ``text`` cannot be written as UTF-8 (``None``: it can).

    Only a lone surrogate cannot: JSON spells one as an escape (``"\\udc00"``), and
    such a record fails rather than stopping the run at the write.

    Example:
        >>> utf8_problem("CCO"), utf8_problem("CCO \\udc00")
        (None, 'a string holds U+DC00, a lone surrogate (a JSON escape that UTF-8 cannot hold): it cannot be written')
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"a string holds U+{ord(text[err.start]):04X}, a lone surrogate (a JSON escape that UTF-8 cannot hold): it cannot be written"
    return None


class TableWriter:
    """Write records that are rows of named columns (``pyarrow`` tables) to one file.

    For outputs whose records are text with other columns rather than token ids
    (``chemtok annotate``). Each :meth:`write` appends a chunk of rows; nothing is
    visible until :meth:`finalize`, which commits the file through an
    :class:`~chemtok.io.commit.OutputSet` (no sidecar), and :meth:`abort` (or leaving a
    ``with`` block with an exception) removes every trace, the older file of that name
    staying as it was. Memory holds one chunk at a time.

    The layout, by extension (:func:`table_output_format`):

    ``.parquet``
        The columns as given, Arrow types kept, one row group per chunk, zstd;
        ``metadata`` (with the ``summary`` of :meth:`finalize`) as JSON under the key
        ``chemtok`` of the file's key-value metadata
        (``pyarrow.parquet.ParquetFile(path).metadata.metadata[b"chemtok"]``).
    ``.csv`` / ``.tsv`` (``.gz``: gzip-compressed)
        A header row of the column names, then one row per record; values are quoted
        only where needed (a comma or tab, a quote, a line break), nulls are empty.
        Nested or binary columns cannot be written this way (``ValueError``).
    ``.jsonl`` (``.gz``) or ``-`` (standard output)
        One object per row, its keys the column names in order; or, through
        :meth:`write_json_lines`, objects of any shape (``schema`` may then be ``None``).
    ``.txt``
        The values of ``text_column``, one per line; a value holding a line break
        would become two records, so :meth:`write` refuses it (``ValueError``): check
        before writing and fail that record instead.

    Args:
        path: the output file, or ``-``.
        schema: the ``pyarrow.Schema`` of every chunk: an output without any row still
            has its columns (Parquet, CSV/TSV header); ``None`` for a JSON Lines output
            written only with :meth:`write_json_lines`.
        metadata: Parquet only: what to record about the run.
        text_column: ``.txt`` only: the column to write.

    Example:
        >>> import os, tempfile, pyarrow as pa
        >>> from chemtok.io.tables import TableWriter
        >>> out = os.path.join(tempfile.mkdtemp(), "marked.csv")
        >>> rows = pa.table({"cid": [702], "text": ["Ethanol, [START_SMILES]CCO[END_SMILES]"]})
        >>> with TableWriter(out, schema=rows.schema) as writer:
        ...     writer.write(rows)
        ...     paths = writer.finalize()
        >>> print(open(out).read(), end="")
        cid,text
        702,"Ethanol, [START_SMILES]CCO[END_SMILES]"
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        schema: Any,
        metadata: Mapping[str, Any] | None = None,
        text_column: str | None = None,
    ) -> None:
        from chemtok.io.commit import OutputSet

        self.path = Path(path)
        self.format = table_output_format(path)
        self.schema = schema
        self.metadata = dict(metadata or {})
        self.records_written = 0
        self._stdout = str(path) == "-"
        self._text_column = text_column
        if schema is None and self.format != "jsonl":
            raise ValueError(f"a {self.format} output needs the schema of its columns")
        if self.format == "txt" and (text_column is None or text_column not in schema.names):
            raise ValueError(f"a .txt output writes one column: text_column must name one of {schema.names}")
        if self.format in ("csv", "tsv"):
            import pyarrow as pa

            for field in schema:
                if pa.types.is_nested(field.type) or pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
                    raise ValueError(f"{self.format.upper()} cannot hold column {field.name!r} of type {field.type}: write .parquet")
        self._open = True
        self.outputs: OutputSet | None = None if self._stdout else OutputSet([self.path])
        self._parquet: Any = None
        self._gzip: gzip.GzipFile | None = None
        self._out: IO[bytes] | gzip.GzipFile | None = None
        try:
            self._start()
        except BaseException:
            self.abort()
            raise

    def _start(self) -> None:
        if self.format == "parquet":
            import pyarrow.parquet as pq

            assert self.outputs is not None
            self._parquet = pq.ParquetWriter(str(self.outputs.temp_path(self.path)), self.schema, compression="zstd")
            return
        if self.outputs is None:
            self._out = sys.stdout.buffer
        else:
            self._out = self.outputs.open_temp(self.path)
            if self.path.name.lower().endswith(".gz"):
                self._gzip = gzip.GzipFile(fileobj=self._out, mode="wb", compresslevel=6, mtime=0)
                self._out = self._gzip
        if self.format in ("csv", "tsv"):
            self._out.write(self._csv_rows([self.schema.names]))

    def _csv_rows(self, rows: Iterable[Iterable[Any]]) -> bytes:
        import csv
        import io

        buffer = io.StringIO()
        csv.writer(buffer, delimiter="\t" if self.format == "tsv" else ",", lineterminator="\n").writerows(rows)
        return buffer.getvalue().encode("utf-8")

    def write(self, table: Any) -> None:
        """Append the rows of ``table`` (a ``pyarrow.Table`` with :attr:`schema`)."""
        if not self._open:
            raise RuntimeError("this writer is already finalized or aborted")
        if self.schema is None or not table.schema.equals(self.schema):
            raise ValueError(f"a chunk with columns {table.schema} does not fit the output's {self.schema}")
        out = self._out
        if self.format == "parquet":
            self._parquet.write_table(table)
        elif out is None:  # pragma: no cover - every other format opened a stream in _start
            raise RuntimeError("chemtok: a TableWriter without its stream; please report")
        elif self.format == "txt":
            assert self._text_column is not None
            values = table.column(self._text_column).to_pylist()
            if any(v is None or "\n" in v or "\r" in v for v in values):
                raise ValueError("a .txt output holds one record per line: a null or a line break cannot be written")
            out.write("".join(v + "\n" for v in values).encode("utf-8"))
        elif self.format == "jsonl":
            out.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in table.to_pylist()).encode("utf-8"))
        else:
            out.write(self._csv_rows(["" if v is None else v for v in row.values()] for row in table.to_pylist()))
        self.records_written += table.num_rows

    def write_json_lines(self, lines: Sequence[bytes]) -> None:
        """Append whole JSON Lines lines, one object each (from :func:`json_line`).

        For records that are objects of their own rather than rows of :attr:`schema`
        (``chemtok annotate`` keeping every field of a JSON Lines input).

        Raises:
            ValueError: the output is not JSON Lines.
        """
        if not self._open:
            raise RuntimeError("this writer is already finalized or aborted")
        if self.format != "jsonl" or self._out is None:
            raise ValueError(f"JSON Lines lines cannot be written to a {self.format} output")
        self._out.write(b"".join(lines))
        self.records_written += len(lines)

    def finalize(self, summary: Mapping[str, Any] | None = None) -> list[Path]:
        """Finish the file and commit it; returns its path (nothing for standard output).

        Args:
            summary: counts to record (``records_read``, ``records_failed``...), Parquet only.

        Raises:
            OSError: a write or the rename failed; nothing new is left behind.
        """
        if not self._open:
            raise RuntimeError("this writer is already finalized or aborted")
        self._open = False
        try:
            if self._parquet is not None:
                metadata = {**self.metadata, **(summary or {}), "records_written": self.records_written}
                self._parquet.add_key_value_metadata({"chemtok": json.dumps(metadata, ensure_ascii=False)})
                self._parquet.close()
            if self._gzip is not None:
                self._gzip.close()  # the trailer; the set closes the file under it
            elif self._stdout and self._out is not None:
                self._out.flush()
            return self.outputs.commit() if self.outputs is not None else []
        except BaseException:
            self._discard()
            raise

    def abort(self) -> None:
        """Remove everything written so far (safe to call more than once)."""
        if self._open:
            self._open = False
            self._discard()

    def _discard(self) -> None:
        if self._parquet is not None:
            with contextlib.suppress(Exception):  # the file is being thrown away
                self._parquet.close()
        if self._gzip is not None:
            with contextlib.suppress(OSError, ValueError):
                self._gzip.close()
        if self._stdout and self._out is not None:
            with contextlib.suppress(BrokenPipeError, ValueError, OSError):
                self._out.flush()
        if self.outputs is not None:
            self.outputs.abort()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()
