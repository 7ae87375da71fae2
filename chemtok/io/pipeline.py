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
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator, Sequence

from chemtok import __version__
from chemtok.io.readers import ArrowTexts, Chunk, read_chunks
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


@dataclass
class Failure:
    record: int
    source: str
    error: str
    position: int | None
    text: str | None
    modality: str | None = None
    hint: str = ""
    excerpt: str = ""


class Encoder:
    """Encode chunks fast, and find exactly which records fail when a batch fails.

    A chunk is first encoded in one ``encode_batch`` call. Only when that raises does
    the encoder look for the failing records: the error names the failing string, so
    the records before it are encoded as one batch and the search resumes after it,
    with a batch size that halves after each failure and doubles after each success.
    Clean chunks cost one call; a chunk full of bad records degrades to per-record
    calls, never to quadratic work.
    """

    def __init__(self, tok: Any, policy: str, num_threads: int | None) -> None:
        import inspect

        from chemtok.text import TextTokenizer

        self.tok = tok
        # The text model has no byte fallback of its own: under "fallback" it encodes
        # strictly and the CLI skips what it cannot take (only lone surrogates, which
        # decoded input never contains, or a model that does not round-trip).
        self.policy = "raise" if policy == "skip" or (policy == "fallback" and isinstance(tok, TextTokenizer)) else policy
        self.num_threads = num_threads
        self.arrays = "return_arrays" in inspect.signature(tok.encode_batch).parameters

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if self.arrays:
            return self.tok.encode_batch(texts, on_error=self.policy, num_threads=self.num_threads, return_arrays=True)  # type: ignore[no-any-return]
        from chemtok.base import rows_to_arrays

        return rows_to_arrays(self.tok.encode_batch(texts, on_error=self.policy, num_threads=self.num_threads))

    def encode_checked(
        self, texts: list[str], *, stop_at_first: bool
    ) -> tuple[list[tuple[int, int, np.ndarray, np.ndarray]], list[tuple[int, Exception]]]:
        """Encode ``texts``; return the encoded pieces ``(start, end, ids, offsets)`` and failures.

        With ``stop_at_first``, stop at the first failure in input order.
        """
        from chemtok.errors import TokenizationError

        n = len(texts)
        if n == 0:
            return [], []
        try:
            ids, offsets = self.encode(texts)
            return [(0, n, ids, offsets)], []
        except TokenizationError as err:
            first = err
        pieces: list[tuple[int, int, np.ndarray, np.ndarray]] = []
        failures: list[tuple[int, Exception]] = []
        known: dict[int, Exception] = {}
        size = n
        located = _locate(texts, first, 0, n)
        if located is None:
            size = max(1, n // 2)
        else:
            known[located] = first
        pos = 0
        while pos < n:
            if pos in known:
                failures.append((pos, known.pop(pos)))
                pos += 1
                size = max(1, size // 2)
                if stop_at_first:
                    break
                continue
            end = min(n, pos + size)
            later = [k for k in known if k > pos]
            if later:
                end = min(end, min(later))
            try:
                ids, offsets = self.encode(texts[pos:end])
            except TokenizationError as err:
                index = _locate(texts, err, pos, end)
                if index is not None:
                    known[index] = err
                elif end - pos == 1:
                    known[pos] = err
                else:
                    size = max(1, (end - pos) // 2)
                continue
            pieces.append((pos, end, ids, offsets))
            pos = end
            size = min(n, size * 2)
        return pieces, failures


def _locate(texts: list[str], err: Exception, start: int, end: int) -> int | None:
    """The index in ``texts[start:end]`` of the string ``err`` is about (first equal one)."""
    text = getattr(err, "text", None)
    if text is None:
        return None
    for i in range(start, end):
        if texts[i] is text:
            return i
    for i in range(start, end):
        if texts[i] == text:
            return i
    return None


def join_pieces(
    pieces: list[tuple[int, int, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(kept indices, ids, offsets)`` from encoded pieces (in order)."""
    import numpy as np

    if len(pieces) == 1:
        start, end, ids, offsets = pieces[0]
        return np.arange(start, end), ids, offsets
    if not pieces:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32), np.zeros(1, dtype=np.int64)
    kept = np.concatenate([np.arange(s, e) for s, e, _, _ in pieces])
    ids = np.concatenate([i[o[0] : o[-1]] for _, _, i, o in pieces]).astype(np.uint32, copy=False)
    lengths = np.concatenate([np.diff(o) for _, _, _, o in pieces])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return kept, ids, offsets


def failure_of(err: Exception | None, number: int, source: str, text: str | None, problem: str | None = None) -> Failure:
    """The :class:`Failure` for record ``number``: a tokenization error ``err``, or (``err=None``)
    an unreadable record and its ``problem``; ``hint`` is set only for marker errors."""
    from chemtok.errors import MarkerError, TokenizationError

    if err is None:  # an unreadable record
        position = None
        if problem and " at byte " in problem:
            try:
                position = int(problem.split(" at byte ", 1)[1].split(":", 1)[0])
            except ValueError:
                position = None
        return Failure(number, source, problem or "unreadable record", position, None, None)
    lines = str(err).splitlines()
    failure = Failure(number, source, lines[0], getattr(err, "position", None), text, getattr(err, "modality", None))
    if isinstance(err, TokenizationError):
        failure.excerpt = "\n".join(lines[1:3])
        # Only the marker rule has advice that holds for any record. Whether byte
        # fallback would help depends on how foreign the record is to the grammar and
        # whether it is of another modality: chemtok.io.columns.failure_hint decides,
        # for the failures the caller shows (it tokenizes with every grammar: too dear
        # to run for each failure of a skip run).
        if isinstance(err, MarkerError):
            failure.hint = "Markers must pair up; pass --no-strict-markers to keep unknown or unbalanced markers as text."
    return failure



@dataclass
class Counts:
    read: int = 0
    written: int = 0
    failed: int = 0
    tokens: int = 0
    shown: int = 0


@dataclass
class Encoded:
    """One chunk after encoding: rows to write and failures to report, in record order."""

    kept: np.ndarray  # indices into the chunk of the rows written
    ids: np.ndarray
    offsets: np.ndarray
    failures: list[Failure]
    stop: Failure | None = None  # under raise: the failure that ends the run
    stop_index: int = 0


def _encode_arrow(encoder: Encoder, texts: ArrowTexts) -> Encoded | None:
    """Encode an Arrow chunk on the native engine without a Python string per record.

    ``None`` when the engine is not native, or when a row failed: the caller then
    encodes the chunk's strings as usual, so that failures carry the same messages,
    positions and policies as for every other reader.
    """
    import numpy as np

    if getattr(encoder.tok, "native_engine", None) is None:
        return None
    batch = encoder.tok.encode_arrow(texts.array, on_error=encoder.policy, num_threads=encoder.num_threads)
    if batch.column("error").null_count != batch.num_rows:
        return None
    ids = batch.column("ids")
    offsets = np.asarray(ids.offsets, dtype=np.int64)
    flat = np.asarray(ids.values, dtype=np.uint32)[offsets[0] : offsets[-1]]
    return Encoded(np.arange(len(texts)), flat, offsets - offsets[0], [])


def encode_chunk(encoder: Encoder, chunk: Chunk, path: str, policy: str) -> Encoded:
    import numpy as np

    if isinstance(chunk.texts, ArrowTexts) and not chunk.problems:
        fast = _encode_arrow(encoder, chunk.texts)
        if fast is not None:
            return fast
        chunk.texts = chunk.texts.to_list()
    texts = chunk.texts
    numbers = chunk.numbers
    if policy == "raise":
        # Encode up to the first unreadable record; stop at the first failure.
        end = min(chunk.problems) if chunk.problems else len(texts)
        pieces, failures = encoder.encode_checked(texts[:end], stop_at_first=True)  # type: ignore[arg-type]
        kept, ids, offsets = join_pieces(pieces)
        if failures:
            index, err = failures[0]
            stop = failure_of(err, numbers[index], path, texts[index])
            return Encoded(kept, ids, offsets, [], stop, index)
        if end < len(texts):
            stop = failure_of(None, numbers[end], path, None, chunk.problems[end][0])
            return Encoded(kept, ids, offsets, [], stop, end)
        return Encoded(kept, ids, offsets, [])
    if chunk.problems:
        valid = [i for i, t in enumerate(texts) if t is not None]
        pieces, found = encoder.encode_checked([texts[i] for i in valid], stop_at_first=False)  # type: ignore[misc]
        kept_valid, ids, offsets = join_pieces(pieces)
        kept = np.asarray(valid, dtype=np.int64)[kept_valid]
        found = [(valid[i], err) for i, err in found]
    else:
        pieces, found = encoder.encode_checked(texts, stop_at_first=False)  # type: ignore[arg-type]
        kept, ids, offsets = join_pieces(pieces)
    bad = [(i, failure_of(err, numbers[i], path, texts[i])) for i, err in found]
    bad += [(i, failure_of(None, numbers[i], path, None, why)) for i, (why, _) in chunk.problems.items()]
    bad.sort(key=lambda item: item[0])
    return Encoded(kept, ids, offsets, [failure for _, failure in bad])


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
) -> Iterator[tuple[int, str, Chunk, Encoded]]:
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
            entry = {
                "record": failure.record,
                "input": failure.source,
                "error": failure.error,
                "position": failure.position,
                "modality": failure.modality,
                "text": failure.text,
            }
            errors_file.write(json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n")
        if on_failure is not None:
            on_failure(failure)

    try:
        writer = open_writer(
            output,
            metadata=metadata,
            sources=list(inputs),
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
                background.write(records, source_index, done.ids, done.offsets)
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
