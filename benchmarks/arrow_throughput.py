"""Throughput of ``encode_arrow`` against the Python-object round trip it replaces.

Reads the first ``--records`` SMILES (default 150,000) of a real corpus (default
``../shared/data/smiles/chembl_nextmove_aromatic_dialects.smi.gz``, first field of each
line) into a ``pyarrow`` ``StringArray`` and times, in one run and on the same array:

* ``encode_arrow``: ``tok.encode_arrow(array)`` (the Rust core reads the Arrow buffers;
  ``ids`` and ``error`` columns come back as a ``RecordBatch``);
* baseline: ``pa.array(tok.encode_batch(array.to_pylist()), type=pa.list_(pa.uint32()))``
  (a Python string per row, a Python list per row, then Arrow again), also split into its
  three steps.

Rows the grammar refuses are left out first (found with ``encode_arrow`` itself), since
``encode_batch`` raises on them under the default policy. Each timing is the best of
``--repeats`` after one warm-up; both results are checked equal.

Usage:
    python benchmarks/arrow_throughput.py
    python benchmarks/arrow_throughput.py --records 50000 --model compact --repeats 3

Writes ``benchmarks/results/arrow_throughput.json`` (versions, machine, command, every
trial) unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("CHEMTOK_SHARED", HERE.parent.parent / "shared"))
DEFAULT_INPUT = SHARED / "data" / "smiles" / "chembl_nextmove_aromatic_dialects.smi.gz"


def best_of(repeats: int, call: Callable[[], Any]) -> tuple[float, list[float], Any]:
    """``(best seconds, every trial, last result)`` after one untimed warm-up call."""
    result = call()
    trials = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        trials.append(time.perf_counter() - start)
    return min(trials), trials, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="a .smi(.gz) file of the shared data")
    parser.add_argument("--records", type=int, default=150_000, help="how many records to read (default 150,000)")
    parser.add_argument("--model", default="atom", help='SmilesTokenizer model: "atom" (default) or "compact"')
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per side, best kept (default 5)")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "arrow_throughput.json", help="result file")
    args = parser.parse_args(argv)

    import numpy as np
    import pyarrow as pa
    import tokenizers

    import chemtok
    from chemtok.io import read_records

    texts = []
    for record in read_records(args.input):
        if record.text:
            texts.append(record.text)
        if len(texts) == args.records:
            break
    tok = chemtok.SmilesTokenizer(model=args.model)
    screened = tok.encode_arrow(pa.array(texts))
    keep = np.asarray(screened.column("error").is_null())
    array = pa.array([t for t, ok in zip(texts, keep) if ok], type=pa.string())
    refused = len(texts) - len(array)

    fast, fast_trials, batch = best_of(args.repeats, lambda: tok.encode_arrow(array))
    slow, slow_trials, baseline = best_of(
        args.repeats, lambda: pa.array(tok.encode_batch(array.to_pylist()), type=pa.list_(pa.uint32()))
    )
    if not batch.column("ids").equals(baseline) or batch.column("error").null_count != len(array):
        print("encode_arrow and the baseline disagree", file=sys.stderr)
        return 1
    # Where the baseline's time goes.
    to_pylist, _, rows = best_of(args.repeats, array.to_pylist)
    encode, _, lists = best_of(args.repeats, lambda: tok.encode_batch(rows))
    to_arrow, _, _ = best_of(args.repeats, lambda: pa.array(lists, type=pa.list_(pa.uint32())))

    ids = len(batch.column("ids").values)
    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "input": str(args.input),
        "records": len(array),
        "refused_by_grammar_and_left_out": refused,
        "ids": ids,
        "model": args.model,
        "engine": tok.engine,
        "encode_arrow_s": fast,
        "baseline_s": slow,
        "speedup": slow / fast,
        "encode_arrow_records_per_s": len(array) / fast,
        "baseline_records_per_s": len(array) / slow,
        "baseline_steps_s": {"to_pylist": to_pylist, "encode_batch": encode, "pa.array": to_arrow},
        "trials": {"encode_arrow": fast_trials, "baseline": slow_trials},
        "versions": {
            "chemtok": chemtok.__version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pyarrow": pa.__version__,
            "tokenizers": tokenizers.__version__,
        },
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average": os.getloadavg()},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"{len(array):,} records ({refused} refused, left out), {ids:,} ids, model={args.model}, engine={tok.engine}\n"
        f"encode_arrow                                   {fast:.3f} s  {len(array) / fast:,.0f} records/s\n"
        f"pa.array(encode_batch(to_pylist()))            {slow:.3f} s  {len(array) / slow:,.0f} records/s\n"
        f"  of which to_pylist {to_pylist:.3f} s, encode_batch {encode:.3f} s, pa.array {to_arrow:.3f} s\n"
        f"speed-up {slow / fast:.1f}x  (load average {os.getloadavg()[0]:.1f}; written to {args.json})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
