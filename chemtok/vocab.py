"""Closed vocabularies: ordered token lists with ids, fingerprints and byte fallback.

Every modality vocabulary starts with the same blocks so that ids mean the same thing
in every standalone tokenizer: the special tokens of ``grammars/markers.toml``, then
256 byte-fallback tokens ``<0x00>`` ... ``<0xFF>`` (used only with
``on_error="fallback"``), then the modality's own tokens.

Example:
    >>> from chemtok.vocab import Vocabulary
    >>> v = Vocabulary(["C", "O"], name="toy")
    >>> v.token_to_id["O"], v.tokens[1], len(v)
    (1, 'O', 2)
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from chemtok.errors import DataFileError, DecodeError, GrammarError

__all__ = [
    "BYTE_TOKENS",
    "Vocabulary",
    "byte_token",
    "byte_of_token",
    "is_surrogate",
    "load_vocab_file",
    "read_vocabulary_file",
    "write_vocabulary_file",
    "require_tokens",
]

#: The 256 byte-fallback tokens, id order = byte value.
BYTE_TOKENS: tuple[str, ...] = tuple(f"<0x{b:02X}>" for b in range(256))
_BYTE_OF_TOKEN = {token: b for b, token in enumerate(BYTE_TOKENS)}


def byte_token(value: int) -> str:
    """Return the fallback token of one byte, e.g. ``byte_token(0xC2) == '<0xC2>'``."""
    return BYTE_TOKENS[value]


def byte_of_token(token: str) -> int | None:
    """Return the byte a fallback token stands for, or ``None`` for any other token."""
    return _BYTE_OF_TOKEN.get(token)


def is_surrogate(char: str) -> bool:
    """Whether ``char`` is a lone surrogate (U+D800 to U+DFFF), the one code point UTF-8 cannot encode.

    Python strings hold them (``surrogateescape``-decoded bytes, unpaired JSON escapes);
    no text model takes them and byte fallback spells them with ``surrogatepass``.

    Example:
        >>> is_surrogate("\\ud83d"), is_surrogate("C")
        (True, False)
    """
    return "\ud800" <= char <= "\udfff"


def fallback_tokens(char: str) -> list[str]:
    """Spell one character as byte-fallback tokens (UTF-8; lone surrogates kept)."""
    return [BYTE_TOKENS[b] for b in char.encode("utf-8", "surrogatepass")]


class Vocabulary:
    """An ordered list of unique token strings; the id of a token is its index.

    Attributes:
        name: what the vocabulary is for (``"smiles"``, ``"inchi"``, ...).
        tokens: the token strings in id order.
        token_to_id: the inverse mapping.
    """

    def __init__(self, tokens: Iterable[str], *, name: str) -> None:
        self.name = name
        self.tokens: tuple[str, ...] = tuple(tokens)
        self.token_to_id: dict[str, int] = {}
        for i, token in enumerate(self.tokens):
            if token in self.token_to_id:
                raise GrammarError(f"vocabulary '{name}'", None, f"token {token!r} appears twice")
            self.token_to_id[token] = i

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self.token_to_id

    def __repr__(self) -> str:
        return f"<Vocabulary {self.name!r} {len(self)} tokens {self.fingerprint[:12]}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # The token tuple is the state; the inverse mapping and fingerprint are rebuilt.
        return (_rebuild_vocabulary, (self.tokens, self.name))

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the token list: equal fingerprints mean identical ids."""
        digest = hashlib.sha256()
        for token in self.tokens:
            digest.update(token.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        return digest.hexdigest()

    @classmethod
    def with_standard_blocks(
        cls, special_tokens: Sequence[str], modality_tokens: Iterable[str], *, name: str
    ) -> Vocabulary:
        """Build ``special tokens + byte fallback + modality tokens``."""
        return cls((*special_tokens, *BYTE_TOKENS, *modality_tokens), name=name)


def _rebuild_vocabulary(tokens: tuple[str, ...], name: str) -> Vocabulary:
    return Vocabulary(tokens, name=name)


def load_vocab_file(filename: str, *, grammar_tag: str, required: Iterable[str]) -> tuple[str, ...]:
    """Load a modality token list shipped in ``chemtok/data`` and check it is closed.

    Args:
        filename: file name inside ``chemtok/data`` (e.g. ``"smiles_vocab.json"``).
        grammar_tag: the ``name@version`` of the grammar the file must have been built for.
        required: base tokens the grammar needs; every one must be in the file, or an
            input could need a token the vocabulary does not have.

    Returns:
        The token list in id order (without the special and byte blocks).
    """
    label = f"chemtok/data/{filename}"
    try:
        raw = resources.files("chemtok").joinpath("data").joinpath(filename).read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise GrammarError(label, None, f"cannot load vocabulary ({type(err).__name__}: {err})") from err
    if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
        raise GrammarError(label, "tokens", "expected an object with a 'tokens' list")
    bad = next((i for i, t in enumerate(data["tokens"]) if not isinstance(t, str) or not t), None)
    if bad is not None:
        raise GrammarError(label, f"tokens[{bad}]", "expected a non-empty string")
    if data.get("grammar") != grammar_tag:
        raise GrammarError(
            label,
            "grammar",
            f"built for {data.get('grammar')!r} but the grammar is {grammar_tag!r}; "
            "rebuild it with scripts/build_vocab.py",
        )
    tokens = tuple(data["tokens"])
    _check_closed(label, set(tokens), required)
    return tokens


def write_vocabulary_file(path: Path, vocabulary: Vocabulary) -> Path:
    """Save a whole vocabulary (every token in id order) as JSON; see :func:`read_vocabulary_file`."""
    from chemtok.persist import write_json

    return write_json(path, {"type": "chemtok.vocabulary", "name": vocabulary.name, "tokens": list(vocabulary.tokens)})


def read_vocabulary_file(path: Path, *, name: str) -> Vocabulary:
    """Load a vocabulary written by :func:`write_vocabulary_file`.

    Raises:
        DataFileError: the file is unreadable, not such a vocabulary, or a token is
            not a non-empty string or appears twice (naming the key ``tokens[i]``).

    Example:
        >>> import tempfile, pathlib
        >>> path = write_vocabulary_file(pathlib.Path(tempfile.mkdtemp()) / "v.json", Vocabulary(["C", "O"], name="toy"))
        >>> read_vocabulary_file(path, name="toy").tokens
        ('C', 'O')
    """
    from chemtok.persist import read_json_file

    label = str(path)
    data = read_json_file(path)
    if not isinstance(data, dict) or data.get("type") != "chemtok.vocabulary":
        raise DataFileError(label, "type", "not a chemtok vocabulary (expected type 'chemtok.vocabulary')")
    tokens = data.get("tokens")
    if not isinstance(tokens, list):
        raise DataFileError(label, "tokens", f"expected a list of strings, got {type(tokens).__name__}")
    seen: set[str] = set()
    for i, token in enumerate(tokens):
        if not isinstance(token, str) or not token:
            raise DataFileError(label, f"tokens[{i}]", f"expected a non-empty string, got {token!r:.40}")
        if token in seen:
            raise DataFileError(label, f"tokens[{i}]", f"token {token!r} appears twice")
        seen.add(token)
    return Vocabulary(tokens, name=name)


def require_tokens(vocabulary: Vocabulary, required: Iterable[str]) -> None:
    """Raise ``GrammarError`` unless ``vocabulary`` holds every token in ``required``."""
    _check_closed(f"vocabulary '{vocabulary.name}'", vocabulary.token_to_id.keys(), required)


def _check_closed(label: str, have: Iterable[str], required: Iterable[str]) -> None:
    have = set(have)
    missing = [t for t in required if t not in have]
    if missing:
        raise GrammarError(
            label,
            "tokens",
            f"missing {len(missing)} base tokens of the grammar (first: {missing[:5]}); "
            "rebuild it with scripts/build_vocab.py",
        )


def check_token_id(token_id: int, size: int) -> int:
    """``token_id`` if it is an id of a vocabulary of ``size`` tokens, else ``DecodeError``.

    Example:
        >>> check_token_id(3, 10)
        3
    """
    if isinstance(token_id, bool) or not isinstance(token_id, int):
        try:
            token_id = operator.index(token_id)
        except TypeError:
            raise TypeError(f"a token id is an int, got {type(token_id).__name__}") from None
    if not 0 <= token_id < size:
        raise DecodeError(0, f"id {token_id} is outside the vocabulary (0 to {size - 1})")
    return token_id


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
