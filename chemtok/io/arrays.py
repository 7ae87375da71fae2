"""The array outputs: ``OUT.npy`` (+ offsets, records) and Megatron-LM's ``OUT.bin``/``OUT.idx``.

See :mod:`chemtok.io.writers` for the layouts and :func:`chemtok.io.writers.open_writer`;
as every writer, these write all their files (the ``.bin`` writer's scratch files too)
through one :class:`chemtok.io.commit.OutputSet` and commit them together.

Example:
    >>> import numpy as np, tempfile, os
    >>> from chemtok.io.arrays import NpyWriter
    >>> out = os.path.join(tempfile.mkdtemp(), "ethanol.npy")
    >>> writer = NpyWriter(out, metadata={}, sources=["ethanol.smi"], vocab_size=300)
    >>> writer.write(np.array([1]), 0, np.array([262, 262, 275], dtype=np.uint32), np.array([0, 3]))
    >>> sorted(os.path.basename(p) for p in writer.finalize())
    ['ethanol.meta.json', 'ethanol.npy', 'ethanol.offsets.npy', 'ethanol.records.npy']
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chemtok.io.writers import Writer, sidecar_path

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MEGATRON_INDEX_MAGIC", "BinWriter", "NpyWriter"]

MEGATRON_INDEX_MAGIC = b"MMIDIDX\x00\x00"
# Megatron's DType codes for the two widths chemtok writes.
_MEGATRON_DTYPE_CODES = {"uint16": 8, "int32": 4}
# Megatron picks uint16 below this vocabulary size (DType.optimal_dtype).
_MEGATRON_UINT16_LIMIT = 65500


def _bytes_of(array: np.ndarray) -> memoryview:
    """The bytes of a contiguous array, without the copy ``tobytes()`` makes."""
    return array.data.cast("B")


class _NpyStream:
    """A 1-D ``.npy`` file written in pieces to ``handle``; the shape goes into the header at the end.

    The header is reserved at a fixed 128 bytes (NumPy format 1.0 allows any padded
    header length; 128 keeps the data 64-byte aligned) and rewritten by :meth:`finish`.
    The handle is a temporary file of the writer's :class:`~chemtok.io.commit.OutputSet`,
    which closes, commits or removes it.
    """

    _HEADER_BYTES = 128

    def __init__(self, handle: IO[bytes], dtype: str) -> None:
        import numpy as np

        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.handle = handle
        self.count = 0
        handle.write(self._header(0))

    def _header(self, count: int) -> bytes:
        descr = self.dtype.str  # e.g. '<u4'
        body = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({count},), }}"
        room = self._HEADER_BYTES - 10  # magic (6) + version (2) + header length (2)
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", room) + body.ljust(room - 1).encode("latin-1") + b"\n"

    def write(self, values: np.ndarray) -> None:
        import numpy as np

        self.handle.write(_bytes_of(np.ascontiguousarray(values, dtype=self.dtype)))
        self.count += len(values)

    def finish(self) -> None:
        """Write the final shape into the header (the commit closes the file)."""
        self.handle.flush()
        self.handle.seek(0)
        self.handle.write(self._header(self.count))


class _RecordsMixin:
    """``OUT.records.npy`` and, with several inputs, ``OUT.sources.npy``."""

    path: Path
    _records: _NpyStream | None = None
    _sources: _NpyStream | None = None

    def _open_records(self: Any) -> None:
        self._records = _NpyStream(self._set.open_temp(sidecar_path(self.path, ".records.npy")), "int64")
        handle = self._sources_sidecar()
        self._sources = None if handle is None else _NpyStream(handle, "int32")

    def _write_records(self, records: np.ndarray, source: int) -> None:
        import numpy as np

        assert self._records is not None
        self._records.write(np.asarray(records, dtype=np.int64))
        if self._sources is not None:
            self._sources.write(np.full(len(records), source, dtype=np.int32))

    def _finish_records(self) -> None:
        for stream in (self._records, self._sources):
            if stream is not None:
                stream.finish()


class NpyWriter(_RecordsMixin, Writer):
    """``OUT.npy`` (uint32 ids), ``OUT.offsets.npy``, ``OUT.records.npy`` (+ sources), meta."""

    format = "npy"

    def __init__(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        import numpy as np

        self._np = np
        with self._aborting():
            self._ids = _NpyStream(self._set.open_temp(self.path), "uint32")
            self._offsets = _NpyStream(self._set.open_temp(sidecar_path(self.path, ".offsets.npy")), "int64")
            self._open_records()
            self._offsets.write(np.zeros(1, dtype=np.int64))
        self._next_offset = 0
        self.metadata["ids_dtype"] = "uint32"
        self.metadata["files"] = {
            "ids": self.path.name,
            "offsets": sidecar_path(self.path, ".offsets.npy").name,
            "records": sidecar_path(self.path, ".records.npy").name,
            **({"sources": sidecar_path(self.path, ".sources.npy").name} if self.with_source else {}),
        }

    def write(self, records: np.ndarray, source: int, ids: np.ndarray, offsets: np.ndarray) -> None:
        base = int(offsets[0])
        self._ids.write(ids[base : int(offsets[-1])])
        self._offsets.write(offsets[1:] - base + self._next_offset)
        self._next_offset += int(offsets[-1]) - base
        self._write_records(records, source)
        self._count(records, offsets)

    def _complete(self, metadata: dict[str, Any]) -> None:
        self._ids.finish()
        self._offsets.finish()
        self._finish_records()
        self._write_meta(metadata)


class BinWriter(_RecordsMixin, Writer):
    """Megatron-LM ``.bin`` + ``.idx`` (one sequence per record), records, meta."""

    format = "bin"
    _scratch_suffixes = (".lengths.scratch", ".pointers.scratch")

    def __init__(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        import numpy as np

        self._np = np
        self.dtype = "uint16" if self.vocab_size < _MEGATRON_UINT16_LIMIT else "int32"
        self._itemsize = np.dtype(self.dtype).itemsize
        with self._aborting():
            self._bin = self._set.open_temp(self.path)
            self._idx = self._set.open_temp(sidecar_path(self.path, ".idx"))
            # Lengths and pointers are streamed to scratch files, then appended to the
            # index in Megatron's order (all lengths, then all pointers) at the end.
            _, self._lengths = self._set.open_scratch(sidecar_path(self.path, ".lengths.scratch"))
            _, self._pointers = self._set.open_scratch(sidecar_path(self.path, ".pointers.scratch"))
            self._open_records()
        self._next_byte = 0
        self.metadata["ids_dtype"] = self.dtype
        self.metadata["files"] = {
            "ids": self.path.name,
            "index": sidecar_path(self.path, ".idx").name,
            "records": sidecar_path(self.path, ".records.npy").name,
            **({"sources": sidecar_path(self.path, ".sources.npy").name} if self.with_source else {}),
        }

    def write(self, records: np.ndarray, source: int, ids: np.ndarray, offsets: np.ndarray) -> None:
        np = self._np
        base = int(offsets[0])
        little = np.dtype(self.dtype).newbyteorder("<")
        self._bin.write(_bytes_of(np.ascontiguousarray(ids[base : int(offsets[-1])], dtype=little)))
        lengths = np.diff(offsets)
        starts = (offsets[:-1] - base) * self._itemsize + self._next_byte
        self._lengths.write(lengths.astype("<i4").tobytes())
        self._pointers.write(starts.astype("<i8").tobytes())
        self._next_byte += (int(offsets[-1]) - base) * self._itemsize
        self._write_records(records, source)
        self._count(records, offsets)

    def _complete(self, metadata: dict[str, Any]) -> None:
        np = self._np
        count = self.records_written
        index = self._idx
        index.write(MEGATRON_INDEX_MAGIC)
        index.write(struct.pack("<Q", 1))
        index.write(struct.pack("<B", _MEGATRON_DTYPE_CODES[self.dtype]))
        index.write(struct.pack("<Q", count))
        index.write(struct.pack("<Q", count + 1))
        for scratch in (self._lengths, self._pointers):
            scratch.seek(0)  # flushes what is buffered, then reads it back
            while block := scratch.read(1 << 22):
                index.write(block)
        # Document indices 0..N, written in blocks to keep memory flat.
        for start in range(0, count + 1, 1 << 20):
            index.write(np.arange(start, min(count + 1, start + (1 << 20)), dtype="<i8").tobytes())
        self._finish_records()
        self._write_meta(metadata)
