"""Token efficiency of chemtok against GPT-2, Llama 2 and Llama 3 on every shared corpus.

Runs :func:`chemtok.bench.run_benchmark` over every modality of ``../shared/data``
(SMILES and reaction SMILES, InChI, protein, DNA/RNA, scientific text with and
without Galactica markers) with the three verified baselines of
``../shared/baselines``, writes ``results.json``, ``results.md`` and the plots into
``benchmarks/results/token_efficiency/`` (git-ignored), and prints the tables.

Files larger than ``--max-records`` (default 10,000) are measured on a seeded sample
of that many records (seed ``--seed`` and the file name), so the study runs in a few
minutes on two cores. ``smiles/hard_cases.tsv.gz`` is left out: it holds the same
strings as ``smiles/hard_cases.smi.gz``.

Usage (from the repository root):
    python benchmarks/token_efficiency.py --figures benchmarks/figures

The inputs are listed in ``TEXT_INPUTS`` and found by folder below ``--data``; the
library never imports this script.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from chemtok.bench import CHEMTOK, COMPACT, GROUPS, InputSpec, render_markdown, run_benchmark

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CHEMTOK_SHARED", ROOT.parent / "shared"))

BASELINES = ("gpt2", "llama2", "llama3")
#: Duplicates of other inputs, left out.
SKIP = {"hard_cases.tsv.gz"}
#: Columns of the tables outside the InChI folder.
TABLE_COLUMNS = {"opensmiles_spec_examples.tsv": "smiles"}
#: Text inputs and the JSONL field holding the text.
TEXT_INPUTS = {
    "galactica_style_constructed.jsonl.gz": "text",  # prose + SMILES/protein/DNA inside Galactica markers
    "chebi20_molt5.jsonl.gz": "text",  # ChEBI descriptions of molecules, no markers
    "scitooleval_questions.jsonl.gz": "text",  # questions with SMILES and sequences inline, no markers
    "mol_instructions_biotext.jsonl.gz": "input",  # PubMed paragraphs
    "pubmed_biopython.jsonl": "text",  # abstracts and one full text
}


def display(path: Path) -> str:
    """The path as it appears in the results: relative to the current folder when possible."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)


def study_inputs(data: Path) -> list[InputSpec]:
    """Every input of the study, SMILES first, in a fixed order."""
    specs: list[InputSpec] = []
    for modality in ("smiles", "inchi", "protein", "dna"):
        for path in sorted((data / modality).iterdir()):
            if path.name in SKIP or path.name.startswith("."):
                continue
            column = "inchi" if modality == "inchi" else TABLE_COLUMNS.get(path.name)
            specs.append(InputSpec(display(path), modality=modality, column=column))
    for name, field in TEXT_INPUTS.items():
        path = data / "text" / name
        if path.exists():
            specs.append(InputSpec(display(path), modality="text", column=field))
    return specs


def matrix(rows: Sequence[dict[str, Any]], group: str, cell: Callable[[dict[str, Any]], str], names: Sequence[str]) -> list[str]:
    """One line per input of ``group``, one column per tokenizer."""
    inputs = list(dict.fromkeys(r["input"] for r in rows if r["group"] == group))
    by_key = {(r["input"], r["tokenizer"]): r for r in rows}
    lines = ["| input | records | " + " | ".join(f"`{n}`" for n in names) + " |"]
    lines.append("| --- | ---: | " + " | ".join("---:" for _ in names) + " |")
    for path in inputs:
        first = by_key[(path, CHEMTOK)]
        records = f"{first['records']:,}" + ("*" if first["records"] < first["records_available"] else "")
        short = "/".join(Path(path).parts[-2:])
        cells = [cell(by_key[(path, n)]) if (path, n) in by_key else "–" for n in names]
        lines.append(f"| {short} | {records} | " + " | ".join(cells) + " |")
    return lines


def readme_tables(result: Any) -> str:
    """Compact per-input tables for benchmarks/README.md: tokens and alignment side by side."""
    names = [CHEMTOK, COMPACT, *BASELINES]

    def tokens(r: dict[str, Any]) -> str:
        ratio = r["tokens_vs_chemtok"]
        return f"{r['mean_tokens']:.1f}" + ("" if r["tokenizer"] == CHEMTOK else f" ({ratio:.2f}×)")

    def alignment(r: dict[str, Any]) -> str:
        if r["atom_alignment"] is None:
            return "–"
        return f"{100 * r['atom_alignment']:.0f}% / {100 * r['boundary_alignment']:.0f}%"

    def layer(r: dict[str, Any]) -> str:
        return "–" if r["layer_alignment"] is None else f"{100 * r['layer_alignment']:.1f}%"

    out: list[str] = []
    for group in GROUPS:
        if not any(r["group"] == group for r in result.rows):
            continue
        group_names = names + (
            [f"{prefix}+{b}" for prefix in (CHEMTOK, COMPACT) for b in BASELINES] if group in ("mixed", "text") else []
        )
        group_names = [n for n in group_names if any(r["tokenizer"] == n and r["group"] == group for r in result.rows)]
        out += ["", f"#### {group}: mean tokens per record (× chemtok)", ""]
        out += matrix(result.rows, group, tokens, group_names)
        if group in ("smiles", "reactions"):
            out += ["", f"#### {group}: atom alignment / boundary alignment", ""]
            out += matrix(result.rows, group, alignment, [n for n in group_names if "+" not in n])
        elif group == "inchi":
            out += ["", "#### inchi: layer alignment", ""]
            out += matrix(result.rows, group, layer, group_names)
    out += ["", "\\* a seeded sample of the input's records."]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data", help="the shared data folder (default: %(default)s)")
    parser.add_argument(
        "--baselines", type=Path, default=SHARED / "baselines", help="folder with gpt2/ llama2/ llama3/ tokenizer.json"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "token_efficiency", help="results folder"
    )
    parser.add_argument("--max-records", type=int, default=10_000, help="records per input, seeded sample (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    parser.add_argument("--figures", type=Path, default=None, help="also copy the PNG plots into this folder")
    args = parser.parse_args(argv)

    baselines = {name: display(args.baselines / name / "tokenizer.json") for name in BASELINES}
    started = time.perf_counter()
    result = run_benchmark(
        study_inputs(args.data),
        baselines,
        out_dir=args.out,
        max_records=args.max_records,
        seed=args.seed,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    elapsed = time.perf_counter() - started
    (args.out / "readme_tables.md").write_text(readme_tables(result), encoding="utf-8")
    if args.figures is not None:
        args.figures.mkdir(parents=True, exist_ok=True)
        for path in result.files:
            if path.endswith(".png"):
                shutil.copy(path, args.figures / Path(path).name)
    print(render_markdown(result))
    print(readme_tables(result))
    print(f"{len(result.rows)} rows in {elapsed:.0f} s; written to {display(args.out)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
