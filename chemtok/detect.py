"""Find SMILES, reaction SMILES, InChI, protein and DNA/RNA strings in unmarked prose.

Detection is grammar-driven: chemtok's own lexers decide what *can* be a string of a
modality (a candidate the :class:`~chemtok.SmilesTokenizer` refuses is not SMILES),
then a structural check rejects what a lexer accepts but no chemist would write:
unbalanced branches, unpaired ring closures, a ring bond between neighbours
(``N2O2``), a bond at an end, aromatic atoms outside any ring (``no``, ``Cs``).
Candidates with little structure (``CCO``, ``OCCO``, ``CC``) are taken only where the
context says they are molecules: after the word ``SMILES``, alone on a line, or alone
in a table cell. So molecular formulas (``C24H38N4O8S4``, ``CO2``), abbreviations
(``COX-1``, ``NO``, ``CN``), gene names (``BRCA1``) and words of capitals stay text.

* SMILES and reaction SMILES: runs of SMILES lexemes (built from ``grammars/smiles.toml``)
  not inside a word; a sentence's full stop or closing parenthesis is trimmed off.
* InChI: anchored at a prefix of ``grammars/inchi.toml`` (``InChI=1S/``).
* Nucleotides: a run of ``ACGTUN`` (one case) of at least ``min_length`` letters.
* Protein: a run of capitals the protein grammar covers, with at least six distinct
  residues; shorter after a cue such as ``sequence`` or ``peptide``.

RDKit may confirm SMILES (``rdkit=True``); chemtok never needs it.

This module is the reference. With ``rdkit=False`` and the compiled core built, a
:class:`Detector` runs the same rules in Rust (``rust/chemtok-core/src/detect/``, from the
data :meth:`Detector.native_spec` hands over) and returns the same spans;
:meth:`Detector.detect_batch` detects many texts in parallel.

Example:
    >>> from chemtok.detect import detect
    >>> text = "Its SMILES is CCO. Aspirin, CC(=O)Oc1ccccc1C(=O)O, is an NSAID; CO2 is not."
    >>> [(text[s.start:s.end], s.modality) for s in detect(text)]
    [('CCO', 'smiles'), ('CC(=O)Oc1ccccc1C(=O)O', 'smiles')]
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chemtok.base import Engine
from chemtok.errors import TokenizationError
from chemtok.grammar import load_inchi_grammar, load_smiles_grammar
from chemtok.inchi import InchiTokenizer
from chemtok.native import python_regex_tables
from chemtok.sequence import DnaTokenizer, ProteinTokenizer
from chemtok.smiles import SmilesLexer, SmilesTokenizer
from chemtok.smiles_structure import TOKEN_KINDS, SmilesShape, SmilesStructure
from chemtok.validate import rdkit_parses

if TYPE_CHECKING:
    from chemtok._native import DetectorEngine

__all__ = ["CUES", "DETECTABLE", "DEFAULT_MIN_LENGTH", "TOKEN_KINDS", "Detector", "Span", "detect", "get_detector"]

#: Modalities detection can find, in the order overlaps are settled.
DETECTABLE = ("inchi", "smiles", "dna", "protein")

#: Characters a span of each modality needs when no context cue stands before it.
DEFAULT_MIN_LENGTH: Mapping[str, int] = {"smiles": 1, "inchi": 1, "protein": 20, "dna": 20}

#: Characters a sequence needs right after a cue ("the protein sequence MKTAYIAK...").
_CUED_SEQUENCE_LENGTH = 10
#: Letters almost absent from proteins (pyrrolysine O, selenocysteine U, ambiguity codes
#: B, J, Z) but common in capitalised words: a run with one needs this many characters.
_RARE_RESIDUES = frozenset("OUBJZ")
_RARE_RESIDUE_LENGTH = 50
#: Atoms a SMILES without branch, ring, bracket atom or arrow needs without a cue.
_PLAIN_ATOMS = 8
#: Distinct residues a protein run needs (``AAAAAAAA`` and shouted words are not proteins).
_PROTEIN_DISTINCT = 6

# A cue names the modality of what follows on the same line, within the sentence: a cue
# word, then up to _CUE_TAIL characters none of which is in _CUE_STOPS, then the candidate.
_CUE_STOPS = ".\n!?"
_CUE_TAIL = 60
_SMILES_CUE_WORDS = ("SMILES",)
# "the molecule X", "compound: X": only right before the candidate ("the molecule is a ..." is prose).
_MOLECULE_CUE_WORDS = ("molecule", "compound", "structure")
_MOLECULE_CUE_LINKS = (":", "=")
_MOLECULE_CUE_VERB = "is"
_MOLECULE_CUE_QUOTES = "\"'`"
_SEQUENCE_CUE_WORDS = (
    *("sequences", "sequence", "peptides", "peptide", "seq", "FASTA", "primers", "primer"),
    *("oligonucleotides", "oligonucleotide", "oligos", "oligo"),
)


def _words(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in words)


_STOP_CLASS = "".join(re.escape(c) for c in _CUE_STOPS)
_SMILES_CUE = re.compile(rf"\b(?:{_words(_SMILES_CUE_WORDS)})\b[^{_STOP_CLASS}]{{0,{_CUE_TAIL}}}$", re.IGNORECASE)
_MOLECULE_CUE = re.compile(
    rf"\b(?:{_words(_MOLECULE_CUE_WORDS)})\s*(?:(?:{_words(_MOLECULE_CUE_LINKS)})\s*|{re.escape(_MOLECULE_CUE_VERB)}\s+)?"
    rf"[{re.escape(_MOLECULE_CUE_QUOTES)}]?$",
    re.IGNORECASE,
)
_SEQUENCE_CUE = re.compile(rf"\b(?:{_words(_SEQUENCE_CUE_WORDS)})\b[^{_STOP_CLASS}]{{0,{_CUE_TAIL}}}$", re.IGNORECASE)
_CUE_WINDOW = 80
# Where a cell of a Markdown or tab-separated table ends.
_CELL_EDGE = "|\t"
# What may stand around a molecule alone on its line (before it, and after it).
_LINE_BEFORE = " \"'`*"
_LINE_AFTER = " \"'`*."
# A line or cell of only these is a Roman numeral ("II", "III"), not iodine atoms.
_NUMERAL = "I"
_NUCLEOTIDE_LETTERS = "ACGTUN"
# A run holding both T and U is neither DNA nor RNA.
_DNA_AND_RNA = frozenset("TU")
# A sequence run: capitals (a protein may end with the stop '*'), or lowercase nucleotides.
_SEQUENCE_RUN = re.compile(rf"(?<![A-Za-z0-9_])(?:[A-Z]+\*?|[{_NUCLEOTIDE_LETTERS.lower()}]+)(?![A-Za-z0-9_])")
_NUCLEOTIDES = frozenset(_NUCLEOTIDE_LETTERS)
# What may stand right before or after a molecule: not part of a word.
_WORDLIKE = re.compile(r"[A-Za-z0-9_]")
# The longest content of a bracket a SMILES run spans ("[C@@H]", "[NH3+]").
_BRACKET_RUN = 40
# The InChI text appears in every InChI prefix: texts without it are skipped.
_INCHI_GUARD = "InChI"
_INCHI_TRAILING = ".,;:!?'\"]}>"

#: What decided a span (see :class:`Span`), in the order the native detector numbers them.
CUES = ("structure", "smiles-cue", "line", "cell", "prefix", "length", "sequence-cue")
#: Cues that make a span conclusive (score 1.0); the others score 0.7.
_CONCLUSIVE = frozenset({"structure", "prefix", "length"})


def _score(cue: str) -> float:
    return 1.0 if cue in _CONCLUSIVE else 0.7


@dataclass(frozen=True)
class Span:
    """A detected string: ``text[start:end]`` is one molecule, InChI or sequence.

    Attributes:
        start: index of the first character.
        end: index after the last character.
        modality: ``"smiles"``, ``"inchi"``, ``"protein"`` or ``"dna"``.
        score: 1.0 when the string itself is conclusive (rings, branches, a prefix, a
            long sequence), lower when a context cue decided (``SMILES: CCO``).
        cue: what decided: ``"structure"``, ``"smiles-cue"``, ``"line"``, ``"cell"``,
            ``"prefix"``, ``"length"`` or ``"sequence-cue"``.
    """

    start: int
    end: int
    modality: str
    score: float
    cue: str


class Detector:
    """Find chemistry strings in text; :func:`detect` uses a shared default one.

    Args:
        modalities: which of :data:`DETECTABLE` to look for.
        min_length: minimum characters of a span; one number for every modality or a
            mapping per modality (the rest keep :data:`DEFAULT_MIN_LENGTH`). Lowering the
            sequence minimum below 20 finds more and also more capitalised words.
        rdkit: keep a SMILES only if RDKit parses and sanitizes it (needs RDKit).
        engine: ``"auto"``, ``"native"`` or ``"python"``: the engine of the lexers and,
            with ``rdkit=False``, of detection itself. The native detector (the Rust
            core) returns exactly the spans of this Python reference; a text it cannot
            decide exactly (a non-ASCII character right beside a cue word, a letter
            such as ``ſ`` or the Kelvin sign that case-insensitive matching equates
            with an ASCII one, a lone surrogate) is detected here. With ``rdkit=True``
            RDKit is consulted inside the trimming loop, so detection stays in Python.

    Example:
        >>> from chemtok.detect import Detector
        >>> d = Detector(modalities=("dna",))
        >>> [s.modality for s in d.detect("The primer ATGGCGTACGTTAGCCTAGGAT binds.")]
        ['dna']
    """

    def __init__(
        self,
        *,
        modalities: Collection[str] = DETECTABLE,
        min_length: int | Mapping[str, int] | None = None,
        rdkit: bool = False,
        engine: Engine = "auto",
    ) -> None:
        unknown = sorted(set(modalities) - set(DETECTABLE))
        if unknown:
            raise ValueError(f"cannot detect {unknown}: choose from {list(DETECTABLE)}")
        self.modalities = tuple(m for m in DETECTABLE if m in modalities)
        lengths = dict(DEFAULT_MIN_LENGTH)
        if isinstance(min_length, int):
            lengths = dict.fromkeys(lengths, min_length)
        elif min_length is not None:
            bad = sorted(set(min_length) - set(DETECTABLE))
            if bad:
                raise ValueError(f"min_length names {bad}: choose from {list(DETECTABLE)}")
            lengths.update(min_length)
        self.min_length: dict[str, int] = lengths
        self.rdkit = rdkit
        if rdkit:
            import importlib.util

            if importlib.util.find_spec("rdkit") is None:
                raise ImportError('rdkit=True needs RDKit: pip install "chemtok[rdkit]"')
        self._smiles = SmilesTokenizer(engine=engine)
        self._inchi = InchiTokenizer(engine=engine)
        self._protein = ProteinTokenizer(engine=engine)
        self._dna = DnaTokenizer(engine=engine)
        g = load_smiles_grammar()
        lexer = SmilesLexer(g)
        # A run of SMILES lexemes; a bracket atom is checked by the lexer afterwards.
        self._smiles_run = re.compile(rf"(?:\[[^\s\[\]]{{1,{_BRACKET_RUN}}}\]|{lexer.lexeme})+")
        self._structure = SmilesStructure(g)
        inchi = load_inchi_grammar()
        self._inchi_prefixes = sorted(inchi.prefixes, key=len, reverse=True)
        prefixes = "|".join(re.escape(p) for p in self._inchi_prefixes)
        self._inchi_run = re.compile(rf"(?<![A-Za-z0-9_])(?:{prefixes}){re.escape(inchi.layer_separator)}\S+")
        self._native: DetectorEngine | None = None if rdkit else self._start_native(engine)

    # -- the native detector ---------------------------------------------------------

    def _start_native(self, engine: Engine) -> DetectorEngine | None:
        """The Rust detector when every lexer runs natively, else ``None``."""
        if engine == "python":
            return None
        smiles, inchi = self._smiles.native_engine, self._inchi.native_engine
        protein, dna = self._protein.native_engine, self._dna.native_engine
        if smiles is None or inchi is None or protein is None or dna is None:
            if engine == "native":
                raise ImportError("engine='native' needs the compiled core chemtok._native for every lexer")
            return None
        from chemtok._native import DetectorEngine

        return DetectorEngine(json.dumps(self.native_spec(), ensure_ascii=False), smiles, inchi, protein, dna)

    @property
    def engine(self) -> str:
        """``"native"`` when detection runs in the Rust core, ``"python"`` otherwise.

        Example:
            >>> from chemtok.detect import Detector
            >>> Detector(engine="python").engine
            'python'
        """
        return "python" if self._native is None else "native"

    def native_spec(self) -> dict[str, Any]:
        """The rules of this detector as plain data, for the Rust core.

        Every number, word and character set of this module the core needs, Python's
        ``\\s`` and case-folding tables, and the kind (:data:`TOKEN_KINDS`) of every
        atom-level SMILES token by id: the core holds no copy of its own.

        Example:
            >>> from chemtok.detect import Detector
            >>> spec = Detector().native_spec()
            >>> spec["smiles_cue_words"], spec["min_length"]["protein"]
            (['SMILES'], 20)
        """
        whitespace, casefold = python_regex_tables()
        return {
            "modalities": list(self.modalities),
            # a negative minimum compares like 0 everywhere (the core counts in unsigned ints)
            "min_length": {m: max(0, n) for m, n in self.min_length.items()},
            "cued_sequence_length": _CUED_SEQUENCE_LENGTH,
            "rare_residues": "".join(sorted(_RARE_RESIDUES)),
            "rare_residue_length": _RARE_RESIDUE_LENGTH,
            "plain_atoms": _PLAIN_ATOMS,
            "protein_distinct": _PROTEIN_DISTINCT,
            "nucleotides": _NUCLEOTIDE_LETTERS,
            "dna_and_rna": "".join(sorted(_DNA_AND_RNA)),
            "cue_window": _CUE_WINDOW,
            "cue_stops": _CUE_STOPS,
            "cue_tail": _CUE_TAIL,
            "smiles_cue_words": list(_SMILES_CUE_WORDS),
            "molecule_cue_words": list(_MOLECULE_CUE_WORDS),
            "molecule_cue_links": list(_MOLECULE_CUE_LINKS),
            "molecule_cue_verb": _MOLECULE_CUE_VERB,
            "molecule_cue_quotes": _MOLECULE_CUE_QUOTES,
            "sequence_cue_words": list(_SEQUENCE_CUE_WORDS),
            "cell_edge": _CELL_EDGE,
            "line_before_strip": _LINE_BEFORE,
            "line_after_strip": _LINE_AFTER,
            "numeral": _NUMERAL,
            "leading": _LEADING,
            "trailing": _TRAILING,
            "max_trim": _MAX_TRIM,
            "bracket_run_max": _BRACKET_RUN,
            "inchi_guard": _INCHI_GUARD,
            "inchi_prefixes": list(self._inchi_prefixes),
            "inchi_separator": load_inchi_grammar().layer_separator,
            "inchi_trailing": _INCHI_TRAILING,
            "whitespace": whitespace,
            "casefold_letters": casefold,
            "smiles_kinds": [TOKEN_KINDS.index(self._structure.token_kind(t)) for t in self._smiles.vocabulary.tokens],
        }

    # -- the public entry ----------------------------------------------------------

    def detect(self, text: str) -> list[Span]:
        """Spans of ``text`` holding a molecule, InChI or sequence, in order, never overlapping.

        Example:
            >>> from chemtok.detect import Detector
            >>> Detector().detect("SMILES: CCO")
            [Span(start=8, end=11, modality='smiles', score=0.7, cue='smiles-cue')]
        """
        if not isinstance(text, str):
            raise TypeError(f"detect expects str, got {type(text).__name__}")
        if self._native is not None:
            raw = self._native.detect(text)
            if raw is not None:
                return [_span(*r) for r in raw]
        return self._detect_reference(text)

    def detect_batch(self, texts: Iterable[str], *, num_threads: int | None = None) -> list[list[Span]]:
        """:meth:`detect` of every text; the native detector runs them in parallel.

        Args:
            texts: the texts (a list or tuple of str).
            num_threads: worker threads of the native detector (``None``: every core).

        Example:
            >>> from chemtok.detect import Detector
            >>> batch = Detector().detect_batch(["Aspirin is CC(=O)Oc1ccccc1C(=O)O.", "CO2 is a gas."])
            >>> [[s.cue for s in spans] for spans in batch]
            [['structure'], []]
        """
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"detect_batch expects str items, got {type(text).__name__} at index {i}")
        if self._native is None:
            return [self._detect_reference(t) for t in texts]
        offsets, starts, ends, modalities, cues, undecided = self._native.detect_batch(texts, num_threads)
        out = [
            [_span(starts[k], ends[k], modalities[k], cues[k]) for k in range(offsets[i], offsets[i + 1])]
            for i in range(len(texts))
        ]
        for i in undecided:
            out[i] = self._detect_reference(texts[i])
        return out

    def _detect_reference(self, text: str) -> list[Span]:
        """The Python reference of :meth:`detect` (the definition the native detector matches)."""
        found: list[Span] = []
        if "inchi" in self.modalities and _INCHI_GUARD in text:
            found.extend(self._find_inchi(text))
        if "smiles" in self.modalities:
            found.extend(self._find_smiles(text))
        if "dna" in self.modalities or "protein" in self.modalities:
            found.extend(self._find_sequences(text))
        return _settle(found)

    # -- InChI -----------------------------------------------------------------------

    def _find_inchi(self, text: str) -> list[Span]:
        spans = []
        for m in self._inchi_run.finditer(text):
            start, end = m.start(), _inchi_end(text, m.start(), m.end())
            if end - start >= self.min_length["inchi"] and self._accepts(self._inchi, text[start:end]):
                spans.append(Span(start, end, "inchi", _score("prefix"), "prefix"))
        return spans

    # -- SMILES ----------------------------------------------------------------------

    def _find_smiles(self, text: str) -> list[Span]:
        spans = []
        for m in self._smiles_run.finditer(text):
            start, end = m.start(), m.end()
            if start > 0 and _WORDLIKE.match(text, start - 1):
                continue
            if end < len(text) and _WORDLIKE.match(text, end):
                continue
            run = m.group()
            if not any(c.isalpha() or c == "*" for c in run):
                continue  # numbers, ranges, "(1)"
            span = self._smiles_span(text, start, end)
            if span is not None:
                spans.append(span)
        return spans

    def _smiles_span(self, text: str, start: int, end: int) -> Span | None:
        """The longest trimmed form of the run ``text[start:end]`` that is a SMILES here."""
        for begin, finish in _trims(text, start, end):
            if finish - begin < self.min_length["smiles"]:
                continue
            candidate = text[begin:finish]
            if not any(c.isupper() or c == "*" for c in candidate) and not any(c.isdigit() for c in candidate):
                continue  # lowercase words: aromatic atoms outside any ring
            shape = self._shape(candidate)
            if shape is None:
                continue
            cue = self._smiles_cue(text, begin, finish, shape)
            if cue is None:
                continue
            if self.rdkit and not rdkit_parses(candidate):
                continue
            return Span(begin, finish, "smiles", _score(cue), cue)
        return None

    def _smiles_cue(self, text: str, start: int, end: int, shape: SmilesShape) -> str | None:
        """What makes this valid SMILES a molecule in this text, or ``None``."""
        if shape.atoms >= 2 and shape.structured:
            return "structure"
        if shape.atoms >= _PLAIN_ATOMS:
            return "structure"
        window = max(0, start - _CUE_WINDOW)
        if _SMILES_CUE.search(text, window, start):
            return "smiles-cue"
        # "compound C" and "compound N,N-diethyl..." name no molecule: a letter is not enough.
        if (shape.atoms >= 2 or shape.brackets) and _MOLECULE_CUE.search(text, window, start):
            return "smiles-cue"
        if (shape.atoms < 3 and not shape.structured) or not text[start:end].strip(_NUMERAL):
            return None  # "CC", "NO" and the numerals "II", "III" alone on a line are more likely words
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        before, after = text[line_start:start], text[end:line_end]
        if not before.strip(_LINE_BEFORE) and not after.strip(_LINE_AFTER):
            return "line"
        left, right = before.rstrip(" "), after.lstrip(" ")
        at_edges = (not left or left[-1] in _CELL_EDGE) and (not right or right[0] in _CELL_EDGE)
        if at_edges and any(edge in before + after for edge in _CELL_EDGE):
            return "cell"
        return None

    def _shape(self, candidate: str) -> SmilesShape | None:
        """Check ``candidate`` is SMILES by the lexer and by structure; ``None`` if not."""
        try:
            tokens = self._smiles.tokenize(candidate, on_error="raise")
        except TokenizationError:
            return None
        return self._structure.shape(tokens)

    # -- sequences -------------------------------------------------------------------

    def _find_sequences(self, text: str) -> list[Span]:
        spans = []
        want_dna, want_protein = "dna" in self.modalities, "protein" in self.modalities
        shortest = min(_CUED_SEQUENCE_LENGTH, self.min_length["dna"], self.min_length["protein"])
        for m in _SEQUENCE_RUN.finditer(text):
            run = m.group()
            if len(run) < shortest:
                continue
            start, end = m.start(), m.end()
            letters = run.rstrip("*")
            upper = letters.upper()
            distinct = set(upper)
            if (
                distinct <= _NUCLEOTIDES
                and run == letters
                and not _DNA_AND_RNA.issubset(distinct)
                and len(distinct) >= 2
            ):
                if not want_dna:
                    continue
                enough = len(run) >= self.min_length["dna"]
                if (
                    enough
                    or (
                        len(run) >= _CUED_SEQUENCE_LENGTH
                        and _SEQUENCE_CUE.search(text, max(0, start - _CUE_WINDOW), start) is not None
                    )
                ) and self._accepts(self._dna, run):
                    cue = "length" if enough else "sequence-cue"
                    spans.append(Span(start, end, "dna", _score(cue), cue))
                continue
            if not want_protein or not run[0].isupper() or len(distinct) < min(_PROTEIN_DISTINCT, len(letters)):
                continue
            if distinct & _RARE_RESIDUES and len(run) < _RARE_RESIDUE_LENGTH:
                continue  # ETHNOPHARMACOLOGICAL, FUNCTION
            enough = len(run) >= self.min_length["protein"] and len(distinct) >= _PROTEIN_DISTINCT
            if (
                enough
                or (
                    len(run) >= _CUED_SEQUENCE_LENGTH
                    and _SEQUENCE_CUE.search(text, max(0, start - _CUE_WINDOW), start) is not None
                )
            ) and self._accepts(self._protein, run):
                cue = "length" if enough else "sequence-cue"
                spans.append(Span(start, end, "protein", _score(cue), cue))
        return spans

    @staticmethod
    def _accepts(tokenizer: Any, candidate: str) -> bool:
        try:
            tokenizer.tokenize(candidate, on_error="raise")
        except TokenizationError:
            return False
        return True


# Characters a sentence or a parenthesis may put around a molecule, trimmed in turn.
_TRAILING = ".,;:!?)]}>'\"*"
_LEADING = "([{<'\"*"
_MAX_TRIM = 6


def _span(start: int, end: int, modality: int, cue: int) -> Span:
    """A span from the native detector's numbers (indices into :data:`DETECTABLE` and :data:`CUES`)."""
    name = CUES[cue]
    return Span(start, end, DETECTABLE[modality], _score(name), name)


def _trims(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Trimmed forms of ``text[start:end]``, longest first: sentence ends and stray parentheses off."""
    out = [(start, end)]
    run = text[start:end]
    lead = len(run) - len(run.lstrip(_LEADING))
    trail = len(run) - len(run.rstrip(_TRAILING))
    for total in range(1, min(lead + trail, _MAX_TRIM) + 1):
        for left in range(min(lead, total), -1, -1):
            right = total - left
            if right <= trail and end - right - (start + left) > 0:
                out.append((start + left, end - right))
    return out


def _inchi_end(text: str, start: int, end: int) -> int:
    """Where the InChI in ``text[start:end]`` ends: sentence punctuation and a stray ``)`` off."""
    while end > start:
        last = text[end - 1]
        if last in _INCHI_TRAILING or (last == ")" and text.count("(", start, end) < text.count(")", start, end)):
            end -= 1
        else:
            break
    return end


_PRECEDENCE = {m: i for i, m in enumerate(DETECTABLE)}


def _settle(spans: list[Span]) -> list[Span]:
    """Drop overlapping spans: the longer wins, then the modality earlier in :data:`DETECTABLE`."""
    if len(spans) < 2:
        return spans
    ranked = sorted(spans, key=lambda s: (-(s.end - s.start), _PRECEDENCE[s.modality], s.start))
    kept: list[Span] = []
    for span in ranked:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def get_detector(
    *,
    modalities: Collection[str] = DETECTABLE,
    min_length: int | Mapping[str, int] | None = None,
    rdkit: bool = False,
) -> Detector:
    """A shared :class:`Detector` for these options (built once per process and options).

    Example:
        >>> from chemtok.detect import get_detector
        >>> get_detector() is get_detector()
        True
    """
    key = tuple(sorted(min_length.items())) if isinstance(min_length, Mapping) else min_length
    return _cached_detector(tuple(sorted(modalities)), key, rdkit)


@functools.lru_cache(maxsize=8)
def _cached_detector(
    modalities: tuple[str, ...], min_length: tuple[tuple[str, int], ...] | int | None, rdkit: bool
) -> Detector:
    lengths: int | dict[str, int] | None = dict(min_length) if isinstance(min_length, tuple) else min_length
    return Detector(modalities=modalities, min_length=lengths, rdkit=rdkit)


def detect(
    text: str,
    *,
    modalities: Collection[str] = DETECTABLE,
    min_length: int | Mapping[str, int] | None = None,
    rdkit: bool = False,
) -> list[Span]:
    """Find the SMILES, InChI, protein and DNA/RNA strings of unmarked ``text``.

    Args:
        text: prose, a table, a benchmark prompt.
        modalities: which of :data:`DETECTABLE` to look for.
        min_length: minimum characters of a span (see :class:`Detector`).
        rdkit: keep a SMILES only if RDKit parses it.

    Returns:
        The spans in order, never overlapping.

    Example:
        >>> from chemtok.detect import detect
        >>> [s.modality for s in detect("Aspirin: CC(=O)Oc1ccccc1C(=O)O; InChI=1S/CH4/h1H4")]
        ['smiles', 'inchi']
    """
    return get_detector(modalities=modalities, min_length=min_length, rdkit=rdkit).detect(text)
