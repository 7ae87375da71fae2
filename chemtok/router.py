"""The router: split scientific text at modality markers and encode into one id space.

Markers come from ``grammars/markers.toml`` (Galactica's ``[START_SMILES]`` ...
``[END_SMILES]``, ``[START_I_SMILES]``, ``[START_AMINO]``, ``[START_DNA]``,
``[START_REF]``, ``<work>``, plus ``[START_INCHI]``). Text outside markers goes to the
text model; each marked span goes to its modality's tokenizer; markers are tokens of
their own.

The id space, in order:

* by default: special tokens, markers, the text vocabulary, 256 byte-fallback
  tokens, then the SMILES, InChI, protein and DNA vocabularies, each in its own
  namespace (SMILES ``C`` and cysteine ``C`` are different ids);
* with a base text model (``ChemTokenizer(text=TextTokenizer.from_file(...))`` or
  :meth:`ChemTokenizer.from_base`): the base model's ids unchanged, then the special
  tokens, markers, byte fallback and modality vocabularies appended after them.

Example:
    >>> import chemtok
    >>> tok = chemtok.ChemTokenizer()
    >>> tok.tokenize("[START_SMILES]CCO[END_SMILES]")
    ['[START_SMILES]', 'C', 'C', 'O', '[END_SMILES]']
    >>> text = "Ethanol is [START_SMILES]CCO[END_SMILES]."
    >>> tok.decode(tok.encode(text)) == text
    True
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from chemtok.base import Engine, GrammarTokenizer, OnError, check_on_error, check_token_id, rows_to_arrays
from chemtok.errors import DataFileError, DecodeError, MarkerError, TokenizationError
from chemtok.grammar import MarkerPair, MarkerTable, load_markers, markers_from_table
from chemtok.inchi import InchiTokenizer
from chemtok.sequence import DnaTokenizer, ProteinTokenizer
from chemtok.smiles import SmilesTokenizer
from chemtok.text import TextTokenizer, first_uncovered, strip_surrogates
from chemtok.vocab import BYTE_TOKENS, byte_of_token

__all__ = ["ChemTokenizer", "Segment", "MODALITY_ORDER"]

#: Order of the modality namespaces in the id space.
MODALITY_ORDER = ("smiles", "inchi", "protein", "dna")

# Kinds of ids in the unified space, used by decode.
_SPECIAL, _MARKER, _TEXT, _BYTE, _PIECE = range(5)


@dataclass(frozen=True)
class Segment:
    """A span of the input and the modality it belongs to.

    Attributes:
        modality: ``"marker"`` for a marker itself, otherwise the modality of the
            content (``"text"``, ``"smiles"``, ``"inchi"``, ``"protein"``, ``"dna"``).
        start: index of the first character in the input.
        end: index after the last character.
        text: ``input[start:end]``.
    """

    modality: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Block:
    name: str
    offset: int
    size: int


class ChemTokenizer:
    """Tokenize text with chemistry markers into one id space, losslessly.

    Args:
        text: the text model; default: chemtok's byte-level BPE. Passing one (e.g. a
            base LLM's ``tokenizer.json``) keeps its ids first and unchanged.
        smiles, inchi, protein, dna: modality tokenizers to use instead of the defaults.
        on_error: ``"raise"`` (default), ``"fallback"`` or ``"skip"``, applied inside
            every segment; see :mod:`chemtok.base`.
        strict_markers: raise :class:`~chemtok.errors.MarkerError` on unknown, unclosed,
            unopened or nested markers (default). ``False`` tokenizes such markers as
            ordinary content of the segment they stand in.
        markers: a marker table to use instead of ``grammars/markers.toml``.
        engine: engine of the default modality tokenizers (``"auto"``, ``"native"``,
            ``"python"``).

    Example:
        >>> import chemtok
        >>> tok = chemtok.ChemTokenizer()
        >>> [s.modality for s in tok.split("Insulin [START_AMINO]GIVEQ[END_AMINO] binds.")]
        ['text', 'marker', 'protein', 'marker', 'text']
    """

    name = "chem"

    def __init__(
        self,
        *,
        text: TextTokenizer | None = None,
        smiles: GrammarTokenizer | None = None,
        inchi: GrammarTokenizer | None = None,
        protein: GrammarTokenizer | None = None,
        dna: GrammarTokenizer | None = None,
        on_error: OnError = "raise",
        strict_markers: bool = True,
        markers: MarkerTable | None = None,
        engine: Engine = "auto",
    ) -> None:
        self.on_error = check_on_error(on_error)
        if not isinstance(strict_markers, bool):
            raise TypeError(f"strict_markers must be True or False, got {strict_markers!r}")
        # What pickling rebuilds from: the inputs, not the derived tables (see __reduce__).
        self._inputs: dict[str, Any] = {
            "text": text,
            "smiles": smiles,
            "inchi": inchi,
            "protein": protein,
            "dna": dna,
            "on_error": on_error,
            "strict_markers": strict_markers,
            "markers": markers,
            "engine": engine,
        }
        self.strict_markers = strict_markers
        self.markers = markers if markers is not None else load_markers()
        self.has_base = text is not None
        self.text = text if text is not None else TextTokenizer()
        self.modalities: dict[str, GrammarTokenizer] = {
            "smiles": smiles if smiles is not None else SmilesTokenizer(engine=engine),
            "inchi": inchi if inchi is not None else InchiTokenizer(engine=engine),
            "protein": protein if protein is not None else ProteinTokenizer(engine=engine),
            "dna": dna if dna is not None else DnaTokenizer(engine=engine),
        }
        self._check_markers()
        self._build_id_space()
        self._build_marker_pattern()

    @classmethod
    def from_base(cls, path: str | Path, **kwargs: object) -> ChemTokenizer:
        """Extend an existing model's ``tokenizer.json``: its ids stay, chemistry is appended.

        ``len(tokenizer)`` is then the new embedding size and
        ``tokenizer.num_added_tokens`` how many rows to add
        (``model.resize_token_embeddings(len(tokenizer))``).
        """
        return cls(text=TextTokenizer.from_file(path), **kwargs)  # type: ignore[arg-type]

    # -- the id space -----------------------------------------------------------------

    def _check_markers(self) -> None:
        """A custom table passes the checks of a loaded one; every modality vocabulary
        must start with its special tokens."""
        if self.markers != load_markers():  # a table built in code skipped the loader's checks
            markers_from_table(self.markers.source, self.markers.as_dict())
        specials = tuple(self.markers.special_tokens)
        for name in MODALITY_ORDER:
            tokens = self.modalities[name].vocabulary.tokens
            # The special tokens are what comes before the byte-fallback block.
            local = tuple(tokens[: tokens.index(BYTE_TOKENS[0])] if BYTE_TOKENS[0] in tokens else ())
            if local != specials:
                raise DataFileError(
                    self.markers.source,
                    "special_tokens",
                    f"the table lists {list(specials)} but the {name} vocabulary starts with "
                    f"{list(local)}; a marker table must list the special tokens every vocabulary starts with",
                )

    def _build_id_space(self) -> None:
        specials = self.markers.special_tokens
        marker_tokens = self.markers.markers
        blocks: list[tuple[str, Sequence[str] | None, int]] = []
        text_size = self.text.vocab_size
        head = [("special", specials, _SPECIAL), ("marker", marker_tokens, _MARKER)]
        text_block = [("text", None, _TEXT)]
        blocks.extend(text_block + head if self.has_base else head + text_block)
        blocks.append(("byte", BYTE_TOKENS, _BYTE))
        local_skip = len(specials) + len(BYTE_TOKENS)
        for name in MODALITY_ORDER:
            tok = self.modalities[name]
            local = tok.vocabulary.tokens
            if tuple(local[: len(specials)]) != tuple(specials) or tuple(
                local[len(specials) : local_skip]
            ) != BYTE_TOKENS:
                raise ValueError(
                    f"the {name} tokenizer's vocabulary must start with the special tokens "
                    f"{list(specials)} and the 256 byte-fallback tokens"
                )
            blocks.append((name, local[local_skip:], _PIECE))

        self._blocks: dict[str, _Block] = {}
        self._kinds: list[int] = []
        self._strings: list[str | None] = []
        offset = 0
        for name, tokens, kind in blocks:
            size = text_size if tokens is None else len(tokens)
            self._blocks[name] = _Block(name, offset, size)
            self._kinds.extend([kind] * size)
            self._strings.extend([None] * size if tokens is None else tokens)
            offset += size
        self._size = offset
        self._special_id = {t: self._blocks["special"].offset + i for i, t in enumerate(specials)}
        self._marker_id = {t: self._blocks["marker"].offset + i for i, t in enumerate(marker_tokens)}
        byte_offset = self._blocks["byte"].offset
        # local id of each modality tokenizer -> global id
        self._translate: dict[str, list[int]] = {}
        for name in MODALITY_ORDER:
            n_local = len(self.modalities[name].vocabulary)
            block = self._blocks[name]
            table = [self._blocks["special"].offset + i for i in range(len(specials))]
            table += [byte_offset + b for b in range(256)]
            table += [block.offset + i for i in range(n_local - local_skip)]
            self._translate[name] = table

    @property
    def vocab_size(self) -> int:
        """Number of ids: the embedding size a model needs."""
        return self._size

    def __len__(self) -> int:
        return self._size

    @property
    def grammar_tag(self) -> str:
        """The grammars behind this id space, e.g. ``markers@1+smiles@1+inchi@1+protein@1+dna@1``."""
        return "+".join([self.markers.tag, *(self.modalities[n].grammar_tag for n in MODALITY_ORDER)])

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 over every block of the id space: equal fingerprints mean identical ids."""
        digest = hashlib.sha256()
        for name, block in self._blocks.items():
            digest.update(f"{name}:{block.offset}:{block.size}\n".encode())
        digest.update(self.text.fingerprint.encode())
        for name in MODALITY_ORDER:
            digest.update(self.modalities[name].fingerprint.encode())
        for marker in self.markers.markers:
            digest.update(marker.encode() + b"\x00")
        return digest.hexdigest()

    @property
    def num_added_tokens(self) -> int:
        """Ids beyond the text model's: rows to add to a base model's embeddings."""
        return self._size - self.text.vocab_size

    def block(self, name: str) -> tuple[int, int]:
        """``(offset, size)`` of a namespace: ``special``, ``marker``, ``text``, ``byte``,
        ``smiles``, ``inchi``, ``protein`` or ``dna``."""
        b = self._blocks[name]
        return b.offset, b.size

    def namespace_of(self, token_id: int) -> str:
        """The namespace an id belongs to (see :meth:`block`)."""
        token_id = check_token_id(token_id, self._size)
        for b in self._blocks.values():
            if b.offset <= token_id < b.offset + b.size:
                return b.name
        raise AssertionError("unreachable: blocks cover the id space")  # pragma: no cover

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The namespaces of the id space in id order: ``special``, ``marker``, ``text``, ..."""
        return tuple(sorted(self._blocks, key=lambda name: self._blocks[name].offset))

    def id_to_token(self, token_id: int) -> str:
        """The token string of an id (text ids give the text model's token string).

        The string does not say its namespace (SMILES ``C`` and cysteine ``C`` give
        ``"C"``); :meth:`namespace_of` does, and :meth:`get_vocab` gives unique strings.

        Raises:
            DecodeError: ``token_id`` is negative or not below ``len(self)``.
        """
        token_id = check_token_id(token_id, self._size)
        string = self._strings[token_id]
        if string is None:
            return self.text.id_to_token(token_id - self._blocks["text"].offset)
        return string

    def token_to_id(self, token: str, modality: str | None = None) -> int | None:
        """The id of ``token`` in the namespace ``modality``, or ``None`` if it has none there.

        The namespace is required: ``C`` is carbon in ``"smiles"``, cysteine in
        ``"protein"`` and a text piece in ``"text"``, three different ids.

        Args:
            token: a token string as the namespace spells it (``"Cl"``, ``"[START_SMILES]"``,
                ``"<0x66>"``, a text model piece such as ``"Ġbenzene"``).
            modality: one of :attr:`namespaces` (``"special"``, ``"marker"``, ``"text"``,
                ``"byte"``, ``"smiles"``, ``"inchi"``, ``"protein"``, ``"dna"``).

        Raises:
            ValueError: ``modality`` is missing or not a namespace (the message lists them).

        Example:
            >>> import chemtok
            >>> tok = chemtok.ChemTokenizer()
            >>> tok.token_to_id("C", "smiles") != tok.token_to_id("C", "protein")
            True
        """
        if modality not in self._blocks:
            raise ValueError(
                f"ChemTokenizer.token_to_id needs the namespace of {token!r}: pass one of "
                f"{list(self.namespaces)}, got {modality!r}"
            )
        if modality == "text":
            local = self.text.token_to_id(token)
            return None if local is None else local + self._blocks["text"].offset
        if modality == "special":
            return self._special_id.get(token)
        if modality == "marker":
            return self._marker_id.get(token)
        if modality == "byte":
            value = byte_of_token(token)
            return None if value is None else self._blocks["byte"].offset + value
        tok = self.modalities[modality]
        local = tok.token_to_id(token)
        return None if local is None else self._translate[modality][local]

    def get_vocab(self) -> dict[str, int]:
        """Every id under a unique token string (a fresh dict).

        Special tokens and markers are written as themselves (``<s>``,
        ``[START_SMILES]``); text tokens keep the text model's strings (``Ġbenzene``),
        prefixed ``text:`` only where one collides with a special token or marker; every
        other id is ``namespace:token``: ``smiles:C``, ``protein:C``, ``byte:<0x66>``.
        The Hugging Face class uses the same strings.

        Example:
            >>> import chemtok
            >>> tok = chemtok.ChemTokenizer()
            >>> vocab = tok.get_vocab()
            >>> vocab["smiles:C"] == tok.token_to_id("C", "smiles") and len(vocab) == len(tok)
            True
        """
        return dict(self._token_table[1])

    @functools.cached_property
    def _token_table(self) -> tuple[list[str], dict[str, int]]:
        """Unique token strings for every id (see :meth:`get_vocab`), and their inverse."""
        size = self._size
        tokens: list[str | None] = [None] * size
        reserved: set[str] = set()
        for name in ("special", "marker"):
            block = self._blocks[name]
            for i in range(block.offset, block.offset + block.size):
                string = self._strings[i]
                tokens[i] = string
                reserved.add(string)  # type: ignore[arg-type]
        text = self._blocks["text"]
        for string, local in self.text.get_vocab().items():
            if 0 <= local < text.size:
                tokens[text.offset + local] = f"text:{string}" if string in reserved else string
        for name in ("byte", *MODALITY_ORDER):
            block = self._blocks[name]
            for i in range(block.offset, block.offset + block.size):
                tokens[i] = f"{name}:{self._strings[i]}"
        table = [f"text:<unused {i}>" if token is None else token for i, token in enumerate(tokens)]
        vocab = {t: i for i, t in enumerate(table)}
        if len(vocab) != size:
            seen: set[str] = set()
            dup = next(t for t in table if t in seen or seen.add(t))  # type: ignore[func-returns-value]
            raise DataFileError(self.text.source, None, f"token string {dup!r} names two ids; rename it in the text model")
        return table, vocab

    # -- saving and pickling ------------------------------------------------------------

    def __reduce__(self) -> tuple[Any, ...]:
        # The constructor's inputs, each of which pickles cheaply (a default tokenizer as
        # "build the default"); the id space and caches are rebuilt, not unpickled.
        return (_rebuild_chem, (self._inputs,))

    def save(self, directory: str | Path) -> Path:
        """Write this tokenizer (base text model, modality models, options) into ``directory``.

        :func:`chemtok.load` or :meth:`ChemTokenizer.load` reads it back with the same
        fingerprint and ids.

        Example:
            >>> import chemtok, tempfile
            >>> tok = chemtok.ChemTokenizer(smiles=chemtok.SmilesTokenizer(model="compact"))
            >>> chemtok.ChemTokenizer.load(tok.save(tempfile.mkdtemp())).fingerprint == tok.fingerprint
            True
        """
        from chemtok.persist import save

        return save(self, directory)

    @classmethod
    def load(cls, directory: str | Path, *, engine: Engine = "auto") -> ChemTokenizer:
        """Load a ``ChemTokenizer`` written by :meth:`save` (a ``DataFileError`` if it cannot)."""
        from chemtok.persist import load

        return load(directory, engine=engine, expect=cls)  # type: ignore[no-any-return]

    def _save_options(self, directory: Path) -> dict[str, Any]:
        options: dict[str, Any] = {"on_error": self.on_error, "strict_markers": self.strict_markers}
        options["markers"] = None if self.markers == load_markers() else self.markers.as_dict()
        options["text"] = None
        if self.has_base:
            self.text.save(directory / "text")
            options["text"] = "text"
        for name in MODALITY_ORDER:
            self.modalities[name].save(directory / name)
            options[name] = name
        return options

    @classmethod
    def _from_options(cls, directory: Path, options: Any, *, engine: str) -> ChemTokenizer:
        from chemtok.base import read_on_error
        from chemtok.persist import load

        kwargs: dict[str, Any] = {
            "on_error": read_on_error(options),
            "strict_markers": options.get("strict_markers", bool),
        }
        if options.table.get("markers") is not None:
            kwargs["markers"] = markers_from_table(options.label, options.get("markers", dict), prefix="options.markers.")
        if options.table.get("text") is not None:
            kwargs["text"] = load(directory / options.get("text", str), expect=TextTokenizer)
        expected = {"smiles": SmilesTokenizer, "inchi": InchiTokenizer, "protein": ProteinTokenizer, "dna": DnaTokenizer}
        for name in MODALITY_ORDER:
            kwargs[name] = load(directory / options.get(name, str), engine=engine, expect=expected[name])
        return cls(**kwargs)

    @property
    def special_token_ids(self) -> dict[str, int]:
        """Ids of ``<pad>``, ``<s>``, ``</s>``, ``<unk>``, ``<mask>`` (never emitted by encode)."""
        return dict(self._special_id)

    # -- markers ----------------------------------------------------------------------

    def _build_marker_pattern(self) -> None:
        known = sorted(self.markers.markers, key=len, reverse=True)
        alternatives = [re.escape(m) for m in known]
        if self.strict_markers:
            alternatives.append(self.markers.unknown_marker_pattern)
        self._marker_re = re.compile("|".join(alternatives))
        self._pair_of_start: dict[str, MarkerPair] = {p.start: p for p in self.markers.pairs}
        self._pair_of_end: dict[str, MarkerPair] = {p.end: p for p in self.markers.pairs}

    def _matched_markers(self, text: str) -> list[tuple[int, int, MarkerPair]]:
        """Pair start and end markers: ``(start marker index, end marker index, pair)``.

        Under ``strict_markers`` every marker must pair up; otherwise markers that do
        not are left as content.
        """
        strict = self.strict_markers
        stack: list[tuple[int, re.Match[str], MarkerPair]] = []
        pairs: list[tuple[int, int, MarkerPair]] = []
        for m in self._marker_re.finditer(text):
            token = m.group()
            start_pair = self._pair_of_start.get(token)
            end_pair = self._pair_of_end.get(token)
            top = stack[-1] if stack else None
            if start_pair is None and end_pair is None:
                known = ", ".join(p.start for p in self.markers.pairs)
                raise MarkerError(text, m.start(), "markers", f"unknown marker {token!r} (known: {known})")
            if top is not None and top[2].modality != "text" and token != top[2].end:
                if strict:
                    raise MarkerError(
                        text,
                        m.start(),
                        "markers",
                        f"marker {token!r} inside the {top[2].modality} segment opened by "
                        f"{top[2].start!r} at position {top[1].start()}; close it with {top[2].end!r} first",
                    )
                continue
            if start_pair is not None:
                if any(entry[2] is start_pair for entry in stack):
                    if strict:
                        raise MarkerError(
                            text, m.start(), "markers", f"{token!r} is nested inside another {token!r} segment"
                        )
                    continue
                stack.append((m.start(), m, start_pair))
                continue
            assert end_pair is not None
            if top is None or top[2] is not end_pair:
                if strict:
                    if top is None:
                        reason = f"{token!r} closes a segment that was never opened"
                    else:
                        reason = f"{token!r} closes {top[2].start!r} opened at position {top[1].start()}; expected {top[2].end!r}"
                    raise MarkerError(text, m.start(), "markers", reason)
                continue
            stack.pop()
            pairs.append((top[0], m.start(), end_pair))
        if stack and strict:
            index, m, pair = stack[-1]
            raise MarkerError(text, index, "markers", f"{pair.start!r} is never closed; add {pair.end!r}")
        pairs.sort(key=lambda p: p[0])
        return pairs

    def split(self, text: str) -> list[Segment]:
        """Split ``text`` into marker and content segments that concatenate back to it.

        Empty content segments are left out.

        Raises:
            MarkerError: unknown, unclosed, unopened or nested markers (strict mode).
        """
        if not isinstance(text, str):
            raise TypeError(f"ChemTokenizer expects str, got {type(text).__name__}")
        segments: list[Segment] = []
        # Boundaries: each matched marker opens/closes a modality; content between
        # boundaries takes the modality of the innermost open pair.
        events: list[tuple[int, int, MarkerPair, bool]] = []
        for start_index, end_index, pair in self._matched_markers(text):
            events.append((start_index, start_index + len(pair.start), pair, True))
            events.append((end_index, end_index + len(pair.end), pair, False))
        events.sort(key=lambda e: e[0])
        stack: list[str] = ["text"]
        pos = 0
        for begin, finish, pair, opening in events:
            if begin > pos:
                segments.append(Segment(stack[-1], pos, begin, text[pos:begin]))
            segments.append(Segment("marker", begin, finish, text[begin:finish]))
            if opening:
                stack.append(pair.modality)
            else:
                stack.pop()
            pos = finish
        if pos < len(text):
            segments.append(Segment(stack[-1], pos, len(text), text[pos:]))
        return segments

    # -- encoding ---------------------------------------------------------------------

    def tokenize(self, text: str, *, on_error: OnError | None = None) -> list[str]:
        """Token strings: markers, modality tokens, and the text model's pieces."""
        return [self.id_to_token(i) for i in self.encode(text, on_error=on_error)]

    def encode(self, text: str, *, on_error: OnError | None = None) -> list[int]:
        """Ids of ``text`` in the unified space; ``decode(encode(text)) == text``.

        Raises:
            MarkerError: badly formed markers (strict mode).
            TokenizationError: a segment its grammar cannot cover (position in ``text``).
        """
        return self.encode_batch([text], on_error=on_error)[0]

    def encode_batch(
        self,
        texts: Iterable[str],
        *,
        on_error: OnError | None = None,
        num_threads: int | None = None,
        return_arrays: bool = False,
    ) -> list[list[int]] | tuple[Any, Any]:
        """Encode many texts; equal to ``[self.encode(t) for t in texts]``.

        Segments are gathered across the whole batch and each modality encodes all of
        its segments in one call (one text-model batch, one native batch per modality).
        ``return_arrays=True`` returns ``(ids uint32, row_offsets int64)`` numpy arrays.
        Under ``on_error="raise"`` the error is the first failure in input order.
        """
        policy = self.on_error if on_error is None else check_on_error(on_error)
        batch = texts if isinstance(texts, list) else list(texts)
        splits = [self.split(text) for text in batch]
        try:
            rows = self._encode_split(batch, splits, policy, num_threads)
        except TokenizationError:
            if len(batch) == 1:
                raise
            for text, segments in zip(batch, splits):  # find the first failure in input order
                self._encode_split([text], [segments], policy, num_threads)
            raise  # pragma: no cover - some text above must have failed again
        return rows_to_arrays(rows) if return_arrays else rows

    def _encode_split(
        self, batch: list[str], splits: list[list[Segment]], policy: str, num_threads: int | None
    ) -> list[list[int]]:
        # Gather each modality's segments across the batch: (text index, segment).
        by_modality: dict[str, list[tuple[int, Segment]]] = {}
        for index, segments in enumerate(splits):
            for segment in segments:
                if segment.modality not in ("marker", "text"):
                    by_modality.setdefault(segment.modality, []).append((index, segment))
        encoded: dict[tuple[int, int], list[int]] = {}
        for modality, items in by_modality.items():
            tok = self.modalities[modality]
            try:
                local_rows = tok.encode_batch(
                    [segment.text for _, segment in items], on_error=policy, num_threads=num_threads  # type: ignore[arg-type]
                )
            except TokenizationError as err:
                index, segment = next(
                    ((i, s) for i, s in items if s.text is err.text),
                    next((i, s) for i, s in items if s.text == err.text),
                )
                raise _shifted(err, batch[index], segment.start) from None
            table = self._translate[modality]
            for (index, segment), local in zip(items, local_rows):
                encoded[(index, segment.start)] = [table[i] for i in local]
        text_items = [(i, s) for i, segments in enumerate(splits) for s in segments if s.modality == "text"]
        encoded.update(self._encode_text_segments(batch, text_items, policy))
        rows: list[list[int]] = []
        for index, segments in enumerate(splits):
            ids: list[int] = []
            for segment in segments:
                if segment.modality == "marker":
                    ids.append(self._marker_id[segment.text])
                else:
                    ids.extend(encoded[(index, segment.start)])
            rows.append(ids)
        return rows

    def _encode_text_segments(
        self, batch: list[str], items: list[tuple[int, Segment]], policy: str
    ) -> dict[tuple[int, int], list[int]]:
        """Encode every text segment of the batch in one text-model call."""
        offset = self._blocks["text"].offset
        byte_offset = self._blocks["byte"].offset
        pieces: list[str] = []  # runs for the text model
        piece_origin: list[tuple[int, int]] = []  # (text index, where the run starts)
        layout: list[tuple[tuple[int, int], list[str | list[int]]]] = []
        for index, segment in items:
            parts: list[str | list[int]] = []  # str: a text-model run; list: fallback ids
            bad = first_uncovered(segment.text)
            if bad < 0:
                parts.append(segment.text)
                piece_origin.append((index, segment.start))
            elif policy == "raise":
                raise TokenizationError(
                    batch[index], segment.start + bad, "text", "a lone surrogate cannot be encoded as UTF-8"
                )
            elif policy == "skip":
                parts.append(strip_surrogates(segment.text))
                piece_origin.append((index, segment.start))
            else:
                run_start = 0
                for i, ch in enumerate(segment.text + "\ud800"):  # sentinel flushes the last run
                    if "\ud800" <= ch <= "\udfff":
                        if i > run_start:
                            parts.append(segment.text[run_start:i])
                            piece_origin.append((index, segment.start + run_start))
                        if i < len(segment.text):
                            parts.append([byte_offset + b for b in ch.encode("utf-8", "surrogatepass")])
                        run_start = i + 1
            pieces.extend(part for part in parts if isinstance(part, str))
            layout.append(((index, segment.start), parts))
        try:
            encoded = iter(self.text.encode_batch(pieces, on_error="raise"))
        except TokenizationError as err:
            index, start = next((o for p, o in zip(pieces, piece_origin) if p is err.text), (0, 0))
            raise _shifted(err, batch[index], start) from None
        result: dict[tuple[int, int], list[int]] = {}
        for key, parts in layout:
            ids: list[int] = []
            for part in parts:
                if isinstance(part, str):
                    ids.extend(offset + i for i in next(encoded))
                else:
                    ids.extend(part)
            result[key] = ids
        return result

    # -- decoding ---------------------------------------------------------------------

    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        """The exact text ``ids`` were encoded from.

        Text ids are decoded by the text model run by run; byte-fallback ids are joined
        and decoded as UTF-8; special tokens are written literally unless skipped.

        Raises:
            DecodeError: an id out of range, or byte-fallback ids that are not UTF-8.
        """
        kinds, strings, size = self._kinds, self._strings, self._size
        text_offset = self._blocks["text"].offset
        byte_offset = self._blocks["byte"].offset
        out: list[str] = []
        run_kind = -1
        run: list[int] = []
        run_start = 0

        def flush() -> None:
            if not run:
                return
            if run_kind == _TEXT:
                out.append(self.text.decode([i - text_offset for i in run]))
            else:
                try:
                    out.append(bytes(i - byte_offset for i in run).decode("utf-8", "surrogatepass"))
                except UnicodeDecodeError as err:
                    raise DecodeError(run_start + err.start, "byte-fallback ids do not form valid UTF-8") from None
            run.clear()

        for index, token_id in enumerate(ids):
            if not 0 <= token_id < size:
                raise DecodeError(index, f"id {token_id} is outside the vocabulary (0 to {size - 1})")
            kind = kinds[token_id]
            if kind in (_TEXT, _BYTE):
                if kind != run_kind:
                    flush()
                    run_kind, run_start = kind, index
                run.append(token_id)
                continue
            flush()
            run_kind = -1
            if kind == _SPECIAL and skip_special_tokens:
                continue
            out.append(strings[token_id])  # type: ignore[arg-type]
        flush()
        return "".join(out)

    def decode_batch(self, batch: Iterable[Sequence[int]], *, skip_special_tokens: bool = False) -> list[str]:
        return [self.decode(ids, skip_special_tokens=skip_special_tokens) for ids in batch]

    def __repr__(self) -> str:
        return (
            f"<ChemTokenizer text={self.text.source!r} {self._size} ids "
            f"({'base first' if self.has_base else 'specials first'})>"
        )


def _rebuild_chem(kwargs: dict[str, Any]) -> ChemTokenizer:
    """Unpickle a ``ChemTokenizer`` from its constructor's inputs."""
    return ChemTokenizer(**kwargs)


def _shifted(err: TokenizationError, text: str, offset: int) -> TokenizationError:
    """The same error, re-anchored in the whole input ``text``."""
    shifted = type(err)(text, offset + err.position, err.modality, err.reason)
    return shifted


@functools.lru_cache(maxsize=1)
def default_chem_tokenizer() -> ChemTokenizer:
    """A process-wide default router (tokenizers are immutable after construction)."""
    return ChemTokenizer()
