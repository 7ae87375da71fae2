"""What every ``chemtok`` command shares: exit codes, messages, common checks, progress.

Example:
    >>> from chemtok.cli.common import EXIT_OK, EXIT_FAILED, EXIT_USAGE
    >>> EXIT_OK, EXIT_FAILED, EXIT_USAGE
    (0, 1, 2)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

from chemtok.base import ON_ERROR_POLICIES, ROUTER_ALIASES, ROUTER_MODALITY
from chemtok.io.formats import INPUT_FORMATS, MODALITIES, InputError, UsageError, label
from chemtok.registry import canonical_modality

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "INPUT_FORMATS",
    "MODALITIES",
    "ON_ERROR_CHOICES",
    "PROG",
    "ROUTER_ALIASES",
    "ROUTER_MODALITY",
    "Formatter",
    "InputError",
    "Progress",
    "UsageError",
    "canonical_modality",
    "check_inputs",
    "choose_column",
    "err",
    "label",
    "load_tokenizer",
    "positive_int",
    "quiet_stdout",
    "start_record_counter",
    "visible",
]

ON_ERROR_CHOICES = ON_ERROR_POLICIES

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

PROG = "chemtok"


def err(message: str) -> None:
    """Print ``chemtok: message`` on standard error."""
    print(f"{PROG}: {message}", file=sys.stderr)


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Help text as written, wrapped to the terminal."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=min(100, shutil.get_terminal_size((80, 24)).columns))


def positive_int(text: str) -> int:
    """``type=`` for options that take a positive integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def add_markers_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--markers NAME|FILE``, the marker dialect of ``--modality mixed`` (one spelling for every command)."""
    parser.add_argument(
        "--markers", default=None, metavar="NAME|FILE",
        help="mixed: the marker dialect, galactica ([START_SMILES], the default), tags (<SMILES>, <SELFIES>, <IUPAC> ...), "
        "naturelm (<mol>, <protein> ...), biot5 (<bom>/<eom>, <bop>/<eop>), or a marker table file (.toml or .json)",
    )  # fmt: skip


def load_tokenizer(modality: str, tokenizer_dir: str | None = None, **options: Any) -> Any:
    """:func:`chemtok.registry.load_tokenizer`, with its refusals as usage errors.

    Raises:
        UsageError: unknown modality, an unusable ``--tokenizer`` or ``--smiles-model``,
            or ``--engine native`` without the native core.
    """
    from chemtok.errors import ChemtokError
    from chemtok.registry import load_tokenizer as load

    try:
        return load(modality, tokenizer_dir, **options)
    except (ValueError, ChemtokError) as error:
        raise UsageError(str(error)) from None


def visible(text: str) -> str:
    """``text`` with control characters escaped, so it prints on one terminal line."""
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch.encode("unicode_escape").decode("ascii") if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)



def _input_format(path: str, forced: str | None) -> str:
    from chemtok.io.formats import detect_format

    if forced:
        fmt = forced
    elif path == "-":
        fmt = "txt"
    else:
        try:
            fmt = detect_format(path)
        except ValueError:
            raise UsageError(
                f"cannot tell the format of {path!r} from its extension "
                f"(known: .smi .smiles .rsmi .txt .csv .tsv .jsonl .parquet .fasta .fa .faa .fna .sdf .sd .mol, optionally .gz); "
                f"pass --input-format"
            ) from None
    if fmt == "parquet" and path == "-":
        raise UsageError("Parquet cannot be read from standard input; pass the file path")
    return fmt


def check_inputs(inputs: Sequence[str], forced: str | None, column: str | None) -> list[str]:
    """The format of each input, after checking it exists and can be read that way.

    A table (CSV/TSV/JSON Lines/Parquet) without ``column`` is fine here: its column
    is chosen from the header by :func:`choose_column`. An SDF/MOL input needs RDKit.

    Raises:
        UsageError: a missing file, a directory, an unknown extension, ``-`` twice,
            a JSON Lines/Parquet standard input without ``--column``, SDF without RDKit...
    """
    if list(inputs).count("-") > 1:
        raise UsageError("standard input ('-') can be read only once")
    formats = []
    for path in inputs:
        if path != "-":
            if not os.path.exists(path):
                raise UsageError(f"input {path!r} does not exist")
            if os.path.isdir(path):
                raise UsageError(f"input {path!r} is a directory; pass the files")
        fmt = _input_format(path, forced)
        if fmt in ("csv", "tsv", "jsonl") and path == "-" and not column:
            # No header to choose a column from ahead of the run (and the first column
            # of "id,smiles" would tokenize the ids as ring bonds).
            raise UsageError(f"standard input is {fmt.upper() if fmt != 'jsonl' else 'JSON Lines'}: pass --column NAME for the column holding the records")
        formats.append(fmt)
    if "sdf" in formats:
        from chemtok.io.sdf import RDKitRequiredError, require_rdkit

        try:
            require_rdkit()
        except RDKitRequiredError as error:
            raise UsageError(str(error)) from None
    return formats


def choose_column(inputs: Sequence[str], formats: Sequence[str], column: str | None, modality: str | None) -> tuple[str | None, str | None]:
    """The column to read and the modality it implies, for tables read without ``--column``.

    With ``--column`` given (or no table among the inputs) nothing is chosen:
    ``(column, None)``. Otherwise each table's header goes through
    :func:`chemtok.io.columns.infer_column` (the names ``smiles``, ``canonical_smiles``,
    ``inchi``, ``sequence``...; never an id or key column), the choice is printed on
    standard error, and every table must choose the same column.

    Raises:
        UsageError: no column or several fit (the message names them), or the tables
            choose different columns.

    Example:
        CSV ``id,smiles`` with ``--modality smiles`` reads ``smiles``, not the ids
        (``12345`` is valid SMILES: five ring bonds).
    """
    from chemtok.io.columns import ColumnChoiceError, infer_column
    from chemtok.io.formats import TABLE_FORMATS
    from chemtok.io.readers import read_header

    if column is not None:
        return column, None
    chosen: dict[str, Any] = {}
    for path, fmt in zip(inputs, formats):
        if fmt not in TABLE_FORMATS:
            continue
        header = read_header(path, fmt)
        if header is None:  # standard input: check_inputs asked for --column already
            raise UsageError(f"{label(path)}: pass --column NAME for the column holding the records")
        try:
            chosen[path] = infer_column(header, modality)
        except ColumnChoiceError as error:
            raise UsageError(f"{label(path)}: {error}") from None
    if not chosen:
        return None, None
    names = {choice.name for choice in chosen.values()}
    kinds = {choice.modality for choice in chosen.values()}
    if len(names) > 1 or len(kinds) > 1:
        listed = ", ".join(f"{label(p)}: {c}" for p, c in chosen.items())
        raise UsageError(f"the tables choose different columns ({listed}); tokenize them separately or pass --column")
    choice = next(iter(chosen.values()))
    err(f"reading {choice}; pass --column NAME to choose another")
    return choice.name, choice.modality



class Progress:
    """A one-line progress display on a terminal: records, records/s, and ETA when known."""

    def __init__(self, stream: IO[str], label: str) -> None:
        self.stream = stream
        self.label = label
        self.total: int | None = None  # set by the counting thread when it finishes
        self.total_bytes: int | None = None  # the input files' sizes, when the records are not counted
        self.start = time.monotonic()
        self._last = 0.0
        self._width = max(40, min(100, shutil.get_terminal_size((80, 24)).columns) - 1)

    def update(self, done: int, consumed: int | None = None, *, force: bool = False) -> None:
        """Show ``done`` records; the bar and ETA come from the record count (``total``)
        or, without one, from ``consumed`` bytes of ``total_bytes``."""
        now = time.monotonic()
        if not force and now - self._last < 0.2:
            return
        self._last = now
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        line = f"{self.label}: {done:,} records  {rate:,.0f}/s"
        total = self.total
        fraction: float | None = None
        if total and total >= done:
            fraction = done / total
        elif self.total_bytes and consumed is not None and 0 < consumed <= self.total_bytes:
            fraction = consumed / self.total_bytes
        if fraction is not None:
            bar_width = 20
            filled = int(bar_width * fraction)
            eta = elapsed * (1 - fraction) / fraction if fraction > 0 else 0.0
            line += f"  [{'#' * filled}{'.' * (bar_width - filled)}] {100 * fraction:3.0f}%  ETA {_clock(eta)}"
        self.stream.write("\r" + line[: self._width].ljust(self._width))
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r" + " " * self._width + "\r")
        self.stream.flush()


def start_record_counter(inputs: Sequence[str], formats: Sequence[str], progress: Progress, stop: threading.Event) -> None:
    """Count the inputs' records in a thread and give the total to ``progress`` (for the ETA).

    :func:`chemtok.io.readers.count_records` reads the files ahead of the run (Parquet:
    its metadata); ``stop`` ends it early when the run is over. ``chemtok tokenize`` and
    ``chemtok annotate`` show the same progress this way.
    """
    from chemtok.io.readers import count_records

    def work() -> None:
        try:
            progress.total = count_records(inputs, formats, stop)
        except Exception:  # the ETA is a nicety; a problem with it must not stop the run
            progress.total = None

    threading.Thread(target=work, name="chemtok-count", daemon=True).start()


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"



def quiet_stdout() -> None:
    """Point standard output at the null device (its reader went away: ``| head``)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass

