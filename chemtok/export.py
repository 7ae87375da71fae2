"""Export a modality tokenizer as a portable ``tokenizer.json`` (built-in components only).

The file loads with stock Hugging Face ``tokenizers`` (``Tokenizer.from_file``) and
``transformers.PreTrainedTokenizerFast(tokenizer_file=...)`` in a process that never
imports chemtok, and gives the same ids as chemtok for every input the grammar accepts.
It is made of:

* no normalizer (chemtok never rewrites its input);
* a ``pre_tokenizers.Sequence`` of ``Split(Regex(...), behavior="isolated")`` steps
  that cut the string into exactly chemtok's tokens. Every pattern is generated here
  from the grammar file and the vocabulary, never copied by hand;
* a ``WordLevel`` model holding the whole vocabulary (special tokens, the 256
  byte-fallback tokens, the modality's tokens) with ``unk_token="<unk>"``;
* the five special tokens as added special tokens (same ids as chemtok);
* a ``ByteFallback`` + ``Fuse`` decoder, so decoding joins tokens without spaces and
  turns chemtok's byte-fallback tokens (``<0x66>``) back into characters;
* ``model.chemtok``: the grammar, vocabulary fingerprint and chemtok version, an extra
  key that ``tokenizers`` accepts on load (and drops if it re-saves the file).

How the closed-vocabulary rules are expressed. Each ``Split`` step's regex runs
inside each piece the step before produced, so ``\\A``/``\\z`` anchors see a piece, not
the whole string; alternatives are tried in order at each position, and vocabulary
alternations are compiled as tries (longest literal first, like chemtok's
``_alternation``).

SMILES, two steps:

1. The lexer. A bracket atom whose whole text is in the vocabulary (``[C@@H]``) is one
   piece. Any other bracket atom is cut into ``[``, its isotope digits, the rest up
   to ``]`` (the *body*: symbol, chirality, H count, charge, class) and ``]``. "Inside
   a bracket" is the lookahead ``(?=[^\\[\\]]*\\])``: from outside a bracket atom, a
   valid SMILES cannot reach ``]`` without passing ``[``. Everything else is chemtok's
   own top-level lexeme pattern (``SmilesLexer.lexeme``).
2. The spelling, piece by piece: top-level lexemes, whole bracket atoms and
   ``%(nnn)`` in the vocabulary are kept (``\\A...\\z``); an isotope is kept when its
   whole number is in the vocabulary, else split into digits; a body starts with its
   core if the core (everything before the atom class) is in the vocabulary
   (``\\A(?:cores)(?=:|\\z)``), else with the symbol; then each property is one token
   when the vocabulary has it (``H3``, ``+2``, ``:12``, followed by no further digit or
   sign) and otherwise its prefix (``H``, ``+``, ``:``) then one token per digit. A
   ``%(nnn)`` missing from the vocabulary becomes ``%(``, digits, ``)``.

InChI, two steps: (1) the prefix at ``\\A``, layer tags (``/c``), ``/``, element+count
runs, digit runs and punctuation, exactly as chemtok's lexer sees them; (2) keep an
element+count or a number that is in the vocabulary, otherwise split the element from
its count, and keep the count whole if the vocabulary has it, else one digit per token.

SELFIES, two steps: (1) a symbol the vocabulary holds is one piece; any other is cut
into ``[``, its body and ``]``; ``.`` is a piece; (2) a body is spelled as chemtok
spells it: bond prefix, isotope (whole if the vocabulary has it, else digits), element
(an ``H`` followed by a digit is the H count), chirality, charge (whole if the
vocabulary has it, else its sign and digits).

Protein and DNA: one ``Split`` isolating each character of the alphabet.

What cannot be expressed: nothing for valid input of the atom-level models (the tests
compare ids on every record of ``../shared/data``). Input the grammar refuses gets
``<unk>`` pieces instead of an error, and never chemtok's ``on_error="fallback"``
byte tokens (decoding such ids does work). The compact SMILES model (learned merges
over atom-level units) has no built-in ``tokenizers`` equivalent and is refused.

Example:
    >>> import chemtok
    >>> from chemtok.export import to_tokenizers
    >>> smiles = chemtok.SmilesTokenizer()
    >>> hf = to_tokenizers(smiles)
    >>> text = "[13CH3:12]C(=O)O"
    >>> hf.encode(text).ids == smiles.encode(text)
    True
    >>> hf.encode(text).tokens
    ['[', '13', 'CH3', ':12', ']', 'C', '(', '=', 'O', ')', 'O']
    >>> hf.decode(hf.encode(text).ids)
    '[13CH3:12]C(=O)O'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chemtok.base import GrammarTokenizer, NoRule
from chemtok.vocab import Vocabulary

if TYPE_CHECKING:
    import tokenizers

__all__ = [
    "FORMAT_VERSION",
    "METADATA_KEY",
    "pre_tokenizer_patterns",
    "tokenizer_json",
    "to_tokenizers",
    "save_tokenizer_json",
    "read_metadata",
]

#: Version of the layout of the ``model.chemtok`` metadata block.
FORMAT_VERSION = 1
#: Where the metadata lives: ``tokenizer.json["model"][METADATA_KEY]``. ``tokenizers``
#: refuses unknown top-level keys but ignores unknown keys inside ``model``.
METADATA_KEY = "chemtok"
_UNK = "<unk>"


# -- regex building blocks (Oniguruma syntax, as used by tokenizers) ------------------


def _escape(char: str) -> str:
    """Escape one character for Oniguruma: every non-alphanumeric ASCII gets a backslash."""
    return char if char.isalnum() or not char.isascii() else "\\" + char


def _char_class(chars: Iterable[str]) -> str:
    return "[" + "".join(_escape(c) for c in sorted(set(chars))) + "]"


def _trie(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, longest first, compiled as a trie.

    Same matches as a literal alternation sorted longest first (chemtok's
    ``_alternation``), including the order in which a following lookahead backtracks
    through shorter words, but one pass per position instead of one per word.
    """
    root: dict[str, Any] = {}
    for word in set(words):
        if not word:
            raise ValueError("empty word in a vocabulary alternation")
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    if not root:
        return "(?!)"  # matches nothing

    def emit(node: dict[str, Any]) -> str:
        branches = [_escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = "(?:" + "|".join(branches) + ")" if len(branches) > 1 or "" in node else branches[0]
        return body + "?" if "" in node else body  # greedy: the longer word is tried first

    return "(?:" + emit(root) + ")"


def _alt(*alternatives: str) -> str:
    return "|".join(a for a in alternatives if a)


# -- SMILES ----------------------------------------------------------------------------


def _smiles_patterns(tok: Any, unit: Vocabulary) -> list[str]:
    g = tok.grammar
    lexer = tok.lexer
    tokens = unit.tokens
    bracket_open, bracket_close = re.escape(g.bracket_open), re.escape(g.bracket_close)
    not_bracket = f"[^{bracket_open}{bracket_close}]"
    digits = _char_class(g.ring_digits)
    inside = f"(?={not_bracket}*{bracket_close})"  # this position is inside a bracket atom

    whole_brackets = [
        t for t in tokens if t.startswith(g.bracket_open) and t.endswith(g.bracket_close) and len(t) > 2
    ]
    lex = _alt(
        _trie(whole_brackets),  # a bracket atom the vocabulary has: one token
        bracket_open + inside,  # otherwise its "[" ...
        f"(?<={bracket_open}){digits}+{inside}",  # ... its isotope ...
        f"(?<=[{bracket_open}0-9])[^{bracket_open}{bracket_close}0-9]{not_bracket}*(?={bracket_close})",  # ... its body
        bracket_close,  # ... and its "]"
        lexer.lexeme,  # everything outside brackets: chemtok's own lexeme pattern
    )

    # Spelling. Tokens the vocabulary holds, sorted by what they can stand for.
    numbers = [t for t in tokens if t.isascii() and t.isdigit()]
    cores = [t for t in tokens if _is_core(lexer, g, t)]
    hydrogens = [t for t in tokens if re.fullmatch(re.escape(g.hydrogen) + "[0-9]+", t)]
    charge_re = re.compile(
        "|".join(
            [*(f"{re.escape(s)}{{2,}}" for s in g.charge_signs if g.charge_sign_runs)]
            + [f"[{re.escape(''.join(g.charge_signs))}][0-9]*"]
        )
    )
    charges = [t for t in tokens if charge_re.fullmatch(t)]
    classes = [t for t in tokens if re.fullmatch(re.escape(g.class_prefix) + "[0-9]+", t)]
    open_len, close_len = len(g.ring_paren_open), len(g.ring_paren_close)
    ring_paren = [  # learned %(nnn) ring numbers
        t
        for t in tokens
        if t.startswith(g.ring_paren_open) and t.endswith(g.ring_paren_close) and t[open_len:-close_len].isdigit()
    ]
    top_literals = [
        *g.organic, *g.organic_aromatic, g.wildcard, *g.bonds, *g.dative_bonds,
        g.branch_open, g.branch_close, g.dot, *g.reaction,
        *(f"{g.ring_percent}{a}{b}" for a in g.ring_digits for b in g.ring_digits),
        *ring_paren,
    ]  # fmt: skip
    sign_chars = _char_class(g.charge_signs)
    # A charge is one token only if it is the whole sign run or signed number.
    not_after_sign = "(?<!" + sign_chars + ")"
    not_sign_or_digit = "(?!" + _char_class([*g.ring_digits, *g.charge_signs]) + ")"
    hydrogen = _escape(g.hydrogen)
    class_prefix = "".join(_escape(c) for c in g.class_prefix)
    paren_open = "".join(_escape(c) for c in g.ring_paren_open)
    paren_close = "".join(_escape(c) for c in g.ring_paren_close)
    spell = _alt(
        r"\A" + _trie(top_literals) + r"\z",  # top-level lexemes (incl. learned %(nnn)): keep
        rf"\A{bracket_open}{not_bracket}+{bracket_close}\z",  # a whole bracket atom: keep
        r"\A" + paren_open,  # a %(nnn) the vocabulary lacks: "%(", digits, ")"
        paren_close + r"\z",
        r"\A" + _trie(numbers) + r"\z",  # an isotope the vocabulary has (else digits, below)
        r"\A" + _trie(cores) + f"(?={class_prefix}|\\z)",  # a body whose core is in the vocabulary
        r"\A" + _trie(g.bracket_symbols),  # otherwise its symbol, then each property:
        _trie(g.chiralities),
        hydrogen + _trie(t[len(g.hydrogen) :] for t in hydrogens) + f"(?!{digits})" if hydrogens else "",
        hydrogen,
        not_after_sign + _trie(charges) + not_sign_or_digit if charges else "",
        sign_chars,
        class_prefix + _trie(t[len(g.class_prefix) :] for t in classes) + f"(?!{digits})" if classes else "",
        class_prefix,
        digits,  # a number the vocabulary lacks: one token per digit
    )
    return [lex, spell]


def _is_core(lexer: Any, g: Any, token: str) -> bool:
    """True if ``token`` is a bracket-atom core: symbol + properties, no isotope or class."""
    if not token or not (token[0].isalpha() or token[0] == g.wildcard):
        return False
    text = g.bracket_open + token + g.bracket_close
    try:
        end, isotope, _, props = lexer.bracket_parts(text, 0)
    except NoRule:
        return False
    return end == len(text) and isotope is None and all(kind != "atom_class" for kind, _ in props)


# -- InChI -----------------------------------------------------------------------------


def _inchi_patterns(tok: Any) -> list[str]:
    g = tok.grammar
    tokens = tok.vocabulary.tokens
    symbols = _trie(g.symbols)
    separator = _escape(g.layer_separator)
    lex = _alt(
        r"\A" + _trie(g.prefixes),  # the prefix, only at the start
        separator + _char_class(g.layer_tags),  # a layer tag: "/c", "/h", ...
        separator,
        symbols + "[0-9]*",  # an element and its count, as chemtok's lexer reads them
        "[0-9]+",  # a number
        _char_class(g.punctuation),
    )
    numbers = [t for t in tokens if t.isascii() and t.isdigit()]
    symbol_re = re.compile("(?:" + "|".join(re.escape(s) for s in g.symbols) + ")[0-9]*")
    element_counts = [t for t in tokens if symbol_re.fullmatch(t)]
    spell = _alt(
        r"\A" + _trie(g.prefixes) + r"\z",
        r"\A" + _trie(element_counts) + r"\z",  # element+count the vocabulary has: keep
        r"\A" + _trie(numbers) + r"\z",  # a number the vocabulary has: keep
        r"\A" + symbols + "(?=[0-9])",  # otherwise the element, then its count:
        "(?<=[^0-9])" + _trie(numbers) + r"\z",  # whole if the vocabulary has it,
        "[0-9]",  # else one digit per token
    )
    return [lex, spell]


# -- SELFIES --------------------------------------------------------------------------


def _selfies_patterns(tok: Any) -> list[str]:
    g = tok.grammar
    tokens = tok.vocabulary.tokens
    open_, close = _escape(g.open), _escape(g.close)
    not_bracket = f"[^{open_}{close}]"
    whole = [t for t in tokens if t.startswith(g.open) and t.endswith(g.close) and len(t) > 2]
    lex = _alt(
        _trie(whole),  # a symbol the vocabulary has: one piece
        open_,  # otherwise "[", the body, "]"
        f"{not_bracket}+(?={close})",
        close,
        _escape(g.dot),
    )
    numbers = [t for t in tokens if t.isascii() and t.isdigit()]
    signs = _char_class(g.charge_signs)
    charges = [t[1:] for t in tokens if len(t) > 1 and t[0] in g.charge_signs and t[1:].isdigit()]
    spell = _alt(
        rf"\A(?:{open_}{not_bracket}*{close}|{_escape(g.dot)}|{open_}|{close})\z",  # whole symbols, dots, brackets
        r"\A" + _char_class(g.atom_bonds),  # a bond prefix
        "(?<![0-9])" + _trie(numbers) + "(?=[A-Z])",  # an isotope the vocabulary has (else digits, below)
        _escape(g.hydrogen) + "[0-9]",  # an H count, before the element H
        _trie(g.elements),
        _trie(g.chirality),
        signs + _trie(charges) + "(?![0-9])",  # a charge the vocabulary has
        signs,  # else its sign, then digits
        "[0-9]",
    )
    return [lex, spell]


# -- sequences -------------------------------------------------------------------------


def _sequence_patterns(tok: Any) -> list[str]:
    return [_char_class(tok.grammar.symbols)]


# -- assembling the file ---------------------------------------------------------------


def _check_exportable(tok: GrammarTokenizer) -> Vocabulary:
    """The vocabulary that decides spellings; refuse models that cannot be exported."""
    if not isinstance(tok, GrammarTokenizer) or tok.name not in ("smiles", "inchi", "protein", "dna", "selfies"):
        raise TypeError(
            f"tokenizer.json export covers SmilesTokenizer, InchiTokenizer, ProteinTokenizer, "
            f"DnaTokenizer and SelfiesTokenizer, got {type(tok).__name__}; for the router use chemtok.hf.HFChemTokenizer"
        )
    unit: Vocabulary = getattr(tok, "unit_vocabulary", tok.vocabulary)
    if unit is not tok.vocabulary:
        raise ValueError(
            f"{tok!r} applies learned merges over atom-level tokens, which no built-in "
            "tokenizers component can express; export SmilesTokenizer(model='atom') instead, "
            "or use chemtok.hf.HFChemTokenizer"
        )
    return unit


def pre_tokenizer_patterns(tok: GrammarTokenizer) -> list[str]:
    """The regexes of the ``Split`` steps that reproduce ``tok.tokenize`` (Oniguruma syntax).

    Raises:
        TypeError: ``tok`` is not a SMILES, InChI, protein or DNA tokenizer.
        ValueError: a model that cannot be expressed (the compact SMILES model).
    """
    unit = _check_exportable(tok)
    if tok.name == "smiles":
        return _smiles_patterns(tok, unit)
    if tok.name == "inchi":
        return _inchi_patterns(tok)
    if tok.name == "selfies":
        return _selfies_patterns(tok)
    return _sequence_patterns(tok)


def metadata(tok: GrammarTokenizer) -> dict[str, Any]:
    """What the exported file records about where it came from."""
    from chemtok import __version__

    return {
        "format": FORMAT_VERSION,
        "modality": tok.name,
        "grammar": tok.grammar_tag,
        "model": getattr(tok, "model", None) or "atom",
        "vocabulary_size": len(tok.vocabulary),
        "vocabulary_fingerprint": tok.vocabulary.fingerprint,
        "chemtok_version": __version__,
    }


def to_tokenizers(tok: GrammarTokenizer) -> tokenizers.Tokenizer:
    """Build the ``tokenizers.Tokenizer`` equivalent of ``tok`` (built-in components only).

    Raises:
        TypeError: ``tok`` is not a SMILES, InChI, protein or DNA tokenizer.
        ValueError: a model that cannot be expressed (the compact SMILES model).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

    patterns = pre_tokenizer_patterns(tok)
    vocab = dict(tok.vocabulary.token_to_id)
    if _UNK not in vocab:
        raise ValueError(f"the vocabulary of {tok!r} has no {_UNK!r} token")
    hf = Tokenizer(models.WordLevel(vocab, unk_token=_UNK))
    hf.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(p), behavior="isolated") for p in patterns]
    )
    hf.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse()])
    hf.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in tok.special_tokens])
    return hf


def tokenizer_json(tok: GrammarTokenizer) -> dict[str, Any]:
    """The ``tokenizer.json`` content of ``tok`` as a dict, metadata included."""
    data: dict[str, Any] = json.loads(to_tokenizers(tok).to_str())
    data["model"][METADATA_KEY] = metadata(tok)
    return data


def save_tokenizer_json(tok: GrammarTokenizer, path: str | Path) -> Path:
    """Write ``tok`` as a portable ``tokenizer.json`` at ``path`` (a file, or a directory
    that gets ``tokenizer.json``); return the file written."""
    target = Path(path)
    if target.is_dir():
        target = target / "tokenizer.json"
    data = tokenizer_json(tok)
    target.write_text(json.dumps(data, ensure_ascii=False, indent=None) + "\n", encoding="utf-8")
    return target


def read_metadata(path: str | Path) -> dict[str, Any] | None:
    """The chemtok metadata of an exported ``tokenizer.json``, or ``None`` if it has none.

    Raises:
        DataFileError: the file is unreadable or not JSON.
    """
    from chemtok.persist import read_json_file

    data = read_json_file(path)
    model = data.get("model") if isinstance(data, dict) else None
    meta = model.get(METADATA_KEY) if isinstance(model, dict) else None
    return meta if isinstance(meta, dict) else None
