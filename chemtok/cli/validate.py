"""``chemtok validate``: round trips of SMILES/InChI through the tokenizer, checked with RDKit."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from chemtok import __version__
from chemtok.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    INPUT_FORMATS,
    Formatter,
    Progress,
    UsageError,
    check_inputs,
    choose_column,
    label,
    load_tokenizer,
    visible,
)

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Add ``validate`` to the subcommands ``sub``."""
    p = sub.add_parser(
        "validate",
        help="check SMILES/InChI round trips through the tokenizer with RDKit",
        description=(
            "Tokenize, decode and compare every record: the same string back (exact round trip),\n"
            "and the same molecule for RDKit (canonical SMILES, or InChI). Needs RDKit.\n"
            "Exit status 1 when a round trip is not exact or gives another molecule, or a record\n"
            "cannot be read; strings RDKit itself cannot parse are counted, not failures."
        ),
        epilog="example:\n  chemtok validate ../shared/data/smiles/moleculenet_bace.smi.gz --report bace.json\n",
        formatter_class=Formatter,
    )
    p.add_argument("input", metavar="INPUT", help="a SMILES or InChI file (any input format tokenize reads), or '-'")
    p.add_argument("--report", metavar="REPORT.json", help="write the counts and every failure with its record number")
    p.add_argument("--modality", choices=("smiles", "inchi"), help="default: from the extension or --column")
    p.add_argument("--column", metavar="NAME", help="the column or field holding the strings")
    p.add_argument("--input-format", choices=INPUT_FORMATS, help="read the input as this format")
    p.add_argument("--show", type=int, default=10, metavar="N", help="failures to print (default 10; all are in --report)")
    p.add_argument(
        "--max-length",
        type=int,
        default=None,
        metavar="N",
        help="records longer than N characters are reported as skipped, not given to RDKit "
        "(default: chemtok.validate.DEFAULT_MAX_LENGTH; RDKit canonicalisation is quadratic)",
    )
    p.add_argument("--engine", choices=("auto", "native", "python"), default="auto", help="tokenizer engine")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress on stderr (default: on a terminal)")
    p.set_defaults(handler=run)



def run(args: argparse.Namespace) -> int:
    """Run ``chemtok validate`` with parsed ``args``; return the exit status."""
    import array

    from chemtok.io.formats import resolve_modality
    from chemtok.io.readers import read_chunks

    formats = check_inputs([args.input], args.input_format, args.column)
    args.column, by_column = choose_column([args.input], formats, args.column, args.modality)
    modality = args.modality or by_column
    if modality is None:
        try:
            modality = resolve_modality(None, [args.input], column=args.column, input_format=args.input_format)
        except UsageError:
            raise UsageError(f"cannot tell whether {label(args.input)} holds SMILES or InChI; pass --modality smiles|inchi") from None
    if modality not in ("smiles", "inchi"):
        raise UsageError(f"validate checks SMILES or InChI, but {label(args.input)} looks like {modality}; pass --modality smiles|inchi")
    try:
        import rdkit
    except ImportError:
        raise UsageError("validate needs RDKit: pip install 'chemtok[rdkit]'") from None
    from chemtok import validate

    tok = load_tokenizer(modality, engine=args.engine)
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    progress = Progress(sys.stderr, "validate") if show_progress else None
    numbers = array.array("q")
    unreadable: list[dict[str, Any]] = []
    seen = 0

    def strings() -> Iterator[str]:
        nonlocal seen
        for chunk in read_chunks(args.input, formats[0], args.column, 4096):
            for i, (number, text) in enumerate(zip(chunk.numbers, chunk.texts)):
                seen += 1
                if text is None:
                    unreadable.append({"record": number, "error": chunk.problems[i][0]})
                    continue
                numbers.append(number)
                yield text
                if progress is not None and seen % 256 == 0:
                    progress.update(seen)

    if args.max_length is not None and args.max_length < 1:
        raise UsageError(f"--max-length must be a positive number of characters, got {args.max_length}")
    max_length = validate.DEFAULT_MAX_LENGTH if args.max_length is None else args.max_length
    summary = validate.check_many(strings(), modality=modality, tokenizer=tok, max_length=max_length)
    if progress is not None:
        progress.close()
    # check_many numbers the strings it saw; map back to record numbers of the input.
    summary.failures = [(numbers[n - 1], report) for n, report in summary.failures]
    summary.skipped_records = [(numbers[n - 1], report) for n, report in summary.skipped_records]
    result = summary.as_dict()
    result.update(
        {
            "input": args.input,
            "modality": modality,
            "chemtok_version": __version__,
            "rdkit_version": getattr(rdkit, "__version__", None),
            "records": seen,
            "unreadable": len(unreadable),
            "unreadable_records": unreadable,
        }
    )
    total = summary.total

    def pct(n: int) -> str:
        return f"{100 * n / total:6.2f}%" if total else "      -"

    print(f"validate {label(args.input)} ({modality}, {seen:,} records)")
    rows = [
        ("exact round trip", summary.exact, pct(summary.exact)),
        ("same molecule (RDKit)", summary.same_molecule, pct(summary.same_molecule)),
        ("unparsable by RDKit", summary.unparsable, "(not a failure)"),
        ("skipped (too long)", summary.skipped, f"(over {max_length:,} characters; not given to RDKit)"),
        ("RDKit read a prefix", summary.rdkit_prefix, "(a failure)"),
        ("tokenization failed", summary.tokenization_failed, ""),
        ("unreadable records", len(unreadable), ""),
        ("failures", len(summary.failures) + len(unreadable), ""),
    ]
    for name, value, note in rows:
        print(f"  {name:<24}{value:>10,}  {note}".rstrip())
    shown = 0
    for number, report in summary.failures:
        if shown >= args.show:
            break
        shown += 1
        what = "not exact" if not report.exact else "another molecule"
        detail = f" ({report.error})" if report.error else ""
        print(f"  record {number}: {what}: {_clip(report.input)} -> {_clip(report.output)}{detail}")
    for item in unreadable[: max(0, args.show - shown)]:
        print(f"  record {item['record']}: unreadable: {item['error']}")
    hidden = len(summary.failures) + len(unreadable) - args.show
    if hidden > 0:
        print(f"  ... {hidden} more" + (f" in {args.report}" if args.report else "; pass --report FILE to list them all"))
    if args.report:
        with open(args.report, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    return EXIT_FAILED if summary.failures or unreadable else EXIT_OK


def _clip(text: str | None, width: int = 60) -> str:
    if text is None:
        return "(nothing)"
    shown = visible(text)
    return shown if len(shown) <= width else shown[: width - 3] + "..."

