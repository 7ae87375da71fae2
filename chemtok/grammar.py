"""Load and check the grammar files in ``grammars/`` (shipped as ``chemtok.grammars``).

Every engine (the Python reference, the Rust core, exported ``tokenizer.json``)
is built from these frozen dataclasses, so a grammar lives in exactly one place.
A broken file raises :class:`~chemtok.errors.GrammarError` naming the file and key.

Example:
    >>> from chemtok.grammar import load_smiles_grammar
    >>> g = load_smiles_grammar()
    >>> g.name, g.version, len(g.elements)
    ('smiles', 1, 118)
"""

from __future__ import annotations

import functools
import math
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, TypeVar

from chemtok.errors import DataFileError, GrammarError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "SmilesGrammar",
    "InchiGrammar",
    "SequenceGrammar",
    "MarkerPair",
    "MarkerTable",
    "load_smiles_grammar",
    "load_inchi_grammar",
    "load_sequence_grammar",
    "load_markers",
    "markers_from_table",
    "check_marker_pattern",
    "read_grammar_file",
    "TableReader",
]

#: Grammar versions this release understands, per grammar name.
SUPPORTED_VERSIONS = {"smiles": {1}, "inchi": {1}, "protein": {1}, "dna": {1}, "markers": {1}}
ELEMENT_COUNT = 118

T = TypeVar("T")


#: The error a loader raises: ``GrammarError`` for grammar files, ``DataFileError`` for the rest.
FileError = type[GrammarError] | type[DataFileError]


def read_grammar_file(
    name: str, path: str | Path | None = None, *, error: FileError = GrammarError
) -> tuple[str, dict[str, Any]]:
    """Read ``grammars/<name>.toml`` (or ``path``) and return ``(file label, table)``.

    Raises:
        GrammarError: (or ``error``) the file cannot be read, is not UTF-8, not TOML
            or nested too deeply; the message names the file.
    """
    if path is not None:
        label = str(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as err:
            raise error(label, None, f"cannot read it ({err.strerror or err})") from err
    else:
        label = f"grammars/{name}.toml"
        try:
            raw = resources.files("chemtok.grammars").joinpath(f"{name}.toml").read_bytes()
        except (OSError, ModuleNotFoundError) as err:
            raise error(label, None, "not found in the installed package") from err
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise error(label, None, f"not UTF-8 text (byte {err.start})") from err
    except tomllib.TOMLDecodeError as err:
        raise error(label, None, f"not valid TOML ({err})") from err
    except RecursionError as err:
        raise error(label, None, "not valid TOML (nested too deeply)") from err
    return label, table


class TableReader:
    """Typed access to a parsed table (TOML or JSON) that reports the file and dotted key on error.

    Example:
        >>> from chemtok.errors import DataFileError
        >>> TableReader("state.json", {"on_error": "raise"}, error=DataFileError).get("on_error", str)
        'raise'
    """

    def __init__(self, label: str, table: dict[str, Any], prefix: str = "", *, error: FileError = GrammarError) -> None:
        self.label = label
        self.table = table
        self.prefix = prefix
        self.error = error

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def get(self, key: str, kind: type[T], check: Callable[[T], str | None] | None = None) -> T:
        if key not in self.table:
            raise self.error(self.label, self._key(key), "required key is missing")
        value = self.table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(
                self.label, self._key(key), f"expected {kind.__name__}, got {type(value).__name__}"
            )
        if check is not None:
            problem = check(value)
            if problem:
                raise self.error(self.label, self._key(key), problem)
        return value

    def strings(self, key: str, *, allow_empty: bool = False) -> tuple[str, ...]:
        def check(items: list[Any]) -> str | None:
            if not allow_empty and not items:
                return "must not be empty"
            for item in items:
                if not isinstance(item, str) or not item:
                    return f"every entry must be a non-empty string, got {item!r}"
            duplicates = sorted({x for x in items if items.count(x) > 1})
            if duplicates:
                return f"duplicate entries {duplicates}"
            return None

        items: list[Any] = self.get(key, list, check)
        return tuple(items)

    def section(self, key: str) -> TableReader:
        return TableReader(self.label, self.get(key, dict), f"{self.prefix}{key}.", error=self.error)

    def header(self, expected_name: str) -> int:
        self.get("name", str, lambda v: None if v == expected_name else f"expected '{expected_name}'")
        version = self.get("version", int)
        if version not in SUPPORTED_VERSIONS[expected_name]:
            raise self.error(
                self.label,
                "version",
                f"version {version} is not supported by this chemtok "
                f"(supported: {sorted(SUPPORTED_VERSIONS[expected_name])}); upgrade chemtok",
            )
        return version


def _single_chars(items: tuple[str, ...]) -> str | None:
    bad = [x for x in items if len(x) != 1]
    return f"entries must be single characters, got {bad}" if bad else None


@dataclass(frozen=True)
class SmilesGrammar:
    """The SMILES tables of ``grammars/smiles.toml``."""

    name: str
    version: int
    organic: tuple[str, ...]
    organic_aromatic: tuple[str, ...]
    wildcard: str
    elements: tuple[str, ...]
    bracket_aromatic: tuple[str, ...]
    bonds: tuple[str, ...]
    dative_bonds: tuple[str, ...]
    branch_open: str
    branch_close: str
    dot: str
    reaction: tuple[str, ...]
    ring_digits: str
    ring_percent: str
    ring_paren_open: str
    ring_paren_close: str
    ring_paren_max_digits: int
    bracket_open: str
    bracket_close: str
    hydrogen: str
    class_prefix: str
    chirality_plain: tuple[str, ...]
    chirality_numbered: tuple[tuple[str, int], ...]
    charge_signs: tuple[str, ...]
    charge_sign_runs: bool
    isotope_max: int
    hydrogen_count_max: int
    charge_max: int
    class_max: int

    @property
    def tag(self) -> str:
        """``name@version``, recorded in vocabularies and golden files."""
        return f"{self.name}@{self.version}"

    @functools.cached_property
    def chiralities(self) -> tuple[str, ...]:
        """Every chirality spelling, e.g. ``@``, ``@@``, ``@TH1`` ... ``@OH30``."""
        numbered = [f"{prefix}{n}" for prefix, n_max in self.chirality_numbered for n in range(1, n_max + 1)]
        return (*self.chirality_plain, *numbered)

    @functools.cached_property
    def bracket_symbols(self) -> tuple[str, ...]:
        """Every symbol allowed inside brackets: elements, aromatic symbols, wildcard."""
        return (*self.elements, *self.bracket_aromatic, self.wildcard)

    def as_dict(self) -> dict[str, Any]:
        """The grammar as plain data, e.g. for handing to the Rust core."""
        return {field: getattr(self, field) for field in self.__dataclass_fields__}


def _check_elements(items: list[Any]) -> str | None:
    if len(items) != ELEMENT_COUNT:
        return f"expected {ELEMENT_COUNT} elements (H to Og), found {len(items)}"
    return None


@functools.lru_cache(maxsize=None)
def load_smiles_grammar(path: str | None = None) -> SmilesGrammar:
    """Load and check the SMILES grammar (cached per path)."""
    label, table = read_grammar_file("smiles", path)
    top = TableReader(label, table)
    version = top.header("smiles")
    atoms = top.section("atoms")
    elements = atoms.strings("elements")
    problem = _check_elements(list(elements))
    if problem:
        raise GrammarError(label, "atoms.elements", problem)
    bonds = top.section("bonds")
    structure = top.section("structure")
    ring = top.section("ring_closure")
    bracket = top.section("bracket")
    vocab = top.section("vocabulary")

    numbered = []
    for i, entry in enumerate(bracket.get("chirality_numbered", list)):
        key = f"bracket.chirality_numbered[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("prefix"), str):
            raise GrammarError(label, key, "expected a table with a string 'prefix'")
        n_max = entry.get("max")
        if not isinstance(n_max, int) or isinstance(n_max, bool) or n_max < 1:
            raise GrammarError(label, key, "expected a positive integer 'max'")
        numbered.append((entry["prefix"], n_max))

    digits = ring.get("digits", str, lambda v: None if v.isdigit() and v.isascii() else "must be ASCII digits")
    positive = lambda v: None if v >= 0 else "must not be negative"  # noqa: E731
    grammar = SmilesGrammar(
        name="smiles",
        version=version,
        organic=atoms.strings("organic"),
        organic_aromatic=atoms.strings("organic_aromatic"),
        wildcard=atoms.get("wildcard", str),
        elements=elements,
        bracket_aromatic=atoms.strings("bracket_aromatic"),
        bonds=bonds.strings("symbols"),
        dative_bonds=bonds.strings("dative", allow_empty=True),
        branch_open=structure.get("branch_open", str),
        branch_close=structure.get("branch_close", str),
        dot=structure.get("dot", str),
        reaction=structure.strings("reaction", allow_empty=True),
        ring_digits=digits,
        ring_percent=ring.get("percent", str),
        ring_paren_open=ring.get("percent_paren_open", str),
        ring_paren_close=ring.get("percent_paren_close", str),
        ring_paren_max_digits=ring.get("percent_paren_max_digits", int, positive),
        bracket_open=bracket.get("open", str),
        bracket_close=bracket.get("close", str),
        hydrogen=bracket.get("hydrogen", str),
        class_prefix=bracket.get("class_prefix", str),
        chirality_plain=bracket.strings("chirality_plain"),
        chirality_numbered=tuple(numbered),
        charge_signs=bracket.strings("charge_signs"),
        charge_sign_runs=bracket.get("charge_sign_runs", bool),
        isotope_max=vocab.get("isotope_max", int, positive),
        hydrogen_count_max=vocab.get("hydrogen_count_max", int, positive),
        charge_max=vocab.get("charge_max", int, positive),
        class_max=vocab.get("class_max", int, positive),
    )
    for key, values in (("bonds.symbols", grammar.bonds), ("bracket.charge_signs", grammar.charge_signs)):
        problem = _single_chars(values)
        if problem:
            raise GrammarError(label, key, problem)
    unknown = [s for s in grammar.organic if s not in grammar.elements]
    if unknown:
        raise GrammarError(label, "atoms.organic", f"not elements: {unknown}")
    return grammar


@dataclass(frozen=True)
class InchiGrammar:
    """The InChI tables of ``grammars/inchi.toml``."""

    name: str
    version: int
    prefixes: tuple[str, ...]
    layer_separator: str
    layer_tags: tuple[str, ...]
    elements: tuple[str, ...]
    isotope_symbols: tuple[str, ...]
    punctuation: tuple[str, ...]
    number_max: int
    pseudo_elements: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    @functools.cached_property
    def symbols(self) -> tuple[str, ...]:
        """Element symbols, the isotope symbols D and T, then pseudo-elements (``Zz``)."""
        return (*self.elements, *self.isotope_symbols, *self.pseudo_elements)

    def as_dict(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self.__dataclass_fields__}


@functools.lru_cache(maxsize=None)
def load_inchi_grammar(path: str | None = None) -> InchiGrammar:
    """Load and check the InChI grammar (cached per path)."""
    label, table = read_grammar_file("inchi", path)
    top = TableReader(label, table)
    version = top.header("inchi")
    elements = top.strings("elements")
    problem = _check_elements(list(elements))
    if problem:
        raise GrammarError(label, "elements", problem)
    tags = top.strings("layer_tags")
    punctuation = top.strings("punctuation")
    for key, values in (("layer_tags", tags), ("punctuation", punctuation)):
        problem = _single_chars(values)
        if problem:
            raise GrammarError(label, key, problem)
    vocab = top.section("vocabulary")
    return InchiGrammar(
        name="inchi",
        version=version,
        prefixes=top.strings("prefixes"),
        layer_separator=top.get("layer_separator", str, lambda v: None if len(v) == 1 else "must be one character"),
        layer_tags=tags,
        elements=elements,
        isotope_symbols=top.strings("isotope_symbols", allow_empty=True),
        punctuation=punctuation,
        number_max=vocab.get("number_max", int, lambda v: None if v >= 9 else "must be at least 9"),
        pseudo_elements=top.strings("pseudo_elements", allow_empty=True) if "pseudo_elements" in table else (),
    )


@dataclass(frozen=True)
class SequenceGrammar:
    """A character-level alphabet (``grammars/protein.toml`` or ``grammars/dna.toml``)."""

    name: str
    version: int
    alphabet: tuple[str, ...]
    keep_lowercase: bool
    appended: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    @functools.cached_property
    def symbols(self) -> tuple[str, ...]:
        """Every accepted character in id order: the alphabet, then its lowercase letters.

        The ``appended`` characters (added after ids were first shipped) come last,
        after the lowercase letters, so that no earlier id moves.
        """

        def with_lower(chars: tuple[str, ...]) -> list[str]:
            return [*chars, *([ch.lower() for ch in chars if ch.isalpha()] if self.keep_lowercase else [])]

        return (*with_lower(self.alphabet), *with_lower(self.appended))

    @property
    def letters(self) -> str:
        """The accepted characters as error messages list them (no lowercase)."""
        return "".join((*self.alphabet, *self.appended))

    def as_dict(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self.__dataclass_fields__}


@functools.lru_cache(maxsize=None)
def load_sequence_grammar(name: str, path: str | None = None) -> SequenceGrammar:
    """Load a sequence alphabet, ``name`` being ``"protein"`` or ``"dna"``."""
    if name not in ("protein", "dna"):
        raise GrammarError(f"grammars/{name}.toml", None, "sequence grammars are 'protein' and 'dna'")
    label, table = read_grammar_file(name, path)
    top = TableReader(label, table)
    version = top.header(name)
    alphabet = top.strings("alphabet")
    problem = _single_chars(alphabet)
    if problem:
        raise GrammarError(label, "alphabet", problem)
    appended = top.strings("appended", allow_empty=True) if "appended" in table else ()
    problem = _single_chars(appended)
    if problem:
        raise GrammarError(label, "appended", problem)
    twice = [ch for ch in appended if ch in alphabet]
    if twice:
        raise GrammarError(label, "appended", f"already in the alphabet: {twice}")
    return SequenceGrammar(name, version, alphabet, top.get("keep_lowercase", bool), appended)


@dataclass(frozen=True)
class MarkerPair:
    """One ``[START_X]``/``[END_X]`` pair and the modality of what it encloses."""

    start: str
    end: str
    modality: str


@dataclass(frozen=True)
class MarkerTable:
    """Special tokens and marker pairs of ``grammars/markers.toml`` (or a custom table).

    Attributes:
        source: the file the table came from (for error messages; not compared).
    """

    version: int
    special_tokens: tuple[str, ...]
    pairs: tuple[MarkerPair, ...]
    unknown_marker_pattern: str
    source: str = field(default="grammars/markers.toml", compare=False)

    @property
    def tag(self) -> str:
        return f"markers@{self.version}"

    @property
    def markers(self) -> tuple[str, ...]:
        """Every marker string, start and end, in file order."""
        return tuple(m for pair in self.pairs for m in (pair.start, pair.end))

    def as_dict(self) -> dict[str, Any]:
        """The table in the shape of ``markers.toml``; :func:`markers_from_table` reads it back."""
        return {
            "name": "markers",
            "version": self.version,
            "special_tokens": list(self.special_tokens),
            "unknown_marker_pattern": self.unknown_marker_pattern,
            "pairs": [{"start": p.start, "end": p.end, "modality": p.modality} for p in self.pairs],
        }


#: Modalities a marker pair may name.
MODALITIES = ("text", "smiles", "inchi", "protein", "dna")


@functools.lru_cache(maxsize=None)
def load_markers(path: str | None = None) -> MarkerTable:
    """Load the shipped marker table, or a custom one from ``path`` (cached per path).

    A custom table may change the markers and the unknown-marker pattern, not the
    special tokens: every modality vocabulary starts with the shipped ones.

    Raises:
        GrammarError: the shipped ``grammars/markers.toml`` is broken.
        DataFileError: a custom table is unreadable or wrong; names the file and key.

    Example:
        >>> from chemtok.grammar import load_markers
        >>> load_markers().pairs[0].start
        '[START_SMILES]'
    """
    error: FileError = GrammarError if path is None else DataFileError
    label, table = read_grammar_file("markers", path, error=error)
    return markers_from_table(label, table, shipped=path is None)


def markers_from_table(label: str, table: Any, *, shipped: bool = False, prefix: str = "") -> MarkerTable:
    """Check a marker table given as data (a parsed ``markers.toml``, or saved JSON).

    Args:
        label: the file it came from, for error messages.
        table: the parsed table.
        shipped: ``True`` for the shipped ``grammars/markers.toml`` (errors are then
            ``GrammarError``); a custom table must list the shipped special tokens.
        prefix: the dotted key of the table inside ``label`` (``"options.markers."``).

    Raises:
        DataFileError: (``GrammarError`` when ``shipped``) a key is missing, of the
            wrong type or wrong; an empty marker, a marker listed twice, special tokens
            other than the shipped ones, or an ``unknown_marker_pattern`` outside the
            linear-time subset (see :func:`check_marker_pattern`).
    """
    error: FileError = GrammarError if shipped else DataFileError
    if not isinstance(table, dict):
        raise error(label, prefix.rstrip(".") or None, f"expected a table, got {type(table).__name__}")
    top = TableReader(label, table, prefix, error=error)
    version = top.header("markers")
    specials = top.strings("special_tokens")
    pattern = top.get("unknown_marker_pattern", str, check_marker_pattern)
    pairs = []
    for i, entry in enumerate(top.get("pairs", list, lambda v: None if v else "must not be empty")):
        if not isinstance(entry, dict):
            raise error(label, f"{prefix}pairs[{i}]", "expected a table")
        item = TableReader(label, entry, f"{prefix}pairs[{i}].", error=error)
        modality = item.get(
            "modality", str, lambda v: None if v in MODALITIES else f"must be one of {list(MODALITIES)}"
        )
        nonempty = lambda v: None if v else "a marker must not be empty"  # noqa: E731
        pairs.append(MarkerPair(item.get("start", str, nonempty), item.get("end", str, nonempty), modality))
    seen: set[str] = set(specials)
    for pair in pairs:
        for marker in (pair.start, pair.end):
            if marker in seen:
                raise error(label, f"{prefix}pairs", f"marker {marker!r} is listed twice")
            seen.add(marker)
    if not shipped and specials != load_markers().special_tokens:
        raise error(
            label,
            f"{prefix}special_tokens",
            f"must be {list(load_markers().special_tokens)}, the special tokens every modality "
            "vocabulary starts with; a custom table may change the markers, not the special tokens",
        )
    return MarkerTable(version, specials, tuple(pairs), pattern, source=label)


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
        >>> from chemtok.grammar import check_marker_pattern
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
