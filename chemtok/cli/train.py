"""``chemtok train smiles``: learn a compact SMILES model (merges that never cut an atom)."""

from __future__ import annotations

import argparse
import os
import sys
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

from chemtok.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    Formatter,
    InputError,
    UsageError,
    err,
    label,
    positive_int,
)

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Add ``train`` to the subcommands ``sub``."""
    p = sub.add_parser(
        "train",
        help="learn a compact SMILES model: merges over atom-level tokens that never cut an atom",
        description=(
            "Learn merges whose units are atom-level SMILES tokens (see chemtok.compact). A merge\n"
            "joins two adjacent units; it never splits an atom, a bracket atom, a two-digit ring\n"
            "closure or a bond, and never crosses '.' or a reaction arrow. Deterministic for a\n"
            "fixed input and --seed. Use the result with --smiles-model DIR or\n"
            "chemtok.SmilesTokenizer(model=DIR)."
        ),
        epilog=(
            "example (how the shipped model was made; MoleculeNet is held out):\n"
            "  chemtok train smiles $(ls ../shared/data/smiles/*.gz ../shared/data/smiles/*.smi ../shared/data/smiles/*.rsmi \\\n"
            "      | grep -v -e moleculenet_ -e hard_cases) \\\n"
            "      --exclude ../shared/data/smiles/moleculenet_*.smi.gz --vocab-size 8192 -o chemtok/data\n"
        ),
        formatter_class=Formatter,
    )
    p.add_argument("modality", choices=("smiles",), help="what to train (only smiles for now)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="training files (any input format tokenize reads)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory (or .json file) for the model")
    p.add_argument("--vocab-size", type=positive_int, required=True, metavar="N",
                   help="size of the SMILES vocabulary: atom-level tokens plus merged ones")
    p.add_argument("--column", metavar="NAME", help="the column or field holding the SMILES")
    p.add_argument("--exclude", nargs="+", default=[], metavar="FILE",
                   help="hold out: strings found in these files are left out of training")
    p.add_argument("--min-frequency", type=positive_int, default=2, metavar="N", help="least count of a merged pair (default 2)")
    p.add_argument("--max-records", type=positive_int, metavar="N", help="train on a seeded sample of N strings")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chemtok train`` with parsed ``args``; return the exit status."""
    import resource

    from chemtok.compact import train_compact_model
    from chemtok.io import read_records

    def strings(paths: Sequence[str]) -> Iterator[str]:
        for path in paths:
            if not os.path.exists(path):
                raise UsageError(f"no such file: {path}")
            column = args.column
            if column is None and path.lower().removesuffix(".gz").endswith((".tsv", ".csv")):
                column = "smiles"
            try:
                for record in read_records(path, column=column):
                    if record.text:
                        yield record.text
            except InputError:
                raise
            except (OSError, EOFError, zlib.error) as error:  # a truncated or corrupt gzip
                raise InputError(f"cannot read {label(path)}: {error}") from None
            except ValueError as error:
                raise UsageError(str(error)) from None

    held_out = set(strings(args.exclude))
    texts = [t for t in strings(args.inputs) if t not in held_out]
    if not texts:
        raise UsageError("no training strings left (check the inputs and --exclude)")
    try:
        model = train_compact_model(
            texts, args.vocab_size, min_frequency=args.min_frequency, max_records=args.max_records, seed=args.seed
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    if model.info.get("merges", 0) == 0:
        refused = model.info.get("skipped", 0)
        err(
            f"no merges learned from {model.info.get('records', len(texts)):,} strings ({refused:,} refused by the "
            f"SMILES grammar); nothing written to {args.output} (are the inputs SMILES? is --column right?)"
        )
        return EXIT_FAILED
    model.info["inputs"] = [label(p) for p in args.inputs]
    model.info["excluded"] = [label(p) for p in args.exclude]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model.info["peak_rss_mb"] = round(peak_mb)
    path = model.save(args.output)
    info = model.info
    print(
        f"wrote {path}: {info['merges']} merges over {info['atom_tokens']} atom-level tokens from "
        f"{info['records']:,} strings ({len(held_out):,} held out, {info['skipped']} refused by the grammar) "
        f"in {info['seconds']} s, peak memory {peak_mb:.0f} MB",
        file=sys.stderr,
    )
    return EXIT_OK
