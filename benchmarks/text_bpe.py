"""Native byte-level BPE (``chemtok._native.TextEngine``) against ``tokenizers``, in one run.

The same real texts (every string field of the shared text corpora: ~78k strings,
10 MB; by default an even sample of 20k of them) are encoded by chemtok's text model, GPT-2 and Llama 3, each through the native
engine and through Hugging Face ``tokenizers`` (``encode_batch``,
``add_special_tokens=False``, literal special tokens as text, as ``TextTokenizer``
does). Batches run on 2 threads for both (``RAYON_NUM_THREADS=2`` for ``tokenizers``,
set before it is imported; ``num_threads=2`` for native). Each method is timed
best-of-N after a warm-up; the ids are checked to be identical before timing.

Usage:
    python benchmarks/text_bpe.py                # 3 repeats
    python benchmarks/text_bpe.py --repeats 5 --json out.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from timing import best_of  # benchmarks/timing.py, beside this script

os.environ["RAYON_NUM_THREADS"] = "2"  # before tokenizers starts its pool

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("CHEMTOK_SHARED", HERE.parent.parent / "shared"))
TEXT = SHARED / "data" / "text"
MODELS = {
    "chemtok text": HERE.parent / "chemtok" / "data" / "text_tokenizer.json",
    "GPT-2": SHARED / "baselines" / "gpt2" / "tokenizer.json",
    "Llama 3": SHARED / "baselines" / "llama3" / "tokenizer.json",
}


def read_texts() -> list[str]:
    """Every non-empty string field of every record of the shared text corpora."""
    texts: list[str] = []
    for path in sorted(TEXT.glob("*.jsonl*")):
        opener: Any = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                texts.extend(v for v in record.values() if isinstance(v, str) and v)
    return texts


def measure(hf: Any, native: Any, texts: list[str], single: list[str], repeats: int) -> dict[str, float]:
    """Seconds of each method on the same texts."""
    return {
        "native encode_batch": best_of(lambda: native.encode_batch(texts, num_threads=2), repeats),
        "native encode_batch_arrays": best_of(lambda: native.encode_batch_arrays(texts, num_threads=2), repeats),
        "tokenizers encode_batch": best_of(lambda: hf.encode_batch(texts, add_special_tokens=False), repeats),
        "native encode (loop)": best_of(lambda: [native.encode(t) for t in single], repeats),
        "tokenizers encode (loop)": best_of(lambda: [hf.encode(t, add_special_tokens=False).ids for t in single], repeats),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=20000, help="texts of the batch (0: all ~78k)")
    parser.add_argument("--single", type=int, default=2000, help="texts for the single-call loop")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from tokenizers import Tokenizer

    from chemtok._native import TextEngine

    texts = read_texts()
    if args.limit:
        texts = texts[:: max(1, len(texts) // args.limit)][: args.limit]
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    single = texts[: args.single]
    print(f"{len(texts)} texts, {megabytes:.2f} MB, python {platform.python_version()}, {os.cpu_count()} cores")
    rows: list[dict[str, Any]] = []
    for name, path in MODELS.items():
        if not path.exists():
            print(f"{name}: {path} missing, skipped", file=sys.stderr)
            continue
        raw = path.read_text(encoding="utf-8")
        hf = Tokenizer.from_str(raw)
        hf.encode_special_tokens = True
        native = TextEngine(raw)
        expected = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
        if native.encode_batch(texts, num_threads=2) != expected:
            raise SystemExit(f"{name}: native ids differ from tokenizers")
        timings = measure(hf, native, texts, single, args.repeats)
        single_mb = sum(len(t.encode("utf-8")) for t in single) / 1e6
        batch_ratio = timings["tokenizers encode_batch"] / timings["native encode_batch"]
        single_ratio = timings["tokenizers encode (loop)"] / timings["native encode (loop)"]
        print(f"\n{name}")
        for method, seconds in timings.items():
            size = single_mb if "loop" in method else megabytes
            print(f"  {method:28s} {seconds * 1e3:9.1f} ms  {size / seconds:7.2f} MB/s")
        print(f"  batch: native {batch_ratio:.2f}x tokenizers; single encode: native {single_ratio:.2f}x tokenizers")
        rows.append({"model": name, "seconds": timings, "batch_ratio": batch_ratio, "single_ratio": single_ratio})
    if args.json:
        args.json.write_text(json.dumps({"texts": len(texts), "megabytes": megabytes, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
