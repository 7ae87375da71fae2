"""Wall time of ``chemtok tokenize`` on a 1M-row TSV against pyarrow + ``encode_batch`` + numpy.

Builds a TSV ``id<TAB>smiles`` of ``--records`` rows (default 1,000,000) in a temporary
directory from the ``.smi``/``.smi.gz`` files of ``$CHEMTOK_SHARED/data/smiles`` (first
field of each line, in name order, repeated until the count is reached; records the
SMILES grammar refuses are left out so that every side does the same work under the
default ``--on-error raise``). Then, in one run, best of ``--repeats`` each:

* (a) reference, in this process: ``pyarrow.csv.read_csv`` + ``tok.encode_batch(
  column.to_pylist(), return_arrays=True)`` + ``numpy.save`` of the ids and offsets;
* (b) ``python -m chemtok tokenize in.tsv -o out.npy`` as a subprocess (wall time
  including interpreter start-up and imports; the column ``smiles`` is chosen from the
  header), and the same command in this process through ``chemtok.cli.main`` (imports
  done, like the reference);
* (c) the same with ``-o out.parquet``.

The ratios (b)/(a) and (c)/(a) are the issue-11 targets (at most 2.5x and 3x).

Usage:
    python benchmarks/reader_throughput.py                      # 1M rows, best of 2
    python benchmarks/reader_throughput.py --records 200000 --repeats 1

Prints one line per measurement and a JSON summary on standard output.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("CHEMTOK_SHARED", HERE.parent.parent / "shared"))
SMILES_DIR = SHARED / "data" / "smiles"


def build_tsv(path: Path, records: int) -> int:
    """Write ``records`` rows ``id<TAB>smiles`` to ``path``; return the size of the pool repeated."""
    import chemtok
    from chemtok.io import read_records

    tok = chemtok.SmilesTokenizer()
    pool: list[str] = []
    for file in sorted(p for p in SMILES_DIR.iterdir() if p.name.endswith((".smi", ".smi.gz"))):
        for record in read_records(file):
            text = record.text
            if not text or '"' in text:  # a quote would be CSV quoting, not SMILES, to pyarrow
                continue
            try:
                tok.encode(text)
            except chemtok.TokenizationError:
                continue
            pool.append(text)
        if len(pool) >= records:
            break
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("id\tsmiles\n")
        handle.writelines(f"{i + 1}\t{pool[i % len(pool)]}\n" for i in range(records))
    return len(pool)


def reference(tsv: Path, out: Path) -> float:
    """(a): pyarrow.csv.read_csv + encode_batch(return_arrays=True) + numpy.save; seconds."""
    import numpy as np
    import pyarrow.csv as pacsv

    import chemtok

    tok = chemtok.SmilesTokenizer()
    start = time.perf_counter()
    table = pacsv.read_csv(tsv, parse_options=pacsv.ParseOptions(delimiter="\t"))
    ids, offsets = tok.encode_batch(table.column("smiles").to_pylist(), return_arrays=True)
    np.save(out.with_suffix(".ids.npy"), ids)
    np.save(out.with_suffix(".offsets.npy"), offsets)
    return time.perf_counter() - start


def cli(tsv: Path, out: Path) -> tuple[float, str]:
    """(b)/(c): ``python -m chemtok tokenize TSV -o OUT`` as a subprocess; wall seconds and summary line."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "chemtok", "tokenize", str(tsv), "-o", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"chemtok tokenize failed ({done.returncode}):\n{done.stderr}")
    return wall, done.stderr.strip().splitlines()[-1]


def in_process(tsv: Path, out: Path) -> tuple[float, str]:
    """(b)/(c) in this process through ``chemtok.cli.main`` (imports already done); seconds and summary."""
    import contextlib
    import io

    from chemtok.cli import main as chemtok_main

    stderr = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stderr(stderr):
        code = chemtok_main(["tokenize", str(tsv), "-o", str(out), "--no-progress"])
    wall = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"chemtok tokenize failed ({code}):\n{stderr.getvalue()}")
    return wall, stderr.getvalue().strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2, help="best of N for each measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chemtok-reader-bench-") as tmp:
        work = Path(tmp)
        tsv = work / "in.tsv"
        distinct = build_tsv(tsv, args.records)
        print(f"{args.records:,} rows (from a pool of {distinct:,} SMILES), {tsv.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
        results: dict[str, Any] = {"records": args.records, "pool": distinct, "bytes": tsv.stat().st_size}
        ref = min(reference(tsv, work / "ref") for _ in range(args.repeats))
        print(f"(a) read_csv + encode_batch + np.save: {ref:.2f} s", file=sys.stderr)
        results["reference_seconds"] = ref
        for fmt, target in (("npy", 2.5), ("parquet", 3.0)):
            wall, summary = min(cli(tsv, work / f"out.{fmt}") for _ in range(args.repeats))
            inner, _ = min(in_process(tsv, work / f"in.{fmt}") for _ in range(args.repeats))
            print(
                f"chemtok tokenize in.tsv -o out.{fmt}: subprocess {wall:.2f} s = {wall / ref:.2f}x, "
                f"in-process main() {inner:.2f} s = {inner / ref:.2f}x (target {target}x) | {summary}",
                file=sys.stderr,
            )
            results[fmt] = {
                "subprocess_seconds": wall,
                "subprocess_ratio": wall / ref,
                "in_process_seconds": inner,
                "in_process_ratio": inner / ref,
                "target": target,
                "summary": summary,
            }
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
