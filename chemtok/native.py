"""The Rust fast path: a thin wrapper over the compiled core ``chemtok._native``.

The core (``rust/chemtok-core``, bound by ``rust/chemtok-py``) lexes SMILES, InChI and
sequences from the same grammar tables as the pure-Python reference tokenizers, which
stay the definition: for every input, policy and vocabulary the engine gives the same
tokens, the same ids and the same ``TokenizationError`` (position and reason) as the
reference, which ``tests/test_native.py`` checks on random and real inputs.

Nothing is copied into Rust by hand: :meth:`NativeEngine.for_tokenizer` hands over the
tokenizer's grammar (``grammar.as_dict()`` plus the derived tables the reference itself
uses) and its vocabulary's token list in id order. For a compact SMILES model
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

from typing import TYPE_CHECKING, Any

from chemtok.grammar import InchiGrammar, SequenceGrammar, SmilesGrammar

if TYPE_CHECKING:
    from chemtok import _native

__all__ = ["available", "supports", "NativeEngine"]

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
    merges), InChI, protein and DNA tokenizers.
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
    return None, f"{type(tok).__name__} has no SMILES, InChI or sequence grammar"


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
            refused rows, whose ids are empty. Used by :mod:`chemtok.arrow`.

    ``on_error`` is ``"raise"``, ``"fallback"`` or ``"skip"`` (see :mod:`chemtok.base`);
    ``num_threads=None`` uses every core. Refused input raises
    :class:`~chemtok.errors.TokenizationError` with the reference's position (a str
    index) and reason; in a batch, for the first failing text in input order, with
    that text's position in the batch as ``.index``.
    """

    @classmethod
    def for_tokenizer(cls, tok: Any) -> NativeEngine:
        """Build the engine of a SMILES, InChI, protein or DNA tokenizer.

        Args:
            tok: a :class:`~chemtok.SmilesTokenizer`, :class:`~chemtok.InchiTokenizer`
                or :class:`~chemtok.sequence.SequenceTokenizer` (protein, DNA); its
                ``grammar``, ``vocabulary.tokens`` and ``name`` are read, and for a
                SMILES tokenizer with merges (a compact model) also ``merges``,
                ``unit_vocabulary.tokens`` and its word rules.

        Raises:
            ImportError: the compiled core is not built.
            TypeError: the core cannot run ``tok`` (see :func:`supports`).
        """
        if _CompiledEngine is None:
            raise _not_built()
        kind, problem = _kind(tok)
        if kind is None:
            raise TypeError(f"no native engine for {tok!r}: {problem}")
        grammar = tok.grammar
        spec: dict[str, Any] = dict(grammar.as_dict())
        # Derived tables are handed over as the reference computes them, so that the
        # Rust side never re-derives (and never disagrees about) a table.
        if kind == "smiles":
            spec["chiralities"] = tuple(grammar.chiralities)
            spec["bracket_symbols"] = tuple(grammar.bracket_symbols)
        else:
            spec["symbols"] = tuple(grammar.symbols)
        compact = None
        merges = getattr(tok, "merges", None)
        if kind == "smiles" and merges:
            from chemtok.compact import WordRules

            # The rules the reference splits words with (SmilesTokenizer._word_rules).
            rules = getattr(tok, "_word_rules", None)
            if not isinstance(rules, WordRules):
                rules = WordRules.for_grammar(grammar)
            compact = {
                "unit_tokens": tuple(tok.unit_vocabulary.tokens),
                "merges": tuple(merges),
                "separators": tuple(sorted(rules.separators)),
                "groups": tuple(rules.groups),
            }
        return cls(kind, tok.name, spec, tuple(tok.vocabulary.tokens), compact)
