"""The ``chemtok`` command line: tokenize datasets, check round trips, inspect a string.

::

    chemtok tokenize molecules.smi.gz -o molecules.parquet
    chemtok tokenize corpus.jsonl.gz --column text --modality mixed -o corpus.bin --on-error skip --errors bad.jsonl
    zcat big.smi.gz | chemtok tokenize - --input-format smi -o -  > big.jsonl
    chemtok validate molecules.smi --report report.json
    chemtok inspect "Aspirin is [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES]."

``main(argv)`` is what the console script, ``python -m chemtok`` and the tests call; it
returns the exit status instead of raising ``SystemExit``:

* ``0``: done. Under ``--on-error skip`` failed records are reported (summary,
  ``--errors``) but do not change the status.
* ``1``: a record failed under ``--on-error raise`` (no output is left behind), a
  round trip failed in ``validate``, ``inspect`` could not tokenize its string, or an
  input could not be read.
* ``2``: a usage problem: bad arguments, an unknown extension, a modality that cannot
  be inferred, a missing file, or a missing optional dependency (RDKit).

Heavy modules (numpy, pyarrow, tokenizers, RDKit) are imported inside the subcommands,
so ``chemtok --help`` starts instantly.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator, Sequence

from chemtok import __version__

if TYPE_CHECKING:
    import numpy as np

    from chemtok.writers import Writer

__all__ = ["main", "build_parser", "load_tokenizer", "resolve_modality", "MODALITIES"]

#: Values of ``--modality``; ``mixed`` is the marker router over text.
MODALITIES = ("smiles", "inchi", "protein", "dna", "text", "mixed")
#: Input formats ``--input-format`` accepts (as in :mod:`chemtok.io`).
INPUT_FORMATS = ("smi", "txt", "csv", "tsv", "jsonl", "fasta", "parquet")
ON_ERROR_CHOICES = ("raise", "skip", "fallback")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

#: Records per chunk: bounded memory, and big enough that per-batch costs vanish.
DEFAULT_CHUNK_SIZE = 32768
#: Failures printed on stderr under ``skip`` when there is no ``--errors`` file.
_SHOWN_FAILURES = 10

_PROG = "chemtok"


class UsageError(Exception):
    """A problem with the command line or the environment: exit status 2."""


class InputError(Exception):
    """An input could not be read (corrupt gzip, I/O error) or an output written: exit status 1."""


def _err(message: str) -> None:
    print(f"{_PROG}: {message}", file=sys.stderr)


# -- the parser ---------------------------------------------------------------------------


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=min(100, shutil.get_terminal_size((80, 24)).columns))


_TOKENIZE_EPILOG = """\
inputs (by extension, optionally .gz; '-' reads standard input):
  .smi .smiles .rsmi   one record per line, the first whitespace-separated field
  .txt                 one record per line, the whole line
  .csv .tsv            the --column column (default: the first)
  .jsonl               the --column field
  .parquet             the --column column
  .fasta .fa .faa .fna the sequence of each entry
  The modality follows from .smi/.smiles/.rsmi (smiles), .faa (protein), .fna (dna)
  or a --column named smiles/inchi; otherwise pass --modality.

outputs (by extension of -o):
  .parquet    columns record (int64), ids (list<uint32>), source (several inputs)
  .jsonl      {"record": n, "ids": [...]} per line (.jsonl.gz compressed; '-' = stdout)
  .npy        OUT.npy ids uint32 + OUT.offsets.npy int64 + OUT.records.npy int64
  .bin        OUT.bin + OUT.idx in Megatron-LM's indexed-dataset layout
  The chemtok version, modality, grammar and vocabulary fingerprint go into the
  Parquet metadata (key "chemtok") or OUT.meta.json.

Every record keeps its 1-based number in its input; empty lines are records with no
tokens. Under --on-error skip, written + failed == read, always.

examples:
  chemtok tokenize ../shared/data/smiles/moleculenet_bace.smi.gz -o bace.parquet
  chemtok tokenize data.csv --column smiles -o data.npy --on-error skip --errors bad.jsonl
  zcat big.smi.gz | chemtok tokenize - --input-format smi -o big.bin --jobs 8
"""


def _add_tokenize(sub: Any) -> None:
    p = sub.add_parser(
        "tokenize",
        help="tokenize files of records into token ids (Parquet, JSON Lines, .npy, .bin)",
        description="Tokenize every record of the inputs, streaming in bounded memory.",
        epilog=_TOKENIZE_EPILOG,
        formatter_class=_Formatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="input files, or '-' for standard input")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT",
        help="output file; its extension picks the format (.parquet .jsonl .jsonl.gz .npy .bin, '-' = JSON Lines on stdout)",
    )
    p.add_argument(
        "--modality", choices=MODALITIES,
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
    p.add_argument("--errors", metavar="ERRORS.jsonl", help='write each failing record as {"record", "input", "error", "position", "text"}')
    p.add_argument(
        "--jobs", type=_positive_int, metavar="N",
        help="threads for encoding (default: all cores); the native engine and the text model use them, "
        "the pure-Python engine runs on one",
    )
    p.add_argument("--tokens", action="store_true", help="JSON Lines only: add the token strings to each row")
    p.add_argument(
        "--strict-markers", action=argparse.BooleanOptionalAction, default=True,
        help="mixed: unknown, unclosed or nested markers fail the record (default); --no-strict-markers keeps them as text",
    )
    p.add_argument("--engine", choices=("auto", "native", "python"), default="auto", help="tokenizer engine (default: native when built)")
    p.add_argument(
        "--smiles-model", default="atom", metavar="MODEL",
        help="SMILES model for smiles and mixed: atom (default), compact (shipped learned merges), or a directory from 'chemtok train smiles'",
    )
    p.add_argument("--chunk-size", type=_positive_int, default=DEFAULT_CHUNK_SIZE, metavar="N", help=f"records per batch (default {DEFAULT_CHUNK_SIZE})")
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    p.set_defaults(handler=_cmd_tokenize)


def _add_validate(sub: Any) -> None:
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
        formatter_class=_Formatter,
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
    p.set_defaults(handler=_cmd_validate)


def _add_inspect(sub: Any) -> None:
    p = sub.add_parser(
        "inspect",
        help="show how a string is tokenized: boundaries, modality and id of each token",
        description="Print the segmentation of one string: the string cut at token boundaries, then one row per token.",
        epilog='examples:\n  chemtok inspect "Aspirin is [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES]."\n'
        '  chemtok inspect --modality smiles "C[C@@H](N)C(=O)O"\n',
        formatter_class=_Formatter,
    )
    p.add_argument("string", metavar="STRING", help="the string to tokenize ('-' reads it from standard input)")
    p.add_argument("--modality", choices=MODALITIES, default="mixed", help="default: mixed (the marker router)")
    p.add_argument("--tokenizer", metavar="DIR", help="tokenizer.json for the text model (text or mixed)")
    p.add_argument("--strict-markers", action=argparse.BooleanOptionalAction, default=True, help="mixed: fail on bad markers (default)")
    p.add_argument("--engine", choices=("auto", "native", "python"), default="auto", help="tokenizer engine")
    p.add_argument("--smiles-model", default="atom", metavar="MODEL", help="atom (default), compact, or a trained model directory")
    p.set_defaults(handler=_cmd_inspect)


def _add_bench(sub: Any, bench: Any) -> None:
    """``bench`` belongs to :mod:`chemtok.bench`; it is imported only when asked for."""
    if bench is None:
        sub.add_parser("bench", help="token efficiency against GPT-2, Llama or any tokenizer.json", add_help=False)
        return
    p = sub.add_parser(
        "bench",
        help="token efficiency against GPT-2, Llama or any tokenizer.json",
        description=(bench.__doc__ or "").strip().splitlines()[0] if bench.__doc__ else None,
        formatter_class=_Formatter,
    )
    bench.add_arguments(p)
    p.set_defaults(handler=bench.run)


def _add_train(sub: Any) -> None:
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
        formatter_class=_Formatter,
    )
    p.add_argument("modality", choices=("smiles",), help="what to train (only smiles for now)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="training files (any input format tokenize reads)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory (or .json file) for the model")
    p.add_argument("--vocab-size", type=_positive_int, required=True, metavar="N",
                   help="size of the SMILES vocabulary: atom-level tokens plus merged ones")
    p.add_argument("--column", metavar="NAME", help="the column or field holding the SMILES")
    p.add_argument("--exclude", nargs="+", default=[], metavar="FILE",
                   help="hold out: strings found in these files are left out of training")
    p.add_argument("--min-frequency", type=_positive_int, default=2, metavar="N", help="least count of a merged pair (default 2)")
    p.add_argument("--max-records", type=_positive_int, metavar="N", help="train on a seeded sample of N strings")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.set_defaults(handler=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
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
            except ValueError as err:
                raise UsageError(str(err)) from None

    held_out = set(strings(args.exclude))
    texts = [t for t in strings(args.inputs) if t not in held_out]
    if not texts:
        raise UsageError("no training strings left (check the inputs and --exclude)")
    try:
        model = train_compact_model(
            texts, args.vocab_size, min_frequency=args.min_frequency, max_records=args.max_records, seed=args.seed
        )
    except ValueError as err:
        raise UsageError(str(err)) from None
    model.info["inputs"] = [_label(p) for p in args.inputs]
    model.info["excluded"] = [_label(p) for p in args.exclude]
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


# Subcommands in the order --help lists them.
_SUBCOMMANDS: tuple[Callable[[Any], None], ...] = (_add_tokenize, _add_validate, _add_inspect, _add_train)


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
        prog=_PROG,
        description="Chemistry-aware tokenization of SMILES, InChI, proteins, DNA and scientific text.",
        epilog="Run 'chemtok COMMAND --help' for the options of a command.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and engine, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub)
    _add_bench(sub, bench)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


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
    bench = None
    if _command_of(args_list) == "bench":
        try:
            bench = importlib.import_module("chemtok.bench")
        except ModuleNotFoundError as err:
            if err.name != "chemtok.bench":
                raise
            _err("the bench subcommand is not available in this installation (chemtok/bench.py is missing)")
            return EXIT_USAGE
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
    except UsageError as err:
        _err(str(err))
        return EXIT_USAGE
    except InputError as err:
        _err(str(err))
        return EXIT_FAILED
    except KeyboardInterrupt:
        _err("interrupted (an unfinished output is removed, never left half-written)")
        return 130


# -- tokenizers and modalities ---------------------------------------------------------


def load_tokenizer(
    modality: str,
    tokenizer_dir: str | os.PathLike[str] | None = None,
    *,
    engine: str = "auto",
    strict_markers: bool = True,
    smiles_model: str = "atom",
) -> Any:
    """The tokenizer for ``modality``, optionally with a saved model from ``tokenizer_dir``.

    ``smiles_model`` picks the SMILES model (``atom``, ``compact`` or a directory written
    by ``chemtok train smiles``) for ``smiles`` and for SMILES segments of ``mixed``.

    The one place the CLI builds tokenizers. Today ``tokenizer_dir`` is a directory
    holding a Hugging Face ``tokenizer.json`` (or the file itself), used as the text
    model of ``text`` or ``mixed``; the grammar modalities always use the built-in
    grammars and vocabularies.

    Raises:
        UsageError: unknown modality, an unusable ``tokenizer_dir``, or
            ``engine="native"`` when the native core is not built.
    """
    import chemtok

    text_model = None
    if tokenizer_dir is not None:
        path = Path(tokenizer_dir)
        file = path / "tokenizer.json" if path.is_dir() else path
        if modality not in ("text", "mixed"):
            raise UsageError(
                f"--tokenizer loads a text model (tokenizer.json) for --modality text or mixed; "
                f"--modality {modality} always uses chemtok's built-in {modality} grammar"
            )
        if not file.is_file():
            raise UsageError(f"--tokenizer {tokenizer_dir}: no tokenizer.json found there")
        try:
            text_model = chemtok.TextTokenizer.from_file(file)
        except chemtok.ChemtokError as err:
            raise UsageError(f"--tokenizer {tokenizer_dir}: {err}") from None
    try:
        if modality == "text":
            return text_model if text_model is not None else chemtok.TextTokenizer()
        smiles = chemtok.SmilesTokenizer(engine=engine, model=smiles_model)  # type: ignore[arg-type]
        if modality == "mixed":
            return chemtok.ChemTokenizer(
                text=text_model, smiles=smiles, strict_markers=strict_markers, engine=engine  # type: ignore[arg-type]
            )
        if modality == "smiles":
            return smiles
        classes = {
            "inchi": chemtok.InchiTokenizer,
            "protein": chemtok.ProteinTokenizer,
            "dna": chemtok.DnaTokenizer,
        }
        if modality not in classes:
            raise UsageError(f"unknown modality {modality!r}; choose one of {', '.join(MODALITIES)}")
        return classes[modality](engine=engine)
    except (ImportError, ValueError, chemtok.GrammarError) as err:  # no native core; a bad --smiles-model
        raise UsageError(str(err)) from None


def _modality_of_column(column: str | None) -> str | None:
    if not column:
        return None
    name = column.lower()
    if name == "smiles" or name.endswith("_smiles") or name.startswith("smiles_"):
        return "smiles"
    if name == "inchi" or name.endswith("_inchi"):
        return "inchi"
    return None


def resolve_modality(
    requested: str | None, inputs: Sequence[str], *, column: str | None = None, input_format: str | None = None
) -> str:
    """The modality to tokenize ``inputs`` with: ``--modality``, else what the files say.

    ``.smi``/``.smiles``/``.rsmi`` mean SMILES, ``.faa`` protein, ``.fna`` DNA; a
    column named ``smiles``/``*_smiles`` or ``inchi`` says so too; ``--input-format
    smi`` means SMILES. Anything else (``.csv``, ``.txt``, ``.fasta``, stdin ...) needs
    ``--modality``.

    Raises:
        UsageError: the inputs do not say, or say different things.
    """
    if requested:
        return requested
    from chemtok.io import modality_for_format

    by_column = _modality_of_column(column)
    implied: dict[str, str | None] = {}
    for path in inputs:
        if input_format is not None:
            implied[path] = "smiles" if input_format == "smi" else None
        else:
            implied[path] = None if path == "-" else modality_for_format(path)
    known = {m for m in implied.values() if m is not None}
    if len(known) > 1:
        listed = ", ".join(f"{p}: {m}" for p, m in implied.items() if m)
        raise UsageError(f"the inputs imply different modalities ({listed}); tokenize them separately or pass --modality")
    if known and None not in implied.values():
        return known.pop()
    if by_column is not None:
        return by_column
    if known:
        return known.pop()
    unclear = next(p for p, m in implied.items() if m is None)
    shown = "standard input" if unclear == "-" else repr(unclear)
    raise UsageError(
        f"cannot tell the modality of {shown} from its extension; "
        f"pass --modality {{{','.join(MODALITIES)}}} (mixed = text with [START_SMILES]-style markers)"
    )


def _describe(tok: Any, modality: str) -> dict[str, Any]:
    """What the output records about the tokenizer."""
    from chemtok.router import ChemTokenizer
    from chemtok.text import TextTokenizer

    text_model: str | None
    engine: str | None
    if isinstance(tok, ChemTokenizer):
        text_model, engine = tok.text.source, tok.modalities["smiles"].engine
    elif isinstance(tok, TextTokenizer):
        text_model, engine = tok.source, "tokenizers"
    else:
        text_model, engine = None, getattr(tok, "engine", None)
    return {
        "chemtok_version": __version__,
        "modality": modality,
        "tokenizer": type(tok).__name__,
        "grammar": getattr(tok, "grammar_tag", None) or None,
        "text_model": text_model,
        "vocab_size": tok.vocab_size,
        "vocab_fingerprint": tok.fingerprint,
        "engine": engine,
    }


# -- reading in chunks ---------------------------------------------------------------------


@dataclass
class _Chunk:
    """Consecutive records of one input: ``texts[i]`` is record ``numbers[i]``.

    ``problems`` maps the index of each unreadable record (``texts[i] is None``) to
    ``(why, raw bytes)``.
    """

    numbers: Sequence[int]
    texts: list[str | None]
    problems: dict[int, tuple[str, bytes | None]] = field(default_factory=dict)

    def number_array(self) -> np.ndarray:
        import numpy as np

        if isinstance(self.numbers, range):
            return np.arange(self.numbers.start, self.numbers.stop, dtype=np.int64)
        return np.asarray(self.numbers, dtype=np.int64)


def _open_input(path: str) -> IO[bytes]:
    import gzip

    if path == "-":
        stream: IO[bytes] = sys.stdin.buffer
        head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
    else:
        file = open(path, "rb")
        head = file.peek(2)[:2]
        stream = file
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=stream)  # type: ignore[return-value]
    return stream


# Whitespace other than the line break: where a .smi line has a second field.
_INNER_SPACE = re.compile(r"[^\S\n]")


def _read_lines(path: str, fmt: str, chunk_size: int) -> Iterator[_Chunk]:
    """The fast reader for one-record-per-line formats (``smi``, ``txt``).

    Reads megabyte blocks and decodes each block at once; only a block with bad bytes
    is decoded line by line, and only a ``.smi`` block with spaces or tabs is split
    line by line. Gives exactly what :func:`chemtok.io.read_records` gives (same
    numbering, same first-field rule, same messages for bad bytes): a test holds the
    two together.
    """
    from chemtok.io import _decode  # the one definition of a bad-bytes record

    smi = fmt == "smi"
    first = 1  # number of texts[0]
    texts: list[str | None] = []
    problems: dict[int, tuple[str, bytes | None]] = {}

    def add(body: bytes) -> None:
        try:
            decoded = body.decode("utf-8")
        except UnicodeDecodeError:
            for raw in body.split(b"\n"):
                record = _decode(0, raw.rstrip(b"\r"))
                if record.text is None:
                    problems[len(texts)] = (record.error or "unreadable record", record.raw)
                    texts.append(None)
                elif smi:
                    fields = record.text.split(None, 1)
                    texts.append(fields[0] if fields else "")
                else:
                    texts.append(record.text)
            return
        lines = decoded.split("\n")
        if smi:
            if _INNER_SPACE.search(decoded):  # names after the SMILES, or CRLF line ends
                lines = [fields[0] if (fields := line.split(None, 1)) else "" for line in lines]
        elif "\r" in decoded:
            lines = [line.rstrip("\r") for line in lines]
        texts.extend(lines)

    def flush(final: bool) -> Iterator[_Chunk]:
        nonlocal first, texts, problems
        while len(texts) >= chunk_size or (final and texts):
            size = min(chunk_size, len(texts))
            taken = {i: p for i, p in problems.items() if i < size} if problems else {}
            yield _Chunk(range(first, first + size), texts[:size], taken)
            first += size
            texts = texts[size:]
            if problems:
                problems = {i - size: p for i, p in problems.items() if i >= size}

    try:
        with _open_input(path) as handle:
            pending = b""
            while True:
                block = handle.read(1 << 20)
                if not block:
                    break
                block = pending + block
                cut = block.rfind(b"\n")
                if cut < 0:
                    pending = block
                    continue
                pending = block[cut + 1 :]
                add(block[:cut])
                yield from flush(False)
            if pending:
                add(pending)
    except (OSError, EOFError) as err:
        raise InputError(f"cannot read {_label(path)}: {err}") from None
    yield from flush(True)


def _read_generic(path: str, fmt: str, column: str | None, chunk_size: int) -> Iterator[_Chunk]:
    """Any format :func:`chemtok.io.read_records` reads, grouped into chunks."""
    from chemtok.io import read_records

    chunk: _Chunk = _Chunk([], [])
    records = read_records(path, column=column, format=fmt)
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except ValueError as err:  # a missing column/field: the command line is wrong
            raise UsageError(str(err)) from None
        except (OSError, EOFError) as err:
            raise InputError(f"cannot read {_label(path)}: {err}") from None
        if record.text is None:
            chunk.problems[len(chunk.texts)] = (record.error or "unreadable record", record.raw)
        chunk.numbers.append(record.number)  # type: ignore[attr-defined]
        chunk.texts.append(record.text)
        if len(chunk.texts) >= chunk_size:
            yield chunk
            chunk = _Chunk([], [])
    if chunk.texts:
        yield chunk


def _read_chunks(path: str, fmt: str, column: str | None, chunk_size: int) -> Iterator[_Chunk]:
    if fmt in ("smi", "txt"):
        return _read_lines(path, fmt, chunk_size)
    return _read_generic(path, fmt, column, chunk_size)


def _label(path: str) -> str:
    return "standard input" if path == "-" else path


def _input_format(path: str, forced: str | None) -> str:
    from chemtok.io import detect_format

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
                f"(known: .smi .smiles .rsmi .txt .csv .tsv .jsonl .parquet .fasta .fa .faa .fna, optionally .gz); "
                f"pass --input-format"
            ) from None
    if fmt == "parquet" and path == "-":
        raise UsageError("Parquet cannot be read from standard input; pass the file path")
    return fmt


def _check_inputs(inputs: Sequence[str], forced: str | None, column: str | None) -> list[str]:
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
        if fmt in ("jsonl", "parquet") and not column:
            raise UsageError(f"{_label(path)} is {'JSON Lines' if fmt == 'jsonl' else 'Parquet'}: pass --column NAME for the field holding the records")
        formats.append(fmt)
    return formats


# -- progress ------------------------------------------------------------------------------


class _Progress:
    """A one-line progress display on a terminal: records, records/s, and ETA when known."""

    def __init__(self, stream: IO[str], label: str) -> None:
        self.stream = stream
        self.label = label
        self.total: int | None = None  # set by the counting thread when it finishes
        self.start = time.monotonic()
        self._last = 0.0
        self._width = max(40, min(100, shutil.get_terminal_size((80, 24)).columns) - 1)

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.2:
            return
        self._last = now
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        line = f"{self.label}: {done:,} records  {rate:,.0f}/s"
        total = self.total
        if total and total >= done:
            fraction = done / total if total else 1.0
            bar_width = 20
            filled = int(bar_width * fraction)
            eta = (total - done) / rate if rate > 0 else 0.0
            line += f"  [{'#' * filled}{'.' * (bar_width - filled)}] {100 * fraction:3.0f}%  ETA {_clock(eta)}"
        self.stream.write("\r" + line[: self._width].ljust(self._width))
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r" + " " * self._width + "\r")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _count_records(paths: Sequence[str], formats: Sequence[str], stop: threading.Event) -> int | None:
    """Count the records of the inputs ahead of the tokenizer, for the ETA (files only)."""
    total = 0
    for path, fmt in zip(paths, formats):
        if path == "-":
            return None
        if fmt == "parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(path).metadata.num_rows
            continue
        lines = entries = 0
        last = b"\n"  # as if a line ended just before the file: a leading ">" counts
        with _open_input(path) as handle:
            while block := handle.read(1 << 22):
                if stop.is_set():
                    return None
                lines += block.count(b"\n")
                entries += (last + block).count(b"\n>")
                last = block[-1:]
        if last != b"\n":
            lines += 1
        if fmt == "fasta":
            total += entries
        elif fmt in ("csv", "tsv"):
            total += max(0, lines - 1)
        else:
            total += lines
    return total


# -- encoding with per-record failures -----------------------------------------------------


@dataclass
class _Failure:
    record: int
    source: str
    error: str
    position: int | None
    text: str | None
    modality: str | None = None
    hint: str = ""
    excerpt: str = ""


class _Encoder:
    """Encode chunks fast, and find exactly which records fail when a batch fails.

    A chunk is first encoded in one ``encode_batch`` call. Only when that raises does
    the encoder look for the failing records: the error names the failing string, so
    the records before it are encoded as one batch and the search resumes after it,
    with a batch size that halves after each failure and doubles after each success.
    Clean chunks cost one call; a chunk full of bad records degrades to per-record
    calls, never to quadratic work.
    """

    def __init__(self, tok: Any, policy: str, num_threads: int | None) -> None:
        import inspect

        from chemtok.text import TextTokenizer

        self.tok = tok
        # The text model has no byte fallback of its own: under "fallback" it encodes
        # strictly and the CLI skips what it cannot take (only lone surrogates, which
        # decoded input never contains, or a model that does not round-trip).
        self.policy = "raise" if policy == "skip" or (policy == "fallback" and isinstance(tok, TextTokenizer)) else policy
        self.num_threads = num_threads
        self.arrays = "return_arrays" in inspect.signature(tok.encode_batch).parameters

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if self.arrays:
            return self.tok.encode_batch(texts, on_error=self.policy, num_threads=self.num_threads, return_arrays=True)  # type: ignore[no-any-return]
        from chemtok.base import rows_to_arrays

        return rows_to_arrays(self.tok.encode_batch(texts, on_error=self.policy, num_threads=self.num_threads))

    def encode_checked(
        self, texts: list[str], *, stop_at_first: bool
    ) -> tuple[list[tuple[int, int, np.ndarray, np.ndarray]], list[tuple[int, Exception]]]:
        """Encode ``texts``; return the encoded pieces ``(start, end, ids, offsets)`` and failures.

        With ``stop_at_first``, stop at the first failure in input order.
        """
        from chemtok.errors import TokenizationError

        n = len(texts)
        if n == 0:
            return [], []
        try:
            ids, offsets = self.encode(texts)
            return [(0, n, ids, offsets)], []
        except TokenizationError as err:
            first = err
        pieces: list[tuple[int, int, np.ndarray, np.ndarray]] = []
        failures: list[tuple[int, Exception]] = []
        known: dict[int, Exception] = {}
        size = n
        located = _locate(texts, first, 0, n)
        if located is None:
            size = max(1, n // 2)
        else:
            known[located] = first
        pos = 0
        while pos < n:
            if pos in known:
                failures.append((pos, known.pop(pos)))
                pos += 1
                size = max(1, size // 2)
                if stop_at_first:
                    break
                continue
            end = min(n, pos + size)
            later = [k for k in known if k > pos]
            if later:
                end = min(end, min(later))
            try:
                ids, offsets = self.encode(texts[pos:end])
            except TokenizationError as err:
                index = _locate(texts, err, pos, end)
                if index is not None:
                    known[index] = err
                elif end - pos == 1:
                    known[pos] = err
                else:
                    size = max(1, (end - pos) // 2)
                continue
            pieces.append((pos, end, ids, offsets))
            pos = end
            size = min(n, size * 2)
        return pieces, failures


def _locate(texts: list[str], err: Exception, start: int, end: int) -> int | None:
    """The index in ``texts[start:end]`` of the string ``err`` is about (first equal one)."""
    text = getattr(err, "text", None)
    if text is None:
        return None
    for i in range(start, end):
        if texts[i] is text:
            return i
    for i in range(start, end):
        if texts[i] == text:
            return i
    return None


def _join_pieces(
    pieces: list[tuple[int, int, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(kept indices, ids, offsets)`` from encoded pieces (in order)."""
    import numpy as np

    if len(pieces) == 1:
        start, end, ids, offsets = pieces[0]
        return np.arange(start, end), ids, offsets
    if not pieces:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32), np.zeros(1, dtype=np.int64)
    kept = np.concatenate([np.arange(s, e) for s, e, _, _ in pieces])
    ids = np.concatenate([i[o[0] : o[-1]] for _, _, i, o in pieces]).astype(np.uint32, copy=False)
    lengths = np.concatenate([np.diff(o) for _, _, _, o in pieces])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return kept, ids, offsets


def _failure_of(err: Exception | None, number: int, source: str, text: str | None, problem: str | None = None) -> _Failure:
    from chemtok.errors import MarkerError, TokenizationError

    if err is None:  # an unreadable record
        position = None
        if problem and " at byte " in problem:
            try:
                position = int(problem.split(" at byte ", 1)[1].split(":", 1)[0])
            except ValueError:
                position = None
        return _Failure(number, source, problem or "unreadable record", position, None, None)
    lines = str(err).splitlines()
    failure = _Failure(number, source, lines[0], getattr(err, "position", None), text, getattr(err, "modality", None))
    if isinstance(err, TokenizationError):
        failure.excerpt = "\n".join(lines[1:3])
        failure.hint = (
            "Markers must pair up; pass --no-strict-markers to keep unknown or unbalanced markers as text."
            if isinstance(err, MarkerError)
            else "Pass --on-error fallback to keep uncovered characters as byte-fallback tokens (lossless),"
            " or --on-error skip --errors FILE to leave failing records out and list them."
        )
    return failure


# -- tokenize --------------------------------------------------------------------------------


@dataclass
class _Counts:
    read: int = 0
    written: int = 0
    failed: int = 0
    tokens: int = 0
    shown: int = 0


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _cmd_tokenize(args: argparse.Namespace) -> int:
    from chemtok.writers import output_format

    inputs: list[str] = list(args.inputs)
    formats = _check_inputs(inputs, args.input_format, args.column)
    try:
        out_format = output_format(args.output)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.tokens and out_format != "jsonl":
        raise UsageError(f"--tokens needs a JSON Lines output (.jsonl, .jsonl.gz or '-'), not {args.output!r}")
    if args.output != "-":
        parent = Path(args.output).resolve().parent
        if not parent.is_dir():
            raise UsageError(f"the directory of {args.output!r} does not exist")
        for path in inputs:
            if path != "-" and _same_file(path, args.output):
                raise UsageError(f"the output {args.output!r} is also an input")
    if args.errors:
        for path in inputs:
            if path != "-" and _same_file(path, args.errors):
                raise UsageError(f"the errors file {args.errors!r} is also an input")
        if args.output != "-" and _same_file(args.errors, args.output):
            raise UsageError("--errors and --output name the same file")
    modality = resolve_modality(args.modality, inputs, column=args.column, input_format=args.input_format)

    with _ThreadsEnv(args.jobs):
        tok = load_tokenizer(
            modality, args.tokenizer, engine=args.engine, strict_markers=args.strict_markers, smiles_model=args.smiles_model
        )
        return _run_tokenize(args, tok, modality, inputs, formats)


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


@dataclass
class _Encoded:
    """One chunk after encoding: rows to write and failures to report, in record order."""

    kept: np.ndarray  # indices into the chunk of the rows written
    ids: np.ndarray
    offsets: np.ndarray
    failures: list[_Failure]
    stop: _Failure | None = None  # under raise: the failure that ends the run
    stop_index: int = 0


def _encode_chunk(encoder: _Encoder, chunk: _Chunk, path: str, policy: str) -> _Encoded:
    import numpy as np

    texts = chunk.texts
    numbers = chunk.numbers
    if policy == "raise":
        # Encode up to the first unreadable record; stop at the first failure.
        end = min(chunk.problems) if chunk.problems else len(texts)
        pieces, failures = encoder.encode_checked(texts[:end], stop_at_first=True)  # type: ignore[arg-type]
        kept, ids, offsets = _join_pieces(pieces)
        if failures:
            index, err = failures[0]
            stop = _failure_of(err, numbers[index], path, texts[index])
            return _Encoded(kept, ids, offsets, [], stop, index)
        if end < len(texts):
            stop = _failure_of(None, numbers[end], path, None, chunk.problems[end][0])
            return _Encoded(kept, ids, offsets, [], stop, end)
        return _Encoded(kept, ids, offsets, [])
    if chunk.problems:
        valid = [i for i, t in enumerate(texts) if t is not None]
        pieces, found = encoder.encode_checked([texts[i] for i in valid], stop_at_first=False)  # type: ignore[misc]
        kept_valid, ids, offsets = _join_pieces(pieces)
        kept = np.asarray(valid, dtype=np.int64)[kept_valid]
        found = [(valid[i], err) for i, err in found]
    else:
        pieces, found = encoder.encode_checked(texts, stop_at_first=False)  # type: ignore[arg-type]
        kept, ids, offsets = _join_pieces(pieces)
    bad = [(i, _failure_of(err, numbers[i], path, texts[i])) for i, err in found]
    bad += [(i, _failure_of(None, numbers[i], path, None, why)) for i, (why, _) in chunk.problems.items()]
    bad.sort(key=lambda item: item[0])
    return _Encoded(kept, ids, offsets, [failure for _, failure in bad])


def _run_tokenize(args: argparse.Namespace, tok: Any, modality: str, inputs: list[str], formats: list[str]) -> int:
    from chemtok.writers import open_writer

    policy = args.on_error
    encoder = _Encoder(tok, policy, args.jobs)
    metadata = {**_describe(tok, modality), "on_error": policy}
    counts = _Counts()
    started = time.monotonic()
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    progress = _Progress(sys.stderr, "tokenize") if show_progress else None
    stop_counting = threading.Event()
    if progress is not None:
        _start_counter(inputs, formats, progress, stop_counting)

    def all_chunks() -> Iterator[tuple[int, str, _Chunk]]:
        for source_index, (path, fmt) in enumerate(zip(inputs, formats)):
            for chunk in _read_chunks(path, fmt, args.column, args.chunk_size):
                yield source_index, path, chunk

    errors_file: IO[str] | None = None
    writer: Writer | None = None
    background: _WriterThread | None = None
    # Three stages overlap: a thread reads and decodes the next chunks, this thread
    # encodes (the native engine and the text model release the GIL), a thread writes.
    chunks = _Prefetch(all_chunks())
    try:
        writer = open_writer(
            args.output,
            metadata=metadata,
            sources=list(inputs),
            vocab_size=tok.vocab_size,
            with_tokens=args.tokens,
            token_of=tok.id_to_token,
        )
        background = _WriterThread(writer)
        if args.errors:
            errors_file = open(args.errors, "w", encoding="utf-8")

        def report(failure: _Failure) -> None:
            counts.failed += 1
            if errors_file is not None:
                entry = {
                    "record": failure.record,
                    "input": failure.source,
                    "error": failure.error,
                    "position": failure.position,
                    "modality": failure.modality,
                    "text": failure.text,
                }
                errors_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            elif policy != "raise" and counts.shown < _SHOWN_FAILURES:
                counts.shown += 1
                _clear(progress)
                _err(f"skipped record {failure.record} of {_label(failure.source)}: {failure.error}")

        for source_index, path, chunk in chunks:
            done = _encode_chunk(encoder, chunk, path, policy)
            for failure in done.failures:
                report(failure)
            if done.stop is not None:
                counts.read += done.stop_index + 1
                report(done.stop)
                background.stop()
                writer.abort()
                _clear(progress)
                _print_stop(done.stop, args.output, counts)
                return EXIT_FAILED
            counts.read += len(chunk.texts)
            if len(done.kept):
                records = chunk.number_array()[done.kept]
                background.write(records, source_index, done.ids, done.offsets)
                counts.written += len(records)
                counts.tokens += int(done.offsets[-1] - done.offsets[0])
            if progress is not None:
                progress.update(counts.read)
        background.close()
        written_paths = writer.finalize({"records_read": counts.read, "records_failed": counts.failed})
    except BrokenPipeError:
        # The reader of standard output went away (e.g. `| head`): stop quietly.
        if background is not None:
            background.stop()
        if writer is not None:
            writer.abort()
        _quiet_stdout()
        return EXIT_FAILED
    except BaseException as err:
        if background is not None:
            background.stop()
        if writer is not None:
            writer.abort()
        if isinstance(err, OSError):  # a full disk, a vanished directory ...
            raise InputError(f"cannot write {args.output}: {err}; nothing was kept") from err
        raise
    finally:
        chunks.close()
        stop_counting.set()
        if errors_file is not None:
            errors_file.close()
    _clear(progress)
    elapsed = time.monotonic() - started
    where = "standard output" if args.output == "-" else written_paths[0].name
    rate = counts.read / elapsed if elapsed > 0 else 0.0
    _err(
        f"read {counts.read}, written {counts.written}, failed {counts.failed} "
        f"({counts.tokens:,} tokens to {where}, {elapsed:.1f} s, {rate:,.0f} records/s)"
    )
    if counts.failed and not args.errors and counts.failed > counts.shown:
        _err(f"{counts.failed - counts.shown} more failures not shown; pass --errors FILE to list them all")
    return EXIT_OK


_END = object()


class _Prefetch:
    """Iterate ``source`` in a background thread, at most ``depth`` items ahead.

    Bounded memory; an exception in the thread is raised here, at the item it replaced.
    ``close()`` stops the thread early (after a failure under ``raise``).
    """

    def __init__(self, source: Iterator[Any], depth: int = 2) -> None:
        import queue

        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._full = queue.Full
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, args=(source,), name="chemtok-read", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except self._full:
                continue
        return False

    def _run(self, source: Iterator[Any]) -> None:
        try:
            for item in source:
                if not self._put((item, None)):
                    return
        except BaseException as err:  # handed to the consumer, raised there
            self._put((None, err))
            return
        self._put((_END, None))

    def __iter__(self) -> _Prefetch:
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        item, err = self._queue.get()
        if err is not None:
            self._done = True
            raise err
        if item is _END:
            self._done = True
            raise StopIteration
        return item

    def close(self) -> None:
        self._stop.set()
        self._done = True
        self._thread.join()


class _WriterThread:
    """Hand chunks to a writer in a background thread (a bounded queue keeps memory flat).

    A writer error is raised in the caller at the next ``write`` or at ``close``.
    """

    def __init__(self, writer: Writer, depth: int = 2) -> None:
        import queue

        self._writer = writer
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="chemtok-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue  # drain after a failure
            try:
                self._writer.write(*item)
            except BaseException as err:
                self._error = err

    def write(self, records: np.ndarray, source: int, ids: np.ndarray, offsets: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((records, source, ids, offsets))

    def close(self) -> None:
        """Wait until every chunk is written; raise the writer's error, if any."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Wait for the thread without raising (the output is about to be discarded)."""
        if self._thread.is_alive():
            self._error = self._error or RuntimeError("stopped")
            self._queue.put(None)
            self._thread.join()


def _start_counter(inputs: list[str], formats: list[str], progress: _Progress, stop: threading.Event) -> None:
    def work() -> None:
        try:
            progress.total = _count_records(inputs, formats, stop)
        except Exception:  # the ETA is a nicety; a problem with it must not stop the run
            progress.total = None

    threading.Thread(target=work, name="chemtok-count", daemon=True).start()


def _clear(progress: _Progress | None) -> None:
    if progress is not None:
        progress.close()


def _print_stop(failure: _Failure, output: str, counts: _Counts) -> None:
    _err(f"record {failure.record} of {_label(failure.source)}: {failure.error}")
    if failure.excerpt:
        print(failure.excerpt, file=sys.stderr)
    if failure.hint:
        print(f"  {failure.hint}", file=sys.stderr)
    elif failure.text is None:
        print("  Pass --on-error skip --errors FILE to leave unreadable records out and list them.", file=sys.stderr)
    nothing = "rows before it may already be on standard output" if output == "-" else f"no output written to {output}"
    _err(f"read {counts.read}, written 0, failed 1 (stopped at the first failure; {nothing})")


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


# -- validate --------------------------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    import array

    formats = _check_inputs([args.input], args.input_format, args.column)
    modality = args.modality
    if modality is None:
        try:
            modality = resolve_modality(None, [args.input], column=args.column, input_format=args.input_format)
        except UsageError:
            raise UsageError(f"cannot tell whether {_label(args.input)} holds SMILES or InChI; pass --modality smiles|inchi") from None
    if modality not in ("smiles", "inchi"):
        raise UsageError(f"validate checks SMILES or InChI, but {_label(args.input)} looks like {modality}; pass --modality smiles|inchi")
    try:
        import rdkit
    except ImportError:
        raise UsageError("validate needs RDKit: pip install 'chemtok[rdkit]'") from None
    from chemtok import validate

    tok = load_tokenizer(modality, engine=args.engine)
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    progress = _Progress(sys.stderr, "validate") if show_progress else None
    numbers = array.array("q")
    unreadable: list[dict[str, Any]] = []
    seen = 0

    def strings() -> Iterator[str]:
        nonlocal seen
        for chunk in _read_chunks(args.input, formats[0], args.column, 4096):
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
    _clear(progress)
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

    print(f"validate {_label(args.input)} ({modality}, {seen:,} records)")
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
    shown = _visible(text)
    return shown if len(shown) <= width else shown[: width - 3] + "..."


# -- inspect -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    modality: str
    id: int
    token: str


def _visible(text: str) -> str:
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


def _inspect_spans(tok: Any, text: str) -> list[_Span]:
    """One row per token, from the tokenizer's ``encode_with_offsets``."""
    enc = tok.encode_with_offsets(text)  # raises TokenizationError (with the caret) for bad input
    return [
        _Span(start, end, modality, token_id, token)
        for token_id, token, (start, end), modality in zip(enc.ids, enc.tokens, enc.offsets, enc.modalities)
    ]


def _cmd_inspect(args: argparse.Namespace) -> int:
    from chemtok.errors import MarkerError, TokenizationError

    text = sys.stdin.read().rstrip("\n") if args.string == "-" else args.string
    tok = load_tokenizer(
        args.modality, args.tokenizer, engine=args.engine, strict_markers=args.strict_markers, smiles_model=args.smiles_model
    )
    try:
        spans = _inspect_spans(tok, text)
    except TokenizationError as err:
        lines = str(err).splitlines()
        _err(lines[0])
        print("\n".join(lines[1:3]), file=sys.stderr)
        if isinstance(err, MarkerError):
            print("  Markers must pair up; --no-strict-markers keeps unknown or unbalanced markers as text.", file=sys.stderr)
        elif args.modality != "mixed":
            print("  Is this the right --modality? (default: mixed, text with [START_SMILES]-style markers)", file=sys.stderr)
        return EXIT_FAILED
    width = max(60, min(120, shutil.get_terminal_size((80, 24)).columns))
    print(f"{args.modality}: {len(spans)} tokens, {len(text)} characters")
    print(f"{type(tok).__name__}, {tok.vocab_size:,} ids, vocabulary fingerprint {tok.fingerprint[:16]}")
    print()
    # The string cut at token boundaries, wrapped between tokens (a token longer than a
    # line is wrapped inside).
    line = ""
    for span in spans:
        piece = _visible(text[span.start : span.end])
        while piece:
            if line and len(line) + len(piece) + 2 > width:
                print(line + "|")
                line = ""
            part, piece = (piece, "") if len(piece) < width else (piece[: width - 1], piece[width - 1 :])
            line = (line + "|" if line else "") + part
    print(line)
    print()
    index_w = max(1, len(str(len(spans) - 1)))
    span_w = max(5, len(f"{len(text)}-{len(text)}"))
    id_w = max(2, len(str(max((s.id for s in spans), default=0))))
    mod_w = max(8, max((len(s.modality) for s in spans), default=0))
    header = f"{'#':>{index_w}}  {'chars':<{span_w}}  {'modality':<{mod_w}}  {'id':>{id_w}}  token"
    print(header)
    room = max(10, width - len(header) + len("token"))
    for i, span in enumerate(spans):
        token = _visible(span.token)
        if len(token) > room:
            token = token[: room - 3] + "..."
        print(f"{i:>{index_w}}  {f'{span.start}-{span.end}':<{span_w}}  {span.modality:<{mod_w}}  {span.id:>{id_w}}  {token}")
    return EXIT_OK
