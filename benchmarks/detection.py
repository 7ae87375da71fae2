"""Detection benchmark: chemtok.detect against an Intern-S1-style baseline on real text.

The evaluation set is :mod:`detection_eval` (marked-then-stripped Galactica-style
documents, prose negatives, SciToolEval prompts with oracle labels). For each
detector and modality: precision and recall of exact spans (start, end and modality
equal), and false spans per 1,000 prose documents (every span found in a document
without chemistry). Then the time of ``chemtok.annotate_batch`` over all texts, and of ``chemtok.annotate``
called per text, against ``ChemTokenizer().encode_batch`` of the same texts (best of
``--repeats``).

The baseline follows the detector in Intern-S1's tokenizer as described in its model
card: a run of at least 10 SMILES units (the usual SMILES unit regex) not inside a
word, parsed by RDKit, with at least 5 letters; a run of at least 27 capitals is a
protein. It has no DNA class (a nucleotide run is called protein).

Usage:
    python benchmarks/detection.py                  # chemtok, chemtok+rdkit, baseline
    python benchmarks/detection.py --repeats 3 --json out.json

Prints a table per part and a JSON summary on standard output.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detection_eval import Doc, load_eval_set
from timing import best_of

MODALITIES = ("smiles", "inchi", "protein", "dna")
Spans = list[tuple[int, int, str]]

# The SMILES unit regex used by molecular transformers (Schwaller et al.), as Intern-S1 does.
_UNIT = r"(?:\[[^\]]+\]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9])"
_BASELINE_SMILES = re.compile(rf"(?<![A-Za-z0-9]){_UNIT}{{10,}}(?![A-Za-z0-9])")
_BASELINE_PROTEIN = re.compile(r"(?<![A-Za-z])[A-Z]{27,}(?![A-Za-z])")


def baseline_detect(text: str) -> Spans:
    """Intern-S1-style detection: SMILES by unit regex + RDKit, proteins by capital runs."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    spans: Spans = []
    for m in _BASELINE_SMILES.finditer(text):
        s = m.group()
        if sum(c.isalpha() for c in s) >= 5 and Chem.MolFromSmiles(s) is not None:
            spans.append((m.start(), m.end(), "smiles"))
    taken = [(a, b) for a, b, _ in spans]
    for m in _BASELINE_PROTEIN.finditer(text):
        if all(m.end() <= a or m.start() >= b for a, b in taken):
            spans.append((m.start(), m.end(), "protein"))
    return spans


def chemtok_detector(*, rdkit: bool) -> Callable[[str], Spans]:
    from chemtok.detect import Detector

    detector = Detector(rdkit=rdkit)
    return lambda text: [(s.start, s.end, s.modality) for s in detector.detect(text)]


def score(docs: list[Doc], find: Callable[[str], Spans]) -> dict[str, Any]:
    """Exact-span precision and recall per modality, and false spans per 1,000 documents."""
    tp: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    gold: Counter[str] = Counter()
    false_docs = 0
    false_spans = 0
    examples: list[str] = []
    for doc in docs:
        found = set(find(doc.text))
        truth = set(doc.gold)
        for _, _, m in found:
            predicted[m] += 1
        for _, _, m in truth:
            gold[m] += 1
        hits = found & truth
        for _, _, m in hits:
            tp[m] += 1
        wrong = found - truth
        false_spans += len(wrong)
        false_docs += bool(wrong)
        for a, b, m in sorted(wrong)[:1]:
            if len(examples) < 12:
                examples.append(f"{doc.source}: {m} {doc.text[a:b][:60]!r}")
    per: dict[str, Any] = {}
    for m in MODALITIES:
        if gold[m] or predicted[m]:
            per[m] = {
                "gold": gold[m],
                "found": predicted[m],
                "precision": round(tp[m] / predicted[m], 4) if predicted[m] else None,
                "recall": round(tp[m] / gold[m], 4) if gold[m] else None,
            }
    return {
        "documents": len(docs),
        "per_modality": per,
        "false_spans": false_spans,
        "false_spans_per_1000_docs": round(1000 * false_spans / max(len(docs), 1), 2),
        "examples_of_false_spans": examples,
    }


def timing(texts: list[str], repeats: int) -> dict[str, Any]:
    """Best-of-``repeats`` seconds of annotating ``texts`` against the router's ``encode_batch``.

    ``annotate_batch_s`` is :func:`chemtok.annotate_batch` (one native detection batch
    over every text, on every core), ``annotate_s`` is ``annotate`` called per text,
    ``detect_true_s`` is ``ChemTokenizer(detect=True).encode_batch`` (detection and
    routing), ``encode_batch_s`` is ``ChemTokenizer().encode_batch`` of the same texts (the
    Rust router, every core); the ratios are against that one, measured in the same run.
    """
    import chemtok
    from chemtok.annotate import annotate, annotate_batch
    from chemtok.detect import get_detector

    tok = chemtok.ChemTokenizer()
    detecting = chemtok.ChemTokenizer(detect=True)
    t_batch = best_of(lambda: annotate_batch(texts), repeats)
    t_annotate = best_of(lambda: [annotate(t) for t in texts], repeats)
    t_detect = best_of(lambda: detecting.encode_batch(texts), repeats)
    t_encode = best_of(lambda: tok.encode_batch(texts), repeats)
    return {
        "texts": len(texts),
        "characters": sum(map(len, texts)),
        "detector_engine": get_detector().engine,
        "annotate_batch_s": round(t_batch, 3),
        "annotate_s": round(t_annotate, 3),
        "detect_true_s": round(t_detect, 3),
        "encode_batch_s": round(t_encode, 3),
        "ratio_batch": round(t_batch / t_encode, 2),
        "ratio": round(t_annotate / t_encode, 2),
        "ratio_detect_true": round(t_detect / t_encode, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="timing: best of N (default 2)")
    parser.add_argument("--json", metavar="FILE", help="also write the summary here")
    args = parser.parse_args(argv)
    try:
        import rdkit  # noqa: F401

        have_rdkit = True
    except ImportError:
        have_rdkit = False
    parts = load_eval_set(prompts=have_rdkit)
    detectors: dict[str, Callable[[str], Spans]] = {"chemtok": chemtok_detector(rdkit=False)}
    if have_rdkit:
        detectors["chemtok+rdkit"] = chemtok_detector(rdkit=True)
        detectors["intern-s1-style"] = baseline_detect
    import chemtok

    summary: dict[str, Any] = {"chemtok_version": chemtok.__version__, "rdkit": have_rdkit, "results": {}}
    for part, docs in parts.items():
        for name, find in detectors.items():
            result = score(docs, find)
            summary["results"][f"{part}/{name}"] = result
            cells = "  ".join(
                f"{m} P={v['precision']} R={v['recall']} (gold {v['gold']}, found {v['found']})"
                for m, v in result["per_modality"].items()
            )
            print(
                f"{part:8} {name:16} docs={result['documents']:5}  false/1k={result['false_spans_per_1000_docs']:7}  {cells}"
            )
            for example in result["examples_of_false_spans"][:5]:
                print(f"    false: {example}")
    texts = [d.text for docs in parts.values() for d in docs]
    summary["timing"] = timing(texts, args.repeats)
    print(f"timing: {summary['timing']}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
