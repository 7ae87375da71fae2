"""The labelled evaluation set of the detection benchmark, built from ``$CHEMTOK_SHARED/data``.

Three parts, each a list of :class:`Doc` (a text and its gold spans):

* ``marked``: ``text/galactica_style_constructed.jsonl.gz`` with its markers stripped;
  the gold spans are what the markers enclosed (SMILES, protein, DNA), in the
  coordinates of the stripped text. Everything else in these documents is prose.
* ``prose``: documents without chemistry strings, every one a negative (gold: none):
  PubMed titles and abstracts (``text/pubmed_biopython.jsonl``), Mol-Instructions
  biomedical text records (instruction, input and output, ``text/mol_instructions_biotext``)
  and ChEBI-20 descriptions (``text/chebi20_molt5``), which name molecules by IUPAC
  names and formulas that must stay text.
* ``prompts``: the benchmark questions of ``text/scitooleval_questions.jsonl.gz``, whose
  molecules and sequences stand inline. They carry no labels, so gold comes from an
  oracle independent of chemtok: a whitespace-separated word (quotes and sentence
  punctuation off) is SMILES if RDKit parses it and it has a branch, ring bond, bracket
  atom or multiple bond; protein if it is 8+ capitals of the 20 standard residues with
  6+ distinct ones; DNA if 8+ of ``ACGTU``; InChI if RDKit reads it. SELFIES and InChIKeys
  are negatives.

Usage (as a module): ``from detection_eval import load_eval_set``.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("CHEMTOK_SHARED", HERE.parent.parent / "shared"))
TEXT = SHARED / "data" / "text"


@dataclass
class Doc:
    """One document: ``text`` and its gold ``(start, end, modality)`` spans."""

    source: str
    text: str
    gold: list[tuple[int, int, str]] = field(default_factory=list)


def _jsonl(path: Path) -> Iterator[dict[str, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def strip_markers(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """``text`` without its Galactica markers, and the spans the markers enclosed."""
    from chemtok.dialects import load_markers
    from chemtok.markers import MarkerMatcher

    out: list[str] = []
    spans: list[tuple[int, int, str]] = []
    length = 0
    for segment in MarkerMatcher(load_markers(), strict=True).split(text):
        if segment.modality == "marker":
            continue
        if segment.modality != "text":
            spans.append((length, length + len(segment.text), segment.modality))
        out.append(segment.text)
        length += len(segment.text)
    return "".join(out), spans


def marked_docs() -> list[Doc]:
    docs = []
    for row in _jsonl(TEXT / "galactica_style_constructed.jsonl.gz"):
        text, spans = strip_markers(str(row["text"]))
        docs.append(Doc(f"galactica:{row['template']}", text, spans))
    return docs


def prose_docs() -> list[Doc]:
    docs = []
    for row in _jsonl(TEXT / "pubmed_biopython.jsonl"):
        text = "\n\n".join(str(row[k]) for k in ("title", "text") if row.get(k))
        docs.append(Doc("pubmed", text))
    for row in _jsonl(TEXT / "mol_instructions_biotext.jsonl.gz"):
        text = "\n\n".join(str(row[k]) for k in ("instruction", "input", "output") if row.get(k))
        docs.append(Doc(f"mol_instructions:{row.get('task')}", text))
    for row in _jsonl(TEXT / "chebi20_molt5.jsonl.gz"):
        docs.append(Doc("chebi20", str(row["text"])))
    return docs


_WORD = re.compile(r"\S+")
_EDGE = "\"'`“”‘’.,;:!?()"
_RESIDUES = frozenset("ACDEFGHIKLMNPQRSTVWY")
_STRUCTURE = re.compile(r"[()\[\]=#0-9]")


def _oracle(word: str) -> str | None:
    """The modality of one prompt word by the independent oracle, or ``None``."""
    from rdkit import Chem

    if word.startswith("InChI="):
        return "inchi" if Chem.MolFromInchi(word) is not None else None
    if len(word) >= 8 and set(word) <= frozenset("ACGTU") and not {"T", "U"} <= set(word):
        return "dna"
    if len(word) >= 8 and set(word) <= _RESIDUES and len(set(word)) >= 6:
        return "protein"
    structured = _STRUCTURE.search(word) and re.search("[A-Za-z]", word) and not re.fullmatch(r"(?:\[[^\]]*\])+", word)
    return "smiles" if structured and Chem.MolFromSmiles(word) is not None else None


def prompt_docs() -> list[Doc]:
    """SciToolEval questions with oracle gold (needs RDKit)."""
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    docs = []
    for row in _jsonl(TEXT / "scitooleval_questions.jsonl.gz"):
        text = str(row["text"])
        gold = []
        for m in _WORD.finditer(text):
            word, start = m.group(), m.start()
            lead = len(word) - len(word.lstrip(_EDGE))
            core = word.strip(_EDGE)
            # a closing parenthesis of the sentence, or of the SMILES itself: ask the oracle both
            for candidate in (word[lead : lead + len(core)], word[lead:].rstrip(".,;:!?\"'`“”‘’")):
                if not candidate:
                    continue
                modality = _oracle(candidate)
                if modality is not None:
                    gold.append((start + lead, start + lead + len(candidate), modality))
                    break
        docs.append(Doc("scitooleval", text, gold))
    return docs


def load_eval_set(*, prompts: bool = True) -> dict[str, list[Doc]]:
    """The three parts (``prompts`` only when RDKit is installed and asked for)."""
    parts = {"marked": marked_docs(), "prose": prose_docs()}
    if prompts:
        try:
            import rdkit  # noqa: F401
        except ImportError:
            return parts
        parts["prompts"] = prompt_docs()
    return parts
