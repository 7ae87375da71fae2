"""Character-level protein and DNA/RNA tokenizers over IUPAC alphabets (reference engine).

One token per residue or nucleotide letter; case is kept, so soft-masked lowercase
regions survive the round trip. The alphabets live in ``grammars/protein.toml`` and
``grammars/dna.toml``.

Example:
    >>> import chemtok
    >>> chemtok.ProteinTokenizer().tokenize("MKTAYIAK*")
    ['M', 'K', 'T', 'A', 'Y', 'I', 'A', 'K', '*']
    >>> chemtok.DnaTokenizer().tokenize("ACGTnnRY")
    ['A', 'C', 'G', 'T', 'n', 'n', 'R', 'Y']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from chemtok.base import Engine, GrammarTokenizer, NoRule, OnError
from chemtok.dialects import load_markers
from chemtok.grammar import SequenceGrammar, load_sequence_grammar
from chemtok.reasons import reason_messages
from chemtok.vocab import Vocabulary

__all__ = ["SequenceTokenizer", "ProteinTokenizer", "DnaTokenizer"]


@functools.cache
def sequence_vocabulary(g: SequenceGrammar) -> Vocabulary:
    """Specials + bytes + the alphabet (uppercase in grammar order, then lowercase)."""
    return Vocabulary.with_standard_blocks(load_markers().special_tokens, g.symbols, name=g.name)


class SequenceTokenizer(GrammarTokenizer):
    """One token per letter of a sequence alphabet; the base of protein and DNA."""

    def __init__(self, grammar_name: str, *, on_error: OnError = "raise", engine: Engine = "auto") -> None:
        super().__init__(on_error=on_error, engine=engine)
        self.grammar = load_sequence_grammar(grammar_name)
        self.name = self.grammar.name
        self.grammar_tag = self.grammar.tag
        self.vocabulary = sequence_vocabulary(self.grammar)
        self.special_tokens = load_markers().special_tokens
        self._run = re.compile(f"[{re.escape(''.join(self.grammar.symbols))}]+")
        self._start_engine()

    def _init_kwargs(self) -> dict[str, Any]:
        kwargs = super()._init_kwargs()
        if type(self) is SequenceTokenizer:  # the subclasses fix the grammar
            kwargs["grammar_name"] = self.grammar.name
        return kwargs

    @property
    def reason_messages(self) -> Mapping[str, str]:
        """The refusal messages, naming this alphabet (see :mod:`chemtok.reasons`).

        Example:
            >>> DnaTokenizer().reason_messages["sequence_no_rule"]
            'not a letter of the dna alphabet ACGTURYSWKMBDHVN-%.'
        """
        return reason_messages(name=self.name, letters=self.grammar.letters)

    def _lex_at(self, text: str, pos: int, out: list[str]) -> int:
        m = self._run.match(text, pos)
        if not m:
            raise NoRule(pos, self.reason_messages["sequence_no_rule"])
        out.extend(m.group())
        return m.end()


class ProteinTokenizer(SequenceTokenizer):
    """Tokenize protein sequences residue by residue (20 residues, B Z J U O X, ``*``, ``-``).

    Example:
        >>> import chemtok
        >>> tok = chemtok.ProteinTokenizer()
        >>> tok.decode(tok.encode("MKTAYIAKQR")) == "MKTAYIAKQR"
        True
    """

    def __init__(self, *, on_error: OnError = "raise", engine: Engine = "auto") -> None:
        super().__init__("protein", on_error=on_error, engine=engine)


class DnaTokenizer(SequenceTokenizer):
    """Tokenize DNA/RNA nucleotide by nucleotide (A C G T U, ambiguity codes, N, ``-``).

    Example:
        >>> import chemtok
        >>> chemtok.DnaTokenizer().tokenize("AUGgcN")
        ['A', 'U', 'G', 'g', 'c', 'N']
    """

    def __init__(self, *, on_error: OnError = "raise", engine: Engine = "auto") -> None:
        super().__init__("dna", on_error=on_error, engine=engine)
