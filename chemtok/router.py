"""The router: split scientific text at modality markers and encode into one id space.

Markers come from ``grammars/markers.toml`` (Galactica's ``[START_SMILES]`` ...
``[END_SMILES]``, ``[START_I_SMILES]``, ``[START_AMINO]``, ``[START_DNA]``,
``[START_REF]``, ``<work>``, plus ``[START_INCHI]`` and ``[START_SELFIES]``), or from
another dialect by name (``markers="tags"``, ``"naturelm"``, ``"biot5"``; see
:func:`chemtok.dialects.load_markers`). Text outside markers goes to the
text model; each marked span goes to its modality's tokenizer; markers are tokens of
their own.

The id space (laid out by :class:`chemtok.idspace.IdSpace`), in order:

* by default: special tokens, markers, the text vocabulary, 256 byte-fallback
  tokens, then the SMILES, InChI, protein, DNA and SELFIES vocabularies, each in its
  own namespace (SMILES ``C`` and cysteine ``C`` are different ids), then markers
  added to the table later (``[START_SELFIES]``), so that no earlier id moves;
* with a base text model (``ChemTokenizer(text=TextTokenizer.from_file(...))`` or
  :meth:`ChemTokenizer.from_base`): the base model's ids unchanged, then the special
  tokens the base lacks, markers, byte fallback and modality vocabularies appended
  after them. The base's own special tokens keep their ids and roles (Llama 3's BOS
  stays 128000, GPT-2's ``<|endoftext|>`` stays 50256; see
  :func:`~chemtok.specials.find_special_tokens`), so a fine-tune starts from trained
  embeddings for them.

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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chemtok.base import ROUTER_MODALITY, Engine, GrammarTokenizer, OnError, check_on_error
from chemtok.batch import encode_arrays, encode_detected_rows, encode_rows, router_engine
from chemtok.dialects import MARKER_DIALECTS, load_markers, markers_from_table
from chemtok.errors import DataFileError
from chemtok.idspace import MODALITY_ORDER, IdSpace, TextRun
from chemtok.inchi import InchiTokenizer
from chemtok.markers import MarkerMatcher, MarkerTable, Segment
from chemtok.rows import rows_to_arrays
from chemtok.selfies import SelfiesTokenizer
from chemtok.sequence import DnaTokenizer, ProteinTokenizer
from chemtok.smiles import SmilesTokenizer
from chemtok.specials import SpecialTokenRoles, find_special_tokens
from chemtok.text import TextTokenizer

if TYPE_CHECKING:
    from chemtok._native import RouterEngine
    from chemtok.encoding import Encoding

__all__ = [
    "ChemTokenizer",
    "Segment",  # what split returns (defined in chemtok.markers)
]


class ChemTokenizer(SpecialTokenRoles):
    """Tokenize text with chemistry markers into one id space, losslessly.

    Args:
        text: the text model; default: chemtok's byte-level BPE. Passing one (e.g. a
            base LLM's ``tokenizer.json``) keeps its ids first and unchanged.
        smiles, inchi, protein, dna, selfies: modality tokenizers to use instead of the defaults.
        on_error: ``"raise"`` (default), ``"fallback"`` or ``"skip"``, applied inside
            every segment; see :mod:`chemtok.base`.
        strict_markers: raise :class:`~chemtok.errors.MarkerError` on unknown, unclosed,
            unopened or nested markers (default). ``False`` tokenizes such markers as
            ordinary content of the segment they stand in.
        markers: the marker dialect: ``"galactica"`` (default, ``[START_SMILES]``),
            ``"tags"`` (``<SMILES>``, ``<SELFIES>``, ``<IUPAC>``, ... as SMolInstruct
            and Intern-S1 write them), ``"naturelm"`` (``<mol>``, ``<protein>``, ...),
            ``"biot5"`` (``<bom>``/``<eom>`` around SELFIES, ``<bop>``/``<eop>``), the
            path of a table file, or a :class:`~chemtok.markers.MarkerTable`. The
            dialect is saved with the tokenizer and is part of its fingerprint.
        engine: engine of the default modality tokenizers (``"auto"``, ``"native"``,
            ``"python"``).
        detect: find unmarked chemistry on the fly (:func:`chemtok.annotate`) and mark
            it with *transient* markers: ids of their own, appended after every other
            id, that ``decode`` drops, so ``decode(encode(x)) == x`` still holds. Text
            already inside markers keeps its markers' ordinary ids.
        base_special_tokens: with a base ``text`` model, which of its tokens serve as
            ``"bos"``, ``"eos"``, ``"pad"``, ``"unk"``, ``"mask"`` (role to token
            string; a role left out or ``None`` gets chemtok's own token, appended).
            Default: :func:`~chemtok.specials.find_special_tokens` of ``text``
            (:meth:`from_base` also reads the ``tokenizer_config.json`` beside the file).

    Example:
        >>> import chemtok
        >>> tok = chemtok.ChemTokenizer()
        >>> [s.modality for s in tok.split("Insulin [START_AMINO]GIVEQ[END_AMINO] binds.")]
        ['text', 'marker', 'protein', 'marker', 'text']
    """

    name = ROUTER_MODALITY

    def __init__(
        self,
        *,
        text: TextTokenizer | None = None,
        smiles: GrammarTokenizer | None = None,
        inchi: GrammarTokenizer | None = None,
        protein: GrammarTokenizer | None = None,
        dna: GrammarTokenizer | None = None,
        selfies: GrammarTokenizer | None = None,
        on_error: OnError = "raise",
        strict_markers: bool = True,
        markers: MarkerTable | str | None = None,
        engine: Engine = "auto",
        base_special_tokens: Mapping[str, str | None] | None = None,
        detect: bool = False,
    ) -> None:
        self.on_error = check_on_error(on_error)
        if not isinstance(strict_markers, bool):
            raise TypeError(f"strict_markers must be True or False, got {strict_markers!r}")
        if not isinstance(detect, bool):
            raise TypeError(f"detect must be True or False, got {detect!r}")
        self.detect = detect
        # What pickling rebuilds from: the inputs, not the derived tables (see __reduce__).
        self._inputs: dict[str, Any] = {
            "text": text,
            "smiles": smiles,
            "inchi": inchi,
            "protein": protein,
            "dna": dna,
            "selfies": selfies,
            "on_error": on_error,
            "strict_markers": strict_markers,
            "markers": markers,
            "engine": engine,
            "detect": detect,
        }
        self.strict_markers = strict_markers
        if markers is not None and not isinstance(markers, (MarkerTable, str)):
            raise TypeError(
                f"markers must be a dialect name ({', '.join(MARKER_DIALECTS)}), a table file's path or a "
                f"MarkerTable, got {type(markers).__name__}"
            )
        self.markers = markers if isinstance(markers, MarkerTable) else load_markers(markers)
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
        given = {"smiles": smiles, "inchi": inchi, "protein": protein, "dna": dna, "selfies": selfies}
        #: The tokenizer of each modality, in :data:`~chemtok.idspace.MODALITY_ORDER`.
        self.modalities: dict[str, GrammarTokenizer] = {
            name: tok if tok is not None else _DEFAULT_MODALITIES[name](engine=engine)
            for name, tok in ((name, given[name]) for name in MODALITY_ORDER)
        }
        self._ids = IdSpace(
            self.markers,
            self.text,
            self.modalities,
            has_base=self.has_base,
            base_special_tokens=self.base_special_tokens,
            transient=detect,
        )
        self._matcher = MarkerMatcher(self.markers, strict=strict_markers)

    @classmethod
    def from_base(cls, path: str | Path, **kwargs: Any) -> ChemTokenizer:
        """Extend an existing model's ``tokenizer.json``: its ids stay, chemistry is appended.

        ``len(tokenizer)`` is then the new embedding size and
        ``tokenizer.num_added_tokens`` how many rows to add
        (``model.resize_token_embeddings(len(tokenizer))``). The base model's special
        tokens stay its own (:func:`~chemtok.specials.find_special_tokens` says which,
        reading a ``tokenizer_config.json`` or ``special_tokens_map.json`` beside ``path``
        when there is one); only the roles it lacks get chemtok's tokens, appended.

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

    @property
    def id_space(self) -> IdSpace:
        """The layout of the ids: namespaces, token strings, roles (see :mod:`chemtok.idspace`).

        Example:
            >>> import chemtok
            >>> chemtok.ChemTokenizer().id_space.namespaces[:4]
            ('special', 'marker', 'text', 'byte')
        """
        return self._ids

    @property
    def vocab_size(self) -> int:
        """Number of ids: the embedding size a model needs."""
        return self._ids.size

    def __len__(self) -> int:
        return self._ids.size

    @property
    def grammar_tag(self) -> str:
        """The grammars behind this id space, e.g. ``markers@1+smiles@1+inchi@1+protein@1+dna@1+selfies@1``."""
        return "+".join([self.markers.tag, *(self.modalities[n].grammar_tag for n in MODALITY_ORDER)])

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 over every block of the id space: equal fingerprints mean identical ids."""
        return self._ids.fingerprint

    @property
    def num_added_tokens(self) -> int:
        """Ids beyond the text model's: rows to add to a base model's embeddings."""
        return self._ids.size - self.text.vocab_size

    def block(self, name: str) -> tuple[int, int]:
        """``(offset, size)`` of a namespace: ``special``, ``marker``, ``text``, ``byte``,
        ``smiles``, ``inchi``, ``protein`` or ``dna``."""
        return self._ids.block(name)

    def namespace_of(self, token_id: int) -> str:
        """The namespace an id belongs to (see :meth:`block`)."""
        return self._ids.namespace_of(token_id)

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The namespaces of the id space in id order: ``special``, ``marker``, ``text``, ..."""
        return self._ids.namespaces

    def id_to_token(self, token_id: int) -> str:
        """The token string of an id (text ids give the text model's token string).

        The string does not say its namespace (SMILES ``C`` and cysteine ``C`` give
        ``"C"``); :meth:`namespace_of` does, and :meth:`get_vocab` gives unique strings.

        Raises:
            DecodeError: ``token_id`` is negative or not below ``len(self)``.
        """
        return self._ids.id_to_token(token_id)

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
        return self._ids.token_to_id(token, modality)

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
        return self._ids.get_vocab()

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

        return load(directory, engine=engine, expect=cls)

    def save_options(self, directory: Path) -> dict[str, Any]:
        options: dict[str, Any] = {"on_error": self.on_error, "strict_markers": self.strict_markers}
        if self.detect:  # written only when set: saved files of other routers stay as they were
            options["detect"] = True
        # A shipped dialect is saved by name; any other table as its data.
        dialect = self.markers.dialect
        if dialect in MARKER_DIALECTS and self.markers == load_markers(dialect):
            options["markers"] = None if dialect == "galactica" else dialect
        else:
            options["markers"] = self.markers.as_dict()
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
    def from_options(cls, directory: Path, options: Any, *, engine: Engine) -> ChemTokenizer:
        from chemtok.base import read_on_error
        from chemtok.persist import load

        kwargs: dict[str, Any] = {
            "on_error": read_on_error(options),
            "strict_markers": options.get("strict_markers", bool),
        }
        if options.table.get("detect") is not None:
            kwargs["detect"] = options.get("detect", bool)
        saved_markers = options.table.get("markers")
        if isinstance(saved_markers, str):
            kwargs["markers"] = options.get(
                "markers", str, lambda v: None if v in MARKER_DIALECTS else f"must be one of {list(MARKER_DIALECTS)}"
            )
        elif saved_markers is not None:
            kwargs["markers"] = markers_from_table(options.label, options.get("markers", dict), prefix="options.markers.")
        if options.table.get("text") is not None:
            kwargs["text"] = load(directory / options.get("text", str), expect=TextTokenizer)
            roles = options.get("base_special_tokens", dict)
            if not all(isinstance(role, str) and isinstance(token, str) for role, token in roles.items()):
                raise DataFileError(options.label, "options.base_special_tokens", "expected an object of role to token string")
            kwargs["base_special_tokens"] = roles
        for name in MODALITY_ORDER:
            kwargs[name] = load(directory / options.get(name, str), engine=engine, expect=_DEFAULT_MODALITIES[name])
        return cls(**kwargs)

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

    @functools.cached_property
    def native_engine(self) -> RouterEngine | None:
        """The Rust router (``chemtok._native.RouterEngine``), built on first use, or ``None``
        when this tokenizer runs on the Python path (see :func:`chemtok.batch.router_engine`)."""
        return router_engine(self)

    @property
    def engine(self) -> str:
        """Which path encodes: ``"native"`` (the whole router in the Rust core) or ``"python"``.

        Native needs the text model on the native byte-level BPE and no modality tokenizer
        asked for ``engine="python"`` (see :func:`chemtok.batch.router_engine`); texts with
        markers of a modality whose tokenizer the core cannot run still take the Python path.

        Example:
            >>> import chemtok
            >>> chemtok.ChemTokenizer(engine="python").engine
            'python'
        """
        return "python" if self.native_engine is None else "native"

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
        if self.detect:
            return encode_detected_rows(self, [text], policy, None, batched=False)[0]
        return encode_rows(self, [text], policy, None, batched=False)[0]

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
        its segments in one call (one text-model batch, one native batch per modality;
        see :mod:`chemtok.batch`).
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
        if self.detect:
            rows = encode_detected_rows(self, batch, policy, num_threads, batched=True)
            return rows_to_arrays(rows) if return_arrays else rows
        if return_arrays:
            return encode_arrays(self, batch, policy, num_threads)
        return encode_rows(self, batch, policy, num_threads, batched=True)

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
        return self._ids.text_runs(text, fallback=policy == "fallback")

    # -- decoding ---------------------------------------------------------------------

    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        """The exact text ``ids`` were encoded from.

        Text ids are decoded by the text model run by run; byte-fallback ids are joined
        and decoded as UTF-8; special tokens are written literally unless skipped.

        Raises:
            DecodeError: an id out of range, or byte-fallback ids that are not UTF-8.
        """
        return self._ids.decode(ids, skip_special_tokens=skip_special_tokens)

    def decode_batch(self, batch: Iterable[Sequence[int]], *, skip_special_tokens: bool = False) -> list[str]:
        return [self.decode(ids, skip_special_tokens=skip_special_tokens) for ids in batch]

    def __repr__(self) -> str:
        return (
            f"<ChemTokenizer text={self.text.source!r} {self._ids.size} ids "
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
        :mod:`chemtok.encoding`). Under ``detect=True`` the spans are into ``text`` as
        given, not the annotated text: a marker detection inserted has modality
        ``"transient"`` and the empty span at its insertion point (it holds no
        character of ``text``), and the other tokens tile ``text``.

        Example:
            >>> import chemtok
            >>> text = "Ethanol [START_SMILES]CCO[END_SMILES]"
            >>> enc = chemtok.ChemTokenizer().encode_with_offsets(text)
            >>> [(text[a:b], m) for (a, b), m in zip(enc.offsets, enc.modalities)][-4:]
            [('C', 'smiles'), ('C', 'smiles'), ('O', 'smiles'), ('[END_SMILES]', 'marker')]
            >>> text = "Its SMILES is CCO."
            >>> enc = chemtok.ChemTokenizer(detect=True).encode_with_offsets(text)
            >>> [(t, text[a:b], m) for t, (a, b), m in zip(enc.tokens, enc.offsets, enc.modalities)][-6:]
            [('[START_SMILES]', '', 'transient'), ('C', 'C', 'smiles'), ('C', 'C', 'smiles'), ('O', 'O', 'smiles'), ('[END_SMILES]', '', 'transient'), ('.', '.', 'text')]
        """
        from chemtok.encoding import detected_router_encoding, router_encoding

        policy = self.on_error if on_error is None else check_on_error(on_error)
        if self.detect:
            return detected_router_encoding(self, text, policy)
        return router_encoding(self, text, policy)


#: The default tokenizer class of each modality of :data:`~chemtok.idspace.MODALITY_ORDER`.
_DEFAULT_MODALITIES: dict[str, type[GrammarTokenizer]] = {
    "smiles": SmilesTokenizer,
    "inchi": InchiTokenizer,
    "protein": ProteinTokenizer,
    "dna": DnaTokenizer,
    "selfies": SelfiesTokenizer,
}


def _rebuild_chem(kwargs: dict[str, Any]) -> ChemTokenizer:
    """Unpickle a ``ChemTokenizer`` from its constructor's inputs."""
    return ChemTokenizer(**kwargs)


@functools.lru_cache(maxsize=1)
def default_chem_tokenizer() -> ChemTokenizer:
    """A process-wide default router (tokenizers are immutable after construction)."""
    return ChemTokenizer()
