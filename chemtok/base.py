"""The shared protocol of chemtok's tokenizers and the grammar-driven base class.

A grammar tokenizer (SMILES, InChI, protein, DNA) only has to say which tokens a
lexeme starting at a position produces; this module turns that into ``tokenize``,
``encode``, ``encode_batch``, ``decode`` and the ``on_error`` policies, identically
for every modality.

The policies, per call or per instance:

* ``"raise"`` (default): input the grammar cannot cover raises
  :class:`~chemtok.errors.TokenizationError` with the position.
* ``"fallback"``: each uncovered character becomes byte-fallback tokens
  (``<0xC2>``, ...) and lexing resumes after it; decoding restores it, so the
  round trip stays exact.
* ``"skip"``: each uncovered character is dropped. The only lossy policy; use it
  when a model must never see fallback tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload, runtime_checkable

from chemtok.errors import TokenizationError
from chemtok.reasons import reason_messages
from chemtok.rows import collector_paused
from chemtok.vocab import (
    Vocabulary,
    check_token_id,
    decode_token_strings,
    fallback_tokens,
    read_vocabulary_file,
    write_vocabulary_file,
)

if TYPE_CHECKING:
    import numpy as np

    from chemtok.encoding import Encoding
    from chemtok.native import NativeEngine

__all__ = [
    "OnError",
    "Engine",
    "ON_ERROR_POLICIES",
    "ENGINES",
    "ROUTER_ALIASES",
    "ROUTER_MODALITY",
    "Tokenizer",
    "GrammarTokenizer",
    "NoRule",
    "check_on_error",
    "check_token_id",
]

T = TypeVar("T")
OnError = Literal["raise", "skip", "fallback"]
ON_ERROR_POLICIES: tuple[OnError, ...] = ("raise", "skip", "fallback")
#: ``"native"``: the Rust core; ``"python"``: the pure-Python reference; ``"auto"``:
#: native when the compiled core is importable, else the reference.
Engine = Literal["auto", "native", "python"]
ENGINES: tuple[Engine, ...] = ("auto", "native", "python")
#: The router's modality (:class:`~chemtok.ChemTokenizer`): scientific text with
#: ``[START_*]`` markers. Its one name (``ChemTokenizer.name``, ``get_tokenizer``,
#: ``--modality``, the io and bench groups); not the text model's ``"text"``.
ROUTER_MODALITY = "mixed"
#: Other names accepted for :data:`ROUTER_MODALITY` where users type one
#: (:func:`chemtok.get_tokenizer`, the command line's ``--modality``).
ROUTER_ALIASES = ("chem",)


def check_on_error(on_error: str) -> OnError:
    """Return ``on_error`` if it names a policy, else raise a ``ValueError`` that lists them."""
    for policy in ON_ERROR_POLICIES:
        if on_error == policy:
            return policy
    raise ValueError(f"on_error must be one of {list(ON_ERROR_POLICIES)}, got {on_error!r}")


@runtime_checkable
class Tokenizer(Protocol):
    """What every chemtok tokenizer offers."""

    name: str

    def tokenize(self, text: str) -> list[str]: ...

    def encode(self, text: str) -> list[int]: ...

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def get_vocab(self) -> dict[str, int]: ...

    def id_to_token(self, token_id: int) -> str:
        """The token string of an id, checked by :func:`check_token_id` in every tokenizer.

        An int (or ``operator.index``-able, e.g. a numpy integer) below ``len(self)``;
        negative ids do not count from the end. Out of range: ``DecodeError``; not an
        integer (``bool`` included): ``TypeError``. ``HFChemTokenizer.convert_ids_to_tokens``
        keeps the same contract and gives the namespaced strings of :meth:`get_vocab`.
        """
        ...

    def __len__(self) -> int: ...

    @property
    def vocab_size(self) -> int: ...


class NoRule(Exception):
    """Raised by a lexer: no rule of the grammar covers ``text[position]``."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(position, reason)
        self.position = position
        self.reason = reason


class GrammarTokenizer:
    """Base class of the grammar-driven tokenizers; subclasses implement ``_lex_at``.

    Subclasses set ``name`` (the modality), ``vocabulary`` (a
    :class:`~chemtok.vocab.Vocabulary` with the standard blocks) and ``grammar_tag``.
    """

    name: str = ""
    grammar_tag: str = ""
    vocabulary: Vocabulary
    special_tokens: tuple[str, ...]

    def __init__(self, *, on_error: OnError = "raise", engine: Engine = "auto") -> None:
        self.on_error: OnError = check_on_error(on_error)
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {list(ENGINES)}, got {engine!r}")
        self._engine_request = engine
        self._native: NativeEngine | None = None

    def _start_engine(self) -> None:
        """Attach the Rust core (call at the end of a subclass ``__init__``).

        With ``engine="auto"`` and no compiled core (chemtok installed without a Rust
        toolchain), the pure-Python reference runs, and the first such tokenizer of the
        process warns once (``RuntimeWarning``) how to get the fast path.
        """
        if self._engine_request == "python":
            return
        from chemtok import native

        if native.available():
            try:
                self._native = native.NativeEngine.for_tokenizer(self)
            except TypeError:  # a configuration the Rust core does not cover
                if self._engine_request == "native":
                    raise
        elif self._engine_request == "native":
            raise ImportError(
                "engine='native' needs the compiled core chemtok._native, which is not built; "
                'reinstall with pip install -e ".[dev]" (needs cargo), or pass engine="python"'
            )
        else:
            # Once per process; the flag lives on this function (base.py keeps no module state).
            once = GrammarTokenizer._start_engine.__dict__
            if not once.get("warned_no_native"):
                once["warned_no_native"] = True
                import warnings

                warnings.warn(
                    "chemtok's compiled core (chemtok._native) is not installed, so engine='auto' "
                    "uses the pure-Python reference: the same tokens and ids, but much slower. "
                    "For the fast path install a Rust toolchain (https://rustup.rs, so that cargo "
                    "is on PATH) and reinstall chemtok (pip install -e . in a checkout); "
                    "pass engine='python' to choose the reference without this warning.",
                    RuntimeWarning,
                    stacklevel=3,
                )

    @property
    def reason_messages(self) -> Mapping[str, str]:
        """The message of each refusal reason code (:mod:`chemtok.reasons`) of this grammar.

        Both engines word a ``TokenizationError`` from this table; subclasses whose
        messages name grammar values (InChI prefixes, a sequence alphabet) override it.

        Example:
            >>> import chemtok
            >>> chemtok.SmilesTokenizer().reason_messages["bracket_not_closed"]
            'bracket atom is not closed'
        """
        return reason_messages()

    @property
    def engine(self) -> str:
        """The engine in use: ``"native"`` or ``"python"``."""
        return "python" if self._native is None else "native"

    @property
    def requested_engine(self) -> Engine:
        """The ``engine`` asked for (``"auto"``, ``"native"``, ``"python"``); :attr:`engine` says which runs."""
        return self._engine_request

    @property
    def native_engine(self) -> NativeEngine | None:
        """The :class:`~chemtok.native.NativeEngine` in use, or ``None`` on the Python reference."""
        return self._native

    # -- the one method a modality implements ---------------------------------------

    def _lex_at(self, text: str, pos: int, out: list[str]) -> int:
        """Append the tokens of the lexeme at ``pos`` to ``out``; return where it ends.

        Raises:
            NoRule: no rule covers ``text[pos]`` (``position`` may point further in,
                e.g. at the bad character inside a bracket atom).
        """
        raise NotImplementedError

    # -- public API ------------------------------------------------------------------

    def tokenize(self, text: str, *, on_error: OnError | None = None) -> list[str]:
        """Split ``text`` into token strings; ``"".join(tokens) == text`` for valid input.

        Args:
            text: one string of this modality (one molecule, one InChI, one sequence).
            on_error: override the instance's policy for this call.

        Raises:
            TokenizationError: the grammar does not cover some character (under ``"raise"``).
        """
        policy = self.on_error if on_error is None else check_on_error(on_error)
        if not isinstance(text, str):
            raise TypeError(f"{type(self).__name__}.tokenize expects str, got {type(text).__name__}")
        if self._native is not None:
            return self._native.tokenize(text, policy)
        return self._tokenize_reference(text, policy)

    def _tokenize_reference(self, text: str, policy: str) -> list[str]:
        """The pure-Python lexing loop; the definition every engine must match."""
        out: list[str] = []
        pos, n = 0, len(text)
        while pos < n:
            try:
                pos = self._lex_at(text, pos, out)
            except NoRule as stuck:
                if policy == "raise":
                    raise TokenizationError(text, stuck.position, self.name, stuck.reason) from None
                if policy == "fallback":
                    out.extend(fallback_tokens(text[pos]))
                pos += 1
        return out

    def encode(self, text: str, *, on_error: OnError | None = None) -> list[int]:
        """Return the token ids of ``text``; ``decode(encode(text)) == text`` for valid input.

        Example:
            >>> import chemtok
            >>> tok = chemtok.SmilesTokenizer()
            >>> tok.decode(tok.encode("CC(=O)O")) == "CC(=O)O"
            True
        """
        native = self._native
        if native is not None:
            # The common call first, with nothing re-checked: the policy was checked when
            # set (and the core checks it again), and the core takes exactly a str.
            if on_error is None and type(text) is str:
                return native.encode(text, self.on_error)
            policy = self.on_error if on_error is None else check_on_error(on_error)
            if not isinstance(text, str):
                raise TypeError(f"{type(self).__name__}.encode expects str, got {type(text).__name__}")
            return native.encode(text, policy)
        table = self.vocabulary.token_to_id
        return [table[token] for token in self.tokenize(text, on_error=on_error)]

    @overload
    def encode_batch(
        self,
        texts: Iterable[str],
        *,
        on_error: OnError | None = ...,
        num_threads: int | None = ...,
        return_arrays: Literal[False] = ...,
    ) -> list[list[int]]: ...

    @overload
    def encode_batch(
        self,
        texts: Iterable[str],
        *,
        on_error: OnError | None = ...,
        num_threads: int | None = ...,
        return_arrays: Literal[True],
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def encode_batch(
        self,
        texts: Iterable[str],
        *,
        on_error: OnError | None = None,
        num_threads: int | None = None,
        return_arrays: bool = False,
    ) -> list[list[int]] | tuple[np.ndarray, np.ndarray]:
        """Encode many strings; equal to ``[self.encode(t) for t in texts]``.

        Args:
            texts: the strings (a list, or any iterable).
            on_error: override the instance's policy; a failing string under
                ``"raise"`` raises for the first failure in input order, its
                :class:`~chemtok.errors.TokenizationError` naming the string's
                position in ``texts`` as ``.index``.
            num_threads: threads for the native engine (``None``: all cores); the
                Python reference runs on one.
            return_arrays: return ``(ids, row_offsets)`` numpy arrays instead of lists:
                ``ids`` uint32, ``row_offsets`` int64 with ``len(texts) + 1`` entries,
                row i being ``ids[row_offsets[i]:row_offsets[i + 1]]``. A million
                molecules then cost two arrays, not a million Python lists.

        Example:
            >>> import chemtok
            >>> ids, offsets = chemtok.SmilesTokenizer().encode_batch(["CCO", "C#N"], return_arrays=True)
            >>> offsets.tolist(), len(ids)
            ([0, 3, 6], 6)
        """
        policy = self.on_error if on_error is None else check_on_error(on_error)
        batch = texts if isinstance(texts, list) else list(texts)
        if self._native is not None:  # the core type-checks each item (TypeError naming its index)
            if return_arrays:
                return self._native.encode_batch_arrays(batch, policy, num_threads)
            with collector_paused():
                return self._native.encode_batch(batch, policy, num_threads)
        rows: list[list[int]] = []
        for index, text in enumerate(batch):
            try:
                rows.append(self.encode(text, on_error=policy))
            except TokenizationError as err:
                raise err.with_index(index) from None
        if not return_arrays:
            return rows
        from chemtok.rows import rows_to_arrays

        return rows_to_arrays(rows)

    def encode_arrow(self, array: Any, *, on_error: OnError | None = None, num_threads: int | None = None) -> Any:
        """Encode a ``pyarrow`` string array into a ``RecordBatch`` of ``ids`` and ``error``.

        The native engine reads the Arrow buffers directly and never makes a Python
        string per row; a row the grammar refuses gets its message in ``error`` and
        never fails the batch. See :func:`chemtok.arrow.encode_arrow`.

        Example:
            >>> import chemtok, pyarrow as pa
            >>> out = chemtok.SmilesTokenizer().encode_arrow(pa.array(["CCO", None, "C§"]))
            >>> out.column("ids").to_pylist()[:2], out.column("error").null_count
            ([[262, 262, 264], None], 2)
        """
        from chemtok.arrow import encode_arrow

        return encode_arrow(self, array, on_error=on_error, num_threads=num_threads)

    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        """Turn ids back into the exact string they came from.

        Byte-fallback tokens are collected and decoded as UTF-8 (lone surrogates kept);
        special tokens are written as their literal text unless ``skip_special_tokens``.

        Raises:
            DecodeError: an id is out of range, or byte-fallback ids are not valid UTF-8.
        """
        return decode_token_strings(
            self.vocabulary.tokens, ids, set(self.special_tokens) if skip_special_tokens else frozenset()
        )

    def decode_batch(self, batch: Iterable[Sequence[int]], *, skip_special_tokens: bool = False) -> list[str]:
        """Decode many id sequences; equal to ``[self.decode(ids) for ids in batch]``."""
        return [self.decode(ids, skip_special_tokens=skip_special_tokens) for ids in batch]

    # -- vocabulary access ------------------------------------------------------------
    #
    # One contract on every tokenizer class: get_vocab() a fresh dict, token_to_id()
    # None for an unknown token, id_to_token() a DecodeError for any id outside
    # 0 .. len(tok) - 1 (negative ids are not counted from the end), len() the vocab size.

    @property
    def vocab(self) -> dict[str, int]:
        """A copy of the token-to-id mapping (the same as :meth:`get_vocab`)."""
        return dict(self.vocabulary.token_to_id)

    def get_vocab(self) -> dict[str, int]:
        """A copy of the token-to-id mapping.

        Example:
            >>> import chemtok
            >>> chemtok.SmilesTokenizer().get_vocab()["Cl"] == chemtok.SmilesTokenizer().token_to_id("Cl")
            True
        """
        return dict(self.vocabulary.token_to_id)

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the vocabulary: equal fingerprints mean identical ids."""
        return self.vocabulary.fingerprint

    def __len__(self) -> int:
        return len(self.vocabulary)

    def token_to_id(self, token: str) -> int | None:
        """The id of ``token``, or ``None`` if it is not in the vocabulary.

        Example:
            >>> import chemtok
            >>> tok = chemtok.SmilesTokenizer()
            >>> tok.id_to_token(tok.token_to_id("[C@@H]"))
            '[C@@H]'
        """
        return self.vocabulary.token_to_id.get(token)

    def id_to_token(self, token_id: int) -> str:
        """The token string of ``token_id``.

        Raises:
            DecodeError: ``token_id`` is negative or not below ``len(self)``.
        """
        return self.vocabulary.tokens[check_token_id(token_id, len(self.vocabulary))]

    # -- saving and pickling ------------------------------------------------------------

    def _init_kwargs(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this tokenizer (pickling, ``save``)."""
        return {"on_error": self.on_error, "engine": self._engine_request}

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from the constructor's inputs: the grammar and shipped vocabulary are
        # cached per process, so a worker pays for a constructor call, not for
        # unpickling every derived table (and the native engine is rebuilt for it).
        return (_rebuild, (type(self), self._init_kwargs()))

    def save(self, directory: Any) -> Any:
        """Write this tokenizer into ``directory``; :func:`chemtok.load` reads it back.

        Returns:
            The ``pathlib.Path`` of the directory.

        Example:
            >>> import chemtok, tempfile
            >>> tok = chemtok.InchiTokenizer()
            >>> chemtok.InchiTokenizer.load(tok.save(tempfile.mkdtemp())).fingerprint == tok.fingerprint
            True
        """
        from chemtok.persist import save

        return save(self, directory)

    @classmethod
    def load(cls, directory: Any, *, engine: Engine = "auto") -> Any:
        """Load a tokenizer of this class written by :meth:`save`.

        Raises:
            DataFileError: the directory is unreadable, holds another class, or would
                give other ids than the tokenizer saved.
        """
        from chemtok.persist import load

        return load(directory, engine=engine, expect=cls)

    def _custom_vocabulary(self) -> Vocabulary | None:
        """The vocabulary to save beside the options; ``None`` when it is the shipped one."""
        return None

    def save_options(self, directory: Any) -> dict[str, Any]:
        """Write the files a saved copy needs into ``directory``; return the options (JSON).

        The :class:`chemtok.persist.Saveable` hook :meth:`save` calls through
        :func:`chemtok.persist.save`; :meth:`from_options` reads the options back.

        Example:
            >>> import chemtok, tempfile
            >>> chemtok.ProteinTokenizer().save_options(tempfile.mkdtemp())
            {'on_error': 'raise'}
        """
        options: dict[str, Any] = {"on_error": self.on_error}
        vocabulary = self._custom_vocabulary()
        if vocabulary is not None:
            path = write_vocabulary_file(Path(directory) / f"{self.name}_vocab.json", vocabulary)
            options["vocabulary_file"] = path.name
        return options

    @classmethod
    def _saved_vocabulary(cls, directory: Any, options: Any) -> Vocabulary | None:
        """The vocabulary :meth:`save_options` wrote, or ``None`` for the shipped one."""
        if "vocabulary_file" not in options.table:
            return None
        return read_vocabulary_file(Path(directory) / options.get("vocabulary_file", str), name=cls.name)

    @classmethod
    def from_options(cls, directory: Any, options: Any, *, engine: Engine) -> Any:
        """Rebuild a tokenizer from what :meth:`save_options` wrote (``options``: a checked table reader)."""
        return cls(on_error=read_on_error(options), engine=engine)

    # -- portable export (chemtok.export) -----------------------------------------------

    def save_tokenizer_json(self, path: Any) -> Any:
        """Write a ``tokenizer.json`` that stock Hugging Face ``tokenizers`` loads without chemtok.

        The file uses only built-in components (``Split`` regexes generated from the
        grammar and vocabulary, a ``WordLevel`` model, a joining decoder) and gives the
        same ids as :meth:`encode` for every input the grammar accepts; see
        :mod:`chemtok.export` for how, and for what it cannot express.

        Args:
            path: the file to write (``str`` or ``os.PathLike``), or a directory to
                write ``tokenizer.json`` into.

        Returns:
            The ``pathlib.Path`` written.

        Raises:
            ValueError: a model that no built-in component can express (the compact
                SMILES model); export ``model="atom"``.

        Example:
            >>> import chemtok, tempfile
            >>> from tokenizers import Tokenizer
            >>> smiles = chemtok.SmilesTokenizer()
            >>> path = smiles.save_tokenizer_json(tempfile.mkdtemp())
            >>> Tokenizer.from_file(str(path)).encode("C[C@@H](N)C(=O)O").ids == smiles.encode("C[C@@H](N)C(=O)O")
            True
        """
        from chemtok.export import save_tokenizer_json

        return save_tokenizer_json(self, path)

    def to_tokenizers(self) -> Any:
        """The equivalent ``tokenizers.Tokenizer`` object (what :meth:`save_tokenizer_json` writes)."""
        from chemtok.export import to_tokenizers

        return to_tokenizers(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} grammar {self.grammar_tag} {len(self)} tokens, {self.engine}>"

    def encode_with_offsets(self, text: str, *, on_error: OnError | None = None) -> Encoding:
        """Encode ``text`` and give every id its token string and character span.

        ``ids`` equal :meth:`encode`; the spans tile ``text`` (a byte-fallback
        character belongs to its last byte token); see :mod:`chemtok.encoding`.

        Example:
            >>> import chemtok
            >>> chemtok.SmilesTokenizer().encode_with_offsets("C[NH3+]Cl").offsets
            [(0, 1), (1, 7), (7, 9)]
        """
        from chemtok.encoding import grammar_encoding

        return grammar_encoding(self, text, self.on_error if on_error is None else check_on_error(on_error))


def _rebuild(cls: type[T], kwargs: dict[str, Any]) -> T:
    """Unpickle a tokenizer by calling its constructor (see ``GrammarTokenizer.__reduce__``)."""
    return cls(**kwargs)


def read_on_error(options: Any) -> OnError:
    """The ``on_error`` option of a saved state (a ``TableReader``), checked."""
    policy: OnError = options.get(
        "on_error", str, lambda v: None if v in ON_ERROR_POLICIES else f"must be one of {list(ON_ERROR_POLICIES)}"
    )
    return policy
