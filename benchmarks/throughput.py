"""Throughput of chemtok's SMILES encoders against regex and BPE peers, in one run.

Every method encodes the same corpus to token ids; each is timed best-of-N after one
warm-up run, and reported as SMILES/s, MB/s (UTF-8 input) and its ratio to chemtok's
native array path on all threads. Peak memory of the array path is measured in a fresh
subprocess (``resource.getrusage``), so other methods' allocations do not count.

Usage:
    python benchmarks/throughput.py                       # MoleculeNet HIV, 5 repeats
    python benchmarks/throughput.py --input my.smi.gz --repeats 3 --json out.json

Methods:
    native arrays         NativeEngine.encode_batch_arrays (uint32 ids + int64 offsets)
    native lists          NativeEngine.encode_batch (list of id lists)
    native encode loop    [engine.encode(s, policy) for s in texts]
    python reference      SmilesTokenizer(engine="python").encode_batch
    compact ...           the same for SmilesTokenizer(model="compact"): learned merges over
                          the atom-level tokens (native arrays on all threads / 1 thread,
                          native encode loop, encode_batch(return_arrays=True), and the
                          reference, built afresh per run so that its word cache is cold)
    re.findall + dict     Schwaller et al.'s SMILES regex, then a dict lookup per token
    HF Split+WordLevel    the same regex in Hugging Face tokenizers (Split, isolated) with
                          a WordLevel model of the corpus's tokens, encode_batch
    GPT-2 / Llama-3       tokenizer.json baselines, encode_batch, add_special_tokens=False
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from timing import best_of, peak_rss_mib  # benchmarks/timing.py, beside this script

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("CHEMTOK_SHARED", HERE.parent.parent / "shared"))
DEFAULT_INPUT = SHARED / "data" / "smiles" / "moleculenet_hiv.smi.gz"
BASELINES = SHARED / "baselines"

# The atom-level SMILES regex of Schwaller et al., "Molecular Transformer" (ACS Cent.
# Sci. 2019), the common baseline for SMILES tokenization.
SCHWALLER_REGEX = (
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>|\*|\$|\%[0-9]{2}|[0-9])"
)
POLICY = "fallback"  # identical to "raise" on valid input, and never aborts a run


def read_corpus(path: str, column: str | None) -> list[str]:
    from chemtok.io import read_records

    return [r.text for r in read_records(path, column=column) if r.text]


def memory_probe(path: str, column: str | None, method: str) -> dict[str, float]:
    """Run one path once in this (fresh) process and report its peak memory."""
    import numpy  # noqa: F401  (loaded before the baseline, as in real use)

    import chemtok
    from chemtok.native import NativeEngine

    texts = read_corpus(path, column)
    engine = NativeEngine.for_tokenizer(chemtok.SmilesTokenizer(engine="python"))
    before = peak_rss_mib()
    if method == "arrays":
        ids, offsets = engine.encode_batch_arrays(texts, POLICY, None)
        result_mib = (ids.nbytes + offsets.nbytes) / 2**20
    else:
        rows = engine.encode_batch(texts, POLICY, None)
        result_mib = float("nan")
        del rows
    return {"before_mib": before, "peak_mib": peak_rss_mib(), "result_mib": result_mib}


def run_probe(path: str, column: str | None, method: str) -> dict[str, float]:
    args = [sys.executable, __file__, "--input", path, "--probe", method]
    if column:
        args += ["--column", column]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default=str(DEFAULT_INPUT), help="SMILES file (any format chemtok.io reads)")
    parser.add_argument("--column", default=None, help="column holding the SMILES (CSV/TSV/JSONL)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per method; the best counts")
    parser.add_argument("--json", default=None, help="also write the results here as JSON")
    parser.add_argument("--probe", choices=["arrays", "lists"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.probe:
        print(json.dumps(memory_probe(args.input, args.column, args.probe)))
        return 0

    # Memory first, while this process is small: a child's ru_maxrss starts from the
    # parent's resident size at fork time.
    memory = {method: run_probe(args.input, args.column, method) for method in ("arrays", "lists")}

    import numpy
    import tokenizers
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    import chemtok
    from chemtok.native import NativeEngine, available

    if not available():
        print("chemtok._native is not built: pip install -e .", file=sys.stderr)
        return 1
    texts = read_corpus(args.input, args.column)
    n = len(texts)
    megabytes = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) / 1e6
    cores = os.cpu_count() or 1
    reference = chemtok.SmilesTokenizer(engine="python")
    engine = NativeEngine.for_tokenizer(reference)
    compact_reference = chemtok.SmilesTokenizer(model="compact", engine="python")
    compact_engine = NativeEngine.for_tokenizer(compact_reference)
    print(f"{n:,} SMILES, {megabytes:.2f} MB from {args.input}; {cores} cores; best of {args.repeats}", flush=True)
    tokens_per_smiles = {
        label: len(e.encode_batch_arrays(texts, POLICY, None)[0]) / n
        for label, e in (("atom", engine), ("compact", compact_engine))
    }
    print(
        f"tokens per SMILES: {tokens_per_smiles['atom']:.1f} atom-level, {tokens_per_smiles['compact']:.1f} compact "
        f"({len(compact_reference.merges):,} merges)",
        flush=True,
    )

    # The regex baselines need a vocabulary: every regex token of the corpus.
    pattern = re.compile(SCHWALLER_REGEX)
    corpus_tokens = sorted({tok for t in texts for tok in pattern.findall(t)})
    vocab = {tok: i for i, tok in enumerate(["<unk>", *corpus_tokens])}

    def regex_lookup() -> Any:
        findall = pattern.findall
        return [[vocab[tok] for tok in findall(t)] for t in texts]

    split = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    split.pre_tokenizer = pre_tokenizers.Split(Regex(SCHWALLER_REGEX), behavior="isolated")
    baselines = {name: BASELINES / name / "tokenizer.json" for name in ("gpt2", "llama3")}
    bpe = {name: Tokenizer.from_file(str(p)) for name, p in baselines.items() if p.is_file()}

    encode = engine.encode
    compact_encode = compact_engine.encode
    methods: list[tuple[str, Callable[[], Any]]] = [
        ("chemtok native arrays, all threads", lambda: engine.encode_batch_arrays(texts, POLICY, None)),
        ("chemtok native arrays, 1 thread", lambda: engine.encode_batch_arrays(texts, POLICY, 1)),
        ("chemtok native lists, all threads", lambda: engine.encode_batch(texts, POLICY, None)),
        ("chemtok native encode() loop", lambda: [encode(t, POLICY) for t in texts]),
        (
            "chemtok tokenizer.encode_batch(arrays)",
            lambda: reference_native.encode_batch(texts, on_error=POLICY, return_arrays=True),
        ),
        ("chemtok Python reference", lambda: reference.encode_batch(texts, on_error=POLICY)),
        (
            "chemtok compact native arrays, all threads",
            lambda: compact_engine.encode_batch_arrays(texts, POLICY, None),
        ),
        ("chemtok compact native arrays, 1 thread", lambda: compact_engine.encode_batch_arrays(texts, POLICY, 1)),
        ("chemtok compact native encode() loop", lambda: [compact_encode(t, POLICY) for t in texts]),
        (
            "chemtok compact tokenizer.encode_batch(arrays)",
            lambda: compact_native.encode_batch(texts, on_error=POLICY, return_arrays=True),
        ),
        # A fresh tokenizer per run: the reference caches merged words, and a warm cache
        # (every word of the corpus seen in the warm-up) is not what new data meets.
        (
            "chemtok compact Python reference",
            lambda: chemtok.SmilesTokenizer(model="compact", engine="python").encode_batch(texts, on_error=POLICY),
        ),
        ("re.findall + dict lookup", regex_lookup),
        ("HF tokenizers Split+WordLevel", lambda: split.encode_batch(texts, add_special_tokens=False)),
        *((f"HF {name} BPE", (lambda t=tok: t.encode_batch(texts, add_special_tokens=False))) for name, tok in bpe.items()),
    ]
    try:
        reference_native = chemtok.SmilesTokenizer(engine="native")
        compact_native = chemtok.SmilesTokenizer(model="compact", engine="native")
    except (TypeError, ImportError):  # a chemtok without engine selection
        methods = [m for m in methods if "tokenizer." not in m[0]]

    results: list[dict[str, Any]] = []
    for name, call in methods:
        seconds = best_of(call, args.repeats)
        results.append({"method": name, "seconds": seconds, "smiles_per_s": n / seconds, "mb_per_s": megabytes / seconds})
        print(f"  {name:<40} {n / seconds:>12,.0f} SMILES/s {megabytes / seconds:>9.2f} MB/s", flush=True)

    anchor = results[0]["smiles_per_s"]
    for row in results:
        row["native_arrays_speedup"] = anchor / row["smiles_per_s"]
    print()
    print("| method | SMILES/s | MB/s | native arrays (all threads) is ×faster |")
    print("|---|---:|---:|---:|")
    for row in results:
        print(
            f"| {row['method']} | {row['smiles_per_s']:,.0f} | {row['mb_per_s']:.2f} | "
            f"{row['native_arrays_speedup']:.2f} |"
        )
    by_name = {row["method"]: row for row in results}
    checks = [
        ("native arrays >= 10x re.findall + dict", by_name["re.findall + dict lookup"]["native_arrays_speedup"], 10),
        ("native arrays >= 50x HF Split+WordLevel", by_name["HF tokenizers Split+WordLevel"]["native_arrays_speedup"], 50),
        ("native arrays >= 2.5M SMILES/s", anchor / 2.5e6, 1),
        ("native encode() loop >= 500k/s", by_name["chemtok native encode() loop"]["smiles_per_s"] / 5e5, 1),
        (
            "compact native arrays >= 1M SMILES/s",
            by_name["chemtok compact native arrays, all threads"]["smiles_per_s"] / 1e6,
            1,
        ),
    ]
    print()
    for label, value, target in checks:
        print(f"  {'PASS' if value >= target else 'MISS'}  {label} (measured {value:.2f} vs {target})")
    for method, m in memory.items():
        print(
            f"  peak RSS, {method} path in a fresh process: {m['peak_mib']:.0f} MiB, "
            f"+{m['peak_mib'] - m['before_mib']:.1f} MiB over the {m['before_mib']:.0f} MiB after reading the corpus"
            + (f" (result arrays: {m['result_mib']:.1f} MiB)" if method == "arrays" else "")
        )

    if args.json:
        record = {
            "input": args.input,
            "records": n,
            "megabytes": megabytes,
            "repeats": args.repeats,
            "cores": cores,
            "policy": POLICY,
            "tokens_per_smiles": tokens_per_smiles,
            "compact_merges": len(compact_reference.merges),
            "results": results,
            "memory": memory,
            "versions": {
                "chemtok": chemtok.__version__,
                "grammar": reference.grammar_tag,
                "tokenizers": tokenizers.__version__,
                "numpy": numpy.__version__,
                "python": platform.python_version(),
            },
            "baselines": {name: str(p) for name, p in baselines.items()},
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
