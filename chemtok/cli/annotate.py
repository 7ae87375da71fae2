"""``chemtok annotate``: mark the unmarked chemistry of every record (:func:`chemtok.annotate`).

Reads the inputs with :func:`chemtok.io.readers.read_chunks` (the formats of
``chemtok tokenize``), annotates each record's text and writes it, with its record
number, as JSON Lines (``{"record": n, "<column>": text}``) or one record per line
(``.txt``). Every record is written or reported: ``written + failed == read``; under
``--on-error raise`` an unreadable record stops the run and nothing is written.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from chemtok.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    INPUT_FORMATS,
    Formatter,
    Progress,
    UsageError,
    check_inputs,
    choose_column,
    err,
    label,
    positive_int,
    quiet_stdout,
)
from chemtok.io.guards import interrupt_on_sigterm

__all__ = ["add_parser", "run"]

#: Records per chunk.
DEFAULT_CHUNK_SIZE = 4096
_SHOWN_FAILURES = 10

_EPILOG = """\
inputs: as for 'chemtok tokenize' (.txt one record per line, .csv .tsv .parquet .jsonl
  the --column column, .fasta the sequences...; '-' reads standard input as .txt).

outputs (by extension of -o):
  .jsonl .jsonl.gz  {"record": n, "<column>": annotated text} per line ('-' = stdout);
                    "source" names the input when there are several
  .txt              one annotated record per line (records holding a newline fail)

Every record keeps its 1-based number in its input. written + failed == read, always.
Exit status: 0 success, 1 a failed run (an unreadable record under raise, or every
record failed), 2 a usage error.

examples:
  chemtok annotate abstracts.txt -o abstracts.marked.txt
  chemtok annotate corpus.jsonl.gz --column text -o marked.jsonl.gz --on-error skip
  chemtok annotate corpus.jsonl --column text --modalities smiles,inchi -o - | head
  chemtok annotate galactica.jsonl --column text --from-markers galactica --markers tags -o tags.jsonl
"""


def add_parser(sub: Any) -> None:
    """Add ``annotate`` to the subcommands ``sub``."""
    p = sub.add_parser(
        "annotate",
        help="insert markers around the SMILES, InChI, proteins and DNA found in unmarked text",
        description="Find chemistry in every record and mark it ([START_SMILES]...[END_SMILES]); nothing else changes.",
        epilog=_EPILOG,
        formatter_class=Formatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="input files, or '-' for standard input")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="output file: .jsonl, .jsonl.gz, .txt, or '-' (JSON Lines on stdout)")
    p.add_argument("--column", metavar="NAME", help="the column (CSV/TSV/Parquet) or field (JSON Lines) holding the text")
    p.add_argument("--input-format", choices=INPUT_FORMATS, help="read every input as this format (stdin defaults to txt)")
    p.add_argument(
        "--markers", metavar="NAME|FILE", default=None,
        help="marker dialect to write: galactica (default), tags, naturelm, biot5, or a marker table file",
    )
    p.add_argument(
        "--from-markers", metavar="NAME|FILE", default=None,
        help="the dialect the input is marked in, when it differs from --markers: its marked spans are "
        "rewritten in the --markers dialect (e.g. --from-markers galactica --markers tags converts a corpus)",
    )
    p.add_argument("--modalities", default="smiles,inchi,protein,dna", metavar="LIST", help="comma-separated modalities to mark (default: all)")
    p.add_argument("--min-length", type=positive_int, metavar="N", help="minimum characters of a marked string (default: per modality)")
    p.add_argument("--rdkit", action="store_true", help="keep a SMILES only if RDKit parses it (needs RDKit)")
    p.add_argument(
        "--on-error", choices=("raise", "skip"), default="raise",
        help="raise: stop at the first unreadable record, exit 1, write nothing (default); skip: leave it out and report it",
    )
    p.add_argument("--chunk-size", type=positive_int, default=DEFAULT_CHUNK_SIZE, metavar="N", help=f"records per batch (default {DEFAULT_CHUNK_SIZE})")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress on stderr (default: when stderr is a terminal)")
    p.set_defaults(handler=run)


def _output_kind(path: str) -> str:
    if path == "-" or path.endswith((".jsonl", ".jsonl.gz")):
        return "jsonl"
    if path.endswith(".txt"):
        return "txt"
    raise UsageError(f"cannot write {path!r}: chemtok annotate writes .jsonl, .jsonl.gz, .txt or '-'")


def run(args: argparse.Namespace) -> int:
    """Run ``chemtok annotate`` with parsed ``args``; return the exit status."""
    from chemtok.annotate import resolve_markers
    from chemtok.detect import DETECTABLE, Detector
    from chemtok.errors import ChemtokError
    from chemtok.io.guards import OutputClashError
    from chemtok.io.writers import check_run_paths

    inputs: list[str] = list(args.inputs)
    formats = check_inputs(inputs, args.input_format, args.column)
    column, _ = choose_column(inputs, formats, args.column, "text")
    kind = _output_kind(args.output)
    if args.output != "-" and not Path(args.output).resolve().parent.is_dir():
        raise UsageError(f"the directory of {args.output!r} does not exist")
    try:
        if kind == "jsonl":
            check_run_paths(inputs, args.output)
        elif any(path != "-" and Path(path).resolve() == Path(args.output).resolve() for path in inputs):
            raise UsageError(f"the output {args.output!r} is also an input; write to another file")
    except OutputClashError as error:
        raise UsageError(str(error)) from None
    modalities = [m.strip() for m in args.modalities.split(",") if m.strip()]
    unknown = sorted(set(modalities) - set(DETECTABLE))
    if unknown or not modalities:
        raise UsageError(f"--modalities: choose from {','.join(DETECTABLE)}, got {args.modalities!r}")
    try:
        table = resolve_markers(args.markers)
        source = resolve_markers(args.from_markers) if args.from_markers is not None else table
        detector = Detector(modalities=modalities, min_length=args.min_length, rdkit=args.rdkit)
    except (ChemtokError, ImportError, OSError) as error:
        raise UsageError(str(error)) from None
    with interrupt_on_sigterm():
        return _run(args, inputs, formats, column, kind, (source, table), detector)


def _run(
    args: argparse.Namespace,
    inputs: list[str],
    formats: list[str],
    column: str | None,
    kind: str,
    tables: tuple[Any, Any],
    detector: Any,
) -> int:
    from chemtok.annotate import annotate_with_insertions, convert_markers
    from chemtok.io.commit import OutputSet
    from chemtok.io.readers import read_chunks

    started = time.monotonic()
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    progress = Progress(sys.stderr, "annotate") if show_progress else None
    field = column or "text"
    read = written = failed = marked = shown = 0
    outputs = None if args.output == "-" else OutputSet([args.output])
    handle: IO[str]
    if outputs is None:
        handle = sys.stdout
    else:
        raw = outputs.open_temp(args.output)
        stream: Any = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if args.output.endswith(".gz") else raw
        handle = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
    try:
        for path, fmt in zip(inputs, formats):
            for chunk in read_chunks(path, fmt, column, args.chunk_size):
                for i, (number, text) in enumerate(zip(chunk.numbers, chunk.texts)):
                    read += 1
                    problem: str | None = None
                    if text is None:
                        problem = chunk.problems.get(i, ("unreadable record", None))[0]
                    elif kind == "txt" and ("\n" in text or "\r" in text):
                        problem = "the record holds a line break, which a .txt output cannot keep; write .jsonl"
                    if text is None or problem is not None:
                        failed += 1
                        if args.on_error == "raise":
                            _clear(progress)
                            err(f"record {number} of {label(path)}: {problem}")
                            err(f"read {read}, written 0, failed 1 (stopped at the first failure; nothing written)")
                            if outputs is not None:
                                handle.close()
                                outputs.abort()
                            return EXIT_FAILED
                        if shown < _SHOWN_FAILURES:
                            shown += 1
                            _clear(progress)
                            err(f"skipped record {number} of {label(path)}: {problem}")
                        continue
                    source, table = tables
                    converted = text if source is table else convert_markers(text, source=source, target=table)
                    out, insertions = annotate_with_insertions(converted, markers=table, detector=detector)
                    marked += len(insertions) // 2
                    if kind == "txt":
                        handle.write(out + "\n")
                    else:
                        row: dict[str, Any] = {"record": number, field: out}
                        if len(inputs) > 1:
                            row["source"] = label(path)
                        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                    written += 1
                if chunk.fault:
                    _clear(progress)
                    err(f"{label(path)}: {chunk.fault} (the rest of that input is one failed record)")
                if progress is not None:
                    progress.update(read, chunk.consumed)
        if outputs is not None:
            handle.close()
            outputs.commit()
        else:
            handle.flush()
    except BrokenPipeError:
        quiet_stdout()
        return EXIT_OK
    except BaseException:
        if outputs is not None:
            outputs.abort()
        raise
    _clear(progress)
    elapsed = time.monotonic() - started
    where = "standard output" if args.output == "-" else os.path.basename(args.output)
    err(f"read {read}, written {written}, failed {failed} ({marked:,} strings marked to {where}, {elapsed:.1f} s)")
    if failed > shown:
        err(f"{failed - shown} more failures not shown")
    if read and failed == read:
        err(f"every record failed: wrong --column (now {column!r}) or input format?")
        return EXIT_FAILED
    return EXIT_OK


def _clear(progress: Progress | None) -> None:
    if progress is not None:
        progress.close()
