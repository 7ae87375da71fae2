"""Encode one chunk of records and isolate the ones that fail, with their numbers.

:class:`Encoder` runs a tokenizer over a chunk's texts in one batch call; when the
batch raises, the failing record is found from the error's ``.index`` and the rest of
the chunk is encoded around it, so one bad record never costs its neighbours.
:func:`encode_chunk` returns an :class:`Encoded` (the rows to write, the failures to
report, and under ``raise`` the failure that stops the run); :func:`failure_of` turns
an error into a :class:`Failure` the command line can print. An Arrow chunk on the
native engine goes through ``encode_arrow`` without a Python string per record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chemtok.io.readers import ArrowTexts, Chunk

if TYPE_CHECKING:
    import numpy as np



__all__ = ["Encoded", "Encoder", "Failure", "encode_chunk", "failure_of", "join_pieces"]


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
            arrays: tuple[np.ndarray, np.ndarray] = self.tok.encode_batch(
                texts, on_error=self.policy, num_threads=self.num_threads, return_arrays=True
            )
            return arrays
        from chemtok.rows import rows_to_arrays

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
                end = min(end, *later)
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


def _read_texts(texts: list[str | None]) -> list[str]:
    """``texts`` of records that were all read (an unreadable one is in ``chunk.problems``)."""
    read = [t for t in texts if t is not None]
    if len(read) != len(texts):  # pragma: no cover - the readers keep problems and None together
        raise RuntimeError("an unreadable record is missing from chunk.problems")
    return read


def encode_chunk(encoder: Encoder, chunk: Chunk, path: str, policy: str) -> Encoded:
    import numpy as np

    texts = chunk.texts
    if isinstance(texts, ArrowTexts):
        fast = _encode_arrow(encoder, texts) if not chunk.problems else None
        if fast is not None:
            return fast
        texts = chunk.texts = texts.to_list()
    numbers = chunk.numbers
    if policy == "raise":
        # Encode up to the first unreadable record; stop at the first failure.
        end = min(chunk.problems) if chunk.problems else len(texts)
        pieces, failures = encoder.encode_checked(_read_texts(texts[:end]), stop_at_first=True)
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
        present = [(i, t) for i, t in enumerate(texts) if t is not None]
        valid = [i for i, _ in present]
        pieces, found = encoder.encode_checked([t for _, t in present], stop_at_first=False)
        kept_valid, ids, offsets = join_pieces(pieces)
        kept = np.asarray(valid, dtype=np.int64)[kept_valid]
        found = [(valid[i], err) for i, err in found]
    else:
        pieces, found = encoder.encode_checked(_read_texts(texts), stop_at_first=False)
        kept, ids, offsets = join_pieces(pieces)
    bad = [(i, failure_of(err, numbers[i], path, texts[i])) for i, err in found]
    bad += [(i, failure_of(None, numbers[i], path, None, why)) for i, (why, _) in chunk.problems.items()]
    bad.sort(key=lambda item: item[0])
    return Encoded(kept, ids, offsets, [failure for _, failure in bad])
