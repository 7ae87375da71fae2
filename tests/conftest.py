"""Shared fixtures: the shared data folder, corpus switches, hypothesis profiles, goldens."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
#: ../shared beside the checkout, or CHEMTOK_SHARED to point elsewhere.
SHARED = Path(os.environ.get("CHEMTOK_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"
BASELINES = SHARED / "baselines"

settings.register_profile(
    "chemtok",
    max_examples=int(os.environ.get("CHEMTOK_MAX_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=os.environ.get("CI") == "true",
)
settings.load_profile("chemtok")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*.jsonl from the current code")


def default_tokenizers() -> dict[str, Any]:
    """One default tokenizer per name: the four modalities and the ``chem`` router."""
    import chemtok

    return {
        "smiles": chemtok.SmilesTokenizer(),
        "inchi": chemtok.InchiTokenizer(),
        "protein": chemtok.ProteinTokenizer(),
        "dna": chemtok.DnaTokenizer(),
        "chem": chemtok.ChemTokenizer(),
    }


def grammar_corpus_files(modalities: tuple[str, ...] = ("smiles", "inchi", "protein", "dna")) -> list[tuple[str, str, str | None]]:
    """``(modality, path, column)`` for every shared-data file of the grammar modalities.

    TSV files name their column (``smiles`` or ``inchi``); the others hold one record per
    line or FASTA entry (column ``None``). Empty when the shared data is missing.
    """
    cases: list[tuple[str, str, str | None]] = []
    if not DATA.is_dir():
        return cases
    for modality in modalities:
        for path in sorted((DATA / modality).iterdir()):
            column = None
            if path.name.endswith((".tsv", ".tsv.gz")):
                column = "inchi" if modality == "inchi" else "smiles"
            cases.append((modality, str(path), column))
    return cases


def full_corpus_enabled(config: pytest.Config) -> bool:
    """Whole files when CHEMTOK_FULL_CORPUS=1 or when the run selects ``-m corpus``."""
    return os.environ.get("CHEMTOK_FULL_CORPUS") == "1" or "corpus" in (config.getoption("-m") or "")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA} (set CHEMTOK_SHARED)")
    return DATA


@pytest.fixture(scope="session")
def baselines_dir() -> Path:
    if not BASELINES.is_dir():
        pytest.skip(f"shared baselines not found at {BASELINES} (set CHEMTOK_SHARED)")
    return BASELINES


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
