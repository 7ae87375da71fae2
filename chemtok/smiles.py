"""Atom-level SMILES tokenizer built from ``grammars/smiles.toml`` (the reference engine).

Tokens are the lexemes of OpenSMILES: organic-subset atoms (``Cl``, ``c``), bracket
atoms, bonds (incl. RDKit's dative ``->``/``<-``), branches, ring closures (``1``,
``%10``, RDKit's ``%(123)``), ``.`` and the reaction arrows ``>``/``>>``.

The vocabulary is closed and total. A bracket atom in the vocabulary is one token
(``[C@@H]``); any other bracket atom is spelled from its parts so that no valid input
ever needs an unknown token:

* ``[``, the isotope, the *core* (symbol with chirality, H count and charge,
  e.g. ``CH3`` or ``C@@H``) if the core is in the vocabulary, otherwise symbol,
  chirality, H count and charge one by one, then the atom class and ``]``;
* a number the vocabulary lacks (isotope ``002``, class ``:1234``) is spelled
  digit by digit after its prefix.

So the atom-mapped ``[CH3:12]`` becomes ``[``, ``CH3``, ``:12``, ``]``.

Example:
    >>> import chemtok
    >>> tok = chemtok.SmilesTokenizer()
    >>> tok.tokenize("ClCBr")
    ['Cl', 'C', 'Br']
    >>> tok.tokenize("C[C@@H](N)C(=O)O")
    ['C', '[C@@H]', '(', 'N', ')', 'C', '(', '=', 'O', ')', 'O']
    >>> tok.tokenize("[CH3:12][OH:13]>>[CH2:12]=[O:13]")[:5]
    ['[', 'CH3', ':12', ']', '[']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chemtok.base import Engine, GrammarTokenizer, NoRule, OnError, read_on_error
from chemtok.compact import (
    MODEL_FILE,
    SHIPPED_MODELS,
    CompactModel,
    WordRules,
    apply_merges,
    load_compact_model,
    split_words,
)
from chemtok.dialects import load_markers
from chemtok.errors import DataFileError
from chemtok.grammar import SmilesGrammar, load_smiles_grammar
from chemtok.reasons import REASONS, bracket_repeated
from chemtok.vocab import Vocabulary, load_vocab_file, require_tokens

__all__ = ["SmilesTokenizer", "smiles_base_tokens", "SmilesLexer", "VOCAB_FILE"]

VOCAB_FILE = "smiles_vocab.json"


def _alternation(literals: Iterable[str]) -> str:
    """A regex alternation of literal strings, longest first (``Cl`` before ``C``)."""
    return "|".join(re.escape(x) for x in sorted(set(literals), key=lambda s: (-len(s), s)))


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def smiles_base_tokens(g: SmilesGrammar) -> tuple[str, ...]:
    """Every token the SMILES lexer may need whatever the input: the closed base vocabulary.

    Learned tokens (whole bracket atoms, bracket cores, ``%(nnn)``) are added on top
    by ``scripts/build_vocab.py``; without them every input still tokenizes.
    """
    signs = g.charge_signs
    return _dedupe(
        [
            *g.organic,
            *g.organic_aromatic,
            g.wildcard,
            *g.bonds,
            *g.dative_bonds,
            g.branch_open,
            g.branch_close,
            g.dot,
            *g.reaction,
            *g.ring_digits,
            *(f"{g.ring_percent}{a}{b}" for a in g.ring_digits for b in g.ring_digits),
            g.ring_paren_open,
            g.ring_paren_close,
            g.bracket_open,
            g.bracket_close,
            *g.bracket_symbols,
            *g.chiralities,
            g.hydrogen,
            *(f"{g.hydrogen}{n}" for n in range(g.hydrogen_count_max + 1)),
            *signs,
            *((s + s for s in signs) if g.charge_sign_runs else ()),
            *(f"{s}{n}" for s in signs for n in range(1, g.charge_max + 1)),
            *(str(n) for n in range(1, g.isotope_max + 1)),
            g.class_prefix,
            *(f"{g.class_prefix}{n}" for n in range(g.class_max + 1)),
        ]
    )


class SmilesLexer:
    """The compiled patterns of one SMILES grammar, shared by every tokenizer using it."""

    def __init__(self, g: SmilesGrammar) -> None:
        self.grammar = g
        digits = re.escape(g.ring_digits)
        top_literals = [
            *g.organic,
            *g.organic_aromatic,
            g.wildcard,
            *g.bonds,
            *g.dative_bonds,
            g.branch_open,
            g.branch_close,
            g.dot,
            *g.reaction,
        ]
        ring = (
            f"{re.escape(g.ring_paren_open)}[{digits}]{{1,{g.ring_paren_max_digits}}}"
            f"{re.escape(g.ring_paren_close)}"
            f"|{re.escape(g.ring_percent)}[{digits}][{digits}]"
            f"|[{digits}]"
        )
        # Ring closures first: "%(" must not be read as an unknown "%" then a branch.
        self.lexeme = f"{ring}|{_alternation(top_literals)}"
        self.top = re.compile(self.lexeme)
        self.top_run = re.compile(f"(?:{self.lexeme})+")
        self.isotope = re.compile(r"[0-9]+")
        self.symbol = re.compile(_alternation(g.bracket_symbols))
        sign_runs = "".join(f"{re.escape(s)}{{2,}}|" for s in g.charge_signs) if g.charge_sign_runs else ""
        self.prop = re.compile(
            f"(?P<chirality>{_alternation(g.chiralities)})"
            f"|(?P<hydrogen_count>{re.escape(g.hydrogen)}[0-9]*)"
            f"|(?P<charge>{sign_runs}[{re.escape(''.join(g.charge_signs))}][0-9]*)"
            f"|(?P<atom_class>{re.escape(g.class_prefix)}[0-9]+)"
        )

    def bracket_parts(self, text: str, pos: int) -> tuple[int, str | None, int, list[tuple[str, str]]]:
        """Parse the bracket atom opening at ``pos``.

        Returns:
            ``(end, isotope, symbol_start, props)``: the index after ``]``, the isotope
            string or ``None``, where the symbol starts, and the properties in written
            order as ``(kind, string)``; the symbol is ``props[0]`` with kind ``"symbol"``.

        Raises:
            NoRule: at the first character that does not fit the bracket-atom grammar.
        """
        g = self.grammar
        i = pos + len(g.bracket_open)
        n = len(text)
        isotope = None
        m = self.isotope.match(text, i)
        if m:
            isotope = m.group()
            i = m.end()
        m = self.symbol.match(text, i)
        if not m:
            if i >= n:
                raise NoRule(pos, REASONS["bracket_not_closed"])
            raise NoRule(i, REASONS["bracket_no_symbol"])
        symbol_start = i
        props: list[tuple[str, str]] = [("symbol", m.group())]
        i = m.end()
        seen: set[str] = set()
        close = g.bracket_close
        while True:
            if text.startswith(close, i):
                return i + len(close), isotope, symbol_start, props
            m = self.prop.match(text, i)
            if not m:
                if i >= n:
                    raise NoRule(pos, REASONS["bracket_not_closed"])
                raise NoRule(i, REASONS["bracket_no_property"])
            kind = m.lastgroup or ""
            if kind in seen:
                raise NoRule(i, REASONS[bracket_repeated(kind)])  # e.g. [CH4:1:2]
            seen.add(kind)
            props.append((kind, m.group()))
            i = m.end()


@functools.cache
def _lexer(g: SmilesGrammar) -> SmilesLexer:
    return SmilesLexer(g)


@functools.cache
def default_smiles_vocabulary() -> Vocabulary:
    """The shipped atom-level SMILES vocabulary (specials + bytes + SMILES tokens)."""
    g = load_smiles_grammar()
    tokens = load_vocab_file(VOCAB_FILE, grammar_tag=g.tag, required=smiles_base_tokens(g))
    return Vocabulary.with_standard_blocks(load_markers().special_tokens, tokens, name="smiles")


class SmilesTokenizer(GrammarTokenizer):
    """Tokenize SMILES and reaction SMILES into atom-level tokens, losslessly.

    Args:
        on_error: ``"raise"`` (default), ``"fallback"`` or ``"skip"``; see
            :mod:`chemtok.base`.
        engine: ``"auto"`` (default: the Rust core when built), ``"native"`` or
            ``"python"`` (the pure-Python reference); both give identical results.
        model: ``"atom"`` (default): one token per atom-level lexeme; ``"compact"``: the
            shipped model of learned merges over atom-level tokens (fewer tokens, every
            token still a whole number of atom-level tokens; see :mod:`chemtok.compact`);
            or the path of a model written by ``chemtok train smiles``.
        vocabulary: a :class:`~chemtok.vocab.Vocabulary` to use instead of the shipped
            atom-level one; it must contain the grammar's base tokens.

    Example:
        >>> import chemtok
        >>> tok = chemtok.SmilesTokenizer()
        >>> tok.tokenize("CC(=O)Cl.OCC>>CC(=O)OCC")[9:]
        ['C', 'C', '>>', 'C', 'C', '(', '=', 'O', ')', 'O', 'C', 'C']
        >>> tok.tokenize("C%(123)CC%(123)")   # a ring number common enough to be learned
        ['C', '%(123)', 'C', 'C', '%(123)']
        >>> tok.tokenize("C%(5000)C")         # a rare one, spelled out
        ['C', '%(', '5', '0', '0', '0', ')', 'C']
    """

    name = "smiles"

    def __repr__(self) -> str:
        return f"<SmilesTokenizer model={self.model!r} grammar {self.grammar_tag} {len(self)} tokens, {self.engine}>"

    def __init__(
        self,
        *,
        on_error: OnError = "raise",
        engine: Engine = "auto",
        model: str | CompactModel = "atom",
        vocabulary: Vocabulary | None = None,
    ) -> None:
        super().__init__(on_error=on_error, engine=engine)
        self.grammar = load_smiles_grammar()
        self.grammar_tag = self.grammar.tag
        if vocabulary is None:
            vocabulary = default_smiles_vocabulary()
        else:
            require_tokens(vocabulary, smiles_base_tokens(self.grammar))
        #: The atom-level vocabulary: decides how brackets and ring numbers are spelled.
        self.unit_vocabulary = vocabulary
        #: The model name or path given (``"custom"`` for a ``CompactModel`` object).
        self.model = model if isinstance(model, str) else "custom"
        #: The compact model, or ``None`` for ``model="atom"``.
        self.compact_model: CompactModel | None = None
        self.merges: tuple[tuple[str, str], ...] = ()
        self._ranks: dict[tuple[str, str], int] = {}
        if model == "atom":
            self.vocabulary = vocabulary
        else:
            compact = model if isinstance(model, CompactModel) else load_compact_model(str(model))
            self.compact_model = compact
            if compact.grammar != self.grammar_tag or compact.atom_vocab_fingerprint != vocabulary.fingerprint:
                raise DataFileError(
                    self.model,
                    "atom_vocab_fingerprint",
                    "the compact model was trained over another grammar or atom-level vocabulary; retrain it "
                    "with 'chemtok train smiles'",
                )
            self.merges = compact.merges
            self._ranks = compact.ranks
            # A merge can spell an existing token ("1"+"2" = isotope "12"): same string, same id.
            merged = [t for t in compact.merged_tokens if t not in vocabulary]
            self.vocabulary = Vocabulary((*vocabulary.tokens, *merged), name="smiles-compact")
        self._word_rules = WordRules.for_grammar(self.grammar)
        self.special_tokens = load_markers().special_tokens
        self._lexer = _lexer(self.grammar)
        self._bracket_cache: dict[str, tuple[str, ...]] = {}
        self._word_cache: dict[tuple[str, ...], list[str]] = {}
        self._start_engine()

    # -- saving and pickling ------------------------------------------------------------

    def _custom_vocabulary(self) -> Vocabulary | None:
        """The atom-level vocabulary if it is not the shipped one, else ``None``."""
        default = default_smiles_vocabulary()
        unit = self.unit_vocabulary
        return None if unit is default or unit.fingerprint == default.fingerprint else unit

    def _init_kwargs(self) -> dict[str, Any]:
        kwargs = super()._init_kwargs()
        shipped = self.model == "atom" or self.model in SHIPPED_MODELS
        # A model from a path travels as its merges: a worker need not see the file.
        kwargs["model"] = self.model if shipped else self.compact_model
        kwargs["vocabulary"] = self._custom_vocabulary()
        return kwargs

    def __reduce__(self) -> tuple[Any, ...]:
        rebuild, args = super().__reduce__()
        return (rebuild, args, {"model": self.model})

    def save_options(self, directory: Path) -> dict[str, Any]:
        options = super().save_options(directory)
        if self.compact_model is None or self.model in SHIPPED_MODELS:
            options["model"] = self.model
        else:
            self.compact_model.save(directory / MODEL_FILE)
            options["model_file"] = MODEL_FILE
        return options

    @classmethod
    def from_options(cls, directory: Path, options: Any, *, engine: Engine) -> SmilesTokenizer:
        vocabulary = cls._saved_vocabulary(directory, options)
        if "model_file" not in options.table:
            choices = ["atom", *SHIPPED_MODELS]
            model = options.get("model", str, lambda v: None if v in choices else f"must be one of {choices}")
            return cls(on_error=read_on_error(options), engine=engine, model=model, vocabulary=vocabulary)
        from chemtok.persist import read_json_file

        model_path = directory / options.get("model_file", str)
        compact = CompactModel.from_data(read_json_file(model_path), str(model_path))
        tok = cls(on_error=read_on_error(options), engine=engine, model=compact, vocabulary=vocabulary)
        tok.model = str(model_path)  # where the model now lives (what HF directories record)
        return tok

    def _tokenize_reference(self, text: str, policy: str) -> list[str]:
        units = super()._tokenize_reference(text, policy)
        if not self._ranks:
            return units
        out: list[str] = []
        cache = self._word_cache
        for word in split_words(units, self._word_rules):
            key = tuple(word)
            merged = cache.get(key)
            if merged is None:
                merged = apply_merges(word, self._ranks)
                if len(cache) > 200_000:
                    cache.clear()
                cache[key] = merged
            out.extend(merged)
        return out

    @property
    def word_rules(self) -> WordRules:
        """The rules that split atom-level units into merge words (compact models).

        Example:
            >>> SmilesTokenizer().word_rules.groups  # a bracket atom is never split
            (('[', ']'), ('%(', ')'))
        """
        return self._word_rules

    @property
    def lexer(self) -> SmilesLexer:
        """The compiled patterns of this tokenizer's grammar (shared per grammar).

        Example:
            >>> SmilesTokenizer().lexer.top.findall("ClCBr")
            ['Cl', 'C', 'Br']
        """
        return self._lexer

    def _lex_at(self, text: str, pos: int, out: list[str]) -> int:
        g = self.grammar
        if text.startswith(g.bracket_open, pos):
            return self._lex_bracket(text, pos, out)
        m = self._lexer.top_run.match(text, pos)
        if not m:
            raise NoRule(pos, REASONS["smiles_no_lexeme"])
        vocab = self.unit_vocabulary.token_to_id
        for lexeme in self._lexer.top.findall(m.group()):
            if lexeme in vocab:
                out.append(lexeme)
            else:  # a %(nnn) ring number the vocabulary does not hold
                out.append(g.ring_paren_open)
                out.extend(lexeme[len(g.ring_paren_open) : -len(g.ring_paren_close)])
                out.append(g.ring_paren_close)
        return m.end()

    def _lex_bracket(self, text: str, pos: int, out: list[str]) -> int:
        close = self.grammar.bracket_close
        end_guess = text.find(close, pos)
        if end_guess >= 0:
            cached = self._bracket_cache.get(text[pos : end_guess + len(close)])
            if cached is not None:
                out.extend(cached)
                return end_guess + len(close)
        end, isotope, _, props = self._lexer.bracket_parts(text, pos)
        tokens = tuple(self._spell_bracket(text[pos:end], isotope, props))
        if len(self._bracket_cache) > 100_000:
            self._bracket_cache.clear()
        self._bracket_cache[text[pos:end]] = tokens
        out.extend(tokens)
        return end

    def _spell_bracket(self, whole: str, isotope: str | None, props: list[tuple[str, str]]) -> list[str]:
        vocab = self.unit_vocabulary.token_to_id
        if whole in vocab:
            return [whole]
        g = self.grammar
        tokens = [g.bracket_open]
        if isotope is not None:
            tokens.extend(self._spell_number(isotope, ""))
        # The core is the symbol plus the properties written before any atom class.
        core_len = 0
        for kind, _ in props:
            if kind == "atom_class":
                break
            core_len += 1
        core = "".join(part for _, part in props[:core_len])
        if core in vocab:
            tokens.append(core)
            rest = props[core_len:]
        else:
            rest = props
        for _, part in rest:
            if part in vocab:
                tokens.append(part)
            else:  # a count, charge, class or sign run beyond the closed ranges
                head = part.rstrip("0123456789")
                tokens.extend([head] if head in vocab else head)
                tokens.extend(part[len(head) :])
        tokens.append(g.bracket_close)
        return tokens

    def _spell_number(self, number: str, head: str) -> list[str]:
        token = head + number
        if token in self.unit_vocabulary.token_to_id:
            return [token]
        return ([head] if head else []) + list(number)
