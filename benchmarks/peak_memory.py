"""Peak resident memory of one batch call returning arrays, against the size of its result.

Each (engine, threads) runs in its own fresh subprocess. It builds the documents, warms up
on 100, then makes one call and prints the process's VmRSS and VmHWM (peak RSS,
``/proc/self/status``) before and after, and the result's size (ids + offsets bytes):

    chem     ChemTokenizer().encode_batch(docs, return_arrays=True)   the real texts of
             router_throughput.py cycled to --docs
    text     TextTokenizer().encode_batch_arrays(docs)                the same texts
    smiles   SmilesTokenizer().encode_batch(smiles, return_arrays=True)  four drug SMILES,
             each repeated 1-7 times, cycled to 2x --docs

Usage:
    CHEMTOK_SHARED=/work/shared python benchmarks/peak_memory.py [--docs 1000000] [--engines chem,text,smiles]
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

ENGINES = ("chem", "text", "smiles")
SMILES = (
    "CC(=O)Oc1ccccc1C(=O)O",
    "C1=CC=C(C=C1)C[C@@H](C(=O)O)N",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "O=C(O)CCCCCCCCCCCCCCCCC",
)


def status_mib() -> tuple[int, int]:
    """``(VmRSS, VmHWM)`` of this process in MiB."""
    fields = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) // 1024
    return fields["VmRSS"], fields["VmHWM"]


def child(engine: str, docs: int, threads: int | None) -> None:
    """One measurement, in this (fresh) process."""
    import chemtok

    call: Any
    if engine == "smiles":
        texts = [SMILES[i % 4] * (1 + i % 7) for i in range(2 * docs)]
        smiles = chemtok.SmilesTokenizer()
        call = lambda batch: smiles.encode_batch(batch, return_arrays=True, num_threads=threads)  # noqa: E731
    else:
        sys.path.insert(0, str(Path(__file__).parent))
        from router_throughput import read_documents

        texts = list(itertools.islice(itertools.cycle(read_documents()), docs))
        if engine == "chem":
            chem = chemtok.ChemTokenizer()
            call = lambda batch: chem.encode_batch(batch, return_arrays=True, num_threads=threads)  # noqa: E731
        else:
            text = chemtok.TextTokenizer()
            call = lambda batch: text.encode_batch_arrays(batch, num_threads=threads)  # noqa: E731
    call(texts[:100])
    rss_before, _ = status_mib()
    ids, offsets = call(texts)[:2]
    rss_after, peak = status_mib()
    result = (ids.nbytes + offsets.nbytes) / 2**20
    label = "all" if threads is None else str(threads)
    print(
        f"{engine:6} threads {label:3} {len(texts):>9,} texts  result {result:6,.0f} MiB  "
        f"RSS before {rss_before:5,} -> after {rss_after:5,} MiB  peak {peak:5,} MiB  "
        f"peak - before = {(peak - rss_before) / result:.2f}x the result"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        engine, docs, threads = args.child
        child(engine, int(docs), None if threads == "all" else int(threads))
        return
    for engine in args.engines.split(","):
        for threads in ("all", "1"):
            command = [sys.executable, __file__, "--child", engine, str(args.docs), threads]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
