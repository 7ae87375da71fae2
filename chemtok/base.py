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

from typing import Iterable, Literal, Protocol, Sequence, runtime_checkable

from chemtok.errors import DecodeError, TokenizationError
from chemtok.vocab import Vocabulary, byte_of_token, fallback_tokens

__all__ = ["OnError", "ON_ERROR_POLICIES", "Tokenizer", "GrammarTokenizer", "NoRule", "check_on_error"]

OnError = Literal["raise", "skip", "fallback"]
ON_ERROR_POLICIES: tuple[str, ...] = ("raise", "skip", "fallback")


def check_on_error(on_error: str) -> str:
    """Return ``on_error`` if it names a policy, else raise a ``ValueError`` that lists them."""
    if on_error not in ON_ERROR_POLICIES:
        raise ValueError(f"on_error must be one of {list(ON_ERROR_POLICIES)}, got {on_error!r}")
    return on_error


@runtime_checkable
class Tokenizer(Protocol):
    """What every chemtok tokenizer offers."""

    name: str

    def tokenize(self, text: str) -> list[str]: ...

    def encode(self, text: str) -> list[int]: ...

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

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

    def __init__(self, *, on_error: OnError = "raise") -> None:
        self.on_error: str = check_on_error(on_error)

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
        table = self.vocabulary.token_to_id
        return [table[token] for token in self.tokenize(text, on_error=on_error)]

    def encode_batch(
        self,
        texts: Iterable[str],
        *,
        on_error: OnError | None = None,
        num_threads: int | None = None,
    ) -> list[list[int]]:
        """Encode many strings; equal to ``[self.encode(t) for t in texts]``.

        ``num_threads`` is accepted for interface parity with the native engine; the
        pure-Python reference always runs on one thread.
        """
        return [self.encode(text, on_error=on_error) for text in texts]

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

    @property
    def vocab(self) -> dict[str, int]:
        """A copy of the token-to-id mapping."""
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
        """The id of ``token``, or ``None`` if it is not in the vocabulary."""
        return self.vocabulary.token_to_id.get(token)

    def id_to_token(self, token_id: int) -> str:
        """The token string of ``token_id``."""
        return self.vocabulary.tokens[token_id]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} grammar {self.grammar_tag} {len(self)} tokens>"


def decode_token_strings(tokens: Sequence[str], ids: Sequence[int], skip: Iterable[str] = frozenset()) -> str:
    """Concatenate ``tokens[i]`` for ``i`` in ``ids``, decoding byte-fallback runs as UTF-8."""
    parts: list[str] = []
    pending = bytearray()
    pending_start = 0
    n = len(tokens)
    for index, token_id in enumerate(ids):
        if not 0 <= token_id < n:
            raise DecodeError(index, f"id {token_id} is outside the vocabulary (0 to {n - 1})")
        token = tokens[token_id]
        value = byte_of_token(token)
        if value is not None:
            if not pending:
                pending_start = index
            pending.append(value)
            continue
        if pending:
            parts.append(_decode_bytes(pending, pending_start))
            pending.clear()
        if token not in skip:
            parts.append(token)
    if pending:
        parts.append(_decode_bytes(pending, pending_start))
    return "".join(parts)


def _decode_bytes(data: bytearray, start: int) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as err:
        raise DecodeError(start + err.start, f"byte-fallback ids do not form valid UTF-8 ({err.reason})") from None
