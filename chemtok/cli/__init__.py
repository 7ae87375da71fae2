"""The ``chemtok`` command line: tokenize datasets, check round trips, inspect a string.

::

    chemtok tokenize molecules.smi.gz -o molecules.parquet
    chemtok tokenize corpus.jsonl.gz --column text --modality mixed -o corpus.bin --on-error skip --errors bad.jsonl
    zcat big.smi.gz | chemtok tokenize - --input-format smi -o -  > big.jsonl
    chemtok validate molecules.smi --report report.json
    chemtok inspect "Aspirin is [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES]."
    chemtok annotate abstracts.jsonl.gz --column text -o marked.jsonl.gz

``main(argv)`` is what the console script, ``python -m chemtok`` and the tests call; it
returns the exit status instead of raising ``SystemExit``:

* ``0`` (:data:`EXIT_OK`): done. Under ``--on-error skip`` failed records are reported
  (summary, ``--errors``) but do not change the status; a closed standard output
  (``| head``) is a quiet success.
* ``1`` (:data:`EXIT_FAILED`): a failed run: a record failed under ``--on-error raise``
  (no output is left behind), every record of a non-empty input failed, an input could
  not be read to its end, an output could not be written, a round trip failed in
  ``validate``, ``inspect`` could not tokenize its string, ``train`` learned no merge.
* ``2`` (:data:`EXIT_USAGE`): a usage problem: bad arguments (or argument bytes that are
  not text), an unknown extension, a modality that cannot be inferred, a missing file,
  or a missing optional dependency (RDKit), an input or ``--errors`` path that is one
  of the files the run writes.
* ``130`` after Ctrl-C and ``143`` (128 + 15) after SIGTERM: the run stops and removes
  every file it had started; older outputs of the same names stay as they were.

Each command is a module (:mod:`chemtok.cli.tokenize`, ``validate``, ``inspect``,
``train``, ``bench``) with ``add_parser(sub)`` and ``run(args) -> int``; the work is in
:mod:`chemtok.io` (readers, writers, the pipeline) and :mod:`chemtok.registry`.

Heavy modules (numpy, pyarrow, tokenizers, RDKit) are imported inside the subcommands,
so ``chemtok --help`` starts instantly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from chemtok import __version__
from chemtok.cli import annotate as _annotate_cmd
from chemtok.cli import bench as _bench_cmd
from chemtok.cli import inspect as _inspect_cmd
from chemtok.cli import tokenize as _tokenize_cmd
from chemtok.cli import train as _train_cmd
from chemtok.cli import validate as _validate_cmd
from chemtok.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    Formatter,
    InputError,
    UsageError,
    err,
    quiet_stdout,
)
from chemtok.errors import ChemtokError
from chemtok.io.guards import Terminated
from chemtok.text import first_uncovered

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main", "version_line"]

# Subcommands in the order --help lists them.
_SUBCOMMANDS = (_tokenize_cmd, _validate_cmd, _inspect_cmd, _train_cmd, _annotate_cmd)


def version_line() -> str:
    """``chemtok --version``: the version and the engine ``engine="auto"`` runs.

    Example:
        >>> from chemtok.cli import version_line
        >>> version_line().startswith("chemtok ")
        True
    """
    from chemtok import native

    if native.available():
        return f"chemtok {__version__} (engine: native, the Rust core chemtok._native)"
    return (
        f"chemtok {__version__} (engine: python, the pure-Python reference; chemtok._native is not "
        "built: install a Rust toolchain, https://rustup.rs, and reinstall chemtok for the fast path)"
    )


class _VersionAction(argparse.Action):
    """``--version``, computed only when asked for (it imports the compiled core)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: str | None = None) -> None:
        sys.stdout.write(version_line() + "\n")
        parser.exit()



def build_parser(bench: Any = None) -> argparse.ArgumentParser:
    """The argument parser; ``bench`` is the imported :mod:`chemtok.bench`, when asked for."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Chemistry-aware tokenization of SMILES, InChI, proteins, DNA and scientific text.",
        epilog="Run 'chemtok COMMAND --help' for the options of a command.",
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and engine, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in _SUBCOMMANDS:
        command.add_parser(sub)
    _bench_cmd.add_parser(sub, bench)
    return parser



def _command_of(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Example:
        >>> from chemtok.cli import main
        >>> main(["inspect", "--modality", "smiles", "ClCBr"])  # doctest: +ELLIPSIS
        smiles: 3 tokens...
        0
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    for position, arg in enumerate(args_list, 1):
        if first_uncovered(arg) >= 0:  # a lone surrogate
            try:
                shown = os.fsencode(arg)  # the bytes as given (Python decoded them with surrogateescape)
            except UnicodeEncodeError:
                shown = arg.encode("utf-8", "backslashreplace")
            # Refused up front (file names too): every later step (metadata, Parquet paths,
            # messages) needs text, and would otherwise fail with "a lone surrogate".
            err(f"argument {position} is not valid text in the locale's encoding ({sys.getfilesystemencoding()}): {shown!r}")
            return EXIT_USAGE
    # The bench package (numpy, matplotlib on use) loads only for its own subcommand.
    bench = importlib.import_module("chemtok.bench") if _command_of(args_list) == "bench" else None
    parser = build_parser(bench)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as done:  # --help, --version, or a usage error already printed
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except BrokenPipeError:
        # Standard output was closed (`chemtok inspect ... | head`): a quiet success.
        # Point it at the null device so the interpreter's final flush does not fail.
        quiet_stdout()
        return EXIT_OK
    except UsageError as error:
        err(str(error))
        return EXIT_USAGE
    except (InputError, ChemtokError, OSError, EOFError) as error:
        # An input or environment fault: a message, never a traceback.
        err(str(error))
        return EXIT_FAILED
    except Terminated as stop:  # SIGTERM, turned into a KeyboardInterrupt by the command
        err(f"{stop} (an unfinished output is removed, never left half-written)")
        return 128 + stop.signum
    except KeyboardInterrupt:
        err("interrupted (an unfinished output is removed, never left half-written)")
        return 130

