"""The dataset pipeline: inputs and a tokenizer in, accounted records out.

Every record read is either written or reported as a failure, with its 1-based
number in its input: ``counts.written + counts.failed == counts.read``.

* :func:`encode_chunks` reads the inputs in a background thread and yields each chunk
  with its encoded rows and failures (:class:`Encoded`), under a policy ``raise``,
  ``skip`` or ``fallback``;
* :func:`tokenize_files` writes those rows with a writer from
  :mod:`chemtok.io.writers` (in a background thread) and returns a :class:`RunResult`.

Neither prints: the caller gets each :class:`Failure` through ``on_failure`` and the
progress through ``on_progress``. The command line is a thin layer over this module.

Example:
    >>> import os, tempfile
    >>> from chemtok.registry import load_tokenizer
    >>> from chemtok.io.pipeline import tokenize_files
    >>> d = tempfile.mkdtemp()
    >>> _ = open(os.path.join(d, "in.smi"), "w").write("CCO\\nc1ccccc1\\n")
    >>> result = tokenize_files([os.path.join(d, "in.smi")], ["smi"], load_tokenizer("smiles"),
    ...                         os.path.join(d, "out.npy"), modality="smiles")
    >>> result.counts.read, result.counts.written, result.counts.failed
    (2, 2, 0)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chemtok import __version__
from chemtok.io.encoder import Encoded, Encoder, Failure, encode_chunk
from chemtok.io.readers import Chunk, read_chunks
from chemtok.io.writers import OutputError

if TYPE_CHECKING:
    import numpy as np

    from chemtok.io.writers import Writer

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "Counts",
    "Encoded",
    "Encoder",
    "Failure",
    "OutputError",
    "RunResult",
    "describe_tokenizer",
    "encode_chunk",
    "failure_entry",
    "encode_chunks",
    "tokenize_files",
]

#: Records per chunk: bounded memory, and big enough that per-batch costs vanish.
DEFAULT_CHUNK_SIZE = 32768


def describe_tokenizer(tok: Any, modality: str) -> dict[str, Any]:
    """What the output records about the tokenizer."""
    from chemtok.router import ChemTokenizer
    from chemtok.text import TextTokenizer

    text_model: str | None
    engine: str | None
    if isinstance(tok, ChemTokenizer):
        text_model, engine = tok.text.source, tok.modalities["smiles"].engine
    elif isinstance(tok, TextTokenizer):
        text_model, engine = tok.source, "tokenizers"
    else:
        text_model, engine = None, getattr(tok, "engine", None)
    return {
        "chemtok_version": __version__,
        "modality": modality,
        "tokenizer": type(tok).__name__,
        "grammar": getattr(tok, "grammar_tag", None) or None,
        "text_model": text_model,
        "vocab_size": tok.vocab_size,
        "vocab_fingerprint": tok.fingerprint,
        "engine": engine,
    }


def failure_entry(failure: Failure) -> dict[str, Any]:
    """The line of the ``--errors`` file for one failed record (one format for every engine).

    Example:
        >>> failure_entry(Failure(2, "mols.smi", "cannot tokenize '§'", 2, "CC§", "smiles"))["record"]
        2
    """
    return {
        "record": failure.record,
        "input": failure.source,
        "error": failure.error,
        "position": failure.position,
        "modality": failure.modality,
        "text": failure.text,
    }


@dataclass
class Counts:
    read: int = 0
    written: int = 0
    failed: int = 0
    tokens: int = 0
    shown: int = 0


_END = object()


class Prefetch:
    """Iterate ``source`` in a background thread, at most ``depth`` items ahead.

    Bounded memory; an exception in the thread is raised here, at the item it replaced.
    ``close()`` stops the thread early (after a failure under ``raise``).
    """

    def __init__(self, source: Iterator[Any], depth: int = 2) -> None:
        import queue

        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._full = queue.Full
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, args=(source,), name="chemtok-read", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except self._full:
                continue
        return False

    def _run(self, source: Iterator[Any]) -> None:
        try:
            for item in source:
                if not self._put((item, None)):
                    return
        except BaseException as err:  # handed to the consumer, raised there
            self._put((None, err))
            return
        self._put((_END, None))

    def __iter__(self) -> Prefetch:
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        item, err = self._queue.get()
        if err is not None:
            self._done = True
            raise err
        if item is _END:
            self._done = True
            raise StopIteration
        return item

    def close(self) -> None:
        self._stop.set()
        self._done = True
        self._thread.join()


class WriterThread:
    """Hand chunks to a writer in a background thread (a bounded queue keeps memory flat).

    A writer error is raised in the caller at the next ``write`` or at ``close``.
    """

    def __init__(self, writer: Writer, depth: int = 2) -> None:
        import queue

        self._writer = writer
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="chemtok-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue  # drain after a failure
            try:
                self._writer.write(*item)
            except BaseException as err:
                self._error = err

    def write(self, records: np.ndarray, source: int, ids: np.ndarray, offsets: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((records, source, ids, offsets))

    def close(self) -> None:
        """Wait until every chunk is written; raise the writer's error, if any."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Wait for the thread without raising (the output is about to be discarded)."""
        if self._thread.is_alive():
            self._error = self._error or RuntimeError("stopped")
            self._queue.put(None)
            self._thread.join()



@dataclass
class RunResult:
    """What :func:`tokenize_files` did.

    Attributes:
        counts: records read, written and failed, and tokens written.
        paths: the files written, committed together (the main output first, the
            errors file last); empty when stopped.
        stop: under ``raise``, the failure that stopped the run (then nothing is kept,
            not even the errors file).
        faults: inputs that could not be read to their end (each also a failed record).
    """

    counts: Counts
    paths: list[Path] = field(default_factory=list)
    stop: Failure | None = None
    faults: list[str] = field(default_factory=list)

    @property
    def failed_run(self) -> bool:
        """Whether the run failed as a whole: stopped, an input not read to its end, or
        every record of a non-empty input failed (under any policy)."""
        c = self.counts
        return self.stop is not None or bool(self.faults) or (c.read > 0 and c.failed == c.read)


def encode_chunks(
    inputs: Sequence[str],
    formats: Sequence[str],
    tok: Any,
    *,
    policy: str = "raise",
    column: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    num_threads: int | None = None,
) -> Generator[tuple[int, str, Chunk, Encoded], None, None]:
    """Yield ``(input index, input path, chunk, encoded)`` for every chunk of the inputs, in order.

    A background thread reads and decodes the next chunks while this one encodes (the
    native engine and the text model release the GIL). Under ``raise`` the caller
    stops at the first :attr:`Encoded.stop`.

    Example:
        >>> import os, tempfile
        >>> from chemtok.registry import load_tokenizer
        >>> path = os.path.join(tempfile.mkdtemp(), "in.smi")
        >>> _ = open(path, "w").write("CCO\\nCC§\\n")
        >>> [(len(e.kept), [f.record for f in e.failures])
        ...  for _, _, _, e in encode_chunks([path], ["smi"], load_tokenizer("smiles"), policy="skip")]
        [(1, [2])]
    """
    encoder = Encoder(tok, policy, num_threads)

    def all_chunks() -> Iterator[tuple[int, str, Chunk]]:
        for source_index, (path, fmt) in enumerate(zip(inputs, formats)):
            for chunk in read_chunks(path, fmt, column, chunk_size):
                yield source_index, path, chunk

    chunks = Prefetch(all_chunks())
    try:
        for source_index, path, chunk in chunks:
            yield source_index, path, chunk, encode_chunk(encoder, chunk, path, policy)
    finally:
        chunks.close()


def tokenize_files(
    inputs: Sequence[str],
    formats: Sequence[str],
    tok: Any,
    output: str,
    *,
    modality: str,
    policy: str = "raise",
    column: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    num_threads: int | None = None,
    errors: str | None = None,
    with_tokens: bool = False,
    on_failure: Callable[[Failure], None] | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
    sources: Sequence[str] | None = None,
    source_offset: int = 0,
) -> RunResult:
    """Tokenize every record of ``inputs`` into ``output`` (its extension picks the writer).

    Args:
        inputs: input paths (``-`` = standard input), with their ``formats``.
        tok: the tokenizer (see :func:`chemtok.registry.load_tokenizer`).
        output: the output path (``-`` = JSON Lines on standard output).
        modality: recorded in the output's metadata.
        policy: ``raise`` (stop at the first failure, keep nothing), ``skip`` or ``fallback``.
        errors: a path for one JSON line per failed record, committed with the output:
            a run that stops (``raise``, an interrupt, a write fault) keeps neither.
        on_failure: called with each failure, in record order.
        on_progress: called after each chunk with the records read so far and the bytes
            of the input files read so far (compressed bytes for gzip; ``None`` when a
            reader does not say), for a progress display without a second pass.
        sources: the input names the output lists (its ``source`` column), when
            ``inputs`` are one shard of a larger run (:mod:`chemtok.ray`); default ``inputs``.
        source_offset: the index in ``sources`` of ``inputs[0]``.

    Raises:
        OutputClashError: an input or ``errors`` is one of the files the run writes
            (:func:`chemtok.io.writers.check_run_paths`); nothing is written.
        OutputError: the output could not be written (nothing kept; an ``InputError``).
        InputError: an input could not be read (nothing kept).
        UsageError: a named column does not exist.
        BrokenPipeError: standard output was closed (the output is discarded).

    Example:
        >>> import os, tempfile
        >>> from chemtok.registry import load_tokenizer
        >>> d = tempfile.mkdtemp()
        >>> _ = open(os.path.join(d, "in.smi"), "w").write("CCO\\nCC§\\n")
        >>> r = tokenize_files([os.path.join(d, "in.smi")], ["smi"], load_tokenizer("smiles"),
        ...                    os.path.join(d, "out.parquet"), modality="smiles", policy="skip")
        >>> r.counts.read, r.counts.written, r.counts.failed
        (2, 1, 1)
    """
    from chemtok.io.commit import IncompleteRollbackError
    from chemtok.io.writers import check_run_paths, open_writer

    check_run_paths(inputs, output, errors=errors or None)
    metadata = {**describe_tokenizer(tok, modality), "on_error": policy}
    counts = Counts()
    faults: list[str] = []
    current, before, last = 0, 0, None  # input bytes read: of the inputs before, of this one
    errors_file: IO[bytes] | None = None
    writer: Writer | None = None
    background: WriterThread | None = None
    chunks = encode_chunks(
        inputs, formats, tok, policy=policy, column=column, chunk_size=chunk_size, num_threads=num_threads
    )

    def report(failure: Failure) -> None:
        counts.failed += 1
        if errors_file is not None:
            errors_file.write(json.dumps(failure_entry(failure), ensure_ascii=False).encode("utf-8") + b"\n")
        if on_failure is not None:
            on_failure(failure)

    try:
        writer = open_writer(
            output,
            metadata=metadata,
            sources=list(inputs if sources is None else sources),
            vocab_size=tok.vocab_size,
            with_tokens=with_tokens,
            token_of=tok.id_to_token,
            errors=errors or None,
        )
        errors_file = writer.errors_file  # committed with the output, never on its own
        background = WriterThread(writer)
        for source_index, _path, chunk, done in chunks:
            for failure in done.failures:
                report(failure)
            if done.stop is not None:
                counts.read += done.stop_index + 1
                report(done.stop)
                background.stop()
                writer.abort()
                return RunResult(counts, [], done.stop, faults)
            counts.read += len(chunk.texts)
            if chunk.fault is not None:
                faults.append(chunk.fault)
            if len(done.kept):
                records = chunk.number_array()[done.kept]
                background.write(records, source_offset + source_index, done.ids, done.offsets)
                counts.written += len(records)
                counts.tokens += int(done.offsets[-1] - done.offsets[0])
            if source_index != current:
                before, current, last = before + (last or 0), source_index, None
            last = chunk.consumed if chunk.consumed is not None else last
            if on_progress is not None:
                on_progress(counts.read, None if last is None else before + last)
        background.close()
        paths = writer.finalize({"records_read": counts.read, "records_failed": counts.failed})
        return RunResult(counts, paths, None, faults)
    except BaseException as err:
        if background is not None:
            background.stop()
        if writer is not None:
            writer.abort()
        if isinstance(err, OSError) and not isinstance(err, BrokenPipeError):  # a full disk, a failed rename ...
            # An IncompleteRollbackError says itself what stays and which run restores it.
            kept = "" if isinstance(err, IncompleteRollbackError) else "; nothing was kept, older files are unchanged"
            raise OutputError(f"cannot write {'standard output' if output == '-' else output}: {err}{kept}", counts) from err
        raise
    finally:
        chunks.close()
