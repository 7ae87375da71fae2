"""Write tokenized records to disk: Parquet, JSON Lines, ``.npy`` arrays or ``.bin`` + ``.idx``.

The ``chemtok tokenize`` command streams chunks of records through one of these
writers. Every writer has the same small interface: :meth:`Writer.write` takes a chunk
as flat arrays, :meth:`Writer.finalize` makes the output visible, :meth:`Writer.abort`
removes every trace of it. All the files of a run - the output, its sidecars and the
errors file (:func:`output_paths`) - are written under hidden temporary names by one
:class:`chemtok.io.commit.OutputSet` and committed together in ``finalize``: a run
that stops (a bad record under ``--on-error raise``, Ctrl-C, SIGTERM, a full disk, a
failed rename) leaves no new file and no temporary file behind, and the older files of
the same names stay byte for byte as they were.

A chunk is four things: ``records`` (int64, the 1-based record number of each row in
its input), ``source`` (the index of that input in ``sources``), ``ids`` (uint32, all
token ids of the chunk, concatenated) and ``offsets`` (int64, ``len(records) + 1``
entries; row ``i`` is ``ids[offsets[i]:offsets[i + 1]]``) - exactly what
``encode_batch(..., return_arrays=True)`` returns.

The layouts, by the output's extension (``OUT`` is the output path without it):

``.parquet``
    Columns ``record`` (int64), ``ids`` (list<uint32>) and, when there are several
    inputs, ``source`` (string: the input path). The metadata (see below) is stored
    as JSON under the key ``chemtok`` of the file's key-value metadata
    (``pyarrow.parquet.read_schema(path).metadata[b"chemtok"]``). One row group per
    chunk, zstd-compressed.

``.jsonl`` (or ``.jsonl.gz``, gzip-compressed)
    One object per record: ``{"record": 17, "ids": [12, 7, ...]}``, plus
    ``"source": "path"`` when there are several inputs and ``"tokens": [...]`` (the
    token strings as the vocabulary spells them) when asked for. The metadata is the
    sidecar ``OUT.meta.json``; data rows hold nothing else. ``-`` writes the rows to
    standard output (no sidecar, no temporary file).

``.npy``
    ``OUT.npy``: every id, flat, ``uint32``. ``OUT.offsets.npy``: ``int64``, one more
    entry than there are records; record row ``i`` is ``ids[offsets[i]:offsets[i+1]]``.
    ``OUT.records.npy``: ``int64`` record numbers. ``OUT.sources.npy`` (only with
    several inputs): ``int32`` index into the metadata's ``inputs``. Plus
    ``OUT.meta.json``. All are standard NumPy files (``np.load(..., mmap_mode="r")``).

``.bin``
    The Megatron-LM ``MMapIndexedDataset`` layout, one sequence (and one document)
    per record, ready for GPT-style pretraining loaders. ``OUT.bin``: every id, flat,
    little-endian ``uint16`` when the vocabulary has fewer than 65,500 ids, else
    ``int32`` (as Megatron's ``DType.optimal_dtype`` picks). ``OUT.idx``:

    ========  ==========================  =============================================
    bytes     type                        content
    ========  ==========================  =============================================
    9         magic                       ``b"MMIDIDX\\x00\\x00"``
    8         uint64 LE                   version, always 1
    1         uint8                       dtype code: 8 = uint16, 4 = int32
    8         uint64 LE                   N, the number of sequences (records written)
    8         uint64 LE                   N + 1, the number of document indices
    4 N       int32 LE                    length of each sequence, in tokens
    8 N       int64 LE                    byte offset of each sequence in ``OUT.bin``
    8 (N+1)   int64 LE                    document indices ``0, 1, ..., N``
    ========  ==========================  =============================================

    ``OUT.records.npy`` / ``OUT.sources.npy`` and ``OUT.meta.json`` as for ``.npy``.

The metadata (``OUT.meta.json``, or the Parquet key ``chemtok``) is one JSON object:
``chemtok_version``, ``format``, ``modality``, ``tokenizer`` (class name),
``grammar`` (e.g. ``smiles@1``; ``null`` for a text model), ``text_model`` (the
``tokenizer.json`` used for text, if any), ``vocab_size``, ``vocab_fingerprint``
(SHA-256: equal fingerprints mean identical ids), ``engine``, ``on_error``,
``inputs``, ``files`` (the data files by role), ``ids_dtype`` and, written at the end,
``records_read``, ``records_written``, ``records_failed`` and ``tokens``.

Example:
    >>> import numpy as np, tempfile, os
    >>> from chemtok.io.writers import open_writer
    >>> out = os.path.join(tempfile.mkdtemp(), "mols.npy")
    >>> writer = open_writer(out, metadata={"modality": "smiles"}, sources=["mols.smi"], vocab_size=100)
    >>> writer.write(np.array([1, 2]), 0, np.array([5, 6, 7], dtype=np.uint32), np.array([0, 2, 3]))
    >>> sorted(os.path.basename(p) for p in writer.finalize({"records_written": 2}))
    ['mols.meta.json', 'mols.npy', 'mols.offsets.npy', 'mols.records.npy']
    >>> np.load(out).tolist(), np.load(out[:-4] + ".offsets.npy").tolist()
    ([5, 6, 7], [0, 2, 3])
"""

from __future__ import annotations

import abc
import contextlib
import gzip
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from chemtok.io.formats import InputError, format_by_suffix

if TYPE_CHECKING:
    import numpy as np

    from chemtok.io.commit import OutputSet

__all__ = [
    "OUTPUT_FORMATS",
    "JsonlWriter",
    "OutputError",
    "ParquetWriter",
    "Writer",
    "check_run_paths",
    "open_writer",
    "output_format",
    "output_paths",
    "sidecar_path",
]

#: Output formats by extension.
OUTPUT_FORMATS: dict[str, str] = {
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".npy": "npy",
    ".bin": "bin",
}



def output_format(path: str | os.PathLike[str]) -> str:
    """The format name (``parquet``, ``jsonl``, ``npy``, ``bin``) for an output path.

    ``-`` (standard output) is JSON Lines.

    Raises:
        ValueError: the extension is not one chemtok writes; the message lists them.
    """
    name = str(path)
    found = format_by_suffix(name, OUTPUT_FORMATS)
    if found is None:
        raise ValueError(
            f"cannot tell the output format of {name!r} from its extension; "
            f"use one of {', '.join(OUTPUT_FORMATS)} (or '-' for JSON Lines on standard output)"
        )
    return found

def _stem(path: Path) -> Path:
    """``path`` without its format extension (``out.jsonl.gz`` -> ``out``)."""
    lower = path.name.lower()
    for suffix in sorted(OUTPUT_FORMATS, key=len, reverse=True):
        if lower.endswith(suffix):
            return path.with_name(path.name[: -len(suffix)])
    return path


def sidecar_path(path: str | os.PathLike[str], suffix: str) -> Path:
    """The companion file of an output: ``sidecar_path("out.npy", ".offsets.npy")`` -> ``out.offsets.npy``."""
    stem = _stem(Path(path))
    return stem.with_name(stem.name + suffix)


#: The sidecars each format can write beside ``OUT.EXT`` (``.sources.npy``: several inputs only).
_SIDECARS: dict[str, tuple[str, ...]] = {
    "parquet": (),
    "jsonl": (".meta.json",),
    "npy": (".offsets.npy", ".records.npy", ".sources.npy", ".meta.json"),
    "bin": (".idx", ".records.npy", ".sources.npy", ".meta.json"),
}


def output_paths(path: str | os.PathLike[str], *, errors: str | os.PathLike[str] | None = None) -> list[Path]:
    """Every file a run writing ``path`` can produce: the output first, its sidecars, the errors file.

    These are the files that appear together (or not at all) when the run commits, and
    the paths an input or ``--errors`` must not be. ``-`` (standard output) has no file.

    Example:
        >>> [p.name for p in output_paths("caffeine.npy", errors="caffeine.errors.jsonl")]  # doctest: +NORMALIZE_WHITESPACE
        ['caffeine.npy', 'caffeine.offsets.npy', 'caffeine.records.npy', 'caffeine.sources.npy',
         'caffeine.meta.json', 'caffeine.errors.jsonl']
    """
    fmt = output_format(path)
    files = [] if str(path) == "-" else [Path(path), *(sidecar_path(path, s) for s in _SIDECARS[fmt])]
    if errors is not None and str(errors) != "-":
        files.append(Path(errors))
    return files


def check_run_paths(
    inputs: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str], *, errors: str | os.PathLike[str] | None = None
) -> None:
    """Refuse an input or an errors path that is one of the files a run writing ``output`` produces.

    ``--errors out.meta.json`` while writing ``out.npy`` would overwrite the metadata, an
    input that is ``out.jsonl`` (or the errors file) would be replaced while it is read.
    Checked before anything is written (see :func:`chemtok.io.guards.check_not_an_output`).

    Raises:
        chemtok.io.guards.OutputClashError: a path is one of the outputs (a ``ValueError``).

    Example:
        >>> check_run_paths(["aspirin.smi"], "aspirin.npy", errors="aspirin.errors.jsonl")
        >>> check_run_paths(["aspirin.smi"], "aspirin.npy", errors="aspirin.meta.json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        chemtok.io.guards.OutputClashError: the --errors 'aspirin.meta.json' is one of the files this run writes...
    """
    from chemtok.io.guards import check_not_an_output

    outputs = output_paths(output)
    written = output_paths(output, errors=errors)
    for path in inputs:
        check_not_an_output(path, written, role="input")
    if errors is not None:
        instead = None if str(output) == "-" else str(sidecar_path(output, ".errors.jsonl"))
        check_not_an_output(errors, outputs, role="--errors", instead=instead)


class Writer(abc.ABC):
    """Write chunks of tokenized records; nothing is visible until :meth:`finalize`.

    Every file of the run - the output, each sidecar and the errors file - is written
    under a hidden temporary name by one :class:`~chemtok.io.commit.OutputSet`
    (:attr:`outputs`), which :meth:`finalize` commits once: all of them appear together,
    or, when anything fails (a full disk, a failed rename, Ctrl-C, SIGTERM), none, and the
    old files of the same names stay as they were. Making a writer first removes what a
    killed run on the same output left behind.

    Args:
        path: the output path; its extension chose the class (see :func:`open_writer`).
        metadata: what to record about the run (version, tokenizer, fingerprint...).
        sources: the input paths; a ``source`` column is written when there are several.
        vocab_size: the tokenizer's number of ids (picks the ``.bin`` dtype).
        errors: the run's errors file, committed with the output; the caller writes its
            lines to :attr:`errors_file`.

    Use as a context manager: leaving the block with an exception aborts.
    """

    format: ClassVar[str] = ""
    #: Working files (never committed) a format needs, named after the output.
    _scratch_suffixes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        metadata: Mapping[str, Any],
        sources: Sequence[str],
        vocab_size: int,
        errors: str | os.PathLike[str] | None = None,
    ) -> None:
        from chemtok.io.commit import OutputSet

        self.path = Path(path)
        self.sources = list(sources)
        self.with_source = len(self.sources) > 1
        self.vocab_size = vocab_size
        self.metadata: dict[str, Any] = {**metadata, "format": self.format, "inputs": self.sources}
        self.records_written = 0
        self.tokens_written = 0
        self._open = True
        finals = output_paths(path, errors=errors)
        self.errors_path = Path(errors) if errors is not None and str(errors) != "-" else None
        # Scratch names are listed too, so that the stale ones of a killed run go now.
        finals += [sidecar_path(path, suffix) for suffix in self._scratch_suffixes]
        self.outputs: OutputSet | None = OutputSet(finals) if finals else None
        self.errors_file: IO[bytes] | None = None
        if self.errors_path is not None:
            with self._aborting():
                self.errors_file = self._set.open_temp(self.errors_path)

    @contextlib.contextmanager
    def _aborting(self) -> Iterator[None]:
        """Abort the whole output when the block raises (for the constructors)."""
        try:
            yield
        except BaseException:
            self.abort()
            raise

    @property
    def _set(self) -> OutputSet:
        """:attr:`outputs` of a writer that has files (all but JSON Lines on standard output)."""
        assert self.outputs is not None
        return self.outputs

    def _sources_sidecar(self) -> IO[bytes] | None:
        """``OUT.sources.npy`` for several inputs; with one, an old one is deleted by the commit."""
        final = sidecar_path(self.path, ".sources.npy")
        if self.with_source:
            return self._set.open_temp(final)
        self._set.delete_on_commit(final)
        return None

    @abc.abstractmethod
    def write(self, records: np.ndarray, source: int, ids: np.ndarray, offsets: np.ndarray) -> None:
        """Append one chunk: ``records[i]`` has ids ``ids[offsets[i]:offsets[i + 1]]``."""

    @abc.abstractmethod
    def _complete(self, metadata: dict[str, Any]) -> None:
        """Finish every temporary file (headers, index, metadata); the commit follows."""

    def _close(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release what the format holds open besides the set's handles; must not raise."""

    def finalize(self, summary: Mapping[str, Any] | None = None) -> list[Path]:
        """Complete the files and move them all to their final names in one commit.

        Args:
            summary: counts to add to the metadata (``records_read`` ...).

        Returns:
            The final paths, the output first and the errors file last.

        Raises:
            OSError: a write, flush or rename failed; no new file is left and the old
                ones are back (:class:`~chemtok.io.commit.IncompleteRollbackError`: the
                next run on this output restores them).
        """
        if not self._open:
            raise RuntimeError("this writer is already finalized or aborted")
        self._open = False
        given = dict(summary or {})
        metadata = dict(self.metadata)
        if "records_read" in given:
            metadata["records_read"] = given.pop("records_read")
        metadata["records_written"] = self.records_written
        if "records_failed" in given:
            metadata["records_failed"] = given.pop("records_failed")
        metadata["tokens"] = self.tokens_written
        metadata.update(given)
        try:
            self._complete(metadata)
            paths = self.outputs.commit() if self.outputs is not None else []
        except BaseException:
            self._discard()
            raise
        errors = None if self.errors_path is None else Path(os.path.abspath(self.errors_path))
        return [p for p in paths if p != errors] + [p for p in paths if p == errors]

    def abort(self) -> None:
        """Remove everything written so far (safe to call more than once)."""
        if self._open:
            self._open = False
            self._discard()

    def _discard(self) -> None:
        self._close()
        if self.outputs is not None:
            self.outputs.abort()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()

    def _count(self, records: np.ndarray, offsets: np.ndarray) -> None:
        self.records_written += len(records)
        self.tokens_written += int(offsets[-1] - offsets[0]) if len(offsets) else 0

    def _write_meta(self, metadata: dict[str, Any]) -> None:
        meta = self._set.temp_path(sidecar_path(self.path, ".meta.json"))
        meta.write_bytes(json.dumps(metadata, indent=2, ensure_ascii=False).encode("utf-8") + b"\n")


class ParquetWriter(Writer):
    """``record`` int64, ``ids`` list<uint32> (+ ``source``); metadata under key ``chemtok``."""

    format = "parquet"
    _writer: Any = None

    def __init__(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        fields = [pa.field("record", pa.int64(), nullable=False), pa.field("ids", pa.list_(pa.uint32()), nullable=False)]
        if self.with_source:
            fields.append(pa.field("source", pa.string(), nullable=False))
        self._schema = pa.schema(fields)
        with self._aborting():
            # Without the serialised Arrow schema, readers take the schema metadata from
            # the file's key-value metadata, which can still be added at the end
            # (counts are known only then); the column types survive as Parquet types.
            # pyarrow writes the temporary file itself, by path: through a Python file
            # object every page write would wait for the GIL. zstd makes files a third
            # smaller than the default snappy at the same speed; dictionaries and min/max
            # statistics are kept where they help (source names, record numbers) and
            # skipped for the ids, where they cost a fifth of the write time.
            self._writer = pq.ParquetWriter(
                str(self._set.temp_path(self.path)),
                self._schema,
                store_schema=False,
                compression="zstd",
                use_dictionary=["source"] if self.with_source else False,
                write_statistics=["record", "source"] if self.with_source else ["record"],
            )

    def write(self, records: np.ndarray, source: int, ids: np.ndarray, offsets: np.ndarray) -> None:
        import numpy as np

        pa = self._pa
        base = offsets[0] if len(offsets) else 0
        local = (offsets - base).astype(np.int32)  # a chunk holds far fewer than 2**31 ids
        values = pa.array(np.ascontiguousarray(ids[base : offsets[-1]], dtype=np.uint32), type=pa.uint32())
        columns = [pa.array(np.asarray(records, dtype=np.int64)), pa.ListArray.from_arrays(pa.array(local), values)]
        if self.with_source:
            columns.append(pa.array([self.sources[source]] * len(records), type=pa.string()))
        self._writer.write_table(pa.Table.from_arrays(columns, schema=self._schema))
        self._count(records, offsets)

    def _complete(self, metadata: dict[str, Any]) -> None:
        self._writer.add_key_value_metadata({"chemtok": json.dumps(metadata, ensure_ascii=False)})
        self._writer.close()

    def _close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):  # the file is being thrown away; a close error changes nothing
                self._writer.close()


class JsonlWriter(Writer):
    """One JSON object per record; ``OUT.meta.json`` beside it (not for ``-``).

    Args:
        with_tokens: add ``"tokens"``, the token strings (needs ``token_of``).
        token_of: id -> token string.
    """

    format = "jsonl"
    # Class defaults, so that an abort during the base constructor finds them.
    _stdout = False
    _gzip: gzip.GzipFile | None = None

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        with_tokens: bool = False,
        token_of: Callable[[int], str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(path, **kwargs)
        if with_tokens and token_of is None:
            raise ValueError("with_tokens=True needs token_of (id -> token string)")
        self._token_of = token_of if with_tokens else None
        self._token_json: dict[int, str] = {}
        self._stdout = str(path) == "-"
        if self._stdout:
            self._out: IO[bytes] | gzip.GzipFile = sys.stdout.buffer
        else:
            with self._aborting():
                self._out = self._set.open_temp(self.path)
                if self.path.name.lower().endswith(".gz"):
                    self._gzip = gzip.GzipFile(fileobj=self._out, mode="wb", compresslevel=6, mtime=0)
                    self._out = self._gzip
        self._source_json = [json.dumps(s, ensure_ascii=False) for s in self.sources]
        self._id_text: Any = None

    def _tokens_json(self, row: list[int]) -> str:
        cache = self._token_json
        assert self._token_of is not None
        parts = []
        for token_id in row:
            text = cache.get(token_id)
            if text is None:
                text = cache[token_id] = json.dumps(self._token_of(token_id), ensure_ascii=False)
            parts.append(text)
        return ",".join(parts)

    def _id_strings(self, ids: np.ndarray) -> list[str]:
        """The decimal text of each id, through a table: ``str()`` per id costs 3x more."""
        import numpy as np

        needed = int(ids.max()) + 1 if len(ids) else 0
        if self._id_text is None or len(self._id_text) < needed:
            size = max(needed, self.vocab_size)
            self._id_text = np.array([str(i) for i in range(size)], dtype=object)
        strings: list[str] = self._id_text[ids].tolist()
        return strings

    def write(self, records: np.ndarray, source: int, ids: np.ndarray, offsets: np.ndarray) -> None:
        base = int(offsets[0])
        flat = self._id_strings(ids[base : int(offsets[-1])])
        bounds = (offsets - base).tolist()
        numbers = records.tolist()
        tail = f',"source":{self._source_json[source]}' if self.with_source else ""
        # Rows are formatted by hand: json.dumps per row costs several times more.
        if self._token_of is None:
            lines = [
                f'{{"record":{number},"ids":[{",".join(flat[bounds[i] : bounds[i + 1]])}]{tail}}}\n'
                for i, number in enumerate(numbers)
            ]
        else:
            raw = ids[base : int(offsets[-1])].tolist()
            lines = [
                f'{{"record":{number},"ids":[{",".join(flat[bounds[i] : bounds[i + 1]])}],'
                f'"tokens":[{self._tokens_json(raw[bounds[i] : bounds[i + 1]])}]{tail}}}\n'
                for i, number in enumerate(numbers)
            ]
        self._out.write("".join(lines).encode("utf-8"))
        self._count(records, offsets)

    def _complete(self, metadata: dict[str, Any]) -> None:
        if self._stdout:
            self._out.flush()
            return
        if self._gzip is not None:
            self._gzip.close()  # the gzip trailer; the set closes the file under it
        self._write_meta(metadata)

    def _close(self) -> None:
        if self._stdout:
            with contextlib.suppress(BrokenPipeError, ValueError):
                self._out.flush()
        elif self._gzip is not None:
            # Closed now (its trailer may fail on a full disk), so that it never writes
            # to the removed file later, when it is garbage-collected.
            with contextlib.suppress(OSError, ValueError):
                self._gzip.close()


class OutputError(InputError):
    """The output could not be written (a full disk, a failed rename): nothing of the run is kept.

    Every file of the run (output, sidecars, errors file) is removed, and the older
    files of the same names are back, unless the message says the roll-back is left
    to the next run (:class:`chemtok.io.commit.IncompleteRollbackError`).

    Attributes:
        counts: the :class:`chemtok.io.pipeline.Counts` of records read and failed before
            the fault (none of them is kept).

    Example:
        >>> from chemtok.io.formats import InputError, format_by_suffix
        >>> from chemtok.io.pipeline import Counts, OutputError
        >>> fault = OutputError("cannot write caffeine.bin: [Errno 28] No space left on device", Counts(read=3))
        >>> fault.counts.read, isinstance(fault, InputError)
        (3, True)
    """

    def __init__(self, message: str, counts: Any) -> None:
        super().__init__(message)
        self.counts = counts


def __getattr__(name: str) -> Any:
    """``NpyWriter``, ``BinWriter`` and ``MEGATRON_INDEX_MAGIC`` live in :mod:`chemtok.io.arrays`."""
    if name in ("NpyWriter", "BinWriter", "MEGATRON_INDEX_MAGIC"):
        from chemtok.io import arrays

        return getattr(arrays, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_writer(
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any],
    sources: Sequence[str],
    vocab_size: int,
    with_tokens: bool = False,
    token_of: Callable[[int], str] | None = None,
    errors: str | os.PathLike[str] | None = None,
) -> Writer:
    """Open the writer the extension of ``path`` names (see the module docstring).

    Args:
        path: ``*.parquet``, ``*.jsonl``, ``*.jsonl.gz``, ``*.npy``, ``*.bin`` or ``-``.
        metadata: recorded in the output (Parquet metadata or ``OUT.meta.json``).
        sources: the input paths, in order; ``write(..., source=i)`` refers to them.
        vocab_size: the tokenizer's number of ids.
        with_tokens: JSON Lines only: add the token strings to each row.
        token_of: id -> token string (needed for ``with_tokens``).
        errors: the run's errors file, committed together with the output (see
            :attr:`Writer.errors_file`).

    Raises:
        ValueError: unknown extension, or ``with_tokens`` for a format without tokens.
    """
    fmt = output_format(path)
    if with_tokens and fmt != "jsonl":
        raise ValueError(f"token strings can only be written to JSON Lines, not {fmt}")
    common: dict[str, Any] = {"metadata": metadata, "sources": sources, "vocab_size": vocab_size, "errors": errors}
    if fmt == "jsonl":
        return JsonlWriter(path, with_tokens=with_tokens, token_of=token_of, **common)
    if fmt == "parquet":
        return ParquetWriter(path, **common)
    from chemtok.io.arrays import BinWriter, NpyWriter

    return (NpyWriter if fmt == "npy" else BinWriter)(path, **common)
