"""Encode a batch of marked texts: each modality's segments in one call, the first failure in input order.

:meth:`ChemTokenizer.encode <chemtok.router.ChemTokenizer.encode>` and
:meth:`~chemtok.router.ChemTokenizer.encode_batch` both come here. The texts are split
at their markers, every SMILES (InChI, protein, DNA) segment of the whole batch goes
to its tokenizer in one ``encode_batch`` call and every text segment to the text model
in one, and the local ids are mapped into the router's id space. When a segment
fails, the error raised is the one ``encode`` of its text gives: re-anchored in the
whole text and, for a batch, naming the text's index.

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
from typing import TYPE_CHECKING

from chemtok.base import OnError
from chemtok.errors import MarkerError, TokenizationError

if TYPE_CHECKING:
    from chemtok.idspace import TextRun
    from chemtok.markers import Segment
    from chemtok.router import ChemTokenizer

__all__ = ["encode_rows"]


def encode_rows(
    chem: ChemTokenizer, batch: list[str], policy: OnError, num_threads: int | None, *, batched: bool
) -> list[list[int]]:
    """Encode ``batch``, or raise the first failing text's error (``.index`` set if ``batched``).

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
