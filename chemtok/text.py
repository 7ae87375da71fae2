"""Byte-level BPE for the prose around chemistry, through Hugging Face ``tokenizers``.

The default model is a byte-level BPE trained on scientific text by
``scripts/train_text_bpe.py`` (digits split one per token, as Galactica did) and
shipped as ``chemtok/data/text_tokenizer.json``. Any other ``tokenizer.json`` (GPT-2,
Llama 2, Llama 3, ...) can be loaded with :meth:`TextTokenizer.from_file`; its ids are
kept exactly.

Literal special-token strings in the input (``<|endoftext|>``, ``<s>``) are encoded
as plain text, never as control tokens, so user text cannot inject them.

Two engines give the same ids. ``"native"`` is the byte-level BPE of chemtok's Rust
core (``chemtok._native.TextEngine``) for the family it reproduces exactly: a ``BPE``
model without dropout, byte fallback or subword affixes, no normalizer, a ``ByteLevel``
decoder, special added tokens only, and the pre-tokenizer of GPT-2
(``ByteLevel(use_regex=true)``), of chemtok's model (``Digits`` then ``ByteLevel``) or
of Llama 3 (its ``Split`` regex then ``ByteLevel(use_regex=false)``). Everything else
(Llama 2's SentencePiece-style BPE, normalizers) runs on ``"tokenizers"``.
``TextTokenizer.engine`` says which one runs.

The native engine is lossless by construction, so it skips the decode check of every
text: its pre-tokenizer's pieces tile the input (each piece is non-empty and starts
where the previous one ended), every one of the 256 bytes has a token (the model is
refused otherwise), and merges only join adjacent tokens, so the ids decode to exactly
the UTF-8 bytes of the text. The only Python strings UTF-8 cannot hold, lone
surrogates, are found first (:func:`first_uncovered`) and refused or skipped.

Example:
    >>> import chemtok
    >>> tok = chemtok.TextTokenizer()
    >>> ids = tok.encode("Aspirin inhibits COX-1 and COX-2.")
    >>> tok.decode(ids)
    'Aspirin inhibits COX-1 and COX-2.'
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from chemtok import forksafe as _forksafe  # noqa: F401  (fork hooks for the tokenizers pool)
from chemtok.base import Engine, OnError, check_on_error
from chemtok.errors import DataFileError, DecodeError, GrammarError, TokenizationError
from chemtok.rows import collector_paused
from chemtok.vocab import check_token_id, is_surrogate

if TYPE_CHECKING:
    import tokenizers

    from chemtok._native import TextEngine
    from chemtok.encoding import Encoding

__all__ = ["TextTokenizer", "TextEngineName", "TEXT_ENGINES", "DEFAULT_TEXT_MODEL", "first_uncovered", "strip_surrogates"]

#: The engines of a text model: ``"auto"`` and ``"native"`` as in :data:`chemtok.base.ENGINES`;
#: the reference of a text model is Hugging Face ``tokenizers`` (``"tokenizers"``).
TextEngineName = Literal["auto", "native", "tokenizers"]
TEXT_ENGINES: tuple[TextEngineName, ...] = ("auto", "native", "tokenizers")

DEFAULT_TEXT_MODEL = "text_tokenizer.json"
#: The file a saved non-default ``TextTokenizer`` keeps its model in.
MODEL_FILE = "tokenizer.json"


def first_uncovered(text: str) -> int:
    """Index of the first character no text model can take (a lone surrogate), or -1.

    Lone surrogates are the only code points UTF-8 cannot encode, so the encoder finds
    them at C speed; this runs on every text segment the router sees.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return err.start
    return -1


def strip_surrogates(text: str) -> str:
    """``text`` without its lone surrogates (the ``on_error="skip"`` policy for text)."""
    return "".join(ch for ch in text if not is_surrogate(ch))


class TextTokenizer:
    """Tokenize natural-language text with a byte-level BPE model (default or any file).

    Args:
        tokenizer: a ``tokenizers.Tokenizer``; ``None`` loads chemtok's default model.
        on_error: ``"raise"`` (default) or ``"skip"``. Text models cover every Unicode
            character except lone surrogates, which cannot be UTF-8 encoded; ``"skip"``
            drops them. Byte fallback for them is available through
            :class:`chemtok.ChemTokenizer`, which owns the fallback tokens.
        source: a label for ``repr`` and saved metadata (the file path).
        engine: ``"auto"`` (default: the Rust core when it is built and the model is in
            its family, else ``tokenizers``), ``"native"`` (the core, or an error saying
            why not) or ``"tokenizers"``. The ids are the same; :attr:`engine` says
            which one runs.

    Raises:
        TokenizationError: from ``encode`` when the model cannot reproduce the text
            exactly (a lone surrogate, or a model that normalises, e.g. lowercases).
        DataFileError: ``engine="native"`` for a model outside the native family, or
            without the compiled core.

    Example:
        >>> import chemtok
        >>> chemtok.TextTokenizer(engine="tokenizers").engine
        'tokenizers'
    """

    name = "text"

    def __init__(
        self,
        tokenizer: tokenizers.Tokenizer | None = None,
        *,
        on_error: OnError = "raise",
        source: str | None = None,
        engine: TextEngineName = "auto",
    ) -> None:
        check_on_error(on_error)
        if engine not in TEXT_ENGINES:
            raise ValueError(f"engine must be one of {list(TEXT_ENGINES)}, got {engine!r}")
        if on_error == "fallback":
            raise ValueError(
                "TextTokenizer has no byte-fallback tokens of its own; use "
                "chemtok.ChemTokenizer(on_error='fallback'), which owns them, or on_error='skip'"
            )
        self.on_error = on_error
        self._is_default = tokenizer is None
        if tokenizer is None:
            tokenizer = _load_default()
            source = source or f"chemtok/data/{DEFAULT_TEXT_MODEL}"
        self.source = source or "in-memory tokenizer"
        _refuse_dropout(tokenizer, self.source)
        # Input text is data: literal special-token strings are not control tokens.
        tokenizer.encode_special_tokens = True
        self._tok = tokenizer
        self._requested: TextEngineName = engine
        self._native = _native_engine(self, engine)
        #: ``"native"`` (chemtok's Rust BPE) or ``"tokenizers"``: the engine that encodes.
        self.engine: Literal["native", "tokenizers"] = "native" if self._native is not None else "tokenizers"

    @classmethod
    def from_file(cls, path: str | Path, *, on_error: OnError = "raise", engine: TextEngineName = "auto") -> TextTokenizer:
        """Load any Hugging Face ``tokenizer.json``, keeping its ids.

        Example:
            >>> import chemtok, os
            >>> path = "../shared/baselines/gpt2/tokenizer.json"
            >>> if os.path.exists(path):
            ...     assert chemtok.TextTokenizer.from_file(path).encode("Hello world") == [15496, 995]
        """
        from tokenizers import Tokenizer

        try:
            raw = Path(path).read_bytes()
        except OSError as err:
            raise DataFileError(str(path), None, f"cannot read it ({err.strerror or err})") from err
        try:
            tokenizer = Tokenizer.from_str(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            raise DataFileError(str(path), None, f"not UTF-8 text (byte {err.start})") from err
        except Exception as err:  # tokenizers raises a bare Exception
            raise DataFileError(str(path), None, f"not a loadable tokenizer.json ({err})") from err
        return cls(tokenizer, on_error=on_error, source=str(path), engine=engine)

    @property
    def backend(self) -> tokenizers.Tokenizer:
        """The underlying ``tokenizers.Tokenizer``."""
        return self._tok

    @property
    def native_engine(self) -> TextEngine | None:
        """The compiled ``chemtok._native.TextEngine`` in use, or ``None`` on ``tokenizers``."""
        return self._native

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size(with_added_tokens=True)

    def __len__(self) -> int:
        return self.vocab_size

    @property
    def vocab(self) -> dict[str, int]:
        """The token-to-id mapping (the same as :meth:`get_vocab`)."""
        return self._tok.get_vocab(with_added_tokens=True)

    def get_vocab(self) -> dict[str, int]:
        """A copy of the token-to-id mapping, added tokens included.

        Example:
            >>> import chemtok
            >>> tok = chemtok.TextTokenizer()
            >>> len(tok.get_vocab()) <= len(tok)
            True
        """
        return self._tok.get_vocab(with_added_tokens=True)

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the serialised model: equal fingerprints mean identical ids."""
        return hashlib.sha256(self._tok.to_str().encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        return f"<TextTokenizer {self.source!r} {self.vocab_size} tokens, {self.engine}>"

    # -- encoding --------------------------------------------------------------------

    def _policy(self, on_error: OnError | None) -> OnError:
        policy = self.on_error if on_error is None else check_on_error(on_error)
        if policy == "fallback":
            raise ValueError("TextTokenizer cannot fall back to bytes; use ChemTokenizer or on_error='skip'")
        return policy

    def _prepare(self, text: str, policy: str) -> str:
        if not isinstance(text, str):
            raise TypeError(f"TextTokenizer expects str, got {type(text).__name__}")
        bad = first_uncovered(text)
        if bad < 0:
            return text
        if policy == "raise":
            raise TokenizationError(text, bad, "text", "a lone surrogate cannot be encoded as UTF-8")
        return strip_surrogates(text)

    def tokenize(self, text: str, *, on_error: OnError | None = None) -> list[str]:
        """The model's token strings (byte-level pieces, e.g. ``'Ġbenzene'``)."""
        prepared = self._prepare(text, self._policy(on_error))
        return list(self._tok.encode(prepared, add_special_tokens=False).tokens)

    def encode(self, text: str, *, on_error: OnError | None = None) -> list[int]:
        """Token ids of ``text``; raises unless ``decode`` gives ``text`` back exactly."""
        return self._encode_all([text], self._policy(on_error), batched=False)[0]

    def encode_batch(
        self, texts: Iterable[str], *, on_error: OnError | None = None, num_threads: int | None = None
    ) -> list[list[int]]:
        """Encode many texts in parallel; equal to mapping ``encode``.

        ``num_threads`` sizes the native engine's pool (``None``: all cores);
        ``tokenizers`` sizes its own pool (``RAYON_NUM_THREADS``).

        Raises:
            TokenizationError: for the first failing text in input order, with
                ``.index`` its position in ``texts``.
        """
        return self._encode_all(list(texts), self._policy(on_error), batched=True, num_threads=num_threads)

    def encode_batch_arrays(
        self, texts: Iterable[str], *, on_error: OnError | None = None, num_threads: int | None = None
    ) -> tuple[Any, Any]:
        """``(ids uint32, row_offsets int64)`` of :meth:`encode_batch`; row i is ``ids[o[i]:o[i+1]]``.

        Example:
            >>> import chemtok
            >>> ids, offsets = chemtok.TextTokenizer().encode_batch_arrays(["ethanol", "benzene ring"])
            >>> len(offsets)
            3
        """
        originals = list(texts)
        policy = self._policy(on_error)
        if self._native is None or any(first_uncovered(t) >= 0 for t in originals if isinstance(t, str)):
            from chemtok.rows import rows_to_arrays

            return rows_to_arrays(self._encode_all(originals, policy, batched=True, num_threads=num_threads))
        for t in originals:
            self._prepare(t, policy)  # the TypeError of a non-str
        return self._native.encode_batch_arrays(originals, num_threads=num_threads)

    def _encode_all(
        self, originals: list[str], policy: str, *, batched: bool, num_threads: int | None = None
    ) -> list[list[int]]:
        if self._native is not None:
            return self._encode_native(self._native, originals, policy, batched=batched, num_threads=num_threads)
        prepared: list[str] = []
        refused: TokenizationError | None = None  # a lone surrogate under "raise"
        for index, original in enumerate(originals):
            try:
                prepared.append(self._prepare(original, policy))
            except TokenizationError as err:
                refused = err.with_index(index) if batched else err
                break  # texts after it cannot fail first
        encodings = self._tok.encode_batch(prepared, add_special_tokens=False)
        ids = [e.ids for e in encodings]
        decoded = self._tok.decode_batch(ids, skip_special_tokens=False)
        for index, (original, text, back) in enumerate(zip(originals, prepared, decoded)):
            if back != text:
                position = next((i for i, (a, b) in enumerate(zip(text, back)) if a != b), min(len(text), len(back)))
                if text is not original:  # positions refer to the caller's string
                    position = _original_position(original, position)
                raise TokenizationError(
                    original,
                    position,
                    "text",
                    f"the text model ({self.source}) does not reproduce this text exactly",
                    index if batched else None,
                )
        if refused is not None:
            raise refused
        return ids

    def _encode_native(
        self, native: TextEngine, originals: list[str], policy: str, *, batched: bool, num_threads: int | None
    ) -> list[list[int]]:
        # Lossless by construction (see the module docstring): only lone surrogates can
        # fail, and _prepare finds them in input order.
        prepared: list[str] = []
        for index, original in enumerate(originals):
            try:
                prepared.append(self._prepare(original, policy))
            except TokenizationError as err:
                raise err.with_index(index) if batched else err from None
        if not batched:
            return [native.encode(prepared[0])]
        with collector_paused():
            return native.encode_batch(prepared, num_threads=num_threads)

    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        """Text of ``ids``; ``decode(encode(text)) == text``."""
        size = self.vocab_size
        for index, token_id in enumerate(ids):
            if not 0 <= token_id < size:
                raise DecodeError(index, f"id {token_id} is outside the text vocabulary (0 to {size - 1})")
        if self._native is not None and not skip_special_tokens:
            try:
                return self._native.decode(list(ids))
            except ValueError:
                pass  # an id no token has: decoded as tokenizers does (it is skipped)
        return self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def decode_batch(self, batch: Iterable[Sequence[int]], *, skip_special_tokens: bool = False) -> list[str]:
        return [self.decode(ids, skip_special_tokens=skip_special_tokens) for ids in batch]

    def token_to_id(self, token: str) -> int | None:
        """The id of ``token`` (a model token string such as ``'Ġbenzene'``), or ``None``."""
        return self._tok.token_to_id(token)

    def id_to_token(self, token_id: int) -> str:
        """The model's token string of ``token_id``.

        Raises:
            DecodeError: ``token_id`` is negative, not below ``len(self)``, or a hole
                in the model's ids.
        """
        token = self._tok.id_to_token(check_token_id(token_id, self.vocab_size))
        if token is None:
            raise DecodeError(0, f"id {token_id} is not used by the text model ({self.source})")
        return token

    def encode_arrow(self, array: Any, *, on_error: OnError | None = None, num_threads: int | None = None) -> Any:
        """Encode a ``pyarrow`` string array into a ``RecordBatch`` of ``ids`` and ``error``.

        Rows stay aligned with the input: a null row, or one that fails, has a null
        ``ids`` entry; a failing row's ``error`` is the message of its error, position
        included, and never fails the batch. See :func:`chemtok.arrow.encode_arrow`.

        Example:
            >>> import chemtok, pyarrow as pa
            >>> out = chemtok.TextTokenizer().encode_arrow(pa.array(["Aspirin inhibits COX-1.", None]))
            >>> out.column("ids").null_count, out.column("error").null_count
            (1, 2)
        """
        from chemtok.arrow import encode_arrow

        return encode_arrow(self, array, on_error=on_error, num_threads=num_threads)

    def encode_with_offsets(self, text: str, *, on_error: OnError | None = None) -> Encoding:
        """Encode ``text`` and give every id its token string and character span.

        ``ids`` equal :meth:`encode`. The model's offsets are made to tile ``text``: a
        character split over byte-level pieces belongs to the piece that completes it
        (the others get an empty span); see :mod:`chemtok.encoding`.

        Example:
            >>> import chemtok
            >>> enc = chemtok.TextTokenizer().encode_with_offsets("Ethanol boils at 78 °C")
            >>> "".join("Ethanol boils at 78 °C"[a:b] for a, b in enc.offsets) == "Ethanol boils at 78 °C"
            True
        """
        from chemtok.encoding import text_encoding

        return text_encoding(self, text, self._policy(on_error))

    # -- saving and pickling ------------------------------------------------------------

    def __reduce__(self) -> tuple[Any, ...]:
        # The default model travels as "the default" (a worker loads its own copy); any
        # other as its JSON, as tokenizers.Tokenizer itself pickles.
        model = None if self._is_default else self._tok.to_str()
        return (_rebuild_text, (model, self.on_error, self.source, self._requested))

    def save(self, directory: str | Path) -> Path:
        """Write this tokenizer into ``directory`` (its ``tokenizer.json`` and chemtok's state).

        Example:
            >>> import chemtok, tempfile
            >>> tok = chemtok.TextTokenizer()
            >>> chemtok.TextTokenizer.load(tok.save(tempfile.mkdtemp())).fingerprint == tok.fingerprint
            True
        """
        from chemtok.persist import save

        return save(self, directory)

    @classmethod
    def load(cls, directory: str | Path, *, engine: Engine = "auto") -> TextTokenizer:
        """Load a ``TextTokenizer`` written by :meth:`save` (a ``DataFileError`` if it cannot).

        ``engine`` as for grammar tokenizers: ``"python"`` (the reference) is ``tokenizers``.
        """
        from chemtok.persist import load

        return load(directory, engine=engine, expect=cls)

    def save_options(self, directory: Path) -> dict[str, Any]:
        options: dict[str, Any] = {"on_error": self.on_error, "source": self.source}
        if not self._is_default:
            (directory / MODEL_FILE).write_text(self._tok.to_str(), encoding="utf-8")
            options["model_file"] = MODEL_FILE
        return options

    @classmethod
    def from_options(cls, directory: Path, options: Any, *, engine: Engine) -> TextTokenizer:
        choices = ["raise", "skip"]
        on_error = options.get("on_error", str, lambda v: None if v in choices else f"must be one of {choices}")
        source = options.get("source", str)
        text_engine = _text_engine_name(engine)
        if "model_file" not in options.table:
            return cls(on_error=on_error, source=source, engine=text_engine)
        loaded = cls.from_file(directory / options.get("model_file", str), on_error=on_error, engine=text_engine)
        loaded.source = source
        return loaded


def _text_engine_name(engine: Engine) -> TextEngineName:
    """The text engine of a grammar-tokenizer engine name (the reference is ``tokenizers``)."""
    return "tokenizers" if engine == "python" else engine


def _rebuild_text(model: str | None, on_error: OnError, source: str, engine: TextEngineName = "auto") -> TextTokenizer:
    """Unpickle a ``TextTokenizer`` (see ``TextTokenizer.__reduce__``)."""
    if model is None:
        return TextTokenizer(on_error=on_error, source=source, engine=engine)
    from tokenizers import Tokenizer

    return TextTokenizer(Tokenizer.from_str(model), on_error=on_error, source=source, engine=engine)


def _native_engine(tok: TextTokenizer, engine: TextEngineName) -> TextEngine | None:
    """The Rust BPE for ``tok``'s model, ``None`` for ``tokenizers``; raise if ``"native"`` cannot be."""
    if engine == "tokenizers":
        return None
    try:
        from chemtok._native import TextEngine as _TextEngine
    except ImportError as err:
        if engine == "auto":
            return None
        raise DataFileError(
            tok.source, None, f"engine='native' needs the compiled core ({err}); pass engine='tokenizers' or 'auto'"
        ) from err
    model = _default_json() if tok._is_default else tok._tok.to_str()
    try:
        return _cached_engine(_TextEngine, model)
    except ValueError as err:
        if engine == "auto":
            return None
        key, _, problem = str(err).partition(": ")
        raise DataFileError(
            tok.source,
            key or None,
            f"{problem or err}: the native BPE does not reproduce this model, pass engine='tokenizers' or 'auto'",
        ) from err


@functools.lru_cache(maxsize=8)
def _cached_engine(factory: type[TextEngine], model: str) -> TextEngine:
    """One native engine per model text (``TextEngine`` is immutable and thread-safe)."""
    return factory(model)


def _refuse_dropout(tokenizer: tokenizers.Tokenizer, source: str) -> None:
    """Refuse a BPE model with dropout: it gives other ids on every call under one fingerprint."""
    dropout = getattr(tokenizer.model, "dropout", None)
    if dropout:
        raise DataFileError(
            source,
            "model.dropout",
            f"the BPE model has dropout {dropout}, so the same text would get different ids on every "
            'call; chemtok needs one text to give one id sequence. Set "dropout": null in the file '
            "(dropout is for training the model, not for tokenizing data)",
        )


def _original_position(original: str, position_in_stripped: int) -> int:
    """Map an index in the surrogate-stripped text back to the caller's string."""
    seen = 0
    for i, ch in enumerate(original):
        if is_surrogate(ch):
            continue
        if seen == position_in_stripped:
            return i
        seen += 1
    return len(original)


@functools.lru_cache(maxsize=1)
def _default_json() -> str:
    label = f"chemtok/data/{DEFAULT_TEXT_MODEL}"
    try:
        return resources.files("chemtok").joinpath("data").joinpath(DEFAULT_TEXT_MODEL).read_text("utf-8")
    except OSError as err:
        raise GrammarError(label, None, "default text model missing; run scripts/train_text_bpe.py") from err
    except UnicodeDecodeError as err:
        raise GrammarError(label, None, f"not UTF-8 text (byte {err.start}); run scripts/train_text_bpe.py") from err


def _load_default() -> tokenizers.Tokenizer:
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_str(_default_json())
    except Exception as err:  # tokenizers raises a bare Exception
        raise GrammarError(
            f"chemtok/data/{DEFAULT_TEXT_MODEL}", None, f"not a loadable tokenizer.json ({err}); run scripts/train_text_bpe.py"
        ) from err
