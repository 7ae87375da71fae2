"""Insert markers around the chemistry :mod:`chemtok.detect` finds in unmarked text.

:func:`annotate` returns the text with ``[START_SMILES]``...``[END_SMILES]`` (or the
pair of another marker table) around each detected SMILES, InChI, protein and DNA/RNA
string, and nothing else changed: removing the inserted markers gives back the input
exactly. Text already inside markers is left alone. The result is what
:class:`~chemtok.ChemTokenizer` routes.

Example:
    >>> import chemtok
    >>> chemtok.annotate("Its SMILES is CCO.")
    'Its SMILES is [START_SMILES]CCO[END_SMILES].'
    >>> chemtok.annotate("Already [START_SMILES]CCO[END_SMILES], and CC(=O)O.")
    'Already [START_SMILES]CCO[END_SMILES], and [START_SMILES]CC(=O)O[END_SMILES].'
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from chemtok.detect import DETECTABLE, Detector, Span, get_detector
from chemtok.dialects import load_markers
from chemtok.markers import MarkerMatcher, MarkerPair, MarkerTable

__all__ = [
    "Insertion",
    "annotate",
    "annotate_batch",
    "annotate_batch_with_insertions",
    "annotate_with_insertions",
    "convert_markers",
    "resolve_markers",
    "text_spans",
]


def resolve_markers(markers: MarkerTable | str | None) -> MarkerTable:
    """The marker table a ``markers=`` option names.

    ``None`` and ``"galactica"`` are the shipped ``grammars/markers.toml``; a
    :class:`~chemtok.markers.MarkerTable` is used as it is; any other string goes to
    :func:`chemtok.dialects.load_markers` (a path to a table, or a dialect name where
    the loader knows it).

    Example:
        >>> from chemtok.annotate import resolve_markers
        >>> resolve_markers("galactica").pairs[0].start
        '[START_SMILES]'
    """
    if markers is None or markers == "galactica":
        return load_markers()
    if isinstance(markers, MarkerTable):
        return markers
    if isinstance(markers, str):
        return load_markers(markers)
    raise TypeError(f"markers must be a MarkerTable, a dialect name or a path, got {type(markers).__name__}")


@dataclass(frozen=True)
class Insertion:
    """One marker :func:`annotate_with_insertions` put in: ``marker`` at ``position`` of the output."""

    position: int
    marker: str


@functools.lru_cache(maxsize=16)
def _pairs(table: MarkerTable) -> Mapping[str, MarkerPair]:
    """The pair that marks each modality: the first of the table naming it."""
    chosen: dict[str, MarkerPair] = {}
    for pair in table.pairs:
        chosen.setdefault(pair.modality, pair)
    return chosen


@functools.lru_cache(maxsize=16)
def _matcher(table: MarkerTable) -> MarkerMatcher:
    return MarkerMatcher(table, strict=False)


@functools.lru_cache(maxsize=16)
def _start_probes(table: MarkerTable) -> tuple[str, ...]:
    """Strings one of which every start marker of ``table`` begins with (``"[START_"``, ``"<work>"``).

    The start markers grouped by first character, each group's common prefix: a text
    holding none of these holds no start marker, so no pair can open in it.
    """
    groups: dict[str, list[str]] = {}
    for pair in table.pairs:
        groups.setdefault(pair.start[:1], []).append(pair.start)
    return tuple(_common_prefix(group) for group in groups.values())


def _common_prefix(strings: list[str]) -> str:
    # The common prefix of all is that of the first and last in sorted order.
    first, last = min(strings), max(strings)
    n = 0
    while n < len(first) and first[n] == last[n]:
        n += 1
    return first[:n]


def text_spans(text: str, table: MarkerTable) -> list[tuple[int, int]]:
    """``(start, end)`` of the parts of ``text`` outside every marker pair of ``table``.

    Markers that do not pair up are text (as ``strict_markers=False`` reads them).

    Example:
        >>> from chemtok.annotate import text_spans
        >>> from chemtok.dialects import load_markers
        >>> text_spans("a [START_SMILES]C[END_SMILES] b", load_markers())
        [(0, 2), (29, 31)]
    """
    if not any(probe in text for probe in _start_probes(table)):
        # No pair can open: the whole text is one part, as the matcher would split it.
        return [(0, len(text))] if text else []
    starts = {p.start for p in table.pairs}
    out: list[tuple[int, int]] = []
    depth = 0
    for segment in _matcher(table).split(text):
        if segment.modality == "marker":
            depth += 1 if segment.text in starts else -1
        elif depth == 0:
            out.append((segment.start, segment.end))
    return out


def _insert(text: str, spans: list[Span], pairs: Mapping[str, MarkerPair]) -> tuple[str, list[Insertion]]:
    """``text`` with each span's pair of markers around it, and the insertions made."""
    out: list[str] = []
    insertions: list[Insertion] = []
    pos = 0
    length = 0
    for span in spans:
        pair = pairs.get(span.modality)
        if pair is None:  # the table has no marker for it: leave it as text
            continue
        out.append(text[pos : span.start])
        length += span.start - pos
        insertions.append(Insertion(length, pair.start))
        out.append(pair.start)
        length += len(pair.start)
        out.append(text[span.start : span.end])
        length += span.end - span.start
        insertions.append(Insertion(length, pair.end))
        out.append(pair.end)
        length += len(pair.end)
        pos = span.end
    out.append(text[pos:])
    return "".join(out), insertions


def _shifted(spans: list[Span], offset: int) -> list[Span]:
    if not offset:
        return spans
    return [Span(s.start + offset, s.end + offset, s.modality, s.score, s.cue) for s in spans]


def annotate_with_insertions(
    text: str,
    *,
    modalities: Collection[str] = DETECTABLE,
    markers: MarkerTable | str | None = None,
    min_length: int | Mapping[str, int] | None = None,
    rdkit: bool = False,
    detector: Detector | None = None,
) -> tuple[str, list[Insertion]]:
    """:func:`annotate`, also returning each inserted marker and its position in the output.

    ``detector`` replaces the one ``modalities``, ``min_length`` and ``rdkit`` describe.

    Deleting the insertions (from the last to the first) gives back ``text``.

    Example:
        >>> from chemtok.annotate import annotate_with_insertions
        >>> annotate_with_insertions("SMILES: CCO")[1]
        [Insertion(position=8, marker='[START_SMILES]'), Insertion(position=25, marker='[END_SMILES]')]
    """
    if not isinstance(text, str):
        raise TypeError(f"annotate expects str, got {type(text).__name__}")
    return annotate_batch_with_insertions(
        [text],
        modalities=modalities,
        markers=markers,
        min_length=min_length,
        rdkit=rdkit,
        detector=detector,
        num_threads=1,
    )[0]


def annotate_batch_with_insertions(
    texts: Iterable[str],
    *,
    modalities: Collection[str] = DETECTABLE,
    markers: MarkerTable | str | None = None,
    min_length: int | Mapping[str, int] | None = None,
    rdkit: bool = False,
    detector: Detector | None = None,
    num_threads: int | None = None,
) -> list[tuple[str, list[Insertion]]]:
    """:func:`annotate_with_insertions` of every text, detected in one batch.

    Example:
        >>> from chemtok.annotate import annotate_batch_with_insertions
        >>> [len(ins) for _, ins in annotate_batch_with_insertions(["SMILES: CCO", "no chemistry"])]
        [2, 0]
    """
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"annotate expects str, got {type(text).__name__} at index {i}")
    table = resolve_markers(markers)
    if detector is None:
        detector = get_detector(modalities=modalities, min_length=min_length, rdkit=rdkit)
    pairs = _pairs(table)
    parts = [text_spans(text, table) for text in texts]
    pieces = [
        text if (start, end) == (0, len(text)) else text[start:end]
        for text, spans in zip(texts, parts)
        for start, end in spans
    ]
    found = iter(detector.detect_batch(pieces, num_threads=num_threads))
    out = []
    for text, spans in zip(texts, parts):
        detected: list[Span] = []
        for start, _ in spans:
            detected.extend(_shifted(next(found), start))
        out.append(_insert(text, detected, pairs) if detected else (text, []))
    return out


def annotate_batch(
    texts: Iterable[str],
    *,
    modalities: Collection[str] = DETECTABLE,
    markers: MarkerTable | str | None = None,
    min_length: int | Mapping[str, int] | None = None,
    rdkit: bool = False,
    num_threads: int | None = None,
) -> list[str]:
    """:func:`annotate` of every text: ``[annotate(t) for t in texts]``, much faster.

    The parts of all texts outside markers are detected in one batch; the native
    detector runs them in parallel with the GIL released (``num_threads=None``: every
    core). Options as :func:`annotate`.

    Example:
        >>> from chemtok.annotate import annotate_batch
        >>> annotate_batch(["Ethanol, CCO, is a solvent.", "SMILES: CCO"])
        ['Ethanol, CCO, is a solvent.', 'SMILES: [START_SMILES]CCO[END_SMILES]']
    """
    batch = annotate_batch_with_insertions(
        texts, modalities=modalities, markers=markers, min_length=min_length, rdkit=rdkit, num_threads=num_threads
    )
    return [annotated for annotated, _ in batch]


def annotate(
    text: str,
    *,
    modalities: Collection[str] = DETECTABLE,
    markers: MarkerTable | str | None = None,
    min_length: int | Mapping[str, int] | None = None,
    rdkit: bool = False,
) -> str:
    """Mark each SMILES, reaction SMILES, InChI, protein and DNA/RNA string of ``text``.

    Detection is :class:`chemtok.detect.Detector`'s: grammar-driven, with context
    (``SMILES: CCO``, a molecule alone on a line or in a table cell) deciding the
    strings with little structure, and formulas, abbreviations and gene names left
    alone. Only markers are inserted: removing them gives back ``text``; text already
    inside markers of ``markers`` is not touched.

    Args:
        text: unmarked or partly marked text.
        modalities: which of ``"smiles"``, ``"inchi"``, ``"protein"``, ``"dna"`` to mark.
        markers: the marker table to write (``None``/``"galactica"``: ``grammars/markers.toml``;
            a :class:`~chemtok.markers.MarkerTable`; a name or path
            :func:`chemtok.dialects.load_markers` reads). Each modality gets the table's
            first pair for it; a modality the table has no pair for stays unmarked.
        min_length: minimum characters of a detected span (see :class:`~chemtok.detect.Detector`).
        rdkit: keep a SMILES only if RDKit parses it (needs RDKit).

    Example:
        >>> import chemtok
        >>> chemtok.annotate("Aspirin (CC(=O)Oc1ccccc1C(=O)O) inhibits COX-1.")
        'Aspirin ([START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES]) inhibits COX-1.'
    """
    return annotate_with_insertions(text, modalities=modalities, markers=markers, min_length=min_length, rdkit=rdkit)[0]


def convert_markers(text: str, *, source: MarkerTable | str | None, target: MarkerTable | str | None) -> str:
    """Rewrite the markers of dialect ``source`` in ``text`` as those of dialect ``target``.

    Each marker pair of ``source`` around a grammar modality (SMILES, InChI, protein,
    DNA, SELFIES) becomes ``target``'s first pair for that modality; the content between
    them is kept exactly. Markers of text containers (``[START_REF]``, ``<IUPAC>``), of a
    modality ``target`` has no pair for, and markers that do not pair up are left as
    they are: they stay in the text, nothing is dropped.

    Args:
        text: text marked in dialect ``source``.
        source: the dialect the text is in (a name, a table file, or a
            :class:`~chemtok.markers.MarkerTable`; ``None`` is Galactica's).
        target: the dialect to write.

    Example:
        >>> from chemtok.annotate import convert_markers
        >>> convert_markers("Ethanol [START_SMILES]CCO[END_SMILES].", source="galactica", target="tags")
        'Ethanol <SMILES>CCO</SMILES>.'
        >>> convert_markers("<bom>[C][O]<eom>", source="biot5", target="galactica")
        '[START_SELFIES][C][O][END_SELFIES]'
    """
    if not isinstance(text, str):
        raise TypeError(f"convert_markers expects str, got {type(text).__name__}")
    old, new = resolve_markers(source), resolve_markers(target)
    if old == new:
        return text
    written = {m: pair for m, pair in _pairs(new).items() if m != "text"}
    by_start = {pair.start: pair for pair in old.pairs}
    by_end = {pair.end: pair for pair in old.pairs}
    out: list[str] = []
    for segment in _matcher(old).split(text):
        if segment.modality != "marker":
            out.append(segment.text)
            continue
        opened = by_start.get(segment.text)
        pair = opened if opened is not None else by_end.get(segment.text)
        replacement = written.get(pair.modality) if pair is not None else None
        if replacement is None:
            out.append(segment.text)
        else:
            out.append(replacement.start if opened is not None else replacement.end)
    return "".join(out)
