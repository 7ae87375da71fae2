"""The Rust fast path: a thin wrapper over the compiled core ``chemtok._native``.

The core (``rust/chemtok-core``, bound by ``rust/chemtok-py``) lexes SMILES, InChI,
sequences and SELFIES from the same grammar tables as the pure-Python reference tokenizers, which
stay the definition: for every input, policy and vocabulary the engine gives the same
tokens, the same ids and the same ``TokenizationError`` (position and reason) as the
reference, which ``tests/test_native.py`` checks on random and real inputs.

Nothing is copied into Rust by hand: :meth:`NativeEngine.for_tokenizer` hands over the
tokenizer's :func:`engine_spec` as JSON (``grammar.as_dict()``, the derived tables the
reference itself uses and the messages of its reason codes, :mod:`chemtok.reasons`)
and its vocabulary's token list in id order. For a compact SMILES model
(``SmilesTokenizer(model=...)``) it also hands over the atom-level vocabulary, the merges
in rank order and the :class:`~chemtok.compact.WordRules`; the core lexes atom-level
units, splits them into merge words and applies the merges as
:func:`~chemtok.compact.split_words` and :func:`~chemtok.compact.apply_merges` do.

The methods of :class:`NativeEngine` are implemented in Rust and called directly (no
Python frame in between): ``tokenize``/``encode`` for one string, ``encode_batch`` and
``encode_batch_arrays`` for many, in parallel with the GIL released.

Example:
    >>> import chemtok
    >>> from chemtok import native
    >>> tok = chemtok.SmilesTokenizer()
    >>> if native.available():
    ...     engine = native.NativeEngine.for_tokenizer(tok)
    ...     assert engine.tokenize("ClCBr", "raise") == ["Cl", "C", "Br"]
    ...     assert engine.encode("CC(=O)O", "raise") == tok.encode("CC(=O)O")
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any

from chemtok.grammar import InchiGrammar, SelfiesGrammar, SequenceGrammar, SmilesGrammar

if TYPE_CHECKING:
    from chemtok import _native

__all__ = ["available", "supports", "engine_spec", "engine_spec_json", "python_regex_tables", "NativeEngine"]

_CompiledEngine: type[_native.Engine] | None
try:
    from chemtok._native import Engine as _CompiledEngine
except ImportError as _err:  # not built (no Rust toolchain at install time) or broken
    _CompiledEngine = None
    _IMPORT_ERROR: str = str(_err)
else:
    _IMPORT_ERROR = ""


def available() -> bool:
    """Return ``True`` when the compiled core ``chemtok._native`` can be imported."""
    return _CompiledEngine is not None


def supports(tok: Any) -> bool:
    """Return ``True`` when :meth:`NativeEngine.for_tokenizer` can run ``tok``.

    The core runs SMILES tokenizers (atom-level, and compact models with learned
    merges), InChI, protein, DNA and SELFIES tokenizers.
    """
    return _kind(tok)[0] is not None


def _kind(tok: Any) -> tuple[str | None, str]:
    """The lexer kind for ``tok``, or ``None`` and why not."""
    grammar = getattr(tok, "grammar", None)
    if isinstance(grammar, SmilesGrammar):
        if getattr(tok, "merges", ()) and getattr(tok, "unit_vocabulary", None) is None:
            return None, "it has merges but no atom-level unit_vocabulary"
        return "smiles", ""
    if isinstance(grammar, InchiGrammar):
        return "inchi", ""
    if isinstance(grammar, SequenceGrammar):
        return "sequence", ""
    if isinstance(grammar, SelfiesGrammar):
        return "selfies", ""
    return None, f"{type(tok).__name__} has no SMILES, InChI, sequence or SELFIES grammar"


def _not_built() -> ImportError:
    return ImportError(
        f"chemtok._native is not available ({_IMPORT_ERROR}); reinstall with "
        '`pip install -e ".[dev]"` on a machine with cargo, or use engine="python"'
    )


class _NotBuilt:
    """Stands in for the compiled class when it is not built: constructing raises."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _not_built()


# The compiled class is typed by chemtok/_native.pyi.
if TYPE_CHECKING:
    _EngineBase = _native.Engine
else:
    _EngineBase = _NotBuilt if _CompiledEngine is None else _CompiledEngine


class NativeEngine(_EngineBase):
    """The Rust core for one tokenizer: same tokens, ids and errors, much faster.

    Build one per tokenizer with :meth:`for_tokenizer`; the engine is immutable and
    thread-safe, and pickles by rebuilding from the same grammar and tokens.

    Methods (implemented in Rust):
        tokenize(text, on_error) -> list[str]
        encode(text, on_error) -> list[int]
        encode_batch(texts, on_error, num_threads=None) -> list[list[int]]
        encode_batch_arrays(texts, on_error, num_threads=None) -> (ids, row_offsets):
            ``ids`` a uint32 array, ``row_offsets`` an int64 array of ``len(texts) + 1``
            entries; text i has ``ids[row_offsets[i]:row_offsets[i + 1]]``.

        encode_arrow_buffers(length, offset, large, validity, offsets, data, on_error,
            num_threads=None) -> (ids, row_offsets, status, failures): the rows of an
            Arrow ``string`` (``large=False``) or ``large_string`` array, read from its
            buffers in place; ``status`` uint8 per row (0 encoded, 1 null, 2 refused,
            3 outside the buffers), ``failures`` ``(row, position, reason)`` of the
            refused rows (``reason`` a reason code), whose ids are empty. Used by
            :mod:`chemtok.arrow`.
        reason(code) -> str: the message of a reason code (:mod:`chemtok.reasons`).

    ``on_error`` is ``"raise"``, ``"fallback"`` or ``"skip"`` (see :mod:`chemtok.base`);
    ``num_threads=None`` uses every core. Refused input raises
    :class:`~chemtok.errors.TokenizationError` with the reference's position (a str
    index) and reason; in a batch, for the first failing text in input order, with
    that text's position in the batch as ``.index``.
    """

    @classmethod
    def for_tokenizer(cls, tok: Any) -> NativeEngine:
        """Build the engine of a SMILES, InChI, protein, DNA or SELFIES tokenizer.

        Args:
            tok: a :class:`~chemtok.SmilesTokenizer`, :class:`~chemtok.InchiTokenizer`,
                :class:`~chemtok.sequence.SequenceTokenizer` (protein, DNA) or
                :class:`~chemtok.SelfiesTokenizer`; its
                ``grammar``, ``vocabulary.tokens`` and ``name`` are read, and for a
                SMILES tokenizer with merges (a compact model) also ``merges``,
                ``unit_vocabulary.tokens`` and ``word_rules``.

        Raises:
            ImportError: the compiled core is not built.
            TypeError: the core cannot run ``tok`` (see :func:`supports`).
        """
        if _CompiledEngine is None:
            raise _not_built()
        kind, problem = _kind(tok)
        if kind is None:
            raise TypeError(f"no native engine for {tok!r}: {problem}")
        compact = None
        merges = getattr(tok, "merges", None)
        if kind == "smiles" and merges:
            rules = tok.word_rules  # the rules the reference splits merge words with
            compact = {
                "unit_tokens": tuple(tok.unit_vocabulary.tokens),
                "merges": tuple(merges),
                "separators": tuple(sorted(rules.separators)),
                "groups": tuple(rules.groups),
            }
        spec = engine_spec_json(tok)
        return cls(kind, tok.name, spec, tuple(tok.vocabulary.tokens), compact)


def engine_spec(tok: Any) -> dict[str, Any]:
    """Return the spec the Rust core builds ``tok``'s lexer from, as plain data.

    The grammar's ``as_dict()``, the derived tables the reference itself lexes with
    (so that Rust never re-derives, and never disagrees about, a table) and
    ``reasons``, the tokenizer's :attr:`~chemtok.base.GrammarTokenizer.reason_messages`
    (the core returns reason codes; this is the one table their messages come from).
    :meth:`NativeEngine.for_tokenizer` hands it over as JSON, which the core's spec
    structs deserialize (serde); the Rust unit tests read the same JSON for the
    shipped grammars (``scripts/write_native_specs.py``).

    Args:
        tok: a tokenizer :func:`supports` accepts.

    Raises:
        TypeError: the core cannot run ``tok``.

    Example:
        >>> import chemtok
        >>> spec = engine_spec(chemtok.DnaTokenizer())
        >>> spec["name"], spec["symbols"][:4]
        ('dna', ['A', 'C', 'G', 'T'])
        >>> spec["reasons"]["sequence_no_rule"]
        'not a letter of the dna alphabet ACGTURYSWKMBDHVN-%.'
    """
    kind, problem = _kind(tok)
    if kind is None:
        raise TypeError(f"no native engine for {tok!r}: {problem}")
    grammar = tok.grammar
    spec: dict[str, Any] = {key: _plain(value) for key, value in grammar.as_dict().items()}
    if kind == "smiles":
        spec["chiralities"] = list(grammar.chiralities)
        spec["bracket_symbols"] = list(grammar.bracket_symbols)
    elif kind != "selfies":  # SELFIES: the grammar's own tables are all the lexer reads
        spec["symbols"] = list(grammar.symbols)
    spec["reasons"] = dict(tok.reason_messages)
    return spec


def engine_spec_json(tok: Any, *, indent: int | None = None) -> str:
    """Return :func:`engine_spec` of ``tok`` as the JSON text the Rust core reads.

    Example:
        >>> import chemtok
        >>> import json
        >>> json.loads(engine_spec_json(chemtok.InchiTokenizer()))["layer_separator"]
        '/'
    """
    return json.dumps(engine_spec(tok), sort_keys=True, ensure_ascii=False, indent=indent)


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists (JSON's arrays), recursively."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


_BMP = 0x10000


@functools.cache
def python_regex_tables() -> tuple[str, str]:
    """Python's whitespace (``str.isspace``, regex ``\\s``) and the non-ASCII letters
    ``re.IGNORECASE`` matches to an ASCII letter, as this Python decides them.

    The core has no Unicode tables of Python's; a rule written as a Python regex (the
    detector's cues and runs) gets these rather than Rust's own, which differ
    (``char::is_whitespace`` lacks ``\\x1c``-``\\x1f``), and the core matches cue words
    byte by byte, so it must know which non-ASCII letters Python would equate with them.
    Both lie in the Basic Multilingual Plane (``tests/test_detect_native.py`` checks every
    code point), so only it is scanned: a sixteenth of the time.

    Example:
        >>> from chemtok.native import python_regex_tables
        >>> whitespace, casefold = python_regex_tables()
        >>> "\\x1c" in whitespace, "\\u212a" in casefold      # a file separator; the Kelvin sign
        (True, True)
    """
    everything = "".join(map(chr, range(_BMP)))
    whitespace = "".join(re.findall(r"\s", everything))
    casefold = "".join(c for c in re.findall(r"(?i)[a-z]", everything) if not c.isascii())
    return whitespace, casefold
