"""Train chemtok's default text model: byte-level BPE on scientific prose.

The training text is the prose of ``../shared/data/text`` (descriptions, abstracts,
instructions, questions). Everything inside modality markers (``[START_SMILES]`` ...
``[END_SMILES]``, amino-acid and DNA sequences) is cut out first: those spans are
tokenized by the chemistry tokenizers, so the text vocabulary should not spend merges
on them. Digits are split one per token (Galactica's choice: numbers stay legible).

Usage (from the repository root):
    python scripts/train_text_bpe.py --data ../shared/data --vocab-size 16384

Writes ``chemtok/data/text_tokenizer.json``. Training is deterministic for a fixed
input (``tokenizers`` breaks ties by pair order).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from chemtok.dialects import load_markers
from chemtok.io import read_records

ROOT = Path(__file__).resolve().parent.parent

#: The fields holding prose in each shared text file.
TEXT_FIELDS = {
    "chebi20_molt5.jsonl.gz": ["text"],
    "galactica_style_constructed.jsonl.gz": ["text"],
    "mol_instructions_biotext.jsonl.gz": ["instruction", "input", "output"],
    "pubmed_biopython.jsonl": ["title", "text"],
    "scitooleval_questions.jsonl.gz": ["text", "answer"],
    "swissprot_entries_biopython.jsonl": ["description", "organism"],
}


def marker_spans() -> re.Pattern[str]:
    """A regex matching one whole non-text marker span, e.g. ``[START_DNA]...[END_DNA]``."""
    pairs = [p for p in load_markers().pairs if p.modality != "text"]
    return re.compile("|".join(f"{re.escape(p.start)}.*?{re.escape(p.end)}" for p in pairs), re.DOTALL)


def prose(data: Path) -> Iterator[str]:
    """Yield the prose strings of the shared text files, marker spans removed."""
    spans = marker_spans()
    for name, fields in sorted(TEXT_FIELDS.items()):
        path = data / "text" / name
        if not path.exists():
            continue
        for field in fields:
            for record in read_records(path, column=field):
                if record.text:
                    yield spans.sub(" ", record.text)


def build(vocab_size: int) -> tuple[Tokenizer, trainers.BpeTrainer]:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    return tokenizer, trainer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="the shared data folder")
    parser.add_argument("--vocab-size", type=int, default=16384, help="BPE vocabulary size (incl. 256 bytes)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "chemtok" / "data" / "text_tokenizer.json", help="output tokenizer.json"
    )
    args = parser.parse_args(argv)
    texts = list(prose(args.data))
    tokenizer, trainer = build(args.vocab_size)
    tokenizer.train_from_iterator(texts, trainer=trainer, length=len(texts))
    # Compact, deterministic file: sorted keys would reorder merges, so keep order.
    args.out.write_text(json.dumps(json.loads(tokenizer.to_str()), ensure_ascii=False) + "\n", encoding="utf-8")
    chars = sum(len(t) for t in texts)
    print(f"{args.out}: {tokenizer.get_vocab_size()} tokens from {len(texts)} texts, {chars:,} characters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
