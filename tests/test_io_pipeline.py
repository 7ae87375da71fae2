"""The pipeline API without the command line: every record read is written or failed."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest

from chemtok.io.pipeline import Failure, encode_chunks, tokenize_files
from chemtok.registry import load_tokenizer


@pytest.fixture(scope="module")
def tok() -> object:
    return load_tokenizer("smiles")


def meta_of(out: Path) -> dict[str, object]:
    return json.loads(out.with_suffix(".meta.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("policy", ["skip", "fallback"])
def test_written_plus_failed_is_read_in_counts_and_metadata(policy: str, tok: object, tmp_path: Path) -> None:
    src = tmp_path / "in.smi"
    src.write_bytes(b"CCO\nC\xffC\nc1ccccc1\n\nO=C=O\n")  # record 2 is not UTF-8
    out = tmp_path / "out.npy"
    seen: list[Failure] = []
    result = tokenize_files([str(src)], ["smi"], tok, str(out), modality="smiles", policy=policy, on_failure=seen.append)
    c = result.counts
    assert (c.read, c.written, c.failed) == (5, 4, 1)
    assert [f.record for f in seen] == [2] and not result.failed_run
    meta = meta_of(out)
    assert meta["records_read"] == 5 and meta["records_written"] == 4 and meta["records_failed"] == 1
    assert np.load(tmp_path / "out.records.npy").tolist() == [1, 3, 4, 5]


def test_raise_stops_at_the_first_failure_and_keeps_nothing(tok: object, tmp_path: Path) -> None:
    src = tmp_path / "in.smi"
    src.write_text("CCO\nCC§\nCC\n")
    result = tokenize_files([str(src)], ["smi"], tok, str(tmp_path / "out.npy"), modality="smiles")
    assert result.stop is not None and result.stop.record == 2 and result.failed_run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.smi"]


@pytest.mark.parametrize("policy", ["raise", "skip", "fallback"])
def test_a_run_where_every_record_fails_is_a_failed_run(policy: str, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"\xff\n\xfe\n")  # unreadable under every policy
    result = tokenize_files([str(src)], ["txt"], load_tokenizer("smiles"), str(tmp_path / "o.npy"), modality="smiles", policy=policy)
    assert result.failed_run
    if policy != "raise":
        assert (result.counts.read, result.counts.written, result.counts.failed) == (2, 0, 2)


def test_truncated_gzip_is_a_failed_record_and_a_failed_run(tok: object, tmp_path: Path) -> None:
    rng = random.Random(0)
    body = "".join("C" + "".join(rng.choice("CNO") for _ in range(20)) + "\n" for _ in range(20_000)).encode()
    src = tmp_path / "cut.smi.gz"
    src.write_bytes(gzip.compress(body)[:5000])
    out = tmp_path / "o.npy"
    result = tokenize_files([str(src)], ["smi"], tok, str(out), modality="smiles", policy="skip", chunk_size=500)
    c = result.counts
    assert result.faults and result.failed_run
    assert c.written + c.failed == c.read and c.failed == 1
    assert meta_of(out)["records_read"] == c.read


def test_encode_chunks_yields_every_record_once(tok: object, tmp_path: Path) -> None:
    a, b = tmp_path / "a.smi", tmp_path / "b.smi"
    a.write_text("CCO\nCC§\n")
    b.write_bytes(b"C\rCC\rCCC\r")  # CR-only line ends: three records
    seen = []
    for source, _path, chunk, done in encode_chunks([str(a), str(b)], ["smi", "smi"], tok, policy="skip", chunk_size=2):
        kept = {int(chunk.numbers[i]) for i in done.kept}
        failed = {f.record for f in done.failures}
        assert kept.isdisjoint(failed) and kept | failed == set(chunk.numbers)
        seen += [(source, n) for n in chunk.numbers]
    assert seen == [(0, 1), (0, 2), (1, 1), (1, 2), (1, 3)]


def test_the_pipeline_never_calls_main() -> None:
    from chemtok.io import pipeline

    source = Path(pipeline.__file__).read_text()
    assert "chemtok.cli" not in source and "main(" not in source
