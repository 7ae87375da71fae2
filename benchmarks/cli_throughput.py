"""Throughput and peak memory of ``chemtok tokenize`` against the library's ``encode_batch``.

Builds a SMILES file of ``--records`` records (default 1,000,000) from every ``.smi`` /
``.smi.gz`` file of ``../shared/data/smiles`` (first field of each line, concatenated in
name order and repeated until the count is reached; records the SMILES grammar refuses
are left out so that both sides do the same work under the default ``--on-error
raise``). Then, on the same records, in one run:

* library: ``SmilesTokenizer().encode_batch(texts, return_arrays=True)`` on the list of
  strings already in memory, best of ``--repeats`` after one warm-up, in a fresh
  subprocess (its peak RSS includes the million Python strings);
* CLI: ``python -m chemtok tokenize CORPUS -o OUT.<format>`` as a subprocess for each
  output format (and once from a gzip copy of the corpus), best of ``--repeats`` wall
  time including interpreter start-up, and the peak RSS of that process (``os.wait4``).

Usage:
    python benchmarks/cli_throughput.py                           # 1M records, all formats
    python benchmarks/cli_throughput.py --records 200000 --formats npy,parquet --repeats 1

Writes ``benchmarks/results/cli_throughput.json`` (versions, engine, machine, commands,
numbers) unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("CHEMTOK_SHARED", HERE.parent.parent / "shared"))
SMILES_DIR = SHARED / "data" / "smiles"
FORMATS = ("npy", "bin", "parquet", "jsonl")
# The library uses all cores by default; so does the CLI (--jobs unset).


def build_corpus(path: Path, records: int) -> dict[str, Any]:
    """Write ``records`` SMILES to ``path``; return what went in."""
    import chemtok
    from chemtok.io import read_records

    tok = chemtok.SmilesTokenizer()
    files = sorted(p for p in SMILES_DIR.iterdir() if p.name.endswith((".smi", ".smi.gz")))
    pool: list[str] = []
    refused = 0
    for file in files:
        texts = [r.text for r in read_records(file) if r.text]
        for text in texts:
            try:
                tok.encode(text)
            except chemtok.TokenizationError:
                refused += 1
                continue
            pool.append(text)
    with open(path, "w", encoding="utf-8") as handle:
        written = 0
        while written < records:
            take = pool[: records - written]
            handle.write("\n".join(take) + "\n")
            written += len(take)
    return {
        "records": records,
        "distinct_source_records": len(pool),
        "refused_by_grammar_and_left_out": refused,
        "files": [f.name for f in files],
        "bytes": path.stat().st_size,
    }


def library_child(corpus: str, repeats: int) -> None:
    """Run in a subprocess: time encode_batch on the corpus; print JSON."""
    import resource

    import chemtok
    from chemtok.io import read_records

    texts = [r.text for r in read_records(corpus)]
    tok = chemtok.SmilesTokenizer()
    tok.encode_batch(texts[:10000], return_arrays=True)  # warm-up
    best = float("inf")
    best_cpu = 0.0
    tokens = 0
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        ids, offsets = tok.encode_batch(texts, return_arrays=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        if wall < best:
            best = wall
            best_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        tokens = len(ids)
        del ids, offsets
    print(
        json.dumps(
            {
                "seconds": best,
                "cpu_seconds": best_cpu,
                "records": len(texts),
                "tokens": tokens,
                "engine": tok.engine,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def run_cli(args: list[str]) -> dict[str, Any]:
    """Run a chemtok command; wall time, peak RSS of that process, and its summary line."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    stderr = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{stderr}")
    summary = stderr.strip().splitlines()[-1]
    inner = re.search(r", ([0-9.]+) s, ", summary)
    return {
        "wall_seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "cli_seconds": float(inner.group(1)) if inner else None,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "summary": summary,
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("chemtok", "numpy", "pyarrow", "tokenizers"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated output formats")
    parser.add_argument("--repeats", type=int, default=3, help="best of N, for the library and for each CLI case")
    parser.add_argument("--workdir", type=Path, help="keep the corpus here (default: a temporary directory)")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "cli_throughput.json")
    parser.add_argument("--no-gzip", action="store_true", help="skip the run from a gzip copy of the corpus")
    parser.add_argument("--library-child", metavar="CORPUS", help=argparse.SUPPRESS)
    parser.add_argument("--corpus-child", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.library_child:
        library_child(args.library_child, args.repeats)
        return
    if args.corpus_child:
        print(json.dumps(build_corpus(Path(args.corpus_child), args.records)))
        return

    # This process stays small: the corpus and the library run in children, so that a
    # CLI child forked from here does not start with a large inherited RSS.
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="chemtok-cli-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    corpus = workdir / "smiles_corpus.smi"
    print(f"building {args.records:,} records in {corpus} ...", file=sys.stderr)
    build = [sys.executable, __file__, "--corpus-child", str(corpus), "--records", str(args.records)]
    corpus_info = json.loads(subprocess.run(build, capture_output=True, text=True, check=True).stdout)

    child = [sys.executable, __file__, "--library-child", str(corpus), "--repeats", str(args.repeats)]

    def measure_library() -> dict[str, Any]:
        result: dict[str, Any] = json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout)
        print(
            f"library encode_batch(return_arrays=True): {result['seconds']:.2f} s ({result['cpu_seconds']:.2f} s CPU), "
            f"{result['records'] / result['seconds']:,.0f} records/s, engine {result['engine']}, "
            f"peak {result['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
        )
        return result

    # The machine may be shared: the library is measured before and after the CLI runs
    # and its fastest time is used, which makes the CLI's ratio conservative.
    library_runs = [measure_library()]

    runs: list[dict[str, Any]] = []
    cases = [(corpus, fmt) for fmt in args.formats.split(",")]
    if not args.no_gzip:
        gz = workdir / "smiles_corpus.smi.gz"
        with open(corpus, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst)
        cases.append((gz, "npy"))
    for source, fmt in cases:
        out = workdir / f"out.{fmt}"
        command = [sys.executable, "-m", "chemtok", "tokenize", str(source), "-o", str(out)]
        trials = []
        for _ in range(args.repeats):
            trials.append(run_cli(command))
            for leftover in workdir.glob("out.*"):
                leftover.unlink()
        result = min(trials, key=lambda t: t["wall_seconds"])
        result.update(
            {
                "input": source.name,
                "format": fmt,
                "command": "chemtok tokenize " + " ".join(command[4:]).replace(str(workdir) + "/", ""),
                "records_per_second": args.records / result["wall_seconds"],
                "peak_rss_mb": max(t["peak_rss_mb"] for t in trials),
                "wall_seconds_all": [round(t["wall_seconds"], 3) for t in trials],
            }
        )
        runs.append(result)
        print(
            f"{source.name:>22} -> {fmt:<8} {result['wall_seconds']:6.2f} s wall, {result['cpu_seconds']:5.2f} s CPU "
            f"({result['cli_seconds']} s inside the CLI)  {result['records_per_second']:>10,.0f} rec/s  "
            f"peak {result['peak_rss_mb']:5.0f} MB",
            file=sys.stderr,
        )
    library_runs.append(measure_library())
    library = min(library_runs, key=lambda r: r["seconds"])
    library_cpu = min(r["cpu_seconds"] for r in library_runs)
    lib_rate = library["records"] / library["seconds"]
    print(f"ratios to the library's fastest run ({library['seconds']:.2f} s, {library_cpu:.2f} s CPU):", file=sys.stderr)
    for result in runs:
        result["ratio_to_library"] = result["wall_seconds"] / library["seconds"]
        result["cpu_ratio_to_library"] = result["cpu_seconds"] / library_cpu
        print(
            f"{result['input']:>22} -> {result['format']:<8} {result['ratio_to_library']:4.1f}x wall time, "
            f"{result['cpu_ratio_to_library']:4.1f}x CPU time",
            file=sys.stderr,
        )

    report = {
        **versions(),
        "engine": library["engine"],
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average_at_end": os.getloadavg()},
        "corpus": corpus_info,
        "library": {**library, "records_per_second": lib_rate, "all_runs": library_runs},
        "cli": runs,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}", file=sys.stderr)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
