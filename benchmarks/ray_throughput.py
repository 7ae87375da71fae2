"""``chemtok tokenize --engine ray`` against the local CLI on SMILES Parquet shards, and where the time goes.

Builds ``--records`` SMILES (default 2,000,000) with ``cli_throughput.build_corpus`` (the
shared ``.smi``/``.smi.gz`` corpora, refused records left out, repeated until the count is
reached) and splits them into ``--shards`` Parquet files (default 8) with one ``smiles``
column. Then, each ``--repeats`` times (default 1), as subprocesses, wall time including
interpreter start-up (and, for Ray, starting and stopping the local cluster):

* local: ``python -m chemtok tokenize SHARDS --column smiles -o local.parquet``
* ray:   ``python -m chemtok tokenize SHARDS --column smiles --engine ray -o ray-out/``

and checks that the parts, read in name order, equal the local file row for row. The
time split is measured in this process on one shard (the stages of one Ray task, which
runs the local pipeline on its input): Parquet read of the column, Arrow -> Python
strings, the pipeline's reader (both, plus a ``Record`` and a number per row), tokenize (``encode_batch(return_arrays=True)``,
one thread), Parquet write of ``record``/``ids``/``source``; and the start and stop of a
local Ray cluster.

Usage:
    python benchmarks/ray_throughput.py                      # 2M records, 8 shards
    python benchmarks/ray_throughput.py --records 200000 --shards 4

Writes ``benchmarks/results/ray_throughput.json`` unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cli_throughput import build_corpus  # noqa: E402 - the one corpus builder of the benchmarks


def build_shards(folder: Path, records: int, shards: int) -> tuple[list[str], dict[str, Any]]:
    """``shards`` Parquet files holding ``records`` SMILES between them; and what went in."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    corpus = folder / "corpus.smi"
    info = build_corpus(corpus, records)
    texts = corpus.read_text(encoding="utf-8").splitlines()
    corpus.unlink()
    per = -(-len(texts) // shards)
    paths = []
    for i in range(shards):
        path = folder / f"smiles-{i:02d}.parquet"
        pq.write_table(pa.table({"smiles": pa.array(texts[i * per : (i + 1) * per], pa.string())}), path, compression="zstd")
        paths.append(str(path))
    info["shards"] = shards
    info["parquet_bytes"] = sum(os.path.getsize(p) for p in paths)
    return paths, info


def run_cli(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "chemtok", "tokenize", *args], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"chemtok tokenize {' '.join(args)} failed:\n{done.stderr}")
    return wall, done.stderr.strip().splitlines()[-1]


def stage_times(shard: str, sources: list[str]) -> dict[str, float]:
    """Seconds per stage for one shard, one thread (the work of one Ray task)."""
    import numpy as np
    import pyarrow.parquet as pq

    import chemtok
    from chemtok.io.readers import read_chunks
    from chemtok.io.writers import ParquetWriter

    out: dict[str, float] = {}
    start = time.perf_counter()
    column = pq.read_table(shard, columns=["smiles"]).column(0)
    out["read_parquet"] = time.perf_counter() - start
    start = time.perf_counter()
    texts = column.to_pylist()
    out["arrow_to_python"] = time.perf_counter() - start
    start = time.perf_counter()
    for _chunk in read_chunks(shard, "parquet", "smiles", 32768):
        pass
    out["pipeline_reader"] = time.perf_counter() - start  # the two above + a Record per row + numbering
    tok = chemtok.SmilesTokenizer()
    start = time.perf_counter()
    ids, offsets = tok.encode_batch(texts, return_arrays=True, num_threads=1)
    out["tokenize"] = time.perf_counter() - start
    folder = tempfile.mkdtemp()
    start = time.perf_counter()
    writer = ParquetWriter(os.path.join(folder, "part.parquet"), metadata={}, sources=sources, vocab_size=tok.vocab_size)
    step = 32768
    for at in range(0, len(texts), step):
        end = min(len(texts), at + step)
        writer.write(np.arange(at + 1, end + 1), 0, ids, offsets[at : end + 1])
    writer.finalize({})
    out["write_parquet"] = time.perf_counter() - start
    shutil.rmtree(folder)
    out["records"] = float(len(texts))
    return out


def ray_start_stop() -> float:
    code = "import ray; ray.init(include_dashboard=False, log_to_driver=False, logging_level='ERROR'); ray.shutdown()"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", default=str(HERE / "results" / "ray_throughput.json"))
    args = parser.parse_args()

    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    import chemtok

    work = Path(tempfile.mkdtemp(prefix="chemtok-ray-bench-"))
    try:
        shards, corpus = build_shards(work, args.records, args.shards)
        local_out, ray_out = work / "local.parquet", work / "ray-out"
        local_cmd = [*shards, "--column", "smiles", "-o", str(local_out)]
        ray_cmd = [*shards, "--column", "smiles", "--engine", "ray", "-o", str(ray_out)]
        local = [run_cli(local_cmd) for _ in range(args.repeats)]
        remote = [run_cli(ray_cmd) for _ in range(args.repeats)]
        parts = pa.concat_tables([pq.read_table(p) for p in sorted(ray_out.glob("part-*.parquet"))])
        identical = parts.equals(pq.read_table(local_out))
        stages = stage_times(shards[0], shards)
        startup = ray_start_stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cores = os.cpu_count() or 1
    best_local, best_ray = min(w for w, _ in local), min(w for w, _ in remote)
    result = {
        "chemtok": chemtok.__version__,
        "ray_version": ray.__version__,
        "pyarrow": pa.__version__,
        "machine": {"cores": cores, "platform": platform.platform(), "python": platform.python_version()},
        "corpus": corpus,
        "local": {"wall_s": [w for w, _ in local], "summary": local[-1][1], "rows_per_s_per_core": args.records / best_local / cores},
        "ray": {"wall_s": [w for w, _ in remote], "summary": remote[-1][1], "rows_per_s_per_core": args.records / best_ray / cores},
        "ray_over_local": best_ray / best_local,
        "identical_output": identical,
        "ray_cluster_start_stop_s": startup,
        "stages_one_shard_one_thread_s": stages,
    }
    print(json.dumps(result, indent=2))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
