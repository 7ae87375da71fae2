"""``chemtok bench`` on the command line: its arguments and its run.

Example:
    >>> import argparse
    >>> from chemtok.bench.command import add_arguments
    >>> parser = argparse.ArgumentParser(prog="chemtok bench")
    >>> add_arguments(parser)
    >>> parser.parse_args(["mols.smi", "--max-records", "10"]).max_records
    10
"""

from __future__ import annotations

import argparse
import sys
import warnings

from chemtok.bench.inputs import MODALITIES, parse_baseline
from chemtok.bench.report import summary_tables
from chemtok.bench.runners import run_benchmark

__all__ = ["NO_BASELINE_NOTE", "add_arguments", "run"]

#: Printed (on stderr) by ``chemtok bench`` when no ``--baseline`` is given.
NO_BASELINE_NOTE = (
    "chemtok bench: note: no --baseline given, so chemtok is compared only with itself. "
    "To compare with GPT-2 or Llama, add --baseline PATH/tokenizer.json "
    "(e.g. --baseline gpt2=../shared/baselines/gpt2/tokenizer.json; repeat for several)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``chemtok bench`` arguments to ``parser`` (the CLI's ``bench`` subcommand)."""
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="input files: .smi/.rsmi (SMILES), InChI/SMILES .tsv/.csv, protein or DNA .fasta, "
        "text .jsonl/.txt (optionally .gz); the modality is inferred from the name and folder",
    )
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a tokenizer.json to compare against, e.g. gpt2=../shared/baselines/gpt2/tokenizer.json "
        "(repeat for several; a bare PATH is named after its folder)",
    )
    parser.add_argument(
        "--out", default="bench-results", metavar="DIR",
        help="write results.json, results.md and PNG plots here (default: %(default)s)",
    )
    parser.add_argument(
        "--modality", choices=MODALITIES, default=None,
        help="treat every input as this modality instead of inferring it (text = mixed text with markers)",
    )
    parser.add_argument(
        "--column", default=None,
        help="CSV/TSV column or JSONL field holding the strings (default: the modality's name for tables, "
        "'text' for JSONL)",
    )
    parser.add_argument(
        "--max-records", type=int, default=None, metavar="N",
        help="measure at most N records per input, a sample seeded by --seed and the file name (default: all)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the --max-records sample (default: %(default)s)")
    parser.add_argument(
        "--hybrid", action=argparse.BooleanOptionalAction, default=True,
        help="on text inputs, also count chemtok+NAME: chemtok's router with baseline NAME as its text model "
        "(default: on)",
    )
    parser.add_argument(
        "--compact", action=argparse.BooleanOptionalAction, default=True,
        help="also count chemtok's compact SMILES model (chemtok-compact rows on SMILES and text inputs; "
        "default: on)",
    )
    parser.add_argument(
        "--plots", action=argparse.BooleanOptionalAction, default=True,
        help="draw PNG plots with matplotlib (default: on; skipped with a warning if matplotlib is missing)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not report progress on stderr")


def run(args: argparse.Namespace) -> int:
    """Run ``chemtok bench`` from parsed arguments; print the summary; return the exit code.

    Exit codes: 0 done, 1 an input or baseline could not be read or measured, 2 a
    malformed argument.
    """
    try:
        baselines: dict[str, str] = {}
        for spec in args.baseline:
            name, path = parse_baseline(spec)
            if name in baselines:
                raise ValueError(f"baseline name {name!r} given twice; names must be unique")
            baselines[name] = path
        if args.max_records is not None and args.max_records < 1:
            raise ValueError(f"--max-records must be at least 1, got {args.max_records}")
    except ValueError as err:
        print(f"chemtok bench: error: {err}", file=sys.stderr)
        return 2

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if not baselines:
        print(NO_BASELINE_NOTE, file=sys.stderr, flush=True)

    from chemtok.errors import ChemtokError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_benchmark(
                args.inputs,
                baselines,
                out_dir=args.out,
                modality=args.modality,
                column=args.column,
                max_records=args.max_records,
                seed=args.seed,
                hybrid=args.hybrid,
                compact=args.compact,
                plots=args.plots,
                progress=None if args.quiet else report,
            )
    except (ValueError, OSError, ChemtokError) as err:
        print(f"chemtok bench: error: {err}", file=sys.stderr)
        return 1
    for warning in caught:
        print(f"chemtok bench: warning: {warning.message}", file=sys.stderr)
    print("\n".join(summary_tables(result.summary)))
    if not args.quiet:
        for path in result.files:
            report(f"wrote {path}")
    return 0
