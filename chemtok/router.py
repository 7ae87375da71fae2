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
  tokens the base lacks, markers, byte fallback and modality vocabularies appended
  after them. The base's own special tokens keep their ids and roles (Llama 3's BOS
  stays 128000, GPT-2's ``<|endoftext|>`` stays 50256; see :func:`~chemtok.specials.find_special_tokens`),
  so a fine-tune starts from trained embeddings for them.

In text segments a base model's special-token literal (``<|endoftext|>``, ``</s>``) is
read as the base model reads it by default: as its special id. The text around it is
encoded run by run, exactly as the base does, and decoding writes the literal back, so
the round trip stays exact. The default text model has no special tokens, so without a
base, literals are plain text.

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
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence, cast

from chemtok.base import Engine, GrammarTokenizer, OnError, check_on_error, check_token_id, rows_to_arrays
from chemtok.errors import DataFileError, DecodeError, MarkerError, TokenizationError
from chemtok.grammar import load_markers, markers_from_table
from chemtok.inchi import InchiTokenizer
from chemtok.markers import MarkerMatcher, MarkerTable, Segment
from chemtok.sequence import DnaTokenizer, ProteinTokenizer
from chemtok.smiles import SmilesTokenizer
from chemtok.specials import SPECIAL_ROLES, find_special_tokens
from chemtok.text import TextTokenizer, first_uncovered
from chemtok.vocab import BYTE_TOKENS, byte_of_token

if TYPE_CHECKING:
    from chemtok.encoding import Encoding

__all__ = [
    "ChemTokenizer",
    "Segment",  # what split returns (defined in chemtok.markers)
    "MODALITY_ORDER",
    "TextRun",
]

#: Order of the modality namespaces in the id space.
MODALITY_ORDER = ("smiles", "inchi", "protein", "dna")

# Kinds of ids in the unified space, used by decode.
_SPECIAL, _MARKER, _TEXT, _BYTE, _PIECE = range(5)


@dataclass(frozen=True)
class TextRun:
    """A run of a text segment (see :meth:`ChemTokenizer.text_runs`).

    Attributes:
        start: index of the run's first character in the segment.
        text: the run's characters.
        ids: ``None`` for plain text the text model encodes; otherwise the run's ids in
            the router's space (a base special-token literal, or a lone surrogate's
            byte-fallback ids).
    """

    start: int
    text: str
    ids: tuple[int, ...] | None


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
        base_special_tokens: with a base ``text`` model, which of its tokens serve as
            ``"bos"``, ``"eos"``, ``"pad"``, ``"unk"``, ``"mask"`` (role to token
            string; a role left out or ``None`` gets chemtok's own token, appended).
            Default: :func:`~chemtok.specials.find_special_tokens` of ``text`` (:meth:`from_base` also
            reads the ``tokenizer_config.json`` beside the file).

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
        base_special_tokens: Mapping[str, str | None] | None = None,
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
        if base_special_tokens is not None and not self.has_base:
            raise ValueError("base_special_tokens needs a base text model: pass text=TextTokenizer.from_file(path)")
        if self.has_base and base_special_tokens is None:
            base_special_tokens = find_special_tokens(self.text)
        #: The base model's tokens that serve as chemtok's special tokens (role to token).
        self.base_special_tokens: dict[str, str] = {
            role: token for role, token in (base_special_tokens or {}).items() if token is not None
        }
        # Pickles carry the roles as resolved here: a worker must not look for config
        # files beside a base model that may not exist where it runs.
        self._inputs["base_special_tokens"] = dict(self.base_special_tokens) if self.has_base else None
        self.modalities: dict[str, GrammarTokenizer] = {
            "smiles": smiles if smiles is not None else SmilesTokenizer(engine=engine),
            "inchi": inchi if inchi is not None else InchiTokenizer(engine=engine),
            "protein": protein if protein is not None else ProteinTokenizer(engine=engine),
            "dna": dna if dna is not None else DnaTokenizer(engine=engine),
        }
        self._check_markers()
        self._build_id_space()
        self._matcher = MarkerMatcher(self.markers, strict=strict_markers)

    @classmethod
    def from_base(cls, path: str | Path, **kwargs: Any) -> ChemTokenizer:
        """Extend an existing model's ``tokenizer.json``: its ids stay, chemistry is appended.

        ``len(tokenizer)`` is then the new embedding size and
        ``tokenizer.num_added_tokens`` how many rows to add
        (``model.resize_token_embeddings(len(tokenizer))``). The base model's special
        tokens stay its own (:func:`~chemtok.specials.find_special_tokens` says which, reading a
        ``tokenizer_config.json`` or ``special_tokens_map.json`` beside ``path`` when
        there is one); only the roles it lacks get chemtok's tokens, appended.

        Example:
            >>> import chemtok, os
            >>> path = "../shared/baselines/llama3/tokenizer.json"
            >>> if os.path.exists(path):
            ...     tok = chemtok.ChemTokenizer.from_base(path)
            ...     assert (tok.bos_token_id, tok.eos_token_id) == (128000, 128001)
            ...     assert tok.decode(tok.encode("[START_SMILES]CCO[END_SMILES]")) == "[START_SMILES]CCO[END_SMILES]"
        """
        text = TextTokenizer.from_file(path)
        if "base_special_tokens" not in kwargs:
            kwargs["base_special_tokens"] = find_special_tokens(text, Path(path).parent)
        return cls(text=text, **kwargs)

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
        # Roles the base model fills keep its ids; chemtok appends tokens for the rest.
        base_role_ids = self._base_role_ids()
        own = [t for i, t in enumerate(specials) if i >= len(SPECIAL_ROLES) or SPECIAL_ROLES[i] not in base_role_ids]
        # (name, tokens or None for the text model's, kind of id)
        blocks: list[tuple[str, Sequence[str] | None, int]] = []
        text_size = self.text.vocab_size
        head: list[tuple[str, Sequence[str] | None, int]] = [
            ("special", own, _SPECIAL),
            ("marker", marker_tokens, _MARKER),
        ]
        text_block: list[tuple[str, Sequence[str] | None, int]] = [("text", None, _TEXT)]
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
        self._special_id = {t: self._blocks["special"].offset + i for i, t in enumerate(own)}
        self._marker_id = {t: self._blocks["marker"].offset + i for i, t in enumerate(marker_tokens)}
        # Each special token of the local vocabularies (and each role) -> its global id.
        text_offset = self._blocks["text"].offset
        local_special_ids = [
            text_offset + base_role_ids[SPECIAL_ROLES[i]]
            if i < len(SPECIAL_ROLES) and SPECIAL_ROLES[i] in base_role_ids
            else self._special_id[t]
            for i, t in enumerate(specials)
        ]
        self._role_ids: dict[str, int] = dict(zip(SPECIAL_ROLES, local_special_ids))
        self._literal_re: re.Pattern[str] | None = None
        self._literal_id: dict[str, int] = {}
        if self.has_base:
            self._mark_base_specials()
        byte_offset = self._blocks["byte"].offset
        # local id of each modality tokenizer -> global id
        self._translate: dict[str, list[int]] = {}
        for name in MODALITY_ORDER:
            n_local = len(self.modalities[name].vocabulary)
            block = self._blocks[name]
            table = list(local_special_ids)
            table += [byte_offset + b for b in range(256)]
            table += [block.offset + i for i in range(n_local - local_skip)]
            self._translate[name] = table

    def _base_role_ids(self) -> dict[str, int]:
        """Text-model id of each role ``base_special_tokens`` gives to a base token."""
        ids: dict[str, int] = {}
        for role, token in self.base_special_tokens.items():
            if role not in SPECIAL_ROLES:
                raise ValueError(f"base_special_tokens: unknown role {role!r} (known: {', '.join(SPECIAL_ROLES)})")
            local = self.text.token_to_id(token)
            if local is None:
                raise ValueError(
                    f"base_special_tokens: the {role} token {token!r} is not in the base model "
                    f"{self.text.source}; name one of its tokens, or leave the role out to append chemtok's own"
                )
            ids[role] = local
        return ids

    def _mark_base_specials(self) -> None:
        """Make the base model's special tokens special here too (decode, skip, literals).

        Each special added token of the base is decoded as its literal (or skipped
        with ``skip_special_tokens``), and its literal in text maps to its id, as the
        base tokenizer does by default. Tokens that strip neighbouring whitespace or
        match normalized text are left to the text model, which reads them as plain
        text: matching them would drop characters.
        """
        text_offset = self._blocks["text"].offset
        for local, added in self.text.backend.get_added_tokens_decoder().items():
            if not added.special or not 0 <= local < self._blocks["text"].size:
                continue
            self._kinds[text_offset + local] = _SPECIAL
            self._strings[text_offset + local] = added.content
            if added.content and not (added.lstrip or added.rstrip or added.single_word or added.normalized):
                self._literal_id[added.content] = text_offset + local
        if self._literal_id:
            # Longest first: at one position the longest literal wins, as in tokenizers.
            alternatives = sorted(self._literal_id, key=len, reverse=True)
            self._literal_re = re.compile("|".join(re.escape(a) for a in alternatives))

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
        for role, token in sorted(self.base_special_tokens.items()):  # roles kept on base ids
            digest.update(f"role:{role}:{self._role_ids[role]}:{token}\n".encode())
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
            options["base_special_tokens"] = dict(self.base_special_tokens)
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
            roles = options.get("base_special_tokens", dict)
            if not all(isinstance(role, str) and isinstance(token, str) for role, token in roles.items()):
                raise DataFileError(options.label, "options.base_special_tokens", "expected an object of role to token string")
            kwargs["base_special_tokens"] = roles
        expected = {"smiles": SmilesTokenizer, "inchi": InchiTokenizer, "protein": ProteinTokenizer, "dna": DnaTokenizer}
        for name in MODALITY_ORDER:
            kwargs[name] = load(directory / options.get(name, str), engine=engine, expect=expected[name])
        return cls(**kwargs)

    @property
    def special_token_ids(self) -> dict[str, int]:
        """Id of each special token, by its string.

        By default ``<pad>``, ``<s>``, ``</s>``, ``<unk>``, ``<mask>`` (never emitted by
        encode). With a base model its own tokens take their roles
        (``<|begin_of_text|>``: 128000 for Llama 3) and chemtok's fill the rest.
        """
        ids = {self.id_to_token(i): i for i in self._role_ids.values()}
        ids.update(self._special_id)
        return ids

    def _role_token(self, role: str) -> str | None:
        token_id = self._role_ids.get(role)
        return None if token_id is None else self.id_to_token(token_id)

    @property
    def bos_token_id(self) -> int | None:
        """Id of the beginning-of-sequence token: the base model's if it has one, else ``<s>``.

        Example:
            >>> import chemtok
            >>> chemtok.ChemTokenizer().bos_token_id
            1
        """
        return self._role_ids.get("bos")

    @property
    def eos_token_id(self) -> int | None:
        """Id of the end-of-sequence token: the base model's if it has one, else ``</s>``."""
        return self._role_ids.get("eos")

    @property
    def pad_token_id(self) -> int | None:
        """Id of the padding token: the base model's if it names one, else ``<pad>``."""
        return self._role_ids.get("pad")

    @property
    def unk_token_id(self) -> int | None:
        """Id of the unknown token: the base model's if it has one, else ``<unk>``."""
        return self._role_ids.get("unk")

    @property
    def mask_token_id(self) -> int | None:
        """Id of the mask token: the base model's if it names one, else ``<mask>``."""
        return self._role_ids.get("mask")

    @property
    def bos_token(self) -> str | None:
        """The beginning-of-sequence token's string (``<s>``; ``<|begin_of_text|>`` over Llama 3)."""
        return self._role_token("bos")

    @property
    def eos_token(self) -> str | None:
        """The end-of-sequence token's string (``</s>``; ``<|endoftext|>`` over GPT-2)."""
        return self._role_token("eos")

    @property
    def pad_token(self) -> str | None:
        """The padding token's string (``<pad>``)."""
        return self._role_token("pad")

    @property
    def unk_token(self) -> str | None:
        """The unknown token's string (``<unk>``)."""
        return self._role_token("unk")

    @property
    def mask_token(self) -> str | None:
        """The mask token's string (``<mask>``)."""
        return self._role_token("mask")

    # -- markers ----------------------------------------------------------------------

    def split(self, text: str) -> list[Segment]:
        """Split ``text`` into marker and content segments that concatenate back to it.

        Empty content segments are left out.

        Raises:
            MarkerError: unknown, unclosed, unopened or nested markers (strict mode).
        """
        if not isinstance(text, str):
            raise TypeError(f"ChemTokenizer expects str, got {type(text).__name__}")
        return self._matcher.split(text)

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
        policy = self.on_error if on_error is None else check_on_error(on_error)
        return self._encode_rows([text], policy, None, batched=False)[0]

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

        Raises:
            TokenizationError: under ``on_error="raise"``, the error of the first failing
                text in input order (a :class:`~chemtok.errors.MarkerError` too), the
                same as ``encode`` of that text gives, with ``.index`` its position in
                the batch.

        Example:
            >>> import chemtok
            >>> texts = ["[START_SMILES]CCO[END_SMILES]", "[START_SMILES]C1CC[END_SMILES]"]
            >>> try:
            ...     chemtok.ChemTokenizer().encode_batch(texts + ["[START_SMILES]CC§[END_SMILES]"])
            ... except chemtok.TokenizationError as err:
            ...     print(err.index, err.position)
            2 16
        """
        policy = self.on_error if on_error is None else check_on_error(on_error)
        batch = texts if isinstance(texts, list) else list(texts)
        rows = self._encode_rows(batch, policy, num_threads, batched=True)
        return rows_to_arrays(rows) if return_arrays else rows

    def _encode_rows(self, batch: list[str], policy: str, num_threads: int | None, *, batched: bool) -> list[list[int]]:
        """Encode ``batch``, or raise the first failing text's error (``.index`` set if ``batched``).

        Texts after the first marker error cannot fail earlier than it, so splitting
        stops there and only the texts before it are encoded; no text is encoded twice.
        """
        splits: list[list[Segment]] = []
        first: tuple[int, TokenizationError] | None = None
        for index, text in enumerate(batch):
            try:
                splits.append(self.split(text))
            except MarkerError as err:
                first = (index, err)
                break
        rows, failure = self._encode_split(batch, splits, policy, num_threads)
        if failure is not None:  # always in a text before the marker error
            first = failure
        if first is None:
            return rows
        index, error = first
        raise (error.with_index(index) if batched else error) from None

    def _encode_split(
        self, batch: list[str], splits: list[list[Segment]], policy: str, num_threads: int | None
    ) -> tuple[list[list[int]], tuple[int, TokenizationError] | None]:
        """Rows of the texts ``splits`` covers, or the first failure ``(text index, error)``.

        The first failure is the one at the smallest ``(text index, position)``. Each
        modality batch raises at its first failing segment, and segments are gathered in
        text order, so taking the smallest over the modalities and the text model finds
        it; after a failure in text ``t``, segments of later texts are not encoded.
        """
        # Gather each modality's segments across the batch: (text index, segment).
        by_modality: dict[str, list[tuple[int, Segment]]] = {}
        for index, segments in enumerate(splits):
            for segment in segments:
                if segment.modality not in ("marker", "text"):
                    by_modality.setdefault(segment.modality, []).append((index, segment))
        first: _Failure | None = None
        encoded: dict[tuple[int, int], list[int]] = {}
        for modality, items in by_modality.items():
            if first is not None:
                items = [item for item in items if item[0] <= first.index]
            if not items:
                continue
            tok = self.modalities[modality]
            try:
                local_rows = tok.encode_batch(
                    [segment.text for _, segment in items], on_error=cast(OnError, policy), num_threads=num_threads
                )
            except TokenizationError as err:
                index, segment = items[_failed_item(err, [segment.text for _, segment in items])]
                first = _Failure.earliest(first, index, _shifted(err, batch[index], segment.start))
                continue
            table = self._translate[modality]
            for (index, segment), local in zip(items, local_rows):
                encoded[(index, segment.start)] = [table[i] for i in local]
        text_items = [
            (i, s)
            for i, segments in enumerate(splits)
            if first is None or i <= first.index
            for s in segments
            if s.modality == "text"
        ]
        text_ids, text_failure = self._encode_text_segments(batch, text_items, policy)
        if text_failure is not None:
            first = _Failure.earliest(first, *text_failure)
        if first is not None:
            return [], (first.index, first.error)
        encoded.update(text_ids)
        rows: list[list[int]] = []
        for index, segments in enumerate(splits):
            ids: list[int] = []
            for segment in segments:
                if segment.modality == "marker":
                    ids.append(self._marker_id[segment.text])
                else:
                    ids.extend(encoded[(index, segment.start)])
            rows.append(ids)
        return rows, None

    def text_runs(self, text: str, *, on_error: OnError | None = None) -> list[TextRun]:
        """Cut a text segment into what the text model encodes and what has ids of its own.

        A run is plain text for the text model (``ids`` is ``None``), a base model's
        special-token literal such as ``<|endoftext|>`` (its one id, as the base tokenizer
        treats it), or, under ``on_error="fallback"``, one lone surrogate as its three
        byte-fallback ids. Under ``"raise"`` and ``"skip"`` surrogates stay in the plain
        runs, where the text model refuses or drops them. ``encode`` and
        ``encode_with_offsets`` both build on this, so they cannot disagree.

        Example:
            >>> import chemtok
            >>> tok = chemtok.ChemTokenizer()
            >>> [(r.start, r.text, r.ids is None) for r in tok.text_runs("Benzene boils at 80 C.")]
            [(0, 'Benzene boils at 80 C.', True)]
        """
        policy = self.on_error if on_error is None else check_on_error(on_error)
        runs: list[TextRun] = []
        for start, run, literal_id in self._literal_runs(text):
            if literal_id is not None:
                runs.append(TextRun(start, run, (literal_id,)))
            elif policy != "fallback" or first_uncovered(run) < 0:
                runs.append(TextRun(start, run, None))
            else:
                byte_offset = self._blocks["byte"].offset
                plain_start = 0
                for i, ch in enumerate(run):
                    if "\ud800" <= ch <= "\udfff":
                        if i > plain_start:
                            runs.append(TextRun(start + plain_start, run[plain_start:i], None))
                        ids = tuple(byte_offset + b for b in ch.encode("utf-8", "surrogatepass"))
                        runs.append(TextRun(start + i, ch, ids))
                        plain_start = i + 1
                if plain_start < len(run):
                    runs.append(TextRun(start + plain_start, run[plain_start:], None))
        return runs

    def _literal_runs(self, text: str) -> list[tuple[int, str, int | None]]:
        """``(offset, piece, id)``: runs of plain text (id ``None``) and the base model's
        special-token literals (with their id), in order."""
        pattern = self._literal_re
        if pattern is None:
            return [(0, text, None)]
        runs: list[tuple[int, str, int | None]] = []
        pos = 0
        for m in pattern.finditer(text):
            if m.start() > pos:
                runs.append((pos, text[pos : m.start()], None))
            runs.append((m.start(), m.group(), self._literal_id[m.group()]))
            pos = m.end()
        if pos < len(text):
            runs.append((pos, text[pos:], None))
        return runs

    def _encode_text_segments(
        self, batch: list[str], items: list[tuple[int, Segment]], policy: str
    ) -> tuple[dict[tuple[int, int], list[int]], tuple[int, TokenizationError] | None]:
        """Encode every text segment of the batch in one text-model call.

        Returns the ids of each segment by ``(text index, start)``, or the first
        failure ``(text index, error)`` in the order of ``items``.
        """
        offset = self._blocks["text"].offset
        pieces: list[str] = []  # plain runs for the text model
        piece_origin: list[tuple[int, int]] = []  # (text index, where the run starts)
        layout: list[tuple[tuple[int, int], list[TextRun]]] = []
        for index, segment in items:
            runs = self.text_runs(segment.text, on_error=policy)  # type: ignore[arg-type]
            for run in runs:
                if run.ids is None:
                    pieces.append(run.text)
                    piece_origin.append((index, segment.start + run.start))
            layout.append(((index, segment.start), runs))
        # The text model raises for a lone surrogate under "raise" and drops it under
        # "skip"; the first failing piece (in input order) names the text that failed.
        model_policy = "skip" if policy == "skip" else "raise"
        try:
            encoded = iter(self.text.encode_batch(pieces, on_error=model_policy))  # type: ignore[arg-type]
        except TokenizationError as err:
            index, start = piece_origin[_failed_item(err, pieces)]
            return {}, (index, _shifted(err, batch[index], start))
        result: dict[tuple[int, int], list[int]] = {}
        for key, runs in layout:
            ids: list[int] = []
            for run in runs:
                if run.ids is None:
                    ids.extend(offset + i for i in next(encoded))
                else:
                    ids.extend(run.ids)
            result[key] = ids
        return result, None

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

    def encode_arrow(self, array: Any, *, on_error: OnError | None = None, num_threads: int | None = None) -> Any:
        """Encode a ``pyarrow`` string array into a ``RecordBatch`` of ``ids`` and ``error``.

        Rows stay aligned with the input: a null row, or one that fails, has a null
        ``ids`` entry; a failing row's ``error`` is the message of its error, position
        included, and never fails the batch. See :func:`chemtok.arrow.encode_arrow`.

        Example:
            >>> import chemtok, pyarrow as pa
            >>> texts = pa.array(["Ethanol is [START_SMILES]CCO[END_SMILES].", "[START_SMILES]C§[END_SMILES]"])
            >>> out = chemtok.ChemTokenizer().encode_arrow(texts)
            >>> out.column("ids")[1].is_valid, out.column("error")[1].as_py().split(":")[0]
            (False, "grammar 'smiles' cannot tokenize '§' at position 15")
        """
        from chemtok.arrow import encode_arrow

        return encode_arrow(self, array, on_error=on_error, num_threads=num_threads)

    def encode_with_offsets(self, text: str, *, on_error: OnError | None = None) -> Encoding:
        """Encode ``text`` and give every id its token string, character span and modality.

        ``ids`` equal :meth:`encode`; the spans tile ``text``; a marker is one token
        spanning the marker, every other token has the modality of its segment (see
        :mod:`chemtok.encoding`).

        Example:
            >>> import chemtok
            >>> text = "Ethanol [START_SMILES]CCO[END_SMILES]"
            >>> enc = chemtok.ChemTokenizer().encode_with_offsets(text)
            >>> [(text[a:b], m) for (a, b), m in zip(enc.offsets, enc.modalities)][-4:]
            [('C', 'smiles'), ('C', 'smiles'), ('O', 'smiles'), ('[END_SMILES]', 'marker')]
        """
        from chemtok.encoding import router_encoding

        return router_encoding(self, text, self.on_error if on_error is None else check_on_error(on_error))


def _rebuild_chem(kwargs: dict[str, Any]) -> ChemTokenizer:
    """Unpickle a ``ChemTokenizer`` from its constructor's inputs."""
    return ChemTokenizer(**kwargs)


def _shifted(err: TokenizationError, text: str, offset: int) -> TokenizationError:
    """The same error, re-anchored in the whole input ``text`` (and without an index)."""
    shifted = type(err)(text, offset + err.position, err.modality, err.reason)
    return shifted


def _failed_item(err: TokenizationError, texts: Sequence[str]) -> int:
    """Which of the ``texts`` a batch call failed on: ``err.index``, or else the first
    text that is ``err.text`` (identity, then equality: equal texts fail alike)."""
    if err.index is not None:
        return err.index
    found = next((i for i, t in enumerate(texts) if t is err.text), None)
    if found is None:
        found = next((i for i, t in enumerate(texts) if t == err.text), 0)
    return found


@dataclass(frozen=True)
class _Failure:
    """A failing text of a batch: its index and its error, placed in the whole text."""

    index: int
    error: TokenizationError

    @staticmethod
    def earliest(current: _Failure | None, index: int, error: TokenizationError) -> _Failure:
        """The earlier failure by ``(text index, position)``: what ``encode`` of the text meets first."""
        if current is None or (index, error.position) < (current.index, current.error.position):
            return _Failure(index, error)
        return current


@functools.lru_cache(maxsize=1)
def default_chem_tokenizer() -> ChemTokenizer:
    """A process-wide default router (tokenizers are immutable after construction)."""
    return ChemTokenizer()
