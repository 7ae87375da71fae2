"""``chemtok annotate``: mark the unmarked chemistry of every record (:func:`chemtok.annotate`).

Reads the inputs with :func:`chemtok.io.readers.read_chunks` (the formats of
``chemtok tokenize``), annotates each record's text and writes it through one
:class:`chemtok.io.tables.TableWriter`: a table input (CSV, TSV, Parquet) written to
a table output (``.parquet``, ``.csv``, ``.tsv``) keeps every column, the annotated
text replacing ``--column`` (or going into a new ``--output-column``); a JSON Lines
input written to JSON Lines keeps each object whole in the same way (every key in
order, every value as it was, no key added); other outputs write the record number
and the text (``{"record": n, "<column>": text}`` in JSON Lines, one record per line
in ``.txt``). Every record is written or reported:
``written + failed == read``; under ``--on-error raise`` an unreadable record stops the
run and nothing is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    start_record_counter,
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
  .parquet .csv .tsv  from CSV/TSV/Parquet inputs: every input column, in order, the
                      annotated text in place of --column (or in a new column after
                      them with --output-column NAME, --column kept as it was);
                      Parquet keeps the column types and records the run under the
                      metadata key "chemtok"; CSV/TSV (.gz: compressed) quote only
                      where needed. Several inputs need the same columns and are
                      written one after the other.
                      From other inputs: columns record, <column> (+ source).
  .jsonl .jsonl.gz    from JSON Lines inputs: each object whole, keys in order and
  ('-' = stdout)      values as they were (written back by json.dumps: spacing and
                      number spelling may change, 1e3 -> 1000.0), the annotated
                      text in place of --column, or with --output-column NAME as
                      a new last key NAME (refused when the first object of an
                      input has NAME; a later object that has it is a failed
                      record). No key is added; several inputs follow each other.
                      An object naming a key twice or holding a number a double
                      cannot hold exactly (1e400) is a failed record.
                      From other inputs: {"record": n, "<column>": annotated text}
                      per line, "source" naming the input when there are several.
  .txt                one annotated record per line (records holding a newline fail)

Every record keeps its 1-based number in its input; a failed record is left out and
reported with its file and number (a table output keeps the order of the rest).
written + failed == read, always. Exit status: 0 success, 1 a failed run (an
unreadable record under raise, or every record failed), 2 a usage error.

examples:
  chemtok annotate abstracts.txt -o abstracts.marked.txt
  chemtok annotate pubchem.parquet --column description -o pubchem.marked.parquet
  chemtok annotate prompts.csv --column prompt --output-column marked -o prompts.marked.csv
  chemtok annotate corpus.jsonl.gz --column text -o marked.jsonl.gz --on-error skip
  chemtok annotate corpus.jsonl --column text --modalities smiles,inchi -o - | head
  chemtok annotate mol_instructions.jsonl --column output --output-column marked -o marked.jsonl
  zcat smolinstruct.jsonl.gz | chemtok annotate - --input-format jsonl --column input -o - | gzip > marked.jsonl.gz
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
    p.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT",
        help="output file: .parquet, .csv, .tsv (keep a table's columns), .jsonl, .jsonl.gz, .txt, or '-' (JSON Lines on stdout)",
    )
    p.add_argument("--column", metavar="NAME", help="the column (CSV/TSV/Parquet) or field (JSON Lines) holding the text")
    p.add_argument(
        "--output-column", metavar="NAME",
        help="table and JSON Lines outputs: write the annotated text to a new column NAME after the input's columns "
        "(a new last key of each JSON Lines object) and keep --column unchanged (default: the annotated text "
        "replaces --column in place)",
    )
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


def run(args: argparse.Namespace) -> int:
    """Run ``chemtok annotate`` with parsed ``args``; return the exit status."""
    from chemtok.annotate import resolve_markers
    from chemtok.detect import DETECTABLE, Detector
    from chemtok.errors import ChemtokError
    from chemtok.io.guards import OutputClashError
    from chemtok.io.tables import table_output_format
    from chemtok.io.writers import check_run_paths

    inputs: list[str] = list(args.inputs)
    formats = check_inputs(inputs, args.input_format, args.column)
    column, _ = choose_column(inputs, formats, args.column, "text")
    try:
        kind = table_output_format(args.output)
    except ValueError as error:
        raise UsageError(f"chemtok annotate {error}") from None
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
    layout = _layout(args, inputs, formats, column or "text", kind)
    try:
        table = resolve_markers(args.markers)
        source = resolve_markers(args.from_markers) if args.from_markers is not None else table
        detector = Detector(modalities=modalities, min_length=args.min_length, rdkit=args.rdkit)
    except (ChemtokError, ImportError, OSError) as error:
        raise UsageError(str(error)) from None
    with interrupt_on_sigterm():
        return _run(args, inputs, formats, column, layout, (source, table), detector)


#: Input formats whose records have columns that a table output keeps.
_COLUMN_INPUTS = ("csv", "tsv", "parquet")
#: Output formats that keep the input's columns.
_COLUMN_OUTPUTS = ("parquet", "csv", "tsv")


@dataclass
class _Layout:
    """What the output's rows hold.

    ``keep``: the input's columns (``schema`` is theirs, the annotated text replacing
    ``field`` or added as ``target``); ``objects``: JSON Lines to JSON Lines, each
    input object whole, the annotated text replacing ``field`` or added as its last
    key ``target`` (no ``schema``); otherwise ``record``, ``field`` and (several inputs)
    ``source``.
    """

    kind: str
    field: str
    target: str
    keep: bool
    schema: Any
    several: bool
    objects: bool = False


def _layout(args: argparse.Namespace, inputs: list[str], formats: list[str], field: str, kind: str) -> _Layout:
    """The output's columns, checked before anything is read or written."""
    import pyarrow as pa

    from chemtok.io.formats import InputError
    from chemtok.io.readers import read_header

    target = args.output_column or field
    tables = [fmt in _COLUMN_INPUTS for fmt in formats]
    keep = kind in _COLUMN_OUTPUTS and all(tables)
    if kind in _COLUMN_OUTPUTS and any(tables) and not keep:
        raise UsageError(
            "the inputs mix tables (CSV/TSV/Parquet, whose columns a table output keeps) with other formats; "
            "annotate them separately"
        )
    jsonl = [fmt == "jsonl" for fmt in formats]
    objects = kind == "jsonl" and all(jsonl)
    if kind == "jsonl" and any(jsonl) and not objects:
        raise UsageError(
            "the inputs mix JSON Lines (whose objects a JSON Lines output keeps whole) with other formats; "
            "annotate them separately"
        )
    if args.output_column is not None and not (keep or objects):
        raise UsageError(
            "--output-column needs table inputs (CSV/TSV/Parquet) and a .parquet, .csv or .tsv output, "
            "or JSON Lines inputs and a .jsonl output"
        )
    several = len(inputs) > 1
    if objects:
        _check_new_key(args.output_column, field, inputs)
        return _Layout(kind, field, target, False, None, several, objects=True)
    if not keep:
        fields = [pa.field("record", pa.int64()), pa.field(field, pa.string())]
        if several:
            fields.append(pa.field("source", pa.string()))
        return _Layout(kind, field, field, False, pa.schema(fields), several)
    if "-" in inputs:
        raise UsageError("a table on standard input has no header to keep ahead of the run: read it from a file")
    schemas = []
    for path, fmt in zip(inputs, formats):
        try:
            if fmt == "parquet":
                import pyarrow.parquet as pq

                schemas.append(pq.read_schema(path).remove_metadata())
            else:
                names = read_header(path, fmt) or []
                schemas.append(pa.schema([pa.field(name, pa.string()) for name in names]))
        except (InputError, OSError, pa.ArrowException) as error:
            raise UsageError(f"cannot read the columns of {path}: {error}") from None
    first = schemas[0]
    if len(set(first.names)) != len(first.names):
        repeated = sorted({name for name in first.names if first.names.count(name) > 1})
        raise UsageError(f"{inputs[0]} names the columns {repeated} more than once: a table output needs unique names")
    for path, schema in zip(inputs[1:], schemas[1:]):
        if not schema.equals(first):
            raise UsageError(
                f"{path} has other columns than {inputs[0]} ({schema.names} and {first.names}, or other types): "
                "one output table needs the same columns; annotate them separately"
            )
    if field not in first.names:
        raise UsageError(f"{inputs[0]} has no column {field!r}; its columns are {first.names}")
    if args.output_column is not None and args.output_column in first.names:
        raise UsageError(f"--output-column {args.output_column!r} is already a column of {inputs[0]}: choose a new name")
    text = pa.field(target, pa.string())
    # Replacing keeps the column where it was; a new one goes after the input's columns.
    schema = first.set(first.get_field_index(field), text) if args.output_column is None else first.append(text)
    return _Layout(kind, field, target, True, schema, several)


def _check_new_key(name: str | None, field: str, inputs: list[str]) -> None:
    """Refuse an ``--output-column`` that the objects already have, where it shows ahead of the run.

    That is ``--column`` itself, or a key of an input's first object; a later object
    holding the key is a failed record of its own (the run reads no further ahead).
    """
    from chemtok.io.formats import InputError
    from chemtok.io.readers import read_header

    if name is None:
        return
    if name == field:
        raise UsageError(f"--output-column {name!r} is --column: leave it out to replace the field in place")
    for path in inputs:
        try:
            keys = read_header(path, "jsonl") or []
        except (InputError, OSError):
            continue  # the run reports what cannot be read, record by record
        if name in keys:
            raise UsageError(f"--output-column {name!r} is already a field of the objects of {path}: choose a new name")


def _rows(layout: _Layout, chunk: Any, kept: list[int], texts: list[str], source: str) -> Any:
    """The output rows of the records ``kept`` (indices into ``chunk``), ``texts`` annotated."""
    import pyarrow as pa

    annotated = pa.array(texts, type=pa.string())
    if not layout.keep:
        columns = [pa.array([chunk.numbers[i] for i in kept], type=pa.int64()), annotated]
        if layout.several:
            columns.append(pa.array([source] * len(kept), type=pa.string()))
        return pa.Table.from_arrays(columns, schema=layout.schema)
    rows = chunk.columns.take(pa.array(kept, type=pa.int64()))
    columns = list(rows.columns)
    if layout.target == layout.field:
        columns[rows.schema.get_field_index(layout.field)] = annotated
    else:
        columns.append(annotated)
    return pa.Table.from_arrays(columns, schema=layout.schema)


def _object_line(layout: _Layout, chunk: Any, i: int, text: str) -> bytes:
    """Record ``i`` of ``chunk``, a JSON Lines object, as its output line: ``text`` in ``layout.target``.

    Assigning to a key the object has keeps the key where it was; a new key goes last.

    Raises:
        ValueError: the object cannot be written as UTF-8 (:func:`chemtok.io.tables.json_line`).
    """
    from chemtok.io.tables import json_line

    obj = _object(chunk, i)
    obj[layout.target] = text
    return json_line(obj)


def _object(chunk: Any, i: int) -> dict[str, Any]:
    """The JSON Lines object of record ``i`` of ``chunk``, a record that was read."""
    obj: dict[str, Any] | None = chunk.objects[i] if chunk.objects is not None else None
    if obj is None:  # pragma: no cover - read_chunks(keep_columns=True) keeps every read record's object
        raise RuntimeError(f"chemtok annotate: record {chunk.numbers[i]} without its object; please report")
    return obj


def _run(
    args: argparse.Namespace,
    inputs: list[str],
    formats: list[str],
    column: str | None,
    layout: _Layout,
    tables: tuple[Any, Any],
    detector: Any,
) -> int:
    import chemtok
    from chemtok.annotate import annotate_batch_with_insertions, convert_markers
    from chemtok.io.readers import read_chunks
    from chemtok.io.tables import TableWriter, utf8_problem

    started = time.monotonic()
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    progress = Progress(sys.stderr, "annotate") if show_progress else None
    stop_counting = threading.Event()
    if progress is not None:
        if "-" not in inputs:
            progress.total_bytes = sum(os.path.getsize(path) for path in inputs)
        start_record_counter(inputs, formats, progress, stop_counting)
    read = written = failed = marked = shown = 0
    metadata = {
        "chemtok_version": chemtok.__version__,
        "command": "annotate",
        "markers": args.markers or "galactica",
        "from_markers": args.from_markers,
        "modalities": args.modalities,
        "column": layout.field,
        "annotated_column": layout.target,
        "inputs": inputs,
    }
    source_table, target_table = tables
    try:
        writer = TableWriter(args.output, schema=layout.schema, metadata=metadata, text_column=layout.target)
    except ValueError as error:  # a column CSV/TSV cannot hold
        raise UsageError(f"cannot write {args.output}: {error}") from None
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error}") from None

    def fail(number: int, path: str, problem: str) -> bool:
        """Count a failed record and report it; ``True``: the run stops here (``--on-error raise``)."""
        nonlocal failed, shown
        failed += 1
        if args.on_error == "raise":
            _clear(progress)
            err(f"record {number} of {label(path)}: {problem}")
            err(f"read {read}, written 0, failed 1 (stopped at the first failure; nothing written)")
            writer.abort()
            return True
        if shown < _SHOWN_FAILURES:
            shown += 1
            _clear(progress)
            err(f"skipped record {number} of {label(path)}: {problem}")
        return False

    try:
        for path, fmt in zip(inputs, formats):
            for chunk in read_chunks(path, fmt, column, args.chunk_size, keep_columns=layout.keep or layout.objects):
                kept: list[int] = []
                texts: list[str] = []
                for i, (number, text) in enumerate(zip(chunk.numbers, chunk.texts)):
                    read += 1
                    problem: str | None = None
                    if text is None:
                        problem = chunk.problems.get(i, ("unreadable record", None))[0]
                    elif layout.kind == "txt" and ("\n" in text or "\r" in text):
                        problem = "the record holds a line break, which a .txt output cannot keep; write .jsonl"
                    elif not layout.objects:
                        problem = utf8_problem(text)  # (an object's line checks all its strings when written)
                    elif layout.target != layout.field and layout.target in _object(chunk, i):
                        problem = f"the object already has a field {layout.target!r}, which --output-column would overwrite: choose a new name"
                    if text is None or problem is not None:
                        if fail(number, path, problem or "unreadable record"):
                            return EXIT_FAILED
                        continue
                    converted = text if source_table is target_table else convert_markers(text, source=source_table, target=target_table)
                    kept.append(i)
                    texts.append(converted)
                if kept:
                    # One detection batch per chunk: the native detector runs it in parallel.
                    annotated = annotate_batch_with_insertions(texts, markers=target_table, detector=detector)
                    if not layout.objects:
                        marked += sum(len(insertions) // 2 for _, insertions in annotated)
                        writer.write(_rows(layout, chunk, kept, [out for out, _ in annotated], label(path)))
                        written += len(kept)
                    else:
                        lines: list[bytes] = []
                        for i, (out, insertions) in zip(kept, annotated):
                            try:
                                lines.append(_object_line(layout, chunk, i, out))
                            except ValueError as error:  # a lone surrogate UTF-8 cannot hold
                                if fail(chunk.numbers[i], path, str(error)):
                                    return EXIT_FAILED
                                continue
                            marked += len(insertions) // 2
                        writer.write_json_lines(lines)
                        written += len(lines)
                if chunk.fault:
                    _clear(progress)
                    err(f"{label(path)}: {chunk.fault} (the rest of that input is one failed record)")
                if progress is not None:
                    progress.update(read, chunk.consumed)
        writer.finalize({"records_read": read, "records_failed": failed, "strings_marked": marked})
    except BrokenPipeError:
        writer.abort()
        quiet_stdout()
        return EXIT_OK
    except OSError as error:  # a full disk, a failed rename: nothing kept
        writer.abort()
        _clear(progress)
        err(f"cannot write {args.output}: {error}")
        err(f"read {read}, written 0, failed {failed} (the output could not be written: exit status 1)")
        return EXIT_FAILED
    except BaseException:
        writer.abort()
        raise
    finally:
        stop_counting.set()
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
