"""SELFIES tokenizer: one token per SELFIES symbol, from ``grammars/selfies.toml``.

This module is the reference engine; the Rust core's lexer
(``rust/chemtok-core/src/selfies.rs``) is built from the same tables and runs by default
(``engine="auto"``), with the same tokens, ids and errors (``tests/test_selfies_native.py``).

A SELFIES string (Krenn et al., 2020) is a sequence of bracketed symbols and ``.``:
atoms with an optional bond prefix (``[C]``, ``[=O]``, ``[NH1+1]``), branches
(``[Branch1]``, ``[=Branch2]``), rings (``[Ring1]``, ``[-/Ring2]``), ``[nop]`` and the
fragment separator ``.``. Every symbol the vocabulary holds is one token, which covers
every branch, ring and special symbol and the common atoms with each bond prefix.

The vocabulary is closed: an atom symbol it lacks is spelled from its parts, as the
SMILES tokenizer spells an unseen bracket atom: ``[``, the bond, the isotope, the
element, the chirality, the H count, the charge, ``]``. A number the vocabulary lacks
(isotope ``1000``, charge ``+12``) is spelled digit by digit after its sign. So no
input of the grammar ever needs an unknown token, and anything outside it (text
between symbols, an unclosed bracket, ``[Branch4]``) raises
:class:`~chemtok.errors.TokenizationError` with the position.

Example:
    >>> import chemtok
    >>> tok = chemtok.SelfiesTokenizer()
    >>> tok.tokenize("[C][C][=Branch1][C][=O][O]")
    ['[C]', '[C]', '[=Branch1]', '[C]', '[=O]', '[O]']
    >>> tok.tokenize("[13CH4].[Na+1]")
    ['[', '13', 'C', 'H4', ']', '.', '[Na+1]']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from chemtok.base import Engine, GrammarTokenizer, NoRule, OnError
from chemtok.dialects import load_markers
from chemtok.grammar import SelfiesGrammar, load_selfies_grammar
from chemtok.reasons import reason_messages
from chemtok.vocab import Vocabulary

__all__ = ["SelfiesTokenizer", "SelfiesLexer", "selfies_base_tokens", "selfies_reason_messages"]


def selfies_base_tokens(g: SelfiesGrammar) -> tuple[str, ...]:
    """The closed vocabulary of a SELFIES grammar, in id order.

    ``.``, the branch, ring and special symbols, each listed atom with every bond
    prefix, then the parts unseen atoms are spelled from.

    Example:
        >>> from chemtok.grammar import load_selfies_grammar
        >>> tokens = selfies_base_tokens(load_selfies_grammar())
        >>> "[=Branch1]" in tokens and "[#N]" in tokens and "H1" in tokens
        True
    """
    numbers = range(1, g.charge_max + 1)
    tokens = [
        g.dot,
        *g.structure_symbols,
        *(g.bracket(f"{bond}{atom}") for atom in g.atoms for bond in ("", *g.atom_bonds)),
        g.open,
        g.close,
        *g.atom_bonds,
        *g.elements,
        *g.chirality,
        *(f"{g.hydrogen}{n}" for n in range(10)),
        *g.charge_signs,
        *(f"{sign}{n}" for sign in g.charge_signs for n in numbers),
        *(str(n) for n in range(g.isotope_max + 1)),
    ]
    return tuple(dict.fromkeys(tokens))


def selfies_reason_messages(g: SelfiesGrammar) -> Mapping[str, str]:
    """The refusal messages of a SELFIES grammar, its values filled in (:mod:`chemtok.reasons`).

    Example:
        >>> from chemtok.grammar import load_selfies_grammar
        >>> selfies_reason_messages(load_selfies_grammar())["selfies_not_closed"]
        "symbol is not closed with ']'"
    """
    return reason_messages(
        open=g.open,
        close=g.close,
        dot=g.dot,
        branch=g.branch,
        ring=g.ring,
        max_length=str(g.max_length),
        branch_bonds=", ".join(g.branch_bonds),
    )


class SelfiesLexer:
    """The compiled patterns of one SELFIES grammar.

    Example:
        >>> from chemtok.grammar import load_selfies_grammar
        >>> lexer = SelfiesLexer(load_selfies_grammar())
        >>> lexer.is_atom_body("13CH4"), lexer.is_atom_body("Branch4")
        (True, False)
    """

    def __init__(self, g: SelfiesGrammar) -> None:
        self.grammar = g
        self.messages = selfies_reason_messages(g)
        self.body = re.compile(g.atom_body_pattern)
        self.bond = re.compile("|".join(re.escape(b) for b in g.atom_bonds))
        self.digits = re.compile("[0-9]+")
        #: Any bracketed symbol or dot: the fast path when every symbol is a token.
        self.symbols = re.compile(f"{re.escape(g.open)}[^{re.escape(g.open + g.close)}]*{re.escape(g.close)}|{re.escape(g.dot)}")
        self.element = re.compile(g.element_pattern)
        bonds = "".join(re.escape(b) for b in sorted({*g.branch_bonds, *g.ring_stereo}))
        self.structure = re.compile(f"[{bonds}]*(?:{re.escape(g.branch)}|{re.escape(g.ring)})")

    def is_atom_body(self, body: str) -> bool:
        """``True`` if ``body`` (a symbol without its brackets) is an atom of the grammar."""
        return self.body.fullmatch(body) is not None

    def explain(self, text: str, start: int, end: int) -> NoRule:
        """Why the symbol body ``text[start:end]`` is not an atom: the first part that fails.

        Example:
            >>> from chemtok.grammar import load_selfies_grammar
            >>> SelfiesLexer(load_selfies_grammar()).explain("[CH12]", 1, 5).position  # after [CH1
            4
        """
        messages = self.messages
        m = self.structure.match(text, start, end)
        if m:
            return NoRule(m.end(), messages["selfies_structure"])
        i = start
        m = self.bond.match(text, i)
        if m and m.end() <= end:
            i = m.end()
        m = self.digits.match(text, i, end)
        if m:
            i = m.end()
        m = self.element.match(text, i, end)
        if not m:
            return NoRule(i, messages["selfies_no_element"])
        # The longest prefix of the body that the atom pattern accepts; the error is after it.
        best = m.end()
        for stop in range(end, m.end(), -1):
            if self.body.fullmatch(text, start, stop):
                best = stop
                break
        return NoRule(best, messages["selfies_no_property"])


@functools.cache
def _lexer(g: SelfiesGrammar) -> SelfiesLexer:
    return SelfiesLexer(g)


@functools.cache
def default_selfies_vocabulary() -> Vocabulary:
    """The shipped SELFIES vocabulary (specials + bytes + SELFIES tokens)."""
    g = load_selfies_grammar()
    return Vocabulary.with_standard_blocks(load_markers().special_tokens, selfies_base_tokens(g), name="selfies")


class SelfiesTokenizer(GrammarTokenizer):
    """Tokenize SELFIES one symbol per token, losslessly.

    Args:
        on_error: ``"raise"`` (default), ``"fallback"`` or ``"skip"``; see :mod:`chemtok.base`.
        engine: ``"auto"`` (default: the Rust core when it is built), ``"native"`` or
            ``"python"`` (the pure-Python reference, the definition the core matches).

    Example:
        >>> import chemtok
        >>> tok = chemtok.SelfiesTokenizer()
        >>> tok.tokenize("[C][=C][F].[C]")
        ['[C]', '[=C]', '[F]', '.', '[C]']
        >>> tok.tokenize("[N][C@@H1][C][Ring1][Branch1]")[1]
        '[C@@H1]'
        >>> tok.decode(tok.encode("[O-1][S+2]")) == "[O-1][S+2]"
        True
    """

    name = "selfies"

    def __init__(self, *, on_error: OnError = "raise", engine: Engine = "auto") -> None:
        super().__init__(on_error=on_error, engine=engine)
        self.grammar = load_selfies_grammar()
        self.grammar_tag = self.grammar.tag
        self.vocabulary = default_selfies_vocabulary()
        self.special_tokens = load_markers().special_tokens
        self._lexer = _lexer(self.grammar)
        self._start_engine()

    @property
    def reason_messages(self) -> Mapping[str, str]:
        """The refusal messages, naming this grammar's brackets and symbols (see :mod:`chemtok.reasons`).

        Example:
            >>> import chemtok
            >>> chemtok.SelfiesTokenizer().reason_messages["selfies_structure"][:40]
            'Branch and Ring symbols are [Branch1] to'
        """
        return self._lexer.messages

    def _tokenize_reference(self, text: str, policy: str) -> list[str]:
        # Most SELFIES are only vocabulary symbols: one findall. The matches cover the
        # whole text exactly when their lengths add up to it; otherwise (a spelled
        # atom, a refusal) the symbol-by-symbol loop decides.
        symbols = self._lexer.symbols.findall(text)
        vocab = self.vocabulary.token_to_id
        if sum(map(len, symbols)) == len(text) and all(symbol in vocab for symbol in symbols):
            return symbols
        return super()._tokenize_reference(text, policy)

    def _lex_at(self, text: str, pos: int, out: list[str]) -> int:
        g = self.grammar
        char = text[pos]
        if char == g.dot:
            out.append(char)
            return pos + 1
        if char != g.open:
            raise NoRule(pos, self._lexer.messages["selfies_no_symbol"])
        close = text.find(g.close, pos + 1)
        reopen = text.find(g.open, pos + 1)
        if close < 0 or 0 <= reopen < close:
            raise NoRule(pos, self._lexer.messages["selfies_not_closed"])
        symbol = text[pos : close + 1]
        vocab = self.vocabulary.token_to_id
        if symbol in vocab:
            out.append(symbol)
            return close + 1
        m = self._lexer.body.fullmatch(text, pos + 1, close)
        if m is None:
            raise self._lexer.explain(text, pos + 1, close)
        out.append(g.open)
        for part in ("bond", "isotope", "element", "chirality", "hydrogen", "charge"):
            value = m.group(part)
            if value is None:
                continue
            if value in vocab:
                out.append(value)
            elif part == "charge":  # a number beyond charge_max: sign, then digits
                out.append(value[0])
                out.extend(value[1:])
            else:  # an isotope beyond isotope_max: digit by digit
                out.extend(value)
        out.append(g.close)
        return close + 1
