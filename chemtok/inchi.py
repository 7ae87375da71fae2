"""Layer-aware InChI tokenizer built from ``grammars/inchi.toml`` (the reference engine).

Tokens: the prefix (``InChI=1S``, ``InChI=1``), each layer tag with its slash
(``/c``, ``/h``, ``/t`` ...; a repeated sub-layer such as the ``/h`` after ``/i`` or
``/f`` is again a tag token), a bare ``/`` before a formula, element+count formula
parts (``C9``, ``H8``; spelled as element then number when the pair is rare), atom
numbers as whole tokens (``12``, not ``1`` ``2``), and single punctuation marks.
No token spans two layers, because every layer starts with its own tag token.

Example:
    >>> import chemtok
    >>> tok = chemtok.InchiTokenizer()
    >>> tok.tokenize("InChI=1S/CH4O/c1-2/h2H,1H3")
    ['InChI=1S', '/', 'C', 'H4', 'O', '/c', '1', '-', '2', '/h', '2', 'H', ',', '1', 'H3']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chemtok.base import Engine, GrammarTokenizer, NoRule, OnError, read_on_error
from chemtok.dialects import load_markers
from chemtok.grammar import InchiGrammar, load_inchi_grammar
from chemtok.reasons import REASONS, reason_messages
from chemtok.smiles import _alternation, _dedupe
from chemtok.vocab import Vocabulary, load_vocab_file, require_tokens

__all__ = ["InchiTokenizer", "inchi_base_tokens", "InchiLexer", "VOCAB_FILE"]

VOCAB_FILE = "inchi_vocab.json"


def inchi_base_tokens(g: InchiGrammar) -> tuple[str, ...]:
    """The closed base vocabulary: every token some input may need."""
    sep = g.layer_separator
    return _dedupe(
        [
            *g.prefixes,
            sep,
            *(sep + tag for tag in g.layer_tags),
            *g.symbols,
            *g.punctuation,
            *(str(n) for n in range(g.number_max + 1)),
        ]
    )


class InchiLexer:
    """The compiled patterns of one InChI grammar."""

    def __init__(self, g: InchiGrammar) -> None:
        self.grammar = g
        self.prefix = re.compile(_alternation(g.prefixes))
        self.tag = re.compile(f"{re.escape(g.layer_separator)}[{re.escape(''.join(g.layer_tags))}]")
        self.element_count = re.compile(f"({_alternation(g.symbols)})([0-9]*)")
        self.number = re.compile(r"[0-9]+")
        self.punctuation = frozenset(g.punctuation)


@functools.cache
def _lexer(g: InchiGrammar) -> InchiLexer:
    return InchiLexer(g)


@functools.cache
def default_inchi_vocabulary() -> Vocabulary:
    """The shipped InChI vocabulary (specials + bytes + InChI tokens)."""
    g = load_inchi_grammar()
    tokens = load_vocab_file(VOCAB_FILE, grammar_tag=g.tag, required=inchi_base_tokens(g))
    return Vocabulary.with_standard_blocks(load_markers().special_tokens, tokens, name="inchi")


class InchiTokenizer(GrammarTokenizer):
    """Tokenize standard and non-standard InChI strings layer by layer, losslessly.

    Args:
        on_error: ``"raise"`` (default), ``"fallback"`` or ``"skip"``.
        engine: ``"auto"`` (default), ``"native"`` or ``"python"``.
        vocabulary: a vocabulary to use instead of the shipped one.

    Example:
        >>> import chemtok
        >>> tok = chemtok.InchiTokenizer()
        >>> tok.tokenize("InChI=1/C2H6O/c1-2-3/h3H,2H2,1H3/i/hD")[-3:]
        ['/i', '/h', 'D']
    """

    name = "inchi"

    def __init__(
        self, *, on_error: OnError = "raise", engine: Engine = "auto", vocabulary: Vocabulary | None = None
    ) -> None:
        super().__init__(on_error=on_error, engine=engine)
        self.grammar = load_inchi_grammar()
        self.grammar_tag = self.grammar.tag
        if vocabulary is None:
            vocabulary = default_inchi_vocabulary()
        else:
            require_tokens(vocabulary, inchi_base_tokens(self.grammar))
        self.vocabulary = vocabulary
        self.special_tokens = load_markers().special_tokens
        self._lexer = _lexer(self.grammar)
        self._start_engine()

    # -- saving and pickling (chemtok.base) ----------------------------------------------

    def _custom_vocabulary(self) -> Vocabulary | None:
        default = default_inchi_vocabulary()
        v = self.vocabulary
        return None if v is default or v.fingerprint == default.fingerprint else v

    def _init_kwargs(self) -> dict[str, Any]:
        return {**super()._init_kwargs(), "vocabulary": self._custom_vocabulary()}

    @classmethod
    def from_options(cls, directory: Path, options: Any, *, engine: Engine) -> InchiTokenizer:
        vocabulary = cls._saved_vocabulary(directory, options)
        return cls(on_error=read_on_error(options), engine=engine, vocabulary=vocabulary)

    @property
    def reason_messages(self) -> Mapping[str, str]:
        """The refusal messages, naming this grammar's prefixes (see :mod:`chemtok.reasons`).

        Example:
            >>> InchiTokenizer().reason_messages["inchi_prefix"]
            "an InChI starts with one of ['InChI=1S', 'InChI=1B', 'InChI=1']"
        """
        return reason_messages(prefixes=repr(list(self.grammar.prefixes)))

    def _lex_at(self, text: str, pos: int, out: list[str]) -> int:
        lx = self._lexer
        if pos == 0:
            m = lx.prefix.match(text)
            if not m:
                raise NoRule(0, self.reason_messages["inchi_prefix"])
            out.append(m.group())
            return m.end()
        char = text[pos]
        if char == self.grammar.layer_separator:
            m = lx.tag.match(text, pos)
            out.append(m.group() if m else char)
            return m.end() if m else pos + 1
        vocab = self.vocabulary.token_to_id
        if char.isascii() and char.isdigit():
            m = lx.number.match(text, pos)
            number = m.group() if m else char  # the pattern matches every digit run
            out.extend([number] if number in vocab else number)
            return pos + len(number)
        m = lx.element_count.match(text, pos)
        if m:
            whole, symbol, count = m.group(), m.group(1), m.group(2)
            if whole in vocab:
                out.append(whole)
            else:
                out.append(symbol)
                out.extend([count] if count in vocab else count)
            return m.end()
        if char in lx.punctuation:
            out.append(char)
            return pos + 1
        raise NoRule(pos, REASONS["inchi_no_rule"])
