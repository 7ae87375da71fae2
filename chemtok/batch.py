"""Encode a batch of marked texts: each modality's segments in one call, the first failure in input order.

:meth:`ChemTokenizer.encode <chemtok.router.ChemTokenizer.encode>` and
:meth:`~chemtok.router.ChemTokenizer.encode_batch` both come here. The texts are split
at their markers, every SMILES (InChI, protein, DNA) segment of the whole batch goes
to its tokenizer in one ``encode_batch`` call and every text segment to the text model
in one, and the local ids are mapped into the router's id space. When a segment
fails, the error raised is the one ``encode`` of its text gives: re-anchored in the
whole text and, for a batch, naming the text's index.

When the compiled core runs every part of the router (each modality tokenizer on the
native engine and a text model on the native byte-level BPE), the whole batch runs in
Rust instead (:func:`router_engine`, ``chemtok._native.RouterEngine``): marker scanning,
dispatch and id offsets in one pass per text, in parallel, with the GIL released. The
Python path above stays the definition: a text the core refuses, or one holding a lone
surrogate, is encoded (or its error raised) by that path, so ids and errors are the same.

Example:
    >>> import chemtok
    >>> from chemtok.batch import encode_rows
    >>> tok = chemtok.ChemTokenizer()
    >>> texts = ["Ethanol [START_SMILES]CCO[END_SMILES]", "Insulin [START_AMINO]GIVEQ[END_AMINO]"]
    >>> encode_rows(tok, texts, "raise", None, batched=True) == [tok.encode(t) for t in texts]
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chemtok.annotate import annotate_batch_with_insertions
from chemtok.base import OnError
from chemtok.errors import MarkerError, TokenizationError
from chemtok.rows import collector_paused, rows_to_arrays, splice_rows

if TYPE_CHECKING:
    from chemtok._native import Engine, RouterEngine
    from chemtok.idspace import TextRun
    from chemtok.markers import Segment
    from chemtok.router import ChemTokenizer

__all__ = ["encode_detected_rows", "encode_rows", "encode_arrays", "router_engine"]


def router_engine(chem: ChemTokenizer) -> RouterEngine | None:
    """The Rust router for ``chem``, or ``None`` when some part of it is not native.

    Native means: the compiled core is built, the text model runs on the native
    byte-level BPE (``chem.text.engine == "native"``), no modality tokenizer was asked
    for ``engine="python"``, and the marker table's pattern translates to the core's
    regex engine (and no pair pads its content). Otherwise ``chem`` keeps the Python
    path of this module. Under ``detect=True`` the router encodes the texts once
    detection has marked them (:func:`encode_detected_rows`). A modality
    tokenizer the core cannot run (:func:`chemtok.native.supports` is false, e.g. a
    compact SMILES model without its atom-level vocabulary) leaves only the texts
    holding its markers there. SELFIES runs in the core like the other modalities.

    Example:
        >>> import chemtok
        >>> from chemtok.batch import router_engine
        >>> engine = router_engine(chemtok.ChemTokenizer(engine="python"))
        >>> engine is None  # a modality tokenizer on the Python engine
        True
    """
    from chemtok import native

    if not native.available() or chem.text.engine != "native":
        return None
    # Padded pairs (content spaces read as text) keep the Python path: the core does
    # not implement them.
    if any(p.pad for p in chem.markers.pairs):
        return None
    text_engine = chem.text.native_engine
    if text_engine is None:
        return None
    # A modality tokenizer the core cannot run (no native engine on engine="auto") does
    # not stop the router: the core leaves each text holding one of its markers to this
    # module's Python path. A tokenizer asked for engine="python" keeps every text there.
    engines = [(name, tok, tok.native_engine) for name, tok in chem.modalities.items()]
    if any(tok.requested_engine == "python" for _, tok, _ in engines):
        return None
    modalities: list[tuple[str, Engine, list[int]]] = [
        (name, engine, list(chem.id_space.translation(name))) for name, _, engine in engines if engine is not None
    ]
    from chemtok._native import RouterEngine

    space = chem.id_space
    try:
        return RouterEngine(
            [(p.start, p.end, p.modality) for p in chem.markers.pairs],
            list(space.marker_ids.items()),
            chem.markers.unknown_marker_pattern,
            chem.strict_markers,
            modalities,
            text_engine,
            chem.block("text")[0],
            list(space.special_literals),
            len(chem),
        )
    except (ValueError, TypeError):  # e.g. a pattern the core cannot spell, a surrogate in a marker
        return None


def encode_rows(
    chem: ChemTokenizer, batch: list[str], policy: OnError, num_threads: int | None, *, batched: bool
) -> list[list[int]]:
    """Encode ``batch``, or raise the first failing text's error (``.index`` set if ``batched``).

    Through the Rust router when ``chem`` has one (see :func:`router_engine`).
    """
    engine = chem.native_engine
    if engine is None:
        return _reference_rows(chem, batch, policy, num_threads, batched=batched)
    if not batched:
        if len(batch) == 1 and isinstance(batch[0], str):
            row = engine.encode(batch[0], policy)
            if row is not None:
                return [row]
        return _reference_rows(chem, batch, policy, num_threads, batched=False)
    rows: list[list[int]] = []
    start = 0
    while True:
        part = batch if start == 0 else batch[start:]
        try:
            with collector_paused():
                got, deferred, failed = engine.encode_batch(part, policy, num_threads)
        except TypeError:  # a text that is not a str: the reference's own TypeError
            return _reference_rows(chem, batch, policy, num_threads, batched=True)
        for i in deferred:
            got[i] = _reference_row(chem, part[i], policy, start + i)
        if failed is None:
            if start == 0:
                return got
            rows.extend(got)
            return rows
        # The reference raises here (with the index); should it not, its row is the row.
        got[failed] = _reference_row(chem, part[failed], policy, start + failed)
        rows.extend(got[: failed + 1])
        start += failed + 1


def encode_arrays(chem: ChemTokenizer, batch: list[str], policy: OnError, num_threads: int | None) -> tuple[Any, Any]:
    """``encode_batch(..., return_arrays=True)``: ``(ids uint32, row_offsets int64)``.

    The Rust router's buffers as they are when every text encodes there; otherwise
    the rows of :func:`encode_rows` (which raises the first failing text's error).
    """
    engine = chem.native_engine
    if engine is not None:
        try:
            ids, offsets, deferred, failed = engine.encode_batch_arrays(batch, policy, num_threads)
        except TypeError:
            pass
        else:
            if failed is None:  # the texts left to the reference (surrogates, non-native modalities) spliced in
                return splice_rows(ids, offsets, {i: _reference_row(chem, batch[i], policy, i) for i in deferred})
    return rows_to_arrays(encode_rows(chem, batch, policy, num_threads, batched=True))


def encode_detected_rows(
    chem: ChemTokenizer, batch: list[str], policy: OnError, num_threads: int | None, *, batched: bool
) -> list[list[int]]:
    """``encode_rows`` of the annotated texts, each inserted marker given its transient id.

    The router emits one marker id per marker segment, in text order, so the k-th
    marker id of a row is the k-th marker of its annotated text. An error is the one
    the unannotated text gives (positions in the caller's text, not the annotated one).
    """
    annotated = annotate_batch_with_insertions(batch, markers=chem.markers, num_threads=num_threads)
    try:
        rows = encode_rows(chem, [a for a, _ in annotated], policy, num_threads, batched=batched)
    except TokenizationError:
        encode_rows(chem, batch, policy, num_threads, batched=batched)  # raises with the caller's positions
        raise
    markers = chem.id_space.marker_ids
    transient = chem.id_space.transient_ids
    marker_id_set = set(markers.values())
    literals = chem.markers.markers
    out: list[list[int]] = []
    for (text, insertions), ids, original in zip(annotated, rows, batch):
        if not insertions:
            out.append(ids)
            continue
        if not any(literal in original for literal in literals):
            # Every marker of the annotated text was inserted, so the row's marker ids
            # are the insertions in order: each one is found by a scan at C speed.
            row = _transient_in_order(ids, [(markers[i.marker], transient[i.marker]) for i in insertions])
            if row is not None:
                out.append(row)
                continue
        inserted = {i.position for i in insertions}
        found = [seg for seg in chem.split(text) if seg.modality == "marker"]
        starts = [seg.start for seg in found]
        marker_strings = [seg.text for seg in found]
        row = list(ids)
        k = 0
        for j, token_id in enumerate(row):
            if token_id in marker_id_set:
                if k < len(starts) and starts[k] in inserted:
                    row[j] = transient[marker_strings[k]]
                k += 1
        if k != len(starts):  # markers not one id each (cannot happen): no detection for this text
            row = encode_rows(chem, [original], policy, num_threads, batched=False)[0]
        out.append(row)
    return out


def _transient_in_order(ids: list[int], markers: list[tuple[int, int]]) -> list[int] | None:
    """``ids`` with its marker ids, in order, replaced by the transient ids of ``markers``
    (``(marker id, transient id)`` per inserted marker); ``None`` if they do not line up."""
    row = list(ids)
    position = 0
    try:
        for marker_id, transient_id in markers:
            position = row.index(marker_id, position)
            row[position] = transient_id
            position += 1
    except ValueError:  # pragma: no cover - the router emits one id per inserted marker
        return None
    return row


def _reference_row(chem: ChemTokenizer, text: str, policy: OnError, index: int) -> list[int]:
    """One text of a batch through the Python path; its error names ``index``."""
    try:
        return _reference_rows(chem, [text], policy, None, batched=False)[0]
    except TokenizationError as err:
        raise err.with_index(index) from None


def _reference_rows(
    chem: ChemTokenizer, batch: list[str], policy: OnError, num_threads: int | None, *, batched: bool
) -> list[list[int]]:
    """The Python path: split in Python, one ``encode_batch`` per modality, assembled here.

    Texts after the first marker error cannot fail earlier than it, so splitting
    stops there and only the texts before it are encoded; no text is encoded twice.
    """
    splits: list[list[Segment]] = []
    first: tuple[int, TokenizationError] | None = None
    for index, text in enumerate(batch):
        try:
            splits.append(chem.split(text))
        except MarkerError as err:
            first = (index, err)
            break
    rows, failure = _encode_split(chem, batch, splits, policy, num_threads)
    if failure is not None:  # always in a text before the marker error
        first = failure
    if first is None:
        return rows
    index, error = first
    raise (error.with_index(index) if batched else error) from None


def _encode_split(
    chem: ChemTokenizer, batch: list[str], splits: list[list[Segment]], policy: OnError, num_threads: int | None
) -> tuple[list[list[int]], tuple[int, TokenizationError] | None]:
    """Rows of the texts ``splits`` covers, or the first failure ``(text index, error)``.

    The first failure is the one at the smallest ``(text index, position)``. Each
    modality batch raises at its first failing segment, and segments are gathered in
    text order, so taking the smallest over the modalities and the text model finds
    it; after a failure in text ``t``, segments of later texts are not encoded.
    """
    # Gather each modality's segments across the batch: (text index, segment).
    by_modality: dict[str, list[tuple[int, Segment]]] = {}
    for index, segments in enumerate(splits):
        for segment in segments:
            if segment.modality not in ("marker", "text"):
                by_modality.setdefault(segment.modality, []).append((index, segment))
    first: _Failure | None = None
    encoded: dict[tuple[int, int], list[int]] = {}
    for modality, all_items in by_modality.items():
        items = all_items if first is None else [item for item in all_items if item[0] <= first.index]
        if not items:
            continue
        tok = chem.modalities[modality]
        try:
            local_rows = tok.encode_batch(
                [segment.text for _, segment in items], on_error=policy, num_threads=num_threads
            )
        except TokenizationError as err:
            index, segment = items[_failed_item(err, [segment.text for _, segment in items])]
            first = _Failure.earliest(first, index, _shifted(err, batch[index], segment.start))
            continue
        table = chem.id_space.translation(modality)
        for (index, segment), local in zip(items, local_rows):
            encoded[(index, segment.start)] = [table[i] for i in local]
    text_items = [
        (i, s)
        for i, segments in enumerate(splits)
        if first is None or i <= first.index
        for s in segments
        if s.modality == "text"
    ]
    text_ids, text_failure = _encode_text_segments(chem, batch, text_items, policy)
    if text_failure is not None:
        first = _Failure.earliest(first, *text_failure)
    if first is not None:
        return [], (first.index, first.error)
    encoded.update(text_ids)
    marker_ids = chem.id_space.marker_ids
    rows: list[list[int]] = []
    for index, segments in enumerate(splits):
        ids: list[int] = []
        for segment in segments:
            if segment.modality == "marker":
                ids.append(marker_ids[segment.text])
            else:
                ids.extend(encoded[(index, segment.start)])
        rows.append(ids)
    return rows, None


def _encode_text_segments(
    chem: ChemTokenizer, batch: list[str], items: list[tuple[int, Segment]], policy: OnError
) -> tuple[dict[tuple[int, int], list[int]], tuple[int, TokenizationError] | None]:
    """Encode every text segment of the batch in one text-model call.

    Returns the ids of each segment by ``(text index, start)``, or the first
    failure ``(text index, error)`` in the order of ``items``.
    """
    offset = chem.block("text")[0]
    pieces: list[str] = []  # plain runs for the text model
    piece_origin: list[tuple[int, int]] = []  # (text index, where the run starts)
    layout: list[tuple[tuple[int, int], list[TextRun]]] = []
    for index, segment in items:
        runs = chem.text_runs(segment.text, on_error=policy)
        for run in runs:
            if run.ids is None:
                pieces.append(run.text)
                piece_origin.append((index, segment.start + run.start))
        layout.append(((index, segment.start), runs))
    # The text model raises for a lone surrogate under "raise" and drops it under
    # "skip"; the first failing piece (in input order) names the text that failed.
    model_policy: OnError = "skip" if policy == "skip" else "raise"
    try:
        encoded = iter(chem.text.encode_batch(pieces, on_error=model_policy))
    except TokenizationError as err:
        index, start = piece_origin[_failed_item(err, pieces)]
        return {}, (index, _shifted(err, batch[index], start))
    result: dict[tuple[int, int], list[int]] = {}
    for key, runs in layout:
        ids: list[int] = []
        for run in runs:
            if run.ids is None:
                ids.extend(offset + i for i in next(encoded))
            else:
                ids.extend(run.ids)
        result[key] = ids
    return result, None


def _shifted(err: TokenizationError, text: str, offset: int) -> TokenizationError:
    """The same error, re-anchored in the whole input ``text`` (and without an index)."""
    shifted = type(err)(text, offset + err.position, err.modality, err.reason)
    return shifted


def _failed_item(err: TokenizationError, texts: Sequence[str]) -> int:
    """Which of the ``texts`` a batch call failed on: ``err.index``, or else the first
    text that is ``err.text`` (identity, then equality: equal texts fail alike)."""
    if err.index is not None:
        return err.index
    found = next((i for i, t in enumerate(texts) if t is err.text), None)
    if found is None:
        found = next((i for i, t in enumerate(texts) if t == err.text), 0)
    return found


@dataclass(frozen=True)
class _Failure:
    """A failing text of a batch: its index and its error, placed in the whole text."""

    index: int
    error: TokenizationError

    @staticmethod
    def earliest(current: _Failure | None, index: int, error: TokenizationError) -> _Failure:
        """The earlier failure by ``(text index, position)``: what ``encode`` of the text meets first."""
        if current is None or (index, error.position) < (current.index, current.error.position):
            return _Failure(index, error)
        return current
