"""Native vs Python SELFIES engine: ``SelfiesTokenizer.encode_batch`` on real encoder output.

The SMILES of one real file (default: MoleculeNet HIV, ~41k molecules) are turned into
SELFIES with ``selfies.encoder`` (not timed; what the encoder refuses is left out), then
each method is timed best-of-N after a warm-up, in the same run:

    python       SelfiesTokenizer(engine="python").encode_batch
    native       SelfiesTokenizer().encode_batch (all cores; then num_threads=1; then arrays)
    router       ChemTokenizer().encode_batch of each SELFIES in [START_SELFIES]...[END_SELFIES],
                 native router vs engine="python"

Every method's ids are checked equal to the Python reference's before timing.

Usage:
    CHEMTOK_SHARED=/work/shared python benchmarks/selfies_engine.py [--file qm9.smi.gz] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from timing import best_of  # benchmarks/timing.py, beside this script

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("CHEMTOK_SHARED", HERE.parent.parent / "shared"))


def encoder_output(path: Path) -> list[str]:
    """``selfies.encoder`` of every SMILES of ``path`` it accepts."""
    import selfies as sf

    from chemtok.io import read_records

    out = []
    for record in read_records(path):
        if not record.text:
            continue
        try:
            encoded = sf.encoder(record.text)
        except Exception:  # selfies.EncoderError (and odd input the encoder trips over)
            continue
        if encoded:
            out.append(encoded)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default="moleculenet_hiv.smi.gz", help="a file of $CHEMTOK_SHARED/data/smiles")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import chemtok

    texts = encoder_output(SHARED / "data" / "smiles" / args.file)
    python = chemtok.SelfiesTokenizer(engine="python")
    fast = chemtok.SelfiesTokenizer()
    if fast.engine != "native":
        print("chemtok._native is not built: nothing to compare", file=sys.stderr)
        return 1
    marked = [f"[START_SELFIES]{t}[END_SELFIES]" for t in texts]
    router, router_python = chemtok.ChemTokenizer(), chemtok.ChemTokenizer(engine="python")
    expected = python.encode_batch(texts)
    assert fast.encode_batch(texts) == expected and fast.encode_batch(texts, num_threads=1) == expected
    assert router.encode_batch(marked) == router_python.encode_batch(marked)
    engine = router.native_engine
    assert engine is not None and engine.encode_batch(marked[:1000], "raise")[1] == []  # nothing deferred

    mb = sum(len(t.encode()) for t in texts) / 1e6
    tokens = sum(map(len, expected))
    print(f"{args.file}: {len(texts):,} SELFIES, {mb:.2f} MB, {tokens:,} tokens; best of {args.repeats}")
    rows = [
        ("`SelfiesTokenizer(engine=\"python\").encode_batch`", lambda: python.encode_batch(texts)),
        ("`SelfiesTokenizer().encode_batch` (native)", lambda: fast.encode_batch(texts)),
        ("native, `num_threads=1`", lambda: fast.encode_batch(texts, num_threads=1)),
        ("native, `return_arrays=True`", lambda: fast.encode_batch(texts, return_arrays=True)),
        ("`ChemTokenizer(engine=\"python\")`, marked", lambda: router_python.encode_batch(marked)),
        ("`ChemTokenizer()` (Rust router), marked", lambda: router.encode_batch(marked)),
    ]
    times = [best_of(call, args.repeats) for _, call in rows]
    print("| method | SELFIES/s | MB/s | × Python |")
    print("|---|---:|---:|---:|")
    for (label, _), seconds in zip(rows, times, strict=True):
        base = times[4] if "marked" in label else times[0]
        print(f"| {label} | {len(texts) / seconds:,.0f} | {mb / seconds:.2f} | {base / seconds:.1f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
