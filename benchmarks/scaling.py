"""Scaling of the router's ``encode_batch`` from 1x to 10x the input, ending at 1,000,000 documents.

Three engines on the same documents, at each size (``--engines``; a fourth, ``chem lists gc
off``, is the lists with Python's cyclic garbage collector disabled around the call):

    chem lists     ChemTokenizer().encode_batch(docs)                       (a list of ids per document)
    chem arrays    ChemTokenizer().encode_batch(docs, return_arrays=True)   (uint32 ids + int64 offsets)
    gpt2           GPT-2's tokenizers Tokenizer.encode_batch(docs, add_special_tokens=False)

The documents are the real texts ``router_throughput.py`` reads from ``$CHEMTOK_SHARED/data/text``
(~11k documents), **cycled** to the base size (100,000 by default) and to each multiple of it
(1x, 2x, 5x, 10x: 1,000,000 documents at 10x). Cycling repeats the same ``str`` objects, so the
input list costs 8 bytes per document beyond the ~11k distinct texts.

Every (engine, size) runs in its own fresh subprocess, one after the other, so that no peak
of resident memory masks another: after reading the documents and a 100-document warm-up,
the process notes its current RSS, makes one full call (timed; the peak RSS is read after it
and the result's ids counted), drops the result, and then, where ``--repeats`` asks for more,
times further calls with ``best_of``. Ratios (growth over 1x, and against GPT-2) use the
first full call, the one run every measurement has (its wall time, and its CPU time, user +
system over all threads, which moves less with the load of a shared machine); the best wall
time of all runs is shown beside it.

GPT-2's ``Encoding`` objects hold ~100 bytes per id (tokens, offsets, masks), so a batch
of 1M documents would need ~20 GB: the reference encodes in consecutive ``encode_batch``
calls of at most ``--reference-batch`` documents (200,000 by default; one call at 1x and
2x), dropping each call's encodings before the next. Its time is the sum of those calls
and its peak that of one call (bytes per id: that call's ids).

Usage:
    CHEMTOK_SHARED=/work/shared python benchmarks/scaling.py [--json benchmarks/figures/scaling.json]
    python benchmarks/scaling.py --base 2000 --sizes 1,2     # a quick check of the script
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Scripts beside this one: the shared timers and the corpus of the router benchmark.
from router_throughput import BASELINES, read_documents
from timing import best_of, peak_rss_mib

#: "chem lists gc off" is "chem lists" with Python's cyclic garbage collector disabled
#: around the call (not in the default run): it shows what the collector costs there.
ENGINES = ("gpt2", "chem lists", "chem arrays", "chem lists gc off")
WARM_UP = 100


def rss_now_mib() -> float:
    """Current resident set size of this process in MiB (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cycled(texts: list[str], count: int) -> list[str]:
    """The first ``count`` documents of ``texts`` repeated end to end (the same str objects)."""
    return list(itertools.islice(itertools.cycle(texts), count))


def probe(engine: str, count: int, repeats: int, reference_batch: int) -> dict[str, Any]:
    """In this (fresh) process: time and peak RSS of one engine on ``count`` cycled documents."""
    docs = cycled(read_documents(), count)
    if engine == "gpt2":
        from tokenizers import Tokenizer

        gpt2 = Tokenizer.from_file(str(BASELINES / "gpt2" / "tokenizer.json"))
        chunks = [docs[i : i + reference_batch] for i in range(0, count, reference_batch)]

        def call() -> Any:
            return [sum(len(e) for e in gpt2.encode_batch(chunk, add_special_tokens=False)) for chunk in chunks]

        def count_ids(result: Any) -> tuple[int, int]:
            return sum(result), max(result)

        # Each call's encodings are dropped before the next, so the peak is one call's.
        # Counting their ids inside the timed loop costs ~0.1 s per 1M documents, against
        # minutes of BPE.
        warm = gpt2.encode_batch(docs[:WARM_UP], add_special_tokens=False)
        del warm
    else:
        import chemtok

        tok = chemtok.ChemTokenizer()
        arrays = engine == "chem arrays"

        collect = engine != "chem lists gc off"

        def call() -> Any:
            if collect:
                return tok.encode_batch(docs, on_error="raise", return_arrays=arrays)
            gc.disable()
            try:
                return tok.encode_batch(docs, on_error="raise", return_arrays=arrays)
            finally:
                gc.enable()

        def count_ids(result: Any) -> tuple[int, int]:
            ids = len(result[0]) if arrays else sum(map(len, result))
            return ids, ids

        tok.encode_batch(docs[:WARM_UP], on_error="raise", return_arrays=arrays)
        chunks = [docs]
    before = rss_now_mib()
    cpu = cpu_seconds()
    start = time.perf_counter()
    result = call()
    first = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    peak = peak_rss_mib()
    ids, held = count_ids(result)  # all ids, and those held at the peak (one call's)
    del result
    best = first if repeats <= 1 else min(first, best_of(call, repeats - 1))
    return {
        "engine": engine,
        "documents": count,
        "calls": len(chunks),
        "ids": ids,
        "first_s": first,
        "first_cpu_s": cpu,
        "best_s": best,
        "runs": max(repeats, 1),
        "before_mib": before,
        "peak_mib": peak,
        "bytes_per_id": (peak - before) * 2**20 / held,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=100_000, help="documents at 1x (the real texts cycled)")
    parser.add_argument("--sizes", default="1,2,5,10", help="multiples of --base, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="chemtok runs per size up to 2x; the best is shown")
    parser.add_argument("--large-repeats", type=int, default=2, help="chemtok runs per size above 2x")
    parser.add_argument("--reference-repeats", type=int, default=1, help="GPT-2 runs per size")
    parser.add_argument("--reference-batch", type=int, default=200_000, help="most documents per GPT-2 call")
    parser.add_argument(
        "--engines", default="gpt2,chem lists,chem arrays", help=f"comma-separated, of: {', '.join(ENGINES)}"
    )
    parser.add_argument("--json", default=None, help="also write the results here as JSON")
    parser.add_argument("--probe", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        engine, count, repeats, batch = args.probe[0], *map(int, args.probe[1:])
        print(json.dumps(probe(engine, count, repeats, batch)))
        return 0

    texts = read_documents()
    per_doc = [len(t.encode("utf-8")) for t in texts]
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    if unknown := set(engines) - set(ENGINES):
        parser.error(f"unknown engines {sorted(unknown)}; known: {', '.join(ENGINES)}")
    print(
        f"{len(texts):,} real documents cycled to {args.base:,} x {sizes}; {os.cpu_count()} cores; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    for size in sizes:
        count = args.base * size
        megabytes = sum(itertools.islice(itertools.cycle(per_doc), count)) / 1e6
        for engine in engines:
            repeats = args.repeats if size <= 2 else args.large_repeats
            if engine == "gpt2":
                repeats = args.reference_repeats
            command = [sys.executable, __file__, "--probe", engine, str(count), str(repeats), str(args.reference_batch)]
            done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=3600)
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                return done.returncode
            row = json.loads(done.stdout)
            row.update(size=size, megabytes=megabytes, load_average=os.getloadavg()[0])
            results.append(row)
            print(
                f"  {size:>2}x {engine:<12} {count:>9,} docs  {row['first_s']:8.2f} s (best {row['best_s']:.2f} s of "
                f"{row['runs']})  {count / row['first_s']:>9,.0f} docs/s  CPU {row['first_cpu_s']:.2f} s  RSS {row['before_mib']:,.0f} -> "
                f"{row['peak_mib']:,.0f} MiB  {row['bytes_per_id']:.1f} B/id  ({row['ids']:,} ids, "
                f"{row['calls']} call{'s' if row['calls'] > 1 else ''})",
                flush=True,
            )
    elapsed = time.perf_counter() - started

    one = {r["engine"]: r for r in results if r["size"] == sizes[0]}
    reference = {r["size"]: r for r in results if r["engine"] == "gpt2"}
    print(
        "\n| size | documents | engine | wall, first call | best wall | CPU, first call | docs/s (wall) "
        "| × wall of 1× | × CPU of 1× | × GPT-2 (wall) | × GPT-2 (CPU) | RSS before → peak | bytes/id | load |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        base, peer = one[r["engine"]], reference.get(r["size"])
        r["growth"] = r["first_s"] / base["first_s"]
        r["growth_cpu"] = r["first_cpu_s"] / base["first_cpu_s"]
        r["vs_gpt2"] = None if peer is None else peer["first_s"] / r["first_s"]
        r["vs_gpt2_cpu"] = None if peer is None else peer["first_cpu_s"] / r["first_cpu_s"]
        vs_wall, vs_cpu = ("–", "–") if peer is None else (f"{r['vs_gpt2']:.1f}×", f"{r['vs_gpt2_cpu']:.1f}×")
        calls = f" ({r['calls']} calls)" if r["calls"] > 1 else ""
        print(
            f"| {r['size']}× | {r['documents']:,} ({r['megabytes']:,.0f} MB) | {r['engine']}{calls} "
            f"| {r['first_s']:.2f} s | {r['best_s']:.2f} s | {r['first_cpu_s']:.2f} s "
            f"| {r['documents'] / r['first_s']:,.0f} | {r['growth']:.2f} | {r['growth_cpu']:.2f} "
            f"| {vs_wall} | {vs_cpu} "
            f"| {r['before_mib']:,.0f} → {r['peak_mib']:,.0f} MiB | {r['bytes_per_id']:.1f} | {r['load_average']:.1f} |"
        )
    print(f"\nwhole run {elapsed / 60:.1f} min; load average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        import tokenizers

        import chemtok

        record = {
            "base_documents": args.base,
            "real_documents": len(texts),
            "sizes": sizes,
            "reference_batch": args.reference_batch,
            "results": results,
            "elapsed_s": elapsed,
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "versions": {
                "chemtok": chemtok.__version__,
                "tokenizers": tokenizers.__version__,
                "python": platform.python_version(),
            },
        }
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
