"""Throughput of the router (``ChemTokenizer.encode_batch``) against the base models' own tokenizers.

One run, the same real texts for every method: the prose and Galactica-style marked
documents of ``$CHEMTOK_SHARED/data/text`` (``galactica_style_constructed``, the
Mol-Instructions biotext records, SciToolEval questions, PubMed abstracts and
Swiss-Prot entries: ~11k documents, ~3 MB, with and without markers). Each method is
timed best-of-N after a warm-up and reported with its ratio to its peer:

    chem default        ChemTokenizer().encode_batch            vs GPT-2 tokenizers encode_batch
    chem over gpt2      ChemTokenizer.from_base(gpt2)            vs GPT-2 tokenizers encode_batch
    chem over llama3    ChemTokenizer.from_base(llama3)          vs Llama 3 tokenizers encode_batch
    (each also with return_arrays=True and on the Python path, engine="python")
    HF datasets.map     HFChemTokenizer vs GPT-2 PreTrainedTokenizerFast in
                        datasets.map(batched=True), when datasets and transformers are installed

Then the growth from 1x to 10x the input (the texts repeated) and the peak RSS of the
native array path in a fresh process. ``tokenizers`` is called with
``add_special_tokens=False``, as chemtok encodes.

Usage:
    CHEMTOK_SHARED=/work/shared python benchmarks/router_throughput.py [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from timing import best_of, peak_rss_mib  # benchmarks/timing.py, beside this script

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("CHEMTOK_SHARED", HERE.parent.parent / "shared"))
TEXT = SHARED / "data" / "text"
BASELINES = SHARED / "baselines"
FILES = (
    "galactica_style_constructed.jsonl.gz",
    "mol_instructions_biotext.jsonl.gz",
    "scitooleval_questions.jsonl.gz",
    "pubmed_biopython.jsonl",
    "swissprot_entries_biopython.jsonl",
)
#: Fields that name a record rather than hold its text.
ID_FIELDS = {"source", "from", "template", "task", "pmid", "accession", "entry_name", "split", "cid", "constructed"}
POLICY = "raise"


def document(record: dict[str, Any]) -> str:
    """The text of a record: its ``text``, else its text fields joined by newlines."""
    if isinstance(record.get("text"), str):
        return str(record["text"])
    return "\n".join(str(v) for k, v in record.items() if k not in ID_FIELDS and isinstance(v, str) and v)


def read_documents() -> list[str]:
    texts: list[str] = []
    for name in FILES:
        path = TEXT / name
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
            texts.extend(t for t in (document(json.loads(line)) for line in handle if line.strip()) if t)
    return texts


def memory_probe(times: int) -> dict[str, float]:
    """In this (fresh) process: peak RSS of the default router's array path on the texts x ``times``."""
    import chemtok

    tok = chemtok.ChemTokenizer()
    texts = read_documents() * times
    tok.encode_batch(texts[:10])
    before = peak_rss_mib()
    ids, offsets = tok.encode_batch(texts, on_error=POLICY, return_arrays=True)
    return {
        "documents": len(texts),
        "before_mib": before,
        "peak_mib": peak_rss_mib(),
        "result_mib": (ids.nbytes + offsets.nbytes) / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method; the best counts")
    parser.add_argument("--scale", type=int, default=10, help="the larger input: the texts this many times")
    parser.add_argument("--json", default=None, help="also write the results here as JSON")
    parser.add_argument("--probe", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(memory_probe(args.probe)))
        return 0
    probe = [sys.executable, __file__, "--probe", str(args.scale)]
    memory = json.loads(subprocess.run(probe, check=True, capture_output=True, text=True).stdout)

    import tokenizers
    from tokenizers import Tokenizer

    import chemtok

    texts = read_documents()
    n = len(texts)
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    marked = sum("[START_" in t for t in texts)
    print(f"{n:,} documents ({marked:,} with markers), {megabytes:.2f} MB; {os.cpu_count()} cores; best of {args.repeats}")
    paths = {name: BASELINES / name / "tokenizer.json" for name in ("gpt2", "llama3")}
    base = {name: Tokenizer.from_file(str(p)) for name, p in paths.items()}
    chems = {
        "default": chemtok.ChemTokenizer(),
        "gpt2": chemtok.ChemTokenizer.from_base(paths["gpt2"]),
        "llama3": chemtok.ChemTokenizer.from_base(paths["llama3"]),
    }
    pythons = {
        "default": chemtok.ChemTokenizer(engine="python"),
        "gpt2": chemtok.ChemTokenizer.from_base(paths["gpt2"], engine="python"),
        "llama3": chemtok.ChemTokenizer.from_base(paths["llama3"], engine="python"),
    }
    peers = {"default": "gpt2", "gpt2": "gpt2", "llama3": "llama3"}
    for name, tok in chems.items():
        print(f"  chem {name}: engine={tok.engine}, text engine={getattr(tok.text, 'engine', '?')}")

    results: list[dict[str, Any]] = []

    def run(label: str, call: Callable[[], Any], peer: float | None) -> float:
        seconds = best_of(call, args.repeats)
        ratio = None if peer is None else peer / seconds
        results.append({"method": label, "seconds": seconds, "docs_per_s": n / seconds, "vs_peer": ratio})
        shown = "" if ratio is None else f"  {ratio:5.2f}x its tokenizers peer"
        print(f"  {label:<48} {n / seconds:>9,.0f} docs/s {megabytes / seconds:>7.2f} MB/s{shown}", flush=True)
        return seconds

    peer_seconds = {
        name: run(f"tokenizers {name} encode_batch", lambda t=tok: t.encode_batch(texts, add_special_tokens=False), None)
        for name, tok in base.items()
    }
    for name, tok in chems.items():
        peer = peer_seconds[peers[name]]
        run(f"chem {name} encode_batch", lambda t=tok: t.encode_batch(texts, on_error=POLICY), peer)
        run(
            f"chem {name} encode_batch(return_arrays)",
            lambda t=tok: t.encode_batch(texts, on_error=POLICY, return_arrays=True),
            peer,
        )
        py = pythons[name]
        run(f"chem {name} Python path", lambda t=py: t.encode_batch(texts, on_error=POLICY), peer)

    # The unmarked documents alone: prose (and inline sequences) that every token of
    # goes through the text model, where the base tokenizers are not slowed down by
    # long marked sequences encoded as one BPE word.
    prose = [t for t in texts if "[START_" not in t]
    prose_peer = {
        name: best_of(lambda t=tok: t.encode_batch(prose, add_special_tokens=False), args.repeats)
        for name, tok in base.items()
    }
    prose_ratio: dict[str, float] = {}
    for name, tok in chems.items():
        seconds = best_of(lambda t=tok: t.encode_batch(prose, on_error=POLICY), args.repeats)
        prose_ratio[name] = prose_peer[peers[name]] / seconds
        print(f"  unmarked only ({len(prose):,} docs): chem {name} encode_batch {prose_ratio[name]:.2f}x its tokenizers peer")

    # Growth from 1x to 10x the input (the same texts repeated).
    big = texts * args.scale
    growth: dict[str, float] = {}
    for name, tok in (("chem default arrays", chems["default"]), ("chem llama3 arrays", chems["llama3"])):
        one = best_of(lambda t=tok: t.encode_batch(texts, on_error=POLICY, return_arrays=True), args.repeats)
        ten = best_of(lambda t=tok: t.encode_batch(big, on_error=POLICY, return_arrays=True), 1)
        growth[name] = ten / one
        print(f"  {name}: {one:.3f} s at 1x, {ten:.3f} s at {args.scale}x ({ten / one:.1f}x the time)")

    hf_map = hf_datasets_map(texts, paths["gpt2"], args.repeats)
    if hf_map:
        print(
            f"  datasets.map(batched=True): HFChemTokenizer {hf_map['chem_s']:.2f} s, GPT-2 fast "
            f"{hf_map['gpt2_s']:.2f} s ({hf_map['gpt2_s'] / hf_map['chem_s']:.2f}x)"
        )
    print(
        f"  peak RSS, default router arrays on {memory['documents']:,} documents in a fresh process: "
        f"{memory['peak_mib']:.0f} MiB (+{memory['peak_mib'] - memory['before_mib']:.0f} MiB over "
        f"{memory['before_mib']:.0f} MiB after reading; result arrays {memory['result_mib']:.1f} MiB)"
    )
    if args.json:
        record = {
            "documents": n,
            "megabytes": megabytes,
            "repeats": args.repeats,
            "results": results,
            "growth": growth,
            "unmarked_vs_peer": prose_ratio,
            "datasets_map": hf_map,
            "memory": memory,
            "versions": {"chemtok": chemtok.__version__, "tokenizers": tokenizers.__version__, "python": platform.python_version()},
        }
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
    return 0


def hf_datasets_map(texts: list[str], gpt2: Path, repeats: int) -> dict[str, float] | None:
    """Seconds of ``datasets.map(batched=True)`` with HFChemTokenizer and GPT-2's fast tokenizer."""
    try:
        import datasets
        from transformers import PreTrainedTokenizerFast
    except ImportError:
        return None
    from chemtok.hf import HFChemTokenizer

    datasets.disable_progress_bars()
    data = datasets.Dataset.from_dict({"text": texts})
    chem = HFChemTokenizer()
    fast = PreTrainedTokenizerFast(tokenizer_file=str(gpt2))

    def mapped(tok: Any) -> Callable[[], Any]:
        return lambda: data.map(lambda b: tok(b["text"]), batched=True, load_from_cache_file=False, keep_in_memory=True)

    return {"chem_s": best_of(mapped(chem), repeats), "gpt2_s": best_of(mapped(fast), repeats)}


if __name__ == "__main__":
    raise SystemExit(main())
