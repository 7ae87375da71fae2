"""Save a tokenizer to a directory and load it back, and read JSON data files safely.

``tok.save(directory)`` writes ``chemtok_tokenizer.json`` (a versioned JSON state:
the class, its options and the fingerprint) plus the files the state names (a base
text model's ``tokenizer.json``, a compact SMILES model, a custom vocabulary);
:func:`load` rebuilds the tokenizer and checks that the fingerprint is unchanged, so a
loaded tokenizer gives the same ids as the one saved. Every problem with a saved
directory is a :class:`~chemtok.errors.DataFileError` naming the file and the key.

Example:
    >>> import chemtok, tempfile
    >>> tok = chemtok.SmilesTokenizer(model="compact")
    >>> loaded = chemtok.load(tok.save(tempfile.mkdtemp()))
    >>> loaded.fingerprint == tok.fingerprint and loaded.encode("c1ccccc1O") == tok.encode("c1ccccc1O")
    True
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

from chemtok.errors import DataFileError

if TYPE_CHECKING:
    from chemtok.base import Engine
    from chemtok.grammar import TableReader

T = TypeVar("T")

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "STATE_FILE",
    "Saveable",
    "load",
    "read_json",
    "read_json_file",
    "save",
    "write_json",
]

#: The state file every saved directory holds.
STATE_FILE = "chemtok_tokenizer.json"
FORMAT = "chemtok.tokenizer"
#: Versions of the state format this release reads.
FORMAT_VERSION = 1


def read_json(text: str | bytes, label: str) -> Any:
    """Parse the JSON of a data file; every failure is a ``DataFileError`` naming ``label``.

    Example:
        >>> read_json('{"merges": [["c", "c"]]}', "model.json")
        {'merges': [['c', 'c']]}
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text)
    except UnicodeDecodeError as err:
        raise DataFileError(label, None, f"not UTF-8 text (byte {err.start})") from err
    except RecursionError as err:
        raise DataFileError(label, None, "not valid JSON (nested too deeply)") from err
    except ValueError as err:
        raise DataFileError(label, None, f"not valid JSON ({err})") from err


def read_json_file(path: str | Path) -> Any:
    """Read and parse a JSON data file (see :func:`read_json`); an unreadable file is a ``DataFileError``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise DataFileError(str(path), None, f"cannot read it ({err.strerror or err})") from err
    return read_json(raw, str(path))


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as UTF-8 JSON (lone surrogates in tokens kept as ``\\udxxx`` escapes)."""
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path


class Saveable(Protocol):
    """What :func:`save` and :func:`load` ask of a tokenizer class.

    ``save_options(directory)`` writes the files the saved copy needs (a base model's
    ``tokenizer.json``, a compact model, a custom vocabulary) into ``directory`` and
    returns the JSON options; the classmethod ``from_options(directory, options, *,
    engine)`` rebuilds the tokenizer from them (``options`` is a
    :class:`~chemtok.grammar.TableReader` over the saved ``options`` object, so a wrong
    key is a ``DataFileError`` naming it). ``fingerprint`` must survive the round trip.
    """

    @property
    def fingerprint(self) -> str: ...

    def save_options(self, directory: Path) -> dict[str, Any]: ...

    @classmethod
    def from_options(cls, directory: Path, options: TableReader, *, engine: Engine) -> Saveable: ...


def _classes() -> dict[str, type]:
    from chemtok.inchi import InchiTokenizer
    from chemtok.router import ChemTokenizer
    from chemtok.selfies import SelfiesTokenizer
    from chemtok.sequence import DnaTokenizer, ProteinTokenizer
    from chemtok.smiles import SmilesTokenizer
    from chemtok.text import TextTokenizer

    classes: list[type] = [
        SmilesTokenizer, InchiTokenizer, ProteinTokenizer, DnaTokenizer, SelfiesTokenizer, TextTokenizer, ChemTokenizer,
    ]  # fmt: skip
    return {cls.__name__: cls for cls in classes}


def save(tok: Saveable, directory: str | Path) -> Path:
    """Write ``tok`` into ``directory`` (created if needed); return the directory.

    The tokenizer's ``save_options(directory)`` (:class:`Saveable`) writes any files it
    needs and returns its options; this writes the state file around them.
    """
    from chemtok import __version__

    if type(tok).__name__ not in _classes():
        raise TypeError(f"cannot save a {type(tok).__name__}; saveable: {sorted(_classes())}")
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    options = tok.save_options(target)
    state = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "chemtok_version": __version__,
        "class": type(tok).__name__,
        "fingerprint": tok.fingerprint,
        "options": options,
    }
    write_json(target / STATE_FILE, state)
    return target


@overload
def load(directory: str | Path, *, engine: Engine = ..., expect: type[T]) -> T: ...


@overload
def load(directory: str | Path, *, engine: Engine = ..., expect: None = ...) -> Any: ...


def load(directory: str | Path, *, engine: Engine = "auto", expect: type | None = None) -> Any:
    """Load a tokenizer written by ``tok.save(directory)``.

    Args:
        directory: the saved directory.
        engine: engine of the grammar tokenizers (``"auto"``, ``"native"``, ``"python"``).
        expect: the class the directory must hold (``SmilesTokenizer.load`` passes its own).

    Raises:
        DataFileError: the state file is missing, unreadable or wrong at some key, a
            file it names is, or the rebuilt tokenizer's fingerprint differs from the
            saved one (its ids would differ).

    Example:
        >>> import chemtok, tempfile
        >>> tok = chemtok.ChemTokenizer(strict_markers=False)
        >>> chemtok.load(tok.save(tempfile.mkdtemp())).strict_markers
        False
    """
    from chemtok.grammar import TableReader

    root = Path(directory)
    label = str(root / STATE_FILE)
    state = read_json_file(label)
    if not isinstance(state, dict):
        raise DataFileError(label, None, f"expected an object, got {type(state).__name__}")
    top = TableReader(label, state, error=DataFileError)
    top.get("format", str, lambda v: None if v == FORMAT else f"expected {FORMAT!r}: not a saved chemtok tokenizer")
    top.get(
        "format_version",
        int,
        lambda v: None if v == FORMAT_VERSION else f"version {v} is not readable by this chemtok (reads {FORMAT_VERSION})",
    )
    classes = _classes()
    name = top.get("class", str, lambda v: None if v in classes else f"must be one of {sorted(classes)}")
    cls: type[Saveable] = classes[name]
    if expect is not None and not issubclass(cls, expect):
        raise DataFileError(label, "class", f"holds a {name}, not a {expect.__name__}; load it with chemtok.load")
    fingerprint = top.get("fingerprint", str)
    options = top.section("options")
    tok = cls.from_options(root, options, engine=engine)
    if tok.fingerprint != fingerprint:
        raise DataFileError(
            label,
            "fingerprint",
            f"the {name} rebuilt from this directory has another vocabulary than the one saved "
            f"(saved by chemtok {state.get('chemtok_version')}); its ids would silently change. "
            "Install the chemtok version that saved it, or save the tokenizer again",
        )
    return tok
