"""``chemtok tokenize``: arguments, messages and exit codes over :mod:`chemtok.io.pipeline`."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from chemtok.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    INPUT_FORMATS,
    MODALITIES,
    ON_ERROR_CHOICES,
    Formatter,
    Progress,
    UsageError,
    add_markers_option,
    canonical_modality,
    check_inputs,
    choose_column,
    err,
    label,
    load_tokenizer,
    positive_int,
    quiet_stdout,
    start_record_counter,
)
from chemtok.io.guards import interrupt_on_sigterm

__all__ = ["add_parser", "run"]

#: Records per chunk (as :data:`chemtok.io.pipeline.DEFAULT_CHUNK_SIZE`, without importing it).
DEFAULT_CHUNK_SIZE = 32768
#: Failures printed on stderr under ``skip`` when there is no ``--errors`` file.
_SHOWN_FAILURES = 10
#: Failing records the "wrong column or modality?" hint looks at.
_HINT_RECORDS = 5


_TOKENIZE_EPILOG = """\
inputs (by extension, optionally .gz; '-' reads standard input):
  .smi .smiles .rsmi   one record per line, the first whitespace-separated field
  .txt                 one record per line, the whole line
  .csv .tsv .parquet   the --column column (default: chosen from the header names)
  .jsonl               the --column field (default: chosen from the first line's keys)
  .fasta .fa .faa .fna the sequence of each entry
  .sdf .sd .mol        RDKit's canonical SMILES of each molecule, or the SD property
                       --column PROP (needs RDKit: pip install "chemtok[rdkit]")
  Without --column, a table's column is chosen by its name (smiles, canonical_smiles,
  *_smiles, inchi, sequence, seq, text...; never an id or key column) and printed; two
  candidates are a usage error naming them. The modality follows from .smi/.smiles/.rsmi
  and .sdf (smiles), .faa (protein), .fna (dna) or the column's name; else --modality.

outputs (by extension of -o):
  .parquet    columns record (int64), ids (list<uint32>), source (several inputs)
  .jsonl      {"record": n, "ids": [...]} per line (.jsonl.gz compressed; '-' = stdout)
  .npy        OUT.npy ids uint32 + OUT.offsets.npy int64 + OUT.records.npy int64
  .bin        OUT.bin + OUT.idx in Megatron-LM's indexed-dataset layout
  The chemtok version, modality, grammar and vocabulary fingerprint go into the
  Parquet metadata (key "chemtok") or OUT.meta.json.
  --engine ray: -o names a folder: OUT/part-NNNNN.parquet (input NNNNN, the Parquet
  columns above) and OUT/_chemtok.json (totals and counts per input, fingerprint).

Every record keeps its 1-based number in its input; empty lines are records with no
tokens. written + failed == read, always. Exit status: 0 success, 1 a failed run
(a failing record under raise, an unreadable input, or every record failed, under
any policy), 2 a usage error.

examples:
  chemtok tokenize ../shared/data/smiles/moleculenet_bace.smi.gz -o bace.parquet
  chemtok tokenize data.csv --column smiles -o data.npy --on-error skip --errors bad.jsonl
  zcat big.smi.gz | chemtok tokenize - --input-format smi -o big.bin --jobs 8
"""



def add_parser(sub: Any) -> None:
    """Add ``tokenize`` to the subcommands ``sub``."""
    p = sub.add_parser(
        "tokenize",
        help="tokenize files of records into token ids (Parquet, JSON Lines, .npy, .bin)",
        description="Tokenize every record of the inputs, streaming in bounded memory.",
        epilog=_TOKENIZE_EPILOG,
        formatter_class=Formatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="input files, or '-' for standard input")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT",
        help="output file; its extension picks the format (.parquet .jsonl .jsonl.gz .npy .bin, '-' = JSON Lines on stdout)",
    )
    p.add_argument(
        "--modality", type=canonical_modality, choices=MODALITIES,
        help="what the records are; 'mixed' = text with [START_SMILES]...[END_SMILES]-style markers (default: from the extension or --column)",
    )
    p.add_argument("--column", metavar="NAME", help="the column (CSV/TSV/Parquet) or field (JSON Lines) holding the records")
    p.add_argument(
        "--input-format", choices=INPUT_FORMATS,
        help="read every input as this format instead of guessing from the extension (stdin defaults to txt)",
    )
    p.add_argument(
        "--tokenizer", metavar="DIR",
        help="a directory (or file) with a Hugging Face tokenizer.json to use as the TEXT model for "
        "--modality text or mixed (ids of that model are kept); other modalities use the built-in grammars",
    )
    p.add_argument(
        "--on-error", choices=ON_ERROR_CHOICES, default="raise",
        help="raise: stop at the first failing record, exit 1, write nothing (default); "
        "skip: leave failing records out and report them; fallback: keep uncovered characters "
        "as byte-fallback tokens (lossless), skip records that still fail (unreadable bytes)",
    )
    p.add_argument(
        "--errors", metavar="ERRORS.jsonl",
        help='write each failing record as {"record", "input", "error", "position", "text"}; written together '
        "with the output, so a run that stops (--on-error raise, Ctrl-C, a full disk) keeps neither",
    )
    p.add_argument(
        "--jobs", type=positive_int, metavar="N",
        help="threads for encoding (default: all cores); the native engine and the text model use them, "
        "the pure-Python engine runs on one",
    )
    p.add_argument("--tokens", action="store_true", help="JSON Lines only: add the token strings to each row")
    p.add_argument(
        "--strict-markers", action=argparse.BooleanOptionalAction, default=True,
        help="mixed: unknown, unclosed or nested markers fail the record (default); --no-strict-markers keeps them as text",
    )
    add_markers_option(p)
    p.add_argument(
        "--engine", choices=("auto", "native", "python", "ray"), default="auto",
        help="tokenizer engine (default: native when built); ray: run on Ray (native engine when built), "
        "one task per input file, -o names an output folder of part-NNNNN.parquet files + _chemtok.json "
        '(pip install "chemtok[ray]")',
    )
    p.add_argument(
        "--ray-address", metavar="ADDRESS",
        help="--engine ray: join this running cluster (as ray.init(address=...)); default: start a local "
        "cluster for the run and stop it after",
    )
    p.add_argument(
        "--smiles-model", default="atom", metavar="MODEL",
        help="SMILES model for smiles and mixed: atom (default), compact (shipped learned merges), or a directory from 'chemtok train smiles'",
    )
    p.add_argument("--chunk-size", type=positive_int, default=DEFAULT_CHUNK_SIZE, metavar="N", help=f"records per batch (default {DEFAULT_CHUNK_SIZE})")
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    p.set_defaults(handler=run)



def run(args: argparse.Namespace) -> int:
    """Run ``chemtok tokenize`` with parsed ``args``; return the exit status."""
    from chemtok.io.formats import resolve_modality
    from chemtok.io.guards import OutputClashError
    from chemtok.io.writers import check_run_paths, output_format

    inputs: list[str] = list(args.inputs)
    if args.engine == "ray":
        return _run_ray(args)
    if args.ray_address:
        raise UsageError("--ray-address needs --engine ray")
    formats = check_inputs(inputs, args.input_format, args.column)
    args.column, by_column = choose_column(inputs, formats, args.column, args.modality)
    try:
        out_format = output_format(args.output)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.tokens and out_format != "jsonl":
        raise UsageError(f"--tokens needs a JSON Lines output (.jsonl, .jsonl.gz or '-'), not {args.output!r}")
    if args.output != "-":
        parent = Path(args.output).resolve().parent
        if not parent.is_dir():
            raise UsageError(f"the directory of {args.output!r} does not exist")
    if args.errors and not Path(args.errors).resolve().parent.is_dir():
        raise UsageError(f"the directory of --errors {args.errors!r} does not exist")
    try:  # an input or --errors that is the output, a sidecar of it or the errors file
        check_run_paths(inputs, args.output, errors=args.errors or None)
    except OutputClashError as error:
        raise UsageError(str(error)) from None
    modality = resolve_modality(args.modality or by_column, inputs, column=args.column, input_format=args.input_format)

    # SIGTERM (kill, timeout, a job scheduler) ends the run as Ctrl-C does: the cleanup
    # removes every temporary file, and main() exits 143.
    with interrupt_on_sigterm(), _ThreadsEnv(args.jobs):
        tok = load_tokenizer(
            modality, args.tokenizer, engine=args.engine, strict_markers=args.strict_markers, smiles_model=args.smiles_model,
            markers=args.markers,
        )
        return _run_tokenize(args, tok, modality, inputs, formats)


def _run_ray(args: argparse.Namespace) -> int:
    """``--engine ray``: the same checks, then :func:`chemtok.ray.tokenize_files_ray` into a folder."""
    from chemtok.io.formats import resolve_modality
    from chemtok.io.guards import OutputClashError

    try:
        from chemtok.ray import expand_inputs
    except ImportError as error:  # pragma: no cover - ray is in .[dev]
        raise UsageError(f'--engine ray needs Ray: pip install "chemtok[ray]" ({error})') from None
    inputs = expand_inputs(args.inputs)
    if "-" in inputs:
        raise UsageError("--engine ray reads files, not standard input")
    if args.tokens:
        raise UsageError("--tokens needs a JSON Lines output; --engine ray writes Parquet parts")
    if args.output == "-" or args.output.lower().endswith(tuple(OUTPUT_SUFFIXES)):
        raise UsageError(f"--engine ray writes a folder of Parquet parts: -o names a folder (e.g. out/), not {args.output!r}")
    if args.errors and not Path(args.errors).resolve().parent.is_dir():
        raise UsageError(f"the directory of --errors {args.errors!r} does not exist")
    formats = check_inputs(inputs, args.input_format, args.column)
    args.column, by_column = choose_column(inputs, formats, args.column, args.modality)
    modality = resolve_modality(args.modality or by_column, inputs, column=args.column, input_format=args.input_format)
    try:
        from chemtok.ray import _check_output_dir

        _check_output_dir(inputs, Path(args.output), args.errors or None)
    except OutputClashError as error:
        raise UsageError(str(error)) from None
    args.inputs = inputs
    with interrupt_on_sigterm():
        tok = load_tokenizer(
            modality, args.tokenizer, engine="auto", strict_markers=args.strict_markers, smiles_model=args.smiles_model
        )
        return _run_tokenize(args, tok, modality, inputs, formats)


#: Output file extensions (as :data:`chemtok.io.writers.OUTPUT_FORMATS`, without importing it).
OUTPUT_SUFFIXES = (".parquet", ".jsonl", ".jsonl.gz", ".npy", ".bin")


class _ThreadsEnv:
    """Point the text model's thread pool (``RAYON_NUM_THREADS``) at ``--jobs`` for the run."""

    def __init__(self, jobs: int | None) -> None:
        self.jobs = jobs
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        if self.jobs is None:
            return
        for name, value in (("RAYON_NUM_THREADS", str(self.jobs)), ("TOKENIZERS_PARALLELISM", "true" if self.jobs > 1 else "false")):
            self.saved[name] = os.environ.get(name)
            os.environ.setdefault(name, value)

    def __exit__(self, *exc: object) -> None:
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_tokenize(args: argparse.Namespace, tok: Any, modality: str, inputs: list[str], formats: list[str]) -> int:
    from chemtok.io.pipeline import Failure, OutputError, tokenize_files

    policy = args.on_error
    started = time.monotonic()
    on_ray = args.engine == "ray"
    show_progress = False if on_ray else sys.stderr.isatty() if args.progress is None else args.progress
    progress = Progress(sys.stderr, "tokenize") if show_progress else None
    stop_counting = threading.Event()
    if progress is not None:
        if "-" not in inputs:
            progress.total_bytes = sum(os.path.getsize(path) for path in inputs)
        start_record_counter(inputs, formats, progress, stop_counting)
    shown = 0
    failing: list[str] = []  # the first failing texts, for the hint when all fail

    def on_failure(failure: Failure) -> None:
        nonlocal shown
        if failure.text is not None and len(failing) < _HINT_RECORDS:
            failing.append(failure.text)
        if not args.errors and policy != "raise" and shown < _SHOWN_FAILURES:
            shown += 1
            _clear(progress)
            err(f"skipped record {failure.record} of {label(failure.source)}: {failure.error}")

    try:
        run_options: dict[str, Any] = {
            "modality": modality,
            "policy": policy,
            "column": args.column,
            "chunk_size": args.chunk_size,
            "num_threads": args.jobs,
            "errors": args.errors,
            "on_failure": on_failure,
        }
        if on_ray:
            from chemtok.ray import tokenize_files_ray

            result = tokenize_files_ray(inputs, formats, tok, args.output, address=args.ray_address, **run_options)
        else:
            result = tokenize_files(
                inputs,
                formats,
                tok,
                args.output,
                with_tokens=args.tokens,
                on_progress=progress.update if progress is not None else None,
                **run_options,
            )
    except BrokenPipeError:
        # The reader of standard output went away (e.g. `| head`): what it read is all
        # it wanted, so this is a quiet success (as `cat` and `zcat` do).
        quiet_stdout()
        return EXIT_OK
    except OutputError as error:  # a full disk, a failed rename: nothing kept
        _clear(progress)
        err(str(error))
        done = error.counts
        err(f"read {done.read}, written 0, failed {done.failed} (the output could not be written: exit status 1)")
        return EXIT_FAILED
    finally:
        stop_counting.set()
    counts = result.counts
    _clear(progress)
    if result.stop is not None:
        stop = result.stop
        if not stop.hint and stop.text is not None:
            stop.hint = _advice(args, tok, modality, inputs, formats, [stop.text], all_failed=counts.read == 1)
        _print_stop(stop, args.output, counts.read)
        return EXIT_FAILED
    elapsed = time.monotonic() - started
    if on_ray:
        parts = sum(1 for p in result.paths if p.suffix == ".parquet")
        where = f"{parts} parts in {args.output}"
    else:
        where = "standard output" if args.output == "-" else result.paths[0].name
    rate = counts.read / elapsed if elapsed > 0 else 0.0
    err(
        f"read {counts.read}, written {counts.written}, failed {counts.failed} "
        f"({counts.tokens:,} tokens to {where}, {elapsed:.1f} s, {rate:,.0f} records/s)"
    )
    if counts.failed and not args.errors and counts.failed > shown:
        err(f"{counts.failed - shown} more failures not shown; pass --errors FILE to list them all")
    if result.faults:
        for fault in result.faults:
            err(f"{fault} (the rest of that input is one failed record)")
    elif counts.read and counts.failed == counts.read:
        if failing:
            print("  " + _advice(args, tok, modality, inputs, formats, failing, all_failed=True), file=sys.stderr)
        else:
            err(f"every record failed: wrong --column or --modality (now {modality})?")
    if result.failed_run:
        # The summary is the last line on stderr, whatever happened before.
        err(f"read {counts.read}, written {counts.written}, failed {counts.failed} (a failed run: exit status 1)")
        return EXIT_FAILED
    return EXIT_OK


def _clear(progress: Progress | None) -> None:
    if progress is not None:
        progress.close()


def _advice(
    args: argparse.Namespace, tok: Any, modality: str, inputs: list[str], formats: list[str], texts: list[str], *, all_failed: bool
) -> str:
    """:func:`chemtok.io.columns.failure_hint` for the failing ``texts``, with the first table's columns."""
    from chemtok.io.columns import failure_hint
    from chemtok.io.formats import InputError
    from chemtok.io.readers import read_header

    try:
        header = read_header(inputs[0], formats[0])
    except InputError:  # the hint is advice; an unreadable header must not hide the failure
        header = None
    return failure_hint(texts, modality=modality, all_failed=all_failed, header=header, column=args.column, tokenizer=tok)


def _print_stop(failure: Any, output: str, read: int) -> None:
    err(f"record {failure.record} of {label(failure.source)}: {failure.error}")
    if failure.excerpt:
        print(failure.excerpt, file=sys.stderr)
    if failure.hint:
        print(f"  {failure.hint}", file=sys.stderr)
    elif failure.text is None:
        print("  Pass --on-error skip --errors FILE to leave unreadable records out and list them.", file=sys.stderr)
    nothing = "rows before it may already be on standard output" if output == "-" else f"no output written to {output}"
    err(f"read {read}, written 0, failed 1 (stopped at the first failure; {nothing})")
