"""Every record of ../shared/data round-trips exactly, with no unknown or fallback token.

By default a seeded sample of each file runs; set CHEMTOK_FULL_CORPUS=1 (or run
``pytest -m corpus``) for every record of every file. Two SMILES records are not
SMILES and must be refused: ``FAIL`` and ``c1c[nH]c2c1fccc2`` (an aromatic fluorine).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import DATA, default_tokenizers, full_corpus_enabled, grammar_corpus_files

import chemtok
from chemtok.io import read_records

SAMPLE_SIZE = 3000
NOT_SMILES = {"FAIL": 1, "c1c[nH]c2c1fccc2": 11}  # string -> position of the refusal

TOKENIZERS = default_tokenizers()
TEXT_FIELDS = {
    "chebi20_molt5.jsonl.gz": ["text", "smiles"],
    "galactica_style_constructed.jsonl.gz": ["text"],
    "mol_instructions_biotext.jsonl.gz": ["instruction", "input", "output"],
    "pubmed_biopython.jsonl": ["title", "text"],
    "scitooleval_questions.jsonl.gz": ["text", "answer"],
    "swissprot_entries_biopython.jsonl": ["description", "organism", "sequence"],
}


def corpus_cases() -> list[tuple[str, str, str | None]]:
    """(tokenizer name, file path, column) for every file of the shared data."""
    cases = grammar_corpus_files()
    if DATA.is_dir():
        for name, fields in TEXT_FIELDS.items():
            cases.extend(("chem", str(DATA / "text" / name), field) for field in fields)
    return cases


def _texts(path: str, column: str | None, full: bool) -> list[str]:
    texts = [r.text for r in read_records(path, column=column) if r.text is not None]
    if not full and len(texts) > SAMPLE_SIZE:
        texts = random.Random(f"{Path(path).name}:{column}").sample(texts, SAMPLE_SIZE)
    return texts


@pytest.mark.corpus
@pytest.mark.parametrize("name, path, column", corpus_cases(), ids=lambda v: Path(v).name if isinstance(v, str) and "/" in v else str(v))
def test_corpus_round_trip(request: pytest.FixtureRequest, name: str, path: str, column: str | None) -> None:
    tok = TOKENIZERS[name]
    unk = tok.token_to_id("<unk>") if name != "chem" else tok.unk_token_id
    byte_ids = (
        set(range(*_span(tok.block("byte")))) if name == "chem" else {tok.token_to_id(f"<0x{b:02X}>") for b in range(256)}
    )
    texts = _texts(path, column, full_corpus_enabled(request.config))
    assert texts, f"no records read from {path}"
    failures = []
    for text in texts:
        if name == "smiles" and text in NOT_SMILES:
            with pytest.raises(chemtok.TokenizationError) as info:
                tok.encode(text)
            assert info.value.position == NOT_SMILES[text]
            continue
        try:
            ids = tok.encode(text)
        except chemtok.ChemtokError as err:
            failures.append((text[:80], str(err).splitlines()[0]))
            continue
        if tok.decode(ids) != text or unk in ids or byte_ids.intersection(ids):
            failures.append((text[:80], "round trip differs or used unknown/fallback tokens"))
        if name != "chem" and "".join(tok.tokenize(text)) != text:
            failures.append((text[:80], "tokens do not join to the input"))
    assert not failures, f"{len(failures)} of {len(texts)} records failed, e.g. {failures[:3]}"


def _span(block: tuple[int, int]) -> tuple[int, int]:
    offset, size = block
    return offset, offset + size
