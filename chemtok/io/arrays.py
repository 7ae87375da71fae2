"""The array outputs: ``OUT.npy`` (+ offsets, records) and Megatron-LM's ``OUT.bin``/``OUT.idx``.

See :mod:`chemtok.io.writers` for the layouts and :func:`chemtok.io.writers.open_writer`.

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
from typing import TYPE_CHECKING, Any

from chemtok.io.writers import Writer, _bytes_of, _NpyStream, _TempFile, sidecar_path

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MEGATRON_INDEX_MAGIC", "BinWriter", "NpyWriter"]

MEGATRON_INDEX_MAGIC = b"MMIDIDX\x00\x00"
# Megatron's DType codes for the two widths chemtok writes.
_MEGATRON_DTYPE_CODES = {"uint16": 8, "int32": 4}
# Megatron picks uint16 below this vocabulary size (DType.optimal_dtype).
_MEGATRON_UINT16_LIMIT = 65500


class _RecordsMixin:
    """``OUT.records.npy`` and, with several inputs, ``OUT.sources.npy``."""

    path: Path
    with_source: bool

    def _open_records(self) -> None:
        self._records = _NpyStream(sidecar_path(self.path, ".records.npy"), "int64")
        self._sources = _NpyStream(sidecar_path(self.path, ".sources.npy"), "int32") if self.with_source else None

    def _write_records(self, records: np.ndarray, source: int) -> None:
        import numpy as np

        self._records.write(np.asarray(records, dtype=np.int64))
        if self._sources is not None:
            self._sources.write(np.full(len(records), source, dtype=np.int32))

    def _record_streams(self) -> list[_NpyStream]:
        return [self._records] + ([self._sources] if self._sources is not None else [])


class NpyWriter(_RecordsMixin, Writer):
    """``OUT.npy`` (uint32 ids), ``OUT.offsets.npy``, ``OUT.records.npy`` (+ sources), meta."""

    format = "npy"

    def __init__(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        import numpy as np

        self._np = np
        self._streams: list[_NpyStream] = []
        try:
            self._ids = self._add(_NpyStream(self.path, "uint32"))
            self._offsets = self._add(_NpyStream(sidecar_path(self.path, ".offsets.npy"), "int64"))
            self._open_records()
            self._streams.extend(self._record_streams())
        except BaseException:
            self._discard()
            raise
        self._offsets.write(np.zeros(1, dtype=np.int64))
        self._next_offset = 0
        self.metadata["ids_dtype"] = "uint32"
        self.metadata["files"] = {
            "ids": self.path.name,
            "offsets": sidecar_path(self.path, ".offsets.npy").name,
            "records": sidecar_path(self.path, ".records.npy").name,
            **({"sources": sidecar_path(self.path, ".sources.npy").name} if self.with_source else {}),
        }

    def _add(self, stream: _NpyStream) -> _NpyStream:
        self._streams.append(stream)
        return stream

    def write(self, records: np.ndarray, source: int, ids: np.ndarray, offsets: np.ndarray) -> None:
        base = int(offsets[0])
        self._ids.write(ids[base : int(offsets[-1])])
        self._offsets.write(offsets[1:] - base + self._next_offset)
        self._next_offset += int(offsets[-1]) - base
        self._write_records(records, source)
        self._count(records, offsets)

    def _commit(self, metadata: dict[str, Any]) -> list[Path]:
        paths = [stream.commit() for stream in self._streams]
        return paths + [self._write_meta(metadata)]

    def _discard(self) -> None:
        for stream in self._streams:
            stream.discard()


class BinWriter(_RecordsMixin, Writer):
    """Megatron-LM ``.bin`` + ``.idx`` (one sequence per record), records, meta."""

    format = "bin"

    def __init__(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        import numpy as np

        self._np = np
        self.dtype = "uint16" if self.vocab_size < _MEGATRON_UINT16_LIMIT else "int32"
        self._itemsize = np.dtype(self.dtype).itemsize
        self._parts: list[_TempFile | _NpyStream] = []
        try:
            self._bin = self._add(_TempFile(self.path))
            self._idx = self._add(_TempFile(sidecar_path(self.path, ".idx")))
            # Lengths and pointers are streamed to scratch files, then appended to the
            # index in Megatron's order (all lengths, then all pointers) at the end.
            self._lengths = self._add(_TempFile(sidecar_path(self.path, ".lengths.scratch")))
            self._pointers = self._add(_TempFile(sidecar_path(self.path, ".pointers.scratch")))
            self._open_records()
            self._parts.extend(self._record_streams())
        except BaseException:
            self._discard()
            raise
        self._next_byte = 0
        self.metadata["ids_dtype"] = self.dtype
        self.metadata["files"] = {
            "ids": self.path.name,
            "index": sidecar_path(self.path, ".idx").name,
            "records": sidecar_path(self.path, ".records.npy").name,
            **({"sources": sidecar_path(self.path, ".sources.npy").name} if self.with_source else {}),
        }

    def _add(self, part: Any) -> Any:
        self._parts.append(part)
        return part

    def write(self, records: np.ndarray, source: int, ids: np.ndarray, offsets: np.ndarray) -> None:
        np = self._np
        base = int(offsets[0])
        little = np.dtype(self.dtype).newbyteorder("<")
        self._bin.handle.write(_bytes_of(np.ascontiguousarray(ids[base : int(offsets[-1])], dtype=little)))
        lengths = np.diff(offsets)
        starts = (offsets[:-1] - base) * self._itemsize + self._next_byte
        self._lengths.handle.write(lengths.astype("<i4").tobytes())
        self._pointers.handle.write(starts.astype("<i8").tobytes())
        self._next_byte += (int(offsets[-1]) - base) * self._itemsize
        self._write_records(records, source)
        self._count(records, offsets)

    def _commit(self, metadata: dict[str, Any]) -> list[Path]:
        np = self._np
        count = self.records_written
        index = self._idx.handle
        index.write(MEGATRON_INDEX_MAGIC)
        index.write(struct.pack("<Q", 1))
        index.write(struct.pack("<B", _MEGATRON_DTYPE_CODES[self.dtype]))
        index.write(struct.pack("<Q", count))
        index.write(struct.pack("<Q", count + 1))
        for scratch in (self._lengths, self._pointers):
            scratch.handle.close()
            with open(scratch.temp, "rb") as handle:
                while block := handle.read(1 << 22):
                    index.write(block)
        # Document indices 0..N, written in blocks to keep memory flat.
        for start in range(0, count + 1, 1 << 20):
            index.write(np.arange(start, min(count + 1, start + (1 << 20)), dtype="<i8").tobytes())
        self._lengths.discard()
        self._pointers.discard()
        paths = [self._bin.commit(), self._idx.commit()]
        paths += [stream.commit() for stream in self._record_streams()]
        return paths + [self._write_meta(metadata)]

    def _discard(self) -> None:
        for part in self._parts:
            part.discard()


