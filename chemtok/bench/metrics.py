"""Token-efficiency metrics: pure functions over strings, token spans and unit spans.

These are the definitions behind ``chemtok bench`` (:mod:`chemtok.bench`), kept apart
so that each one can be read, tested on hand-made inputs and reused. A *span* is a
half-open character range ``(start, end)`` into the record, in Python ``str``
indices (code points), the convention of :class:`chemtok.Encoding` offsets.

Chemical units:

* **SMILES lexemes** (:func:`smiles_lexeme_spans`): the top-level lexemes of the
  atom-level grammar: an organic-subset or aromatic atom (``Cl``, ``c``), ``*``, a
  bond (``=``, ``#``, ``/``, RDKit's dative ``->``), ``(``, ``)``, ``.``, a ring
  closure (``1``, ``%10``, ``%(123)``), the reaction arrows ``>`` and ``>>``, and a
  *whole* bracket atom ``[C@@H]``/``[CH3:12]`` as one unit. A character no rule
  covers (``f`` in an invalid SMILES) is a unit of its own.
* **InChI layers** (:func:`inchi_layer_spans`): the prefix up to the first ``/``,
  then one unit per ``/``-started layer (``/C9H8O4``, ``/c1-6...``, ``/h2-5H``); a
  sub-layer such as the ``/h`` after ``/i`` or ``/f`` is a unit of its own.

Alignment of tokens to units (:func:`unit_alignment`):

* a token is **inside** one unit (``atom_alignment`` for SMILES lexemes,
  ``layer_alignment`` for InChI layers) when its span lies within a single unit's
  span: GPT-2's ``cc`` in ``c1ccccc1`` spans two aromatic atoms and is *not*
  aligned; ``@@`` inside ``[C@@H]`` is;
* a token is **boundary-aligned** when it starts and ends on unit boundaries, i.e.
  it is a whole number of consecutive units (``cc`` is; ``@@`` is not);
* a token is **intact** (cuts no unit) when it is either: inside one unit, or a whole
  number of units. This is the guarantee of chemtok's atom-level and compact models
  (100%); GPT-2's ``](`` in ``[nH](`` is neither and cuts the bracket atom;
* zero-width tokens (Llama 2's lone dummy-prefix ``▁``, and the pieces of a character
  split over several tokens that do not complete it) carry no character of the input:
  they are left out of both counts and reported separately;
* only tokens that overlap some unit are counted, so that in mixed text the SMILES
  alignment looks at the tokens that touch a SMILES span (a token that runs from a
  marker into the SMILES counts, and is not aligned).

Example:
    >>> from chemtok.bench.metrics import smiles_lexeme_spans, unit_alignment
    >>> units = smiles_lexeme_spans("c1ccccc1")
    >>> gpt2 = [(0, 1), (1, 2), (2, 4), (4, 6), (6, 7), (7, 8)]   # c 1 cc cc c 1
    >>> unit_alignment(gpt2, units)
    Alignment(counted=6, inside=4, on_boundaries=6, intact=6)
    >>> unit_alignment(gpt2, units).inside_rate
    0.6666666666666666
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chemtok.smiles import SmilesLexer

__all__ = [
    "Alignment",
    "SegmentCounts",
    "Span",
    "inchi_layer_spans",
    "percentile",
    "rate",
    "segment_token_counts",
    "smiles_lexeme_spans",
    "spans_tile",
    "unit_alignment",
]

Span = tuple[int, int]


def rate(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` when nothing was counted.

    Example:
        >>> rate(3, 4), rate(0, 0)
        (0.75, None)
    """
    return numerator / denominator if denominator else None


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation, as ``numpy.percentile``.

    Example:
        >>> percentile([1, 2, 3, 4], 50), percentile([1, 2, 3, 4], 95)
        (2.5, 3.85)
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


# -- chemical units -------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _smiles_lexer() -> SmilesLexer:
    from chemtok.grammar import load_smiles_grammar
    from chemtok.smiles import SmilesLexer

    return SmilesLexer(load_smiles_grammar())


def smiles_lexeme_spans(smiles: str) -> list[Span]:
    """Split a SMILES (or reaction SMILES) into its atom-level lexeme spans.

    A bracket atom is one lexeme however it is spelled by a tokenizer; ``%10`` and
    ``%(123)`` are one ring closure; ``->`` and ``>>`` are one lexeme each. The spans
    tile the string: every character belongs to exactly one lexeme.

    Example:
        >>> s = "C[C@@H](N)C%10>>O"
        >>> [s[a:b] for a, b in smiles_lexeme_spans(s)]
        ['C', '[C@@H]', '(', 'N', ')', 'C', '%10', '>>', 'O']
    """
    from chemtok.base import NoRule

    lexer = _smiles_lexer()
    top = lexer.top
    bracket_open = lexer.grammar.bracket_open
    spans: list[Span] = []
    pos, n = 0, len(smiles)
    while pos < n:
        end = pos + 1  # a character no rule covers is a unit of its own
        if smiles.startswith(bracket_open, pos):
            with contextlib.suppress(NoRule):  # an unclosed bracket: "[" alone is the unit
                end = lexer.bracket_parts(smiles, pos)[0]
        else:
            m = top.match(smiles, pos)
            if m:
                end = m.end()
        spans.append((pos, end))
        pos = end
    return spans


def inchi_layer_spans(inchi: str) -> list[Span]:
    """Split an InChI into layers: the prefix, then one span per ``/``-started layer.

    Example:
        >>> s = "InChI=1S/CH4O/c1-2/h2H,1H3"
        >>> [s[a:b] for a, b in inchi_layer_spans(s)]
        ['InChI=1S', '/CH4O', '/c1-2', '/h2H,1H3']
    """
    starts = [0] + [i for i, ch in enumerate(inchi) if ch == "/" and i > 0]
    ends = starts[1:] + [len(inchi)]
    return [(a, b) for a, b in zip(starts, ends) if b > a]


# -- alignment --------------------------------------------------------------------------


@dataclass(frozen=True)
class Alignment:
    """How a record's tokens sit on its units.

    Attributes:
        counted: non-zero-width tokens that overlap at least one unit.
        inside: of those, tokens whose span lies within a single unit.
        on_boundaries: of those, tokens that start and end on unit boundaries.
        intact: of those, tokens that cut no unit (inside one, or on boundaries).
    """

    counted: int
    inside: int
    on_boundaries: int
    intact: int

    @property
    def inside_rate(self) -> float:
        """``inside / counted`` (``nan`` when nothing was counted)."""
        return self.inside / self.counted if self.counted else math.nan

    @property
    def boundary_rate(self) -> float:
        """``on_boundaries / counted`` (``nan`` when nothing was counted)."""
        return self.on_boundaries / self.counted if self.counted else math.nan

    @property
    def intact_rate(self) -> float:
        """``intact / counted`` (``nan`` when nothing was counted)."""
        return self.intact / self.counted if self.counted else math.nan

    def __add__(self, other: Alignment) -> Alignment:
        return Alignment(
            self.counted + other.counted,
            self.inside + other.inside,
            self.on_boundaries + other.on_boundaries,
            self.intact + other.intact,
        )


def unit_alignment(token_spans: Iterable[Span], unit_spans: Sequence[Span]) -> Alignment:
    """Count tokens inside one unit and tokens on unit boundaries.

    Args:
        token_spans: the tokens' character spans, in order (starts never decrease).
        unit_spans: the units' spans, sorted and non-overlapping (they need not tile
            the text: in mixed text only the SMILES spans have units).

    Returns:
        The counts; zero-width tokens and tokens that touch no unit are not counted.

    Example:
        >>> units = [(0, 1), (1, 7), (7, 8)]          # C [C@@H] C
        >>> unit_alignment([(0, 1), (1, 2), (2, 3), (3, 5), (5, 6), (6, 8)], units)
        Alignment(counted=6, inside=5, on_boundaries=1, intact=5)
    """
    boundaries = {a for a, _ in unit_spans}
    boundaries.update(b for _, b in unit_spans)
    last = len(unit_spans) - 1
    counted = inside = on_boundaries = intact = 0
    j = 0  # the first unit that does not end before the current token starts
    for start, end in token_spans:
        if end <= start:
            continue
        while j <= last and unit_spans[j][1] <= start:
            j += 1
        if j > last:
            continue
        unit_start, unit_end = unit_spans[j]
        if unit_start <= start:
            within = end <= unit_end
        elif unit_start < end:  # starts outside every unit and runs into this one
            within = False
        else:
            continue
        counted += 1
        inside += within
        whole = start in boundaries and end in boundaries
        on_boundaries += whole
        intact += within or whole
    return Alignment(counted, inside, on_boundaries, intact)


# -- token spans ------------------------------------------------------------------------


def spans_tile(text: str, spans: Sequence[Span]) -> bool:
    """Whether ``spans`` tile ``text``: in order, without gaps or overlaps, from 0 to ``len(text)``.

    The offsets of ``encode_with_offsets`` (and the baselines' offsets after
    :func:`chemtok.encoding.tile_text_model_offsets`) do, zero-width spans included: a
    character split over several tokens belongs to the one that completes it. Spans
    that do not tile do not map onto the original string, and span-based metrics of
    that record cannot be trusted.

    Example:
        >>> spans_tile("aé", [(0, 1), (1, 1), (1, 2)])   # é in two byte tokens
        True
        >>> spans_tile("aé", [(0, 1), (1, 2), (1, 2)])   # both pieces claim é
        False
    """
    pos = 0
    for start, end in spans:
        if start != pos or end < start:
            return False
        pos = end
    return pos == len(text)


# -- mixed text -------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentCounts:
    """Where a mixed-text record's tokens went.

    Attributes:
        marker: tokens within a marker (``[START_SMILES]`` ...).
        inside: tokens within marked content (SMILES, InChI, protein, DNA spans).
        outside: tokens within plain text (outside markers, or inside the text-only
            containers ``[START_REF]`` and ``<work>``).
        crossing: tokens whose span crosses a segment boundary (e.g. ``](`` made of a
            marker's last character and the first SMILES character).
        inside_by_modality: ``inside`` split by the content's modality.
    """

    marker: int
    inside: int
    outside: int
    crossing: int
    inside_by_modality: dict[str, int]


def segment_token_counts(token_spans: Sequence[Span], segments: Sequence[tuple[str, int, int]]) -> SegmentCounts:
    """Attribute tokens to the segments of a mixed-text record by their spans.

    Args:
        token_spans: the tokens' spans in the record, in order.
        segments: ``(modality, start, end)`` tiling the record, as from
            :meth:`chemtok.ChemTokenizer.split` (modality ``"marker"`` for markers,
            ``"text"`` for plain text).

    A zero-width token counts in the segment that contains its position.

    Example:
        >>> segs = [("text", 0, 4), ("marker", 4, 18), ("smiles", 18, 21), ("marker", 21, 33)]
        >>> segment_token_counts([(0, 4), (4, 18), (18, 20), (20, 21), (21, 33)], segs)
        SegmentCounts(marker=2, inside=2, outside=1, crossing=0, inside_by_modality={'smiles': 2})
    """
    marker = inside = outside = crossing = 0
    by_modality: dict[str, int] = {}
    last = len(segments) - 1
    i = 0  # the segment holding the current token's start
    for start, end in token_spans:
        while i < last and segments[i][2] <= start:
            i += 1
        modality, _, seg_end = segments[i]
        if end > seg_end:
            crossing += 1
        elif modality == "marker":
            marker += 1
        elif modality == "text":
            outside += 1
        else:
            inside += 1
            by_modality[modality] = by_modality.get(modality, 0) + 1
    return SegmentCounts(marker, inside, outside, crossing, by_modality)
