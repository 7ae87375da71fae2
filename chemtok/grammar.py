"""Load and check the grammar files in ``grammars/`` (shipped as ``chemtok.grammars``).

Every engine (the Python reference, the Rust core, exported ``tokenizer.json``)
is built from these frozen dataclasses, so a grammar lives in exactly one place.
A broken file raises :class:`~chemtok.errors.GrammarError` naming the file and key.
Marker tables (the dialects) are loaded by :mod:`chemtok.dialects` with the same
readers; what a table is and how its markers are found in text is :mod:`chemtok.markers`.

Example:
    >>> from chemtok.grammar import load_smiles_grammar
    >>> g = load_smiles_grammar()
    >>> g.name, g.version, len(g.elements)
    ('smiles', 1, 118)
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from chemtok.errors import DataFileError, GrammarError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "SmilesGrammar",
    "InchiGrammar",
    "SequenceGrammar",
    "SelfiesGrammar",
    "load_smiles_grammar",
    "load_selfies_grammar",
    "load_inchi_grammar",
    "load_sequence_grammar",
    "read_grammar_file",
    "TableReader",
]

#: Grammar versions this release understands, per grammar name.
SUPPORTED_VERSIONS = {"smiles": {1}, "inchi": {1}, "protein": {1}, "dna": {1}, "selfies": {1}, "markers": {1}}
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


@functools.cache
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


@functools.cache
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


@functools.cache
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


def _longest_first(items: tuple[str, ...]) -> str:
    return "|".join(re.escape(x) for x in sorted(items, key=lambda x: (-len(x), x)))


@dataclass(frozen=True)
class SelfiesGrammar:
    """The SELFIES tables of ``grammars/selfies.toml``."""

    name: str
    version: int
    open: str
    close: str
    dot: str
    atom_bonds: tuple[str, ...]
    branch_bonds: tuple[str, ...]
    branch: str
    ring: str
    max_length: int
    ring_stereo: tuple[str, ...]
    special: tuple[str, ...]
    chirality: tuple[str, ...]
    hydrogen: str
    charge_signs: tuple[str, ...]
    elements: tuple[str, ...]
    atoms: tuple[str, ...]
    isotope_max: int
    charge_max: int

    @property
    def tag(self) -> str:
        """``name@version``, recorded in vocabularies and golden files."""
        return f"{self.name}@{self.version}"

    def bracket(self, body: str) -> str:
        """``body`` written as a symbol: ``bracket("=O") == "[=O]"``."""
        return f"{self.open}{body}{self.close}"

    @functools.cached_property
    def structure_symbols(self) -> tuple[str, ...]:
        """Every branch, ring and special symbol, bracketed: ``[Branch1]`` ... ``[nop]``."""
        lengths = range(1, self.max_length + 1)
        prefixes = ("", *self.branch_bonds)
        branches = [self.bracket(f"{b}{self.branch}{n}") for n in lengths for b in prefixes]
        rings = [self.bracket(f"{b}{self.ring}{n}") for n in lengths for b in prefixes]
        stereo = [
            self.bracket(f"{x}{y}{self.ring}{n}")
            for n in lengths
            for x in self.ring_stereo
            for y in self.ring_stereo
            if not (x == y == self.ring_stereo[0])
        ]
        return (*branches, *rings, *stereo, *(self.bracket(s) for s in self.special))

    @functools.cached_property
    def element_pattern(self) -> str:
        """The regex alternation of the element symbols, longest first (``Cl`` before ``C``)."""
        return _longest_first(self.elements)

    @functools.cached_property
    def atom_body_pattern(self) -> str:
        """The regex of an atom symbol between its brackets, one named group per part.

        Groups ``bond``, ``isotope``, ``element``, ``chirality``, ``hydrogen`` (``H`` and
        one digit) and ``charge`` (a sign and a number without a leading zero); the
        tokenizer, the vocabulary check and the export all use this one pattern.
        """

        return (
            f"(?P<bond>{_longest_first(self.atom_bonds)})?"
            "(?P<isotope>[0-9]+)?"
            f"(?P<element>{self.element_pattern})"
            f"(?P<chirality>{_longest_first(self.chirality)})?"
            f"(?P<hydrogen>{re.escape(self.hydrogen)}[0-9])?"
            f"(?P<charge>[{re.escape(''.join(self.charge_signs))}][1-9][0-9]*)?"
        )

    def as_dict(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self.__dataclass_fields__}


@functools.cache
def load_selfies_grammar(path: str | None = None) -> SelfiesGrammar:
    """Load and check the SELFIES grammar (cached per path).

    Example:
        >>> g = load_selfies_grammar()
        >>> g.tag, g.bracket("=O"), g.structure_symbols[0]
        ('selfies@1', '[=O]', '[Branch1]')
    """
    label, table = read_grammar_file("selfies", path)
    top = TableReader(label, table)
    version = top.header("selfies")
    symbols = top.section("symbols")
    atoms = top.section("atoms")
    vocab = top.section("vocabulary")
    elements = atoms.strings("elements")
    problem = _check_elements(list(elements))
    if problem:
        raise GrammarError(label, "atoms.elements", problem)
    one_char = lambda v: None if len(v) == 1 else "must be one character"  # noqa: E731
    positive = lambda v: None if v >= 1 else "must be at least 1"  # noqa: E731
    grammar = SelfiesGrammar(
        name="selfies",
        version=version,
        open=symbols.get("open", str, one_char),
        close=symbols.get("close", str, one_char),
        dot=symbols.get("dot", str, one_char),
        atom_bonds=symbols.strings("atom_bonds"),
        branch_bonds=symbols.strings("branch_bonds"),
        branch=symbols.get("branch", str, lambda v: None if v.isalpha() else "must be letters"),
        ring=symbols.get("ring", str, lambda v: None if v.isalpha() else "must be letters"),
        max_length=symbols.get("max_length", int, lambda v: None if 1 <= v <= 9 else "must be 1 to 9"),
        ring_stereo=symbols.strings("ring_stereo"),
        special=symbols.strings("special", allow_empty=True),
        chirality=atoms.strings("chirality"),
        hydrogen=atoms.get("hydrogen", str, one_char),
        charge_signs=atoms.strings("charge_signs"),
        elements=elements,
        atoms=vocab.strings("atoms"),
        isotope_max=vocab.get("isotope_max", int, positive),
        charge_max=vocab.get("charge_max", int, positive),
    )
    for key, values in (
        ("symbols.atom_bonds", grammar.atom_bonds),
        ("symbols.branch_bonds", grammar.branch_bonds),
        ("symbols.ring_stereo", grammar.ring_stereo),
        ("atoms.charge_signs", grammar.charge_signs),
    ):
        problem = _single_chars(values)
        if problem:
            raise GrammarError(label, key, problem)
    body = re.compile(grammar.atom_body_pattern)
    matches = {a: body.fullmatch(a) for a in grammar.atoms}
    bad = [a for a, m in matches.items() if m is None or m.group("bond") is not None]
    if bad:
        raise GrammarError(label, "vocabulary.atoms", f"not atom symbols without bond or brackets: {bad}")
    return grammar
