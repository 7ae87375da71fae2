"""Compact SMILES models: merges learned over atom-level tokens that never cut an atom.

A compact model is a ranked list of merges, each joining two adjacent *units* (atom-level
tokens of the SMILES grammar) into one token — in the spirit of SMILES Pair Encoding,
but with chemtok's guarantees:

* a merge joins whole units, so no token ever splits an atom, a bracket atom, a
  two-digit ring closure or a bond symbol (every token is a whole number of atom-level
  tokens);
* merges never cross ``.`` or a reaction arrow (``>``, ``>>``): those stay tokens of
  their own, so components and reaction roles keep their boundaries;
* a bracket atom the vocabulary lacks is spelled in parts (``[``, ``CH3``, ``:12``,
  ``]``); those parts may merge with each other but never with a neighbouring atom, so
  no token holds half of one atom and half of another;
* the vocabulary stays closed: the atom-level vocabulary is part of the compact one, so
  anything the merges do not cover falls back to atom-level tokens, then to bracket
  parts — never to an unknown token.

Encoding applies the merges by rank (lowest first) inside each word, merging every
non-overlapping occurrence of the best pair left to right, until no pair of the word has
a merge. Training counts pairs with Hugging Face ``tokenizers``' BPE trainer over the
units (each unit stands in as one private-use character), so it is fast and
deterministic for a fixed input.

Example:
    >>> import chemtok
    >>> compact = chemtok.SmilesTokenizer(model="compact")
    >>> tokens = compact.tokenize("CC(=O)Oc1ccccc1C(=O)O")
    >>> "".join(tokens) == "CC(=O)Oc1ccccc1C(=O)O" and len(tokens) < 21
    True
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from chemtok.errors import ChemtokError, DataFileError, GrammarError
from chemtok.persist import read_json, read_json_file
from chemtok.vocab import byte_of_token

__all__ = [
    "CompactModel",
    "load_compact_model",
    "train_compact_model",
    "apply_merges",
    "split_words",
    "WordRules",
    "MODEL_FILE",
    "SHIPPED_MODELS",
]

MODEL_FILE = "smiles_compact.json"
#: Models shipped in ``chemtok/data``, by the name ``SmilesTokenizer(model=...)`` takes.
SHIPPED_MODELS = {"compact": MODEL_FILE}
# Units stand in as private-use characters while the BPE trainer counts pairs.
_PUA_START = 0xE000
_PUA_END = 0xF8FF


@dataclass(frozen=True)
class CompactModel:
    """A trained compact SMILES model.

    Attributes:
        merges: ``(left, right)`` unit strings in rank order (rank = index).
        grammar: the ``name@version`` of the SMILES grammar the units come from.
        atom_vocab_fingerprint: fingerprint of the atom-level vocabulary the merges
            were learned over; a model only loads over the same vocabulary.
        info: how it was trained (inputs, sizes, time), for the record.
    """

    merges: tuple[tuple[str, str], ...]
    grammar: str
    atom_vocab_fingerprint: str
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    @functools.cached_property
    def ranks(self) -> dict[tuple[str, str], int]:
        return {pair: rank for rank, pair in enumerate(self.merges)}

    @functools.cached_property
    def merged_tokens(self) -> tuple[str, ...]:
        """The token each merge creates, in rank order (duplicates removed)."""
        return tuple(dict.fromkeys(left + right for left, right in self.merges))

    def save(self, path: str | Path) -> Path:
        """Write the model as JSON; ``path`` may be a directory (then ``smiles_compact.json``)."""
        target = Path(path)
        if target.is_dir() or not target.suffix:
            target.mkdir(parents=True, exist_ok=True)
            target = target / MODEL_FILE
        data = {
            "type": "chemtok.compact-smiles",
            "grammar": self.grammar,
            "atom_vocab_fingerprint": self.atom_vocab_fingerprint,
            "info": self.info,
            "merges": [list(pair) for pair in self.merges],
        }
        target.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
        return target

    @classmethod
    def from_json(cls, text: str | bytes, label: str) -> CompactModel:
        """Read a model from its JSON text; ``label`` names the file in errors.

        Raises:
            DataFileError: not UTF-8, not JSON, nested too deeply, or a key of the wrong type.
        """
        return cls.from_data(read_json(text, label), label)

    @classmethod
    def from_data(cls, data: Any, label: str) -> CompactModel:
        """Check parsed model JSON (see :meth:`from_json`)."""
        if not isinstance(data, dict) or data.get("type") != "chemtok.compact-smiles":
            raise DataFileError(label, "type", "not a chemtok compact SMILES model (expected type 'chemtok.compact-smiles')")
        merges = data.get("merges")
        if not isinstance(merges, list):
            raise DataFileError(label, "merges", f"expected a list of [left, right] string pairs, got {type(merges).__name__}")
        for i, m in enumerate(merges):
            if not (isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) and x for x in m)):
                raise DataFileError(label, f"merges[{i}]", f"expected a pair of non-empty strings, got {m!r:.60}")
        for key in ("grammar", "atom_vocab_fingerprint"):
            if not isinstance(data.get(key), str):
                raise DataFileError(label, key, f"expected a string, got {type(data.get(key)).__name__}")
        info = data.get("info", {})
        if info is None:
            info = {}
        if not isinstance(info, dict):
            raise DataFileError(label, "info", f"expected an object, got {type(info).__name__}")
        return cls(
            merges=tuple((m[0], m[1]) for m in merges),
            grammar=data["grammar"],
            atom_vocab_fingerprint=data["atom_vocab_fingerprint"],
            info=dict(info),
        )


@functools.cache
def load_compact_model(model: str) -> CompactModel:
    """Load a shipped model by name (``"compact"``) or a saved one by file or directory path.

    Raises:
        ValueError: ``model`` is neither a shipped name nor an existing path.
        DataFileError: the file is unreadable or not a compact model.
    """
    if model in SHIPPED_MODELS:
        label = f"chemtok/data/{SHIPPED_MODELS[model]}"
        try:
            raw = resources.files("chemtok").joinpath("data").joinpath(SHIPPED_MODELS[model]).read_bytes()
        except OSError as err:
            raise GrammarError(label, None, "shipped compact model missing; run chemtok train smiles") from err
        return CompactModel.from_json(raw, label)
    path = Path(model)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise ValueError(
            f"unknown SMILES model {model!r}: pass 'atom', one of {sorted(SHIPPED_MODELS)}, "
            f"or the path of a model written by 'chemtok train smiles'"
        )
    return CompactModel.from_data(read_json_file(path), str(path))


@dataclass(frozen=True)
class WordRules:
    """Where merges may not reach across: the boundaries of merge words.

    Attributes:
        separators: units that are words of their own (``.``, ``>``, ``>>``).
        groups: opener -> closer of lexemes spelled in several units: a bracket atom
            the vocabulary lacks (``[`` ... ``]``) and a spelled ring number
            (``%(`` ... ``)``). Such a group is a word of its own, so its parts can merge
            with each other but never with a neighbouring atom.
    """

    separators: frozenset[str]
    groups: tuple[tuple[str, str], ...]

    @classmethod
    def for_grammar(cls, g: Any) -> WordRules:
        return cls(
            frozenset((g.dot, *g.reaction)),
            ((g.bracket_open, g.bracket_close), (g.ring_paren_open, g.ring_paren_close)),
        )


def split_words(units: Sequence[str], rules: WordRules) -> list[list[str]]:
    """Split atom-level units into merge words.

    Separators, spelled groups and byte-fallback tokens are words of their own;
    every other unit is a whole lexeme and joins the current word.

    Example:
        >>> from chemtok.grammar import load_smiles_grammar
        >>> rules = WordRules.for_grammar(load_smiles_grammar())
        >>> split_words(["C", "C", ".", "[", "CH3", ":1", "]", "O", ">>", "C"], rules)
        [['C', 'C'], ['.'], ['[', 'CH3', ':1', ']'], ['O'], ['>>'], ['C']]
    """
    words: list[list[str]] = []
    current: list[str] = []
    closers = dict(rules.groups)
    i, n = 0, len(units)
    while i < n:
        unit = units[i]
        closer = closers.get(unit)
        if unit in rules.separators or closer is not None or byte_of_token(unit) is not None:
            if current:
                words.append(current)
                current = []
            if closer is None:
                words.append([unit])
                i += 1
                continue
            end = i + 1
            while end < n and units[end] != closer:
                end += 1
            words.append(list(units[i : end + 1]))
            i = end + 1
            continue
        current.append(unit)
        i += 1
    if current:
        words.append(current)
    return words


def apply_merges(word: Sequence[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    """Merge a word's units by rank: the lowest-ranked pair first, every occurrence.

    Example:
        >>> apply_merges(["c", "c", "c", "c"], {("c", "c"): 0, ("cc", "cc"): 1})
        ['cccc']
    """
    parts = list(word)
    while len(parts) > 1:
        best_rank = -1
        best: tuple[str, str] | None = None
        for pair in itertools.pairwise(parts):
            rank = ranks.get(pair)
            if rank is not None and (best is None or rank < best_rank):
                best_rank, best = rank, pair
        if best is None:
            break
        left, right = best
        merged: list[str] = []
        i = 0
        while i < len(parts):
            if i + 1 < len(parts) and parts[i] == left and parts[i + 1] == right:
                merged.append(left + right)
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
    return parts


def train_compact_model(
    smiles: Iterable[str],
    vocab_size: int,
    *,
    min_frequency: int = 2,
    max_records: int | None = None,
    seed: int = 0,
    tokenizer: Any = None,
) -> CompactModel:
    """Learn merges over atom-level SMILES tokens.

    Args:
        smiles: training strings (molecules and/or reactions). Strings the grammar
            refuses are left out and counted in ``info["skipped"]``.
        vocab_size: size of the compact SMILES vocabulary: the atom-level tokens plus
            the merged tokens (so ``vocab_size - atom vocabulary`` merges at most).
        min_frequency: a pair must occur this often to be merged.
        max_records: train on a seeded random sample of this many strings.
        seed: the sampling seed; with a fixed input and seed, training is deterministic.
        tokenizer: the atom-level ``SmilesTokenizer`` giving the units (default one).

    Raises:
        ValueError: ``vocab_size`` is smaller than the atom-level vocabulary.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from chemtok.smiles import SmilesTokenizer

    atom = tokenizer if tokenizer is not None else SmilesTokenizer()
    if atom.merges:
        raise ValueError("train over an atom-level SmilesTokenizer (model='atom'), not one that already merges")
    unit_tokens = list(atom.unit_vocabulary.tokens[len(atom.special_tokens) + 256 :])
    if vocab_size <= len(unit_tokens):
        raise ValueError(
            f"vocab_size {vocab_size} leaves no room for merges: the atom-level vocabulary "
            f"already has {len(unit_tokens)} tokens; pass a larger --vocab-size"
        )
    if len(unit_tokens) > _PUA_END - _PUA_START:
        raise ChemtokError("too many atom-level tokens to stand in as private-use characters")
    char_of = {unit: chr(_PUA_START + i) for i, unit in enumerate(unit_tokens)}
    unit_of = {c: u for u, c in char_of.items()}
    rules = WordRules.for_grammar(atom.grammar)

    started = time.perf_counter()
    texts = list(smiles)
    if max_records is not None and len(texts) > max_records:
        texts = random.Random(seed).sample(texts, max_records)
    words: list[str] = []
    skipped = 0
    rows = _atom_rows(atom, texts)
    for units in rows:
        if units is None:
            skipped += 1
            continue
        for word in split_words(units, rules):
            if len(word) > 1:
                words.append("".join(char_of[u] for u in word))
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        initial_alphabet=list(char_of.values()),
        limit_alphabet=len(char_of),
        show_progress=False,
    )
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    bpe.train_from_iterator(words, trainer=trainer, length=len(words))
    raw_merges = json.loads(bpe.to_str())["model"]["merges"]
    merges = []
    for entry in raw_merges:
        left, right = entry.split(" ") if isinstance(entry, str) else entry
        merges.append(("".join(unit_of[c] for c in left), "".join(unit_of[c] for c in right)))
    seconds = time.perf_counter() - started
    digest = hashlib.sha256("\n".join(texts).encode("utf-8", "surrogatepass")).hexdigest()
    info = {
        "vocab_size": vocab_size,
        "atom_tokens": len(unit_tokens),
        "merges": len(merges),
        "min_frequency": min_frequency,
        "records": len(texts),
        "skipped": skipped,
        "seed": seed,
        "training_sha256": digest,
        "seconds": round(seconds, 1),
    }
    return CompactModel(tuple(merges), atom.grammar_tag, atom.unit_vocabulary.fingerprint, info)


def _atom_rows(atom: Any, texts: list[str]) -> list[list[str] | None]:
    """Atom-level tokens of each text, ``None`` where the grammar refuses it."""
    rows: list[list[str] | None] = []
    chunk = 4096
    for start in range(0, len(texts), chunk):
        batch = texts[start : start + chunk]
        try:
            ids_rows = atom.encode_batch(batch)
        except ChemtokError:
            ids_rows = []
            for text in batch:
                try:
                    ids_rows.append(atom.encode(text))
                except ChemtokError:
                    ids_rows.append(None)
        tokens = atom.vocabulary.tokens
        rows.extend(None if ids is None else [tokens[i] for i in ids] for ids in ids_rows)
    return rows
