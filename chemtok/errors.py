"""The exception hierarchy: every error chemtok raises on purpose is a ``ChemtokError``.

Errors carry their facts as attributes (``.position``, ``.text``, ``.modality``) and
a message in three parts: what failed and where, the input with a caret under the
position, and the argument that changes the behaviour.

Example:
    >>> import chemtok
    >>> try:
    ...     chemtok.SmilesTokenizer().encode("c1c[nH]c2c1fccc2")
    ... except chemtok.TokenizationError as err:
    ...     print(err.position, err.modality)
    11 smiles
"""

from __future__ import annotations

__all__ = [
    "ChemtokError",
    "GrammarError",
    "DataFileError",
    "TokenizationError",
    "MarkerError",
    "DecodeError",
    "UnknownTokenizerError",
]

# How many characters of context to show on each side of the caret.
_CONTEXT_CHARS = 30


class ChemtokError(Exception):
    """Base class of every error chemtok raises on purpose; catch this for all of them."""


class GrammarError(ChemtokError):
    """A grammar, marker or vocabulary file is missing, malformed or incomplete.

    Attributes:
        file: the file that is wrong.
        key: the key inside it that is wrong (dotted path), or ``None``.
    """

    def __init__(self, file: str, key: str | None, problem: str) -> None:
        self.file = file
        self.key = key
        where = f"{file}" + (f", key '{key}'" if key else "")
        super().__init__(f"bad grammar file {where}: {problem}")


class DataFileError(ChemtokError, ValueError):
    """A data file chemtok loads (a model, a manifest, a marker table) is unreadable or wrong.

    Grammar files raise :class:`GrammarError`; every other file chemtok reads on a
    user's behalf (a compact model directory, an HF ``chemtok.json``, a custom markers
    table, a saved tokenizer) raises this, naming the file and the key.

    Attributes:
        file: the file that is wrong.
        key: the key inside it that is wrong (dotted path), or ``None``.
        problem: what is wrong with it.

    Example:
        >>> from chemtok.errors import DataFileError
        >>> str(DataFileError("model/merges.json", "merges[3]", "expected a pair of str"))
        "bad data file model/merges.json, key 'merges[3]': expected a pair of str"
    """

    def __init__(self, file: str, key: str | None, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        where = f"{file}" + (f", key '{key}'" if key else "")
        super().__init__(f"bad data file {where}: {problem}")

    def __reduce__(self) -> tuple[type, tuple[str, str | None, str]]:
        return (type(self), (self.file, self.key, self.problem))


def _caret_excerpt(text: str, position: int) -> str:
    """Return two indented lines: ``text`` around ``position`` and a caret under it."""
    start = max(0, position - _CONTEXT_CHARS)
    end = min(len(text), position + _CONTEXT_CHARS)
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(text) else ""
    shown = text[start:end]
    # Control characters and newlines would break the caret alignment.
    shown = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in shown)
    caret = " " * (len(prefix) + position - start) + "^"
    return f"    {prefix}{shown}{suffix}\n    {caret}"


class TokenizationError(ChemtokError, ValueError):
    """The input cannot be tokenized losslessly by the grammar of its modality.

    Attributes:
        text: the input string (the whole string handed to ``tokenize``/``encode``).
        position: index into ``text`` of the first character that no rule covers.
        modality: the grammar that refused it (``"smiles"``, ``"inchi"``, ...).
        reason: a short description of what the grammar expected.
        index: in a batch call, the position of ``text`` in the batch; ``None`` for a
            single-text call.
    """

    #: What to tell the caller at the end of the message.
    hint = (
        "chemtok never drops characters silently. Pass on_error=\"fallback\" to keep "
        "them as byte-fallback tokens (still lossless), or on_error=\"skip\" to drop them."
    )

    def __init__(self, text: str, position: int, modality: str, reason: str, index: int | None = None) -> None:
        self.text = text
        self.position = position
        self.modality = modality
        self.reason = reason
        self.index = index
        if position < len(text):
            what = f"{text[position]!r} at position {position}"
        else:
            what = f"end of input at position {position}"
        record = "" if index is None else f" in text {index} of the batch"
        message = (
            f"grammar '{modality}' cannot tokenize {what}{record}: {reason}\n"
            f"{_caret_excerpt(text, position)}\n  {self.hint}"
        )
        super().__init__(message)

    def with_index(self, index: int) -> TokenizationError:
        """The same error, naming ``index`` as the failing text's position in its batch."""
        return type(self)(self.text, self.position, self.modality, self.reason, index)

    def __reduce__(self) -> tuple[type, tuple[str, int, str, str, int | None]]:
        # Keep the attributes across pickling (multiprocessing, Ray).
        return (type(self), (self.text, self.position, self.modality, self.reason, self.index))


class MarkerError(TokenizationError):
    """A modality marker is unclosed, closed without opening, nested, or unknown.

    ``modality`` is ``"markers"``; ``position`` is where the offending marker starts
    (or, for an unclosed marker, where the opening marker starts).
    """

    hint = (
        "Markers come from grammars/markers.toml. Pass strict_markers=False to "
        "tokenize unknown or unbalanced markers as plain text."
    )


class DecodeError(ChemtokError, ValueError):
    """An id sequence cannot be decoded: an id out of range or invalid byte fallback.

    Attributes:
        position: index into the id sequence of the offending id.
    """

    def __init__(self, position: int, reason: str) -> None:
        self.position = position
        self.reason = reason
        super().__init__(f"cannot decode id at index {position}: {reason}")

    def __reduce__(self) -> tuple[type[DecodeError], tuple[int, str]]:
        return (type(self), (self.position, self.reason))


class UnknownTokenizerError(ChemtokError, ValueError):
    """No tokenizer is registered under the requested name."""
