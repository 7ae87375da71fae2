"""Two ratios of issue 13, each against a reference measured in the same run.

1. Compact SMILES at the lexer's speed: ``SmilesTokenizer(model="compact")``
   ``encode_batch(texts, return_arrays=True)`` against the atom-level
   ``SmilesTokenizer().encode_batch(texts, return_arrays=True)`` on the same drug-like
   SMILES (target >= 0.5x), twice: the same texts again (every merge word already in
   the core's per-thread word cache: re-reading a corpus, duplicated molecules) and a
   first pass over texts the tokenizer has not seen (a tokenizer built untimed per
   run, so its cache starts cold, as on new data).
2. Single calls: ``SmilesTokenizer().encode(s)`` on ~40-character SMILES, one call per
   string, against Python's ``re.findall`` with the Schwaller et al. regex plus a dict
   lookup per token (target >= 5x).

Usage:
    python benchmarks/compact_and_single.py                  # MoleculeNet HIV, best of 5
    python benchmarks/compact_and_single.py --input my.smi.gz --repeats 3
    python benchmarks/compact_and_single.py --threads 1 --cpu-time   # one thread, CPU time
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from timing import best_of  # benchmarks/timing.py, beside this script

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("CHEMTOK_SHARED", HERE.parent.parent / "shared"))
DEFAULT_INPUT = SHARED / "data" / "smiles" / "moleculenet_hiv.smi.gz"
SCHWALLER_REGEX = (
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>|\*|\$|\%[0-9]{2}|[0-9])"
)


def best_first_pass(
    build: Callable[[], Any], call: Callable[[Any], Any], repeats: int, *, clock: Callable[[], float]
) -> float:
    """Seconds of the fastest first call of ``call`` on a tokenizer built (untimed) per run."""
    best = float("inf")
    for _ in range(repeats):
        tok = build()
        start = clock()
        call(tok)
        best = min(best, clock() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default=str(DEFAULT_INPUT), help="SMILES file (any format chemtok.io reads)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per method; the best counts")
    parser.add_argument("--threads", type=int, default=None, help="num_threads of the batch calls (default: all cores)")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time in CPU time of the calling thread (with --threads 1 the batch runs on it): "
        "not slowed by other load, and not counting numpy's idle BLAS threads as process time would",
    )
    args = parser.parse_args(argv)
    clock = time.thread_time if args.cpu_time else time.perf_counter
    batch: dict[str, Any] = {"return_arrays": True}
    if args.threads is not None:
        batch["num_threads"] = args.threads

    import chemtok
    from chemtok.io import read_records

    texts = [r.text for r in read_records(args.input) if r.text]
    atom = chemtok.SmilesTokenizer(engine="native")
    compact = chemtok.SmilesTokenizer(model="compact", engine="native")
    # Parity first: a fast wrong answer does not count.
    assert atom.encode_batch(texts[:2000]) == chemtok.SmilesTokenizer(engine="python").encode_batch(texts[:2000])
    reference_compact = chemtok.SmilesTokenizer(model="compact", engine="python")
    assert compact.encode_batch(texts[:2000]) == reference_compact.encode_batch(texts[:2000])
    print(f"{len(texts):,} SMILES from {args.input}; {os.cpu_count()} cores; best of {args.repeats}")

    threads = "all cores" if args.threads is None else f"num_threads={args.threads}"
    print(f"batch calls: {threads}, {'CPU' if args.cpu_time else 'wall'} time")
    t_atom = best_of(lambda: atom.encode_batch(texts, **batch), args.repeats, clock=clock)
    t_compact_warm = best_of(lambda: compact.encode_batch(texts, **batch), args.repeats, clock=clock)
    t_compact_cold = best_first_pass(
        lambda: chemtok.SmilesTokenizer(model="compact", engine="native"),
        lambda tok: tok.encode_batch(texts, **batch),
        args.repeats,
        clock=clock,
    )
    print(f"atom-level encode_batch(return_arrays=True)   {t_atom * 1e3:8.1f} ms  {len(texts) / t_atom:12,.0f} SMILES/s")
    print(
        f"compact, same texts again (warm word cache)   {t_compact_warm * 1e3:8.1f} ms  "
        f"{len(texts) / t_compact_warm:12,.0f} SMILES/s  ratio {t_atom / t_compact_warm:.2f}x"
    )
    print(
        f"compact, first pass (cold word cache)         {t_compact_cold * 1e3:8.1f} ms  "
        f"{len(texts) / t_compact_cold:12,.0f} SMILES/s  ratio {t_atom / t_compact_cold:.2f}x"
    )
    # The merge cost on new texts, per SMILES (wall time over the batch's threads).
    extra = (t_compact_cold - t_atom) * 1e9 / len(texts)
    print(f"merging on a first pass costs {extra:,.0f} ns per SMILES over the atom-level lexer")

    # Single calls on ~40-character SMILES.
    singles = [t for t in texts if 36 <= len(t) <= 44][:20_000]
    pattern = re.compile(SCHWALLER_REGEX)
    vocab = {tok: i for i, tok in enumerate(sorted({tok for t in singles for tok in pattern.findall(t)}))}
    findall = pattern.findall
    encode = atom.encode

    def regex_lookup() -> Any:
        return [[vocab[tok] for tok in findall(t)] for t in singles]

    def single_encode() -> Any:
        return [encode(t) for t in singles]

    t_regex = best_of(regex_lookup, args.repeats)
    t_single = best_of(single_encode, args.repeats)
    per = 1e9 / len(singles)
    print(f"{len(singles):,} SMILES of 36-44 characters, one call each")
    print(f"re.findall + dict lookup                      {t_regex * per:8.0f} ns/call")
    print(f"SmilesTokenizer().encode(s)                   {t_single * per:8.0f} ns/call  ratio {t_regex / t_single:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
