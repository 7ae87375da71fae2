"""Marker tables and marker matching: where ``[START_SMILES]`` ... ``[END_SMILES]`` spans are.

A :class:`MarkerTable` names the special tokens and the ``[START_X]``/``[END_X]`` pairs
of ``grammars/markers.toml`` (loaded and checked by :func:`chemtok.dialects.load_markers`),
each pair with the modality of what it encloses. A :class:`MarkerMatcher` finds the
markers of one table in a text and cuts the text into :class:`Segment` s that
concatenate back to it; :meth:`chemtok.ChemTokenizer.split` is one. A table's
``unknown_marker_pattern`` (what counts as a marker the table does not know) must lie
in a linear-time subset of regular expressions, checked by :func:`check_marker_pattern`.

Example:
    >>> from chemtok.dialects import load_markers
    >>> from chemtok.markers import MarkerMatcher
    >>> matcher = MarkerMatcher(load_markers(), strict=True)
    >>> [(s.modality, s.text) for s in matcher.split("Ethanol [START_SMILES]CCO[END_SMILES]")]
    [('text', 'Ethanol '), ('marker', '[START_SMILES]'), ('smiles', 'CCO'), ('marker', '[END_SMILES]')]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from chemtok.errors import MarkerError

__all__ = [
    "MODALITIES",
    "MarkerPair",
    "MarkerTable",
    "MarkerMatcher",
    "Segment",
    "check_marker_pattern",
]

#: Modalities a marker pair may name.
MODALITIES = ("text", "smiles", "inchi", "protein", "dna", "selfies")


@dataclass(frozen=True)
class MarkerPair:
    """One ``[START_X]``/``[END_X]`` pair and the modality of what it encloses.

    Attributes:
        pad: characters a dataset writes between a marker and its content
            (SMolInstruct's ``<SMILES> CCO </SMILES>``); they are read as text around
            the content, so the content still goes whole to its modality.
        appended: the pair was added to a table after its ids were first shipped; its
            markers get ids after every modality block, so no earlier id moves.
    """

    start: str
    end: str
    modality: str
    pad: str = ""
    appended: bool = False


@dataclass(frozen=True)
class MarkerTable:
    """Special tokens and marker pairs of ``grammars/markers.toml`` (or a custom table).

    Attributes:
        dialect: the name of a shipped table (``"galactica"``, ``"tags"``,
            ``"naturelm"``, ``"biot5"``; see :data:`chemtok.grammar.MARKER_DIALECTS`), or
            what a custom table calls itself (``"custom"`` by default).
        source: the file the table came from (for error messages; not compared).
    """

    version: int
    special_tokens: tuple[str, ...]
    pairs: tuple[MarkerPair, ...]
    unknown_marker_pattern: str
    source: str = field(default="grammars/markers.toml", compare=False)
    dialect: str = "galactica"

    @property
    def tag(self) -> str:
        """``markers@1`` for Galactica's table (and custom ones), ``markers-tags@1`` for a dialect."""
        if self.dialect in ("galactica", "custom"):
            return f"markers@{self.version}"
        return f"markers-{self.dialect}@{self.version}"

    @property
    def markers(self) -> tuple[str, ...]:
        """Every marker string, start and end, in file order."""
        return tuple(m for pair in self.pairs for m in (pair.start, pair.end))

    @property
    def first_markers(self) -> tuple[str, ...]:
        """The markers of the pairs that are not ``appended``: the id space's ``marker`` block."""
        return tuple(m for pair in self.pairs if not pair.appended for m in (pair.start, pair.end))

    @property
    def appended_markers(self) -> tuple[str, ...]:
        """The markers of ``appended`` pairs: ids after every modality block."""
        return tuple(m for pair in self.pairs if pair.appended for m in (pair.start, pair.end))

    def as_dict(self) -> dict[str, Any]:
        """The table in the shape of ``markers.toml``; :func:`chemtok.grammar.markers_from_table` reads it back."""
        return {
            "name": "markers",
            "version": self.version,
            "special_tokens": list(self.special_tokens),
            "unknown_marker_pattern": self.unknown_marker_pattern,
            "dialect": self.dialect,
            "pairs": [_pair_dict(p) for p in self.pairs],
        }


def _pair_dict(pair: MarkerPair) -> dict[str, Any]:
    entry: dict[str, Any] = {"start": pair.start, "end": pair.end, "modality": pair.modality}
    if pair.pad:
        entry["pad"] = pair.pad
    if pair.appended:
        entry["appended"] = True
    return entry



@dataclass(frozen=True)
class Segment:
    """A span of the input and the modality it belongs to.

    Attributes:
        modality: ``"marker"`` for a marker itself, otherwise the modality of the
            content (``"text"``, ``"smiles"``, ``"inchi"``, ``"protein"``, ``"dna"``, ``"selfies"``).
        start: index of the first character in the input.
        end: index after the last character.
        text: ``input[start:end]``.
    """

    modality: str
    start: int
    end: int
    text: str


class MarkerMatcher:
    """Find the markers of a table in a text and cut the text into segments.

    Args:
        table: the marker table (usually :func:`chemtok.dialects.load_markers`).
        strict: raise :class:`~chemtok.errors.MarkerError` on unknown, unclosed,
            unopened or nested markers; ``False`` leaves such markers as ordinary
            content of the segment they stand in.

    Example:
        >>> from chemtok.dialects import load_markers
        >>> lenient = MarkerMatcher(load_markers(), strict=False)
        >>> [s.modality for s in lenient.split("[START_SMILES]CCO")]  # never closed: plain text
        ['text']
    """

    def __init__(self, table: MarkerTable, *, strict: bool) -> None:
        self.table = table
        self.strict = strict
        known = sorted(table.markers, key=len, reverse=True)
        alternatives = [re.escape(m) for m in known]
        if strict:
            alternatives.append(table.unknown_marker_pattern)
        self._marker_re = re.compile("|".join(alternatives))
        self._pair_of_start: dict[str, MarkerPair] = {p.start: p for p in table.pairs}
        self._pair_of_end: dict[str, MarkerPair] = {p.end: p for p in table.pairs}

    def split(self, text: str) -> list[Segment]:
        """Split ``text`` into marker and content segments that concatenate back to it.

        Empty content segments are left out.

        Raises:
            MarkerError: unknown, unclosed, unopened or nested markers (strict mode).
        """
        segments: list[Segment] = []
        # Boundaries: each matched marker opens/closes a modality; content between
        # boundaries takes the modality of the innermost open pair.
        events: list[tuple[int, int, MarkerPair, bool]] = []
        for start_index, end_index, pair in self._matched_markers(text):
            events.append((start_index, start_index + len(pair.start), pair, True))
            events.append((end_index, end_index + len(pair.end), pair, False))
        events.sort(key=lambda e: e[0])
        stack: list[MarkerPair | None] = [None]
        pos = 0
        for begin, finish, pair, opening in events:
            if begin > pos:
                self._content(segments, stack[-1], text, pos, begin)
            segments.append(Segment("marker", begin, finish, text[begin:finish]))
            if opening:
                stack.append(pair)
            else:
                stack.pop()
            pos = finish
        if pos < len(text):
            self._content(segments, stack[-1], text, pos, len(text))
        return segments

    def _content(self, segments: list[Segment], pair: MarkerPair | None, text: str, start: int, end: int) -> None:
        """Append the content ``text[start:end]`` inside ``pair`` (``None``: outside markers).

        A pair's ``pad`` characters at either end of its content are text segments of
        their own: ``<SMILES> CCO </SMILES>`` gives text ``" "``, SMILES ``CCO``, text ``" "``.
        """
        modality = "text" if pair is None else pair.modality
        if pair is None or not pair.pad or modality == "text":
            segments.append(Segment(modality, start, end, text[start:end]))
            return
        core_start, core_end = start, end
        while core_start < end and text[core_start] in pair.pad:
            core_start += 1
        while core_end > core_start and text[core_end - 1] in pair.pad:
            core_end -= 1
        for kind, a, b in (("text", start, core_start), (modality, core_start, core_end), ("text", core_end, end)):
            if b > a:
                segments.append(Segment(kind, a, b, text[a:b]))

    def _matched_markers(self, text: str) -> list[tuple[int, int, MarkerPair]]:
        """Pair start and end markers: ``(start marker index, end marker index, pair)``.

        Under ``strict`` every marker must pair up; otherwise markers that do
        not are left as content.
        """
        strict = self.strict
        stack: list[tuple[int, re.Match[str], MarkerPair]] = []
        pairs: list[tuple[int, int, MarkerPair]] = []
        for m in self._marker_re.finditer(text):
            token = m.group()
            start_pair = self._pair_of_start.get(token)
            end_pair = self._pair_of_end.get(token)
            top = stack[-1] if stack else None
            if start_pair is None and end_pair is None:
                known = ", ".join(p.start for p in self.table.pairs)
                raise MarkerError(text, m.start(), "markers", f"unknown marker {token!r} (known: {known})")
            if top is not None and top[2].modality != "text" and token != top[2].end:
                if strict:
                    raise MarkerError(
                        text,
                        m.start(),
                        "markers",
                        f"marker {token!r} inside the {top[2].modality} segment opened by "
                        f"{top[2].start!r} at position {top[1].start()}; close it with {top[2].end!r} first",
                    )
                continue
            if start_pair is not None:
                if any(entry[2] is start_pair for entry in stack):
                    if strict:
                        raise MarkerError(
                            text, m.start(), "markers", f"{token!r} is nested inside another {token!r} segment"
                        )
                    continue
                stack.append((m.start(), m, start_pair))
                continue
            assert end_pair is not None
            if top is None or top[2] is not end_pair:
                if strict:
                    if top is None:
                        reason = f"{token!r} closes a segment that was never opened"
                    else:
                        reason = f"{token!r} closes {top[2].start!r} opened at position {top[1].start()}; expected {top[2].end!r}"
                    raise MarkerError(text, m.start(), "markers", reason)
                continue
            stack.pop()
            pairs.append((top[0], m.start(), end_pair))
        if stack and strict:
            index, m, pair = stack[-1]
            raise MarkerError(text, index, "markers", f"{pair.start!r} is never closed; add {pair.end!r}")
        pairs.sort(key=lambda p: p[0])
        return pairs


# -- the unknown-marker pattern: a linear-time subset of regular expressions -------------
#
# The router runs this pattern over every input text, so a pattern that backtracks
# catastrophically ("(a+)+$") would let one text stall a worker. Rather than trust the
# regex engine, a table's pattern must be in a small subset that cannot backtrack
# more than a constant per character: a sequence of literal characters, character
# classes ([A-Z0-9_], [^>]) and groups of literal alternatives ((?:START|END)); only
# a single character or class may repeat (?, *, +, {m,n}); what may follow a repeated
# part must not be a character the repeated part can take (so the end of a run is
# never in doubt), and the first character must be one that no repeated part takes
# (so runs found from different start positions never overlap). Both Python ``re``
# and ``tokenizers.Regex`` accept every pattern of the subset.

_PATTERN_HINT = (
    "an unknown_marker_pattern must be a sequence of characters, character classes and "
    "(?:a|b) groups of literal text, where only a character or class repeats and what "
    "follows a repeat cannot be taken by it, e.g. '\\[(?:START|END)_[A-Z0-9_]+\\]'"
)
_META = set(".^$*+?{}[]()|\\")
_MAX_CLASS_RANGE = 0x3000


@dataclass(frozen=True)
class _CharSet:
    chars: frozenset[str]
    negated: bool = False

    def disjoint(self, other: _CharSet) -> bool:
        if self.negated and other.negated:
            return False
        if self.negated:
            return other.chars <= self.chars
        if other.negated:
            return self.chars <= other.chars
        return not (self.chars & other.chars)


@dataclass(frozen=True)
class _Piece:
    first: _CharSet  # characters the piece can start with
    low: int
    high: float  # math.inf for an open repeat


def _escaped(pattern: str, i: int) -> tuple[str, int]:
    """The literal character of the escape at ``pattern[i] == '\\'``."""
    if i + 1 >= len(pattern):
        raise ValueError("the pattern ends with a lone backslash")
    char = pattern[i + 1]
    if char.isalnum() or char == "_":
        raise ValueError(f"escape '\\{char}' is not supported; write a character class such as [0-9]")
    return char, i + 2


def _parse_class(pattern: str, i: int) -> tuple[_CharSet, int]:
    """Parse ``[...]`` starting at ``pattern[i] == '['``; return the set and the end."""
    i += 1
    negated = pattern.startswith("^", i)
    i += negated
    chars: set[str] = set()
    first = True
    while True:
        if i >= len(pattern):
            raise ValueError("a character class is not closed")
        char = pattern[i]
        if char == "]" and not first:
            return _CharSet(frozenset(chars), negated), i + 1
        if char == "[":
            raise ValueError("'[' inside a character class must be escaped as '\\['")
        if char == "\\":
            char, i = _escaped(pattern, i)
        else:
            i += 1
        first = False
        if pattern.startswith("-", i) and i + 1 < len(pattern) and pattern[i + 1] != "]":
            high = pattern[i + 1]
            i += 2
            if high == "\\":
                high, i = _escaped(pattern, i - 1)
            if ord(high) < ord(char) or ord(high) - ord(char) > _MAX_CLASS_RANGE:
                raise ValueError(f"bad character range {char}-{high}")
            chars.update(chr(c) for c in range(ord(char), ord(high) + 1))
        else:
            chars.add(char)


def _parse_group(pattern: str, i: int) -> tuple[_CharSet, int, int]:
    """Parse ``(?:lit|lit)`` at ``pattern[i] == '('``: first characters, shortest length, end."""
    if not pattern.startswith("(?:", i):
        raise ValueError("only non-capturing groups (?:...) of literal alternatives are supported")
    i += 3
    alternatives: list[str] = []
    current: list[str] = []
    while True:
        if i >= len(pattern):
            raise ValueError("a group is not closed")
        char = pattern[i]
        if char in "|)":
            if not current:
                raise ValueError("a group alternative must not be empty")
            alternatives.append("".join(current))
            current = []
            i += 1
            if char == ")":
                first = _CharSet(frozenset(a[0] for a in alternatives))
                return first, min(len(a) for a in alternatives), i
            continue
        if char == "\\":
            char, i = _escaped(pattern, i)
        elif char in _META:
            raise ValueError(f"a group may only hold literal text, found {char!r}")
        else:
            i += 1
        current.append(char)


def _parse_repeat(pattern: str, i: int) -> tuple[int, float, int]:
    """The ``(low, high, end)`` of a quantifier at ``pattern[i]``; ``(1, 1, i)`` if none."""
    if i >= len(pattern) or pattern[i] not in "?*+{":
        return 1, 1, i
    char = pattern[i]
    if char == "{":
        close = pattern.find("}", i)
        body = pattern[i + 1 : close] if close > 0 else ""
        low_text, comma, high_text = body.partition(",")
        if not low_text.isdigit() or (high_text and not high_text.isdigit()):
            raise ValueError(f"bad repeat {{{body}}}")
        low = int(low_text)
        high: float = int(high_text) if high_text else (math.inf if comma else low)
        if high < low:
            raise ValueError(f"bad repeat {{{body}}}")
        end = close + 1
    else:
        low, high = {"?": (0, 1.0), "*": (0, math.inf), "+": (1, math.inf)}[char]
        end = i + 1
    if end < len(pattern) and pattern[end] in "?+":
        raise ValueError("lazy and possessive repeats (+?, *+, ...) are not supported")
    return low, high, end


def _parse_pattern(pattern: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "[":
            charset, i = _parse_class(pattern, i)
            length = 1
        elif char == "(":
            charset, length, i = _parse_group(pattern, i)
        elif char == ".":
            charset, length, i = _CharSet(frozenset("\n"), negated=True), 1, i + 1
        elif char == "\\":
            literal, i = _escaped(pattern, i)
            charset, length = _CharSet(frozenset(literal)), 1
        elif char in "^$|":
            raise ValueError(f"{char!r} is not supported (no anchors; put alternatives in a (?:...) group)")
        elif char in "*+?{":
            raise ValueError(f"repeat {char!r} has nothing to repeat")
        elif char in ")]}":
            raise ValueError(f"unbalanced {char!r}")
        else:
            charset, length, i = _CharSet(frozenset(char)), 1, i + 1
        low, high, i = _parse_repeat(pattern, i)
        if (low, high) != (1, 1) and char == "(":
            raise ValueError("a group must not repeat (repeat a character or a class instead)")
        pieces.append(_Piece(charset, low * length, high * length))
    return pieces


def check_marker_pattern(pattern: str) -> str | None:
    r"""Why ``pattern`` cannot be a table's ``unknown_marker_pattern``, or ``None`` if it can.

    The pattern must not match the empty string and must be in a subset of regular
    expressions that matches in linear time (see the comment above), so that no input
    text can make the router backtrack catastrophically.

    Example:
        >>> from chemtok.markers import check_marker_pattern
        >>> check_marker_pattern(r"\[(?:START|END)_[A-Z0-9_]+\]") is None
        True
        >>> "repeat" in check_marker_pattern(r"\[(a+)+\]")
        True
    """
    try:
        compiled = re.compile(pattern)
    except re.error as err:
        return f"not a valid regex ({err})"
    try:
        pieces = _parse_pattern(pattern)
    except ValueError as err:
        return f"{err}; {_PATTERN_HINT}"
    if compiled.fullmatch("") is not None or not pieces:
        return "it matches the empty string, so it would find a marker between every two characters"
    if pieces[0].low < 1:
        return f"the first character must not be optional; {_PATTERN_HINT}"
    for k, piece in enumerate(pieces):
        if piece.low == piece.high:
            continue
        for after in pieces[k + 1 :]:
            if not piece.first.disjoint(after.first):
                return (
                    f"part {k + 1} repeats and what follows it can take the same characters, "
                    f"so matching can backtrack; {_PATTERN_HINT}"
                )
            if after.low >= 1:
                break
        if not pieces[0].first.disjoint(piece.first):
            return (
                f"the first character can also be taken by repeated part {k + 1}, so matching "
                f"from every start can take quadratic time; {_PATTERN_HINT}"
            )
    return None
