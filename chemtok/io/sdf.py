"""Read SDF and MOL files (``.sdf``, ``.sdf.gz``, ``.mol``) as one record per molecule.

chemtok splits the file into molblocks itself (streaming, byte by byte: CR, LF and
CRLF line ends, gzip recognised by its magic bytes or a ``.gz`` suffix), then hands
each molblock to RDKit. The record's text is RDKit's canonical isomeric SMILES
(``Chem.MolToSmiles(mol)``), or the value of one SD property when ``prop`` names it.
A molblock RDKit cannot read, or a record without the named property, is a failed
record with its number and title line, never a lost one.

Parsing uses ``Chem.MolFromMolBlock(block, sanitize=True, removeHs=True)``:
``removeHs=True`` is RDKit's own default for SD files (``SDMolSupplier``), so a 3D
file with every hydrogen explicit gives the same SMILES as its 2D depiction, and
hydrogens that carry information (isotopes such as ``[2H]``, stereo-defining ones)
are kept by RDKit anyway.

RDKit is needed (``pip install "chemtok[rdkit]"``) and imported only when a file is
read; without it :func:`read_sdf` raises :class:`RDKitRequiredError`.

Example:
    >>> import os, tempfile
    >>> from rdkit import Chem
    >>> from chemtok.io.sdf import read_sdf
    >>> path = os.path.join(tempfile.mkdtemp(), "acids.sdf")
    >>> with Chem.SDWriter(path) as writer:
    ...     for smiles in ("CC(=O)O", "OC(=O)c1ccccc1"):
    ...         writer.write(Chem.MolFromSmiles(smiles))
    >>> [(r.number, r.text) for r in read_sdf(path)]
    [(1, 'CC(=O)O'), (2, 'O=C(O)c1ccccc1')]
"""

from __future__ import annotations

import contextlib
import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from chemtok.errors import ChemtokError
from chemtok.io import Record
from chemtok.io.records import GZIP_MAGIC

__all__ = [
    "read_sdf",
    "split_molblocks",
    "is_sdf_path",
    "rdkit_messages",
    "require_rdkit",
    "SdfBlock",
    "RDKitRequiredError",
    "SDF_SUFFIXES",
]

#: File names :func:`read_sdf` is for (after removing ``.gz``).
SDF_SUFFIXES = (".sdf", ".sd", ".mol")

#: Bytes read at a time while splitting; a molblock may span several reads.
_READ_SIZE = 1 << 16
# RDKit prefixes each logged line with a "[hh:mm:ss] " time stamp.
_TIMESTAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ", re.MULTILINE)
# An SD data header: "> <NAME>" with anything (a registry number, "(1)") around it.
_PROPERTY_HEADER = re.compile(rb"^>.*?<([^>]*)>")


class RDKitRequiredError(ChemtokError, ImportError):
    """Reading SDF/MOL needs RDKit, which is not installed.

    An ``ImportError`` so that callers treating missing extras alike keep working;
    the command line turns it into a usage error (exit status 2).

    Example:
        >>> str(RDKitRequiredError())[:40]
        'reading SDF/MOL files needs RDKit: pip i'
    """

    def __init__(self) -> None:
        super().__init__('reading SDF/MOL files needs RDKit: pip install "chemtok[rdkit]"')


def require_rdkit() -> None:
    """Check that RDKit is importable, before a run starts on an SDF/MOL input.

    Raises:
        RDKitRequiredError: it is not (the command line's usage error, exit status 2).

    Example:
        >>> require_rdkit()  # RDKit is installed here
    """
    try:
        import rdkit.Chem  # noqa: F401
    except ImportError:
        raise RDKitRequiredError() from None


@dataclass(frozen=True)
class SdfBlock:
    """One molecule's bytes as split from an SD file, before RDKit reads them.

    Attributes:
        number: 1-based position of the molecule in the file.
        molblock: the lines up to and including ``M  END`` (all of them when the
            record has no ``M  END``), joined with ``\\n``.
        properties: SD data items (``> <NAME>`` then value lines), in file order;
            a value's lines are joined with ``\\n``.
    """

    number: int
    molblock: bytes
    properties: dict[bytes, bytes] = field(default_factory=dict)

    @property
    def title(self) -> bytes:
        """The first line of the molblock (the molecule's name line; may be empty)."""
        return self.molblock.split(b"\n", 1)[0]


def _lines(handle: Readable) -> Iterator[bytes]:
    """The lines of ``handle`` without their ends, for LF, CRLF and CR-only files alike."""
    pending = b""
    while True:
        chunk = handle.read(_READ_SIZE)
        if not chunk:
            break
        data = pending + chunk
        # A CR at the end of a read may be the first half of a CRLF: keep it for the next one.
        cut = len(data) - 1 if data.endswith(b"\r") else len(data)
        parts = re.split(rb"\r\n|\r|\n", data[:cut])
        pending = parts.pop() + data[cut:]
        yield from parts
    if pending:
        parts = re.split(rb"\r\n|\r|\n", pending)
        if parts[-1] == b"":
            parts.pop()
        yield from parts


def _block_of(number: int, lines: list[bytes]) -> SdfBlock:
    end = next((i for i, line in enumerate(lines) if line.rstrip() == b"M  END"), None)
    if end is None:
        return SdfBlock(number, b"\n".join(lines))
    properties: dict[bytes, bytes] = {}
    name: bytes | None = None
    value: list[bytes] = []
    for line in lines[end + 1 :]:
        header = _PROPERTY_HEADER.match(line)
        if name is None:
            if header:
                name, value = header.group(1), []
        elif line.strip() == b"":
            properties.setdefault(name, b"\n".join(value))
            name = None
        else:
            value.append(line)
    if name is not None:
        properties.setdefault(name, b"\n".join(value))
    return SdfBlock(number, b"\n".join(lines[: end + 1]), properties)


def split_molblocks(handle: Readable) -> Iterator[SdfBlock]:
    """Split an uncompressed SD stream into molecules, one per ``$$$$``-terminated record.

    The last record may lack its ``$$$$``; whitespace after the last ``$$$$`` is not
    a record. A MOL file is one record.

    Example:
        >>> import io
        >>> data = b"ethanol\\r\\n\\r\\n\\r\\n  0  0  0  0  0  0            999 V2000\\r\\nM  END\\r\\n$$$$\\r\\n"
        >>> [b.title for b in split_molblocks(io.BytesIO(data))]
        [b'ethanol']
    """
    number = 0
    lines: list[bytes] = []
    for line in _lines(handle):
        if line.rstrip() == b"$$$$":
            number += 1
            yield _block_of(number, lines)
            lines = []
        else:
            lines.append(line)
    if any(line.strip() for line in lines):
        yield _block_of(number + 1, lines)


@contextlib.contextmanager
def rdkit_messages() -> Iterator[list[str]]:
    """Silence RDKit's logging inside the block and collect its error lines.

    Warnings and info are blocked (``rdBase.BlockLogs``, which restores the previous
    log state on exit, as datamol's ``without_rdkit_log`` does); error messages are
    captured into the yielded list (time stamps removed) when this RDKit has
    ``rdBase.CaptureErrorLog``, and silenced otherwise.

    Example:
        >>> from rdkit import Chem
        >>> with rdkit_messages() as messages:
        ...     mol = Chem.MolFromSmiles("C1CC")
        >>> mol is None, "unclosed ring" in messages[0]
        (True, True)
    """
    from rdkit import rdBase

    messages: list[str] = []
    with rdBase.BlockLogs():
        capture_class = getattr(rdBase, "CaptureErrorLog", None)
        if capture_class is None:  # RDKit before CaptureErrorLog: silent, no detail
            yield messages
            return
        with capture_class() as capture:
            try:
                yield messages
            finally:
                text = _TIMESTAMP.sub("", capture.messages or "")
                messages.extend(line.strip() for line in text.splitlines() if line.strip())


class Readable(Protocol):
    """What the SD splitter reads from: a binary file, a ``GzipFile``, a :class:`_Prepended`."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, /) -> object: ...


class _Prepended:
    """A readable stream: ``head`` then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: Readable) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        head, self._head = self._head, b""
        if size is None or size < 0:
            return head + self._stream.read()
        if len(head) >= size:
            self._head = head[size:]
            return head[:size]
        return head + self._stream.read(size - len(head))

    def seek(self, offset: int, /) -> int:
        """Not supported: the caller's stream is read once, front to back."""
        raise io.UnsupportedOperation("an SD stream without peek() cannot seek")


def _open(source: str | Path | IO[bytes], stack: contextlib.ExitStack) -> Readable:
    """A binary stream over ``source``, gzip decompressed by magic bytes or ``.gz`` suffix.

    Handles opened here are closed by ``stack``; a caller's handle is left open.
    """
    if isinstance(source, (str, Path)):
        handle: Readable = stack.enter_context(open(source, "rb"))  # noqa: SIM115 - closed by the stack
        by_suffix = str(source).lower().endswith(".gz")
    else:
        handle, by_suffix = source, False
    if hasattr(handle, "peek"):
        head = handle.peek(2)[:2]
    else:  # read the magic bytes and put them back in front (the caller's handle stays open)
        head = handle.read(2)
        handle = _Prepended(head, handle)
    if head == GZIP_MAGIC or (by_suffix and head):
        unpacked = gzip.GzipFile(fileobj=handle)
        stack.callback(unpacked.close)
        return unpacked
    return handle


def _text(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _title(block: SdfBlock) -> str:
    # Undecodable bytes show as \xNN escapes: the title must name the record, not fail it.
    title = block.title.decode("utf-8", "backslashreplace").strip()
    return f"'{title}'" if title else "untitled"


def _record(block: SdfBlock, prop: str | None, from_molblock: Any) -> Record:
    number = block.number
    where = f"molecule {number} ({_title(block)})"
    if prop is not None:
        # The property is the record: its molecule need not be one RDKit can sanitise.
        key = prop.encode("utf-8")
        if key not in block.properties:
            return Record(number, None, f"{where} has no SD property {prop!r}")
        value = _text(block.properties[key])
        if value is None:
            return Record(number, None, f"{where}: SD property {prop!r} is not valid UTF-8", block.properties[key])
        return Record(number, value)
    molblock = _text(block.molblock)
    if molblock is None:
        return Record(number, None, f"{where}: the molblock is not valid UTF-8", block.molblock)
    with rdkit_messages() as messages:
        try:
            mol = from_molblock(molblock)
            problem = None
        except Exception as err:
            mol, problem = None, str(err)
    if mol is None:
        detail = problem or "; ".join(messages) or "RDKit returned no molecule"
        return Record(number, None, f"{where} could not be read by RDKit: {detail}", block.molblock)
    from rdkit import Chem

    return Record(number, Chem.MolToSmiles(mol))


def read_sdf(source: str | Path | IO[bytes], *, prop: str | None = None) -> Iterator[Record]:
    """Yield one :class:`~chemtok.io.Record` per molecule of an SDF/MOL file, numbered from 1.

    Args:
        source: a path (``.sdf``, ``.sdf.gz``, ``.mol``) or a binary handle; gzip is
            recognised by its magic bytes (and by a ``.gz`` suffix on a path).
        prop: an SD property to read as the record's text instead of the SMILES
            (the molblock is then not parsed); a molecule without it is a failed
            record naming it.

    Returns:
        Records with ``text`` set to RDKit's canonical isomeric SMILES (or the
        property value), or ``text=None`` and ``error`` naming the molecule's number
        and title line when RDKit cannot read its molblock.

    Raises:
        RDKitRequiredError: RDKit is not installed.
        OSError, EOFError: the file cannot be read, or its gzip stream is corrupt or
            truncated (raised where the damage is found; records before it were yielded).

    Example:
        >>> import io
        >>> from rdkit import Chem
        >>> block = Chem.MolToMolBlock(Chem.MolFromSmiles("C[C@H](N)C(=O)O"))
        >>> [r.text for r in read_sdf(io.BytesIO(block.encode()))]
        ['C[C@H](N)C(=O)O']
    """
    require_rdkit()
    from rdkit import Chem

    def from_molblock(block: str) -> Any:
        return Chem.MolFromMolBlock(block, sanitize=True, removeHs=True)

    with contextlib.ExitStack() as stack:
        for block in split_molblocks(_open(source, stack)):
            yield _record(block, prop, from_molblock)


def is_sdf_path(path: str | Path) -> bool:
    """Whether ``path`` names an SDF/MOL file (``.sdf``, ``.sd``, ``.mol``, optionally ``.gz``).

    Example:
        >>> is_sdf_path("ligands.sdf.gz"), is_sdf_path("ligands.smi")
        (True, False)
    """
    return str(path).lower().removesuffix(".gz").endswith(SDF_SUFFIXES)
