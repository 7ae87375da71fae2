"""chemtok.ray on a real local Ray cluster: the same records, ids, failures and counts as the local run.

One ``ray.init(num_cpus=2)`` for the module (started here, shut down after); the
command line's ``--engine ray`` joins it. The shards are SMILES Parquet files written
from the shared corpora, with bad records injected at known places.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import ray
from conftest import DATA

import chemtok
from chemtok.arrow import encode_arrow
from chemtok.cli import main
from chemtok.io.formats import InputError
from chemtok.io.pipeline import tokenize_files
from chemtok.ray import METADATA_FILE, expand_inputs, tokenize_dataset, tokenize_files_ray
from chemtok.registry import load_tokenizer

SHARDS = 4
PER_SHARD = 1500
#: (shard, row) -> the bad value injected there: a grammar refusal, a null, and an empty string (valid).
INJECTED: dict[tuple[int, int], str | None] = {(1, 7): "C§C", (2, 0): None, (2, 1499): "CC€", (3, 42): ""}


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    # The test tokenizers below are classes of this module, which the workers cannot import.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        yield
    finally:
        ray.shutdown()


def _shared_smiles() -> list[str]:
    texts: list[str] = []
    for name in ("moleculenet_bbbp.smi.gz", "moleculenet_bace.smi.gz", "moleculenet_esol.smi.gz", "qm9.smi.gz"):
        with gzip.open(DATA / "smiles" / name, "rt", encoding="utf-8") as handle:
            texts += [line.split()[0] for line in handle if line.strip()]
    return texts


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    if not DATA.is_dir():  # pragma: no cover - the shared data is part of CI
        pytest.fail(f"the shared data is missing: {DATA}")
    texts = _shared_smiles()
    assert len(texts) >= SHARDS * PER_SHARD
    folder = tmp_path_factory.mktemp("shards")
    paths = []
    for shard in range(SHARDS):
        rows: list[str | None] = list(texts[shard * PER_SHARD : (shard + 1) * PER_SHARD])
        for (at, row), value in INJECTED.items():
            if at == shard:
                rows[row] = value
        path = folder / f"zinc-{shard}.parquet"
        pq.write_table(pa.table({"mol_id": list(range(len(rows))), "smiles": pa.array(rows, pa.string())}), path, row_group_size=500)
        paths.append(str(path))
    return paths


def _parts(folder: Path) -> pa.Table:
    files = sorted(folder.glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(f) for f in files])


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def test_engine_ray_writes_every_record_as_the_local_cli(
    cluster: None, shards: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--column", "smiles", "--on-error", "skip"]
    code, _ = _run(["tokenize", *shards, "-o", str(tmp_path / "local.parquet"), "--errors", str(tmp_path / "local.jsonl"), *common], capsys)
    assert code == 0
    out = tmp_path / "ray-out"
    code, err = _run(["tokenize", *shards, "--engine", "ray", "-o", f"{out}/", "--errors", str(tmp_path / "ray.jsonl"), *common], capsys)
    assert code == 0, err
    local = pq.read_table(tmp_path / "local.parquet")
    parts = _parts(out)
    assert parts.column_names == ["record", "ids", "source"] == local.column_names
    assert parts.to_pylist() == local.to_pylist()  # every record number, id and source, in order
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    failed = [(row["input"], row["record"]) for row in map(json.loads, (tmp_path / "ray.jsonl").read_text().splitlines())]
    assert failed == [(shards[1], 8), (shards[2], 1), (shards[2], 1500)]  # 1-based, per input
    meta = json.loads((out / METADATA_FILE).read_text())
    local_meta = json.loads(pq.read_schema(tmp_path / "local.parquet").metadata[b"chemtok"])
    assert meta["vocab_fingerprint"] == local_meta["vocab_fingerprint"] == chemtok.SmilesTokenizer().fingerprint
    assert meta["grammar"] == local_meta["grammar"] and meta["grammar"]
    total = SHARDS * PER_SHARD
    assert (meta["records_read"], meta["records_written"], meta["records_failed"]) == (total, total - 3, 3)
    assert (local_meta["records_read"], local_meta["records_written"]) == (total, total - 3)
    for i, entry in enumerate(meta["per_input"]):
        assert entry["input"] == shards[i] and entry["part"] == f"part-{i:05d}.parquet"
        assert entry["records_read"] == PER_SHARD
        assert entry["records_written"] + entry["records_failed"] == entry["records_read"]
        assert entry["records_failed"] == sum(1 for (s, _), v in INJECTED.items() if s == i and v != "")
    assert sorted(p.name for p in out.iterdir()) == [METADATA_FILE, *(f"part-{i:05d}.parquet" for i in range(SHARDS))]


def test_a_second_run_into_the_same_folder_replaces_every_part_of_the_first(cluster: None, shards: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    kw: dict[str, Any] = {"modality": "smiles", "policy": "skip", "column": "smiles"}
    tokenize_files_ray(shards, ["parquet"] * SHARDS, load_tokenizer("smiles"), out, **kw)
    result = tokenize_files_ray(shards[2:3], ["parquet"], load_tokenizer("smiles"), out, **kw)
    assert sorted(p.name for p in out.iterdir()) == [METADATA_FILE, "part-00000.parquet"]  # the old parts 1-3 are gone
    assert json.loads((out / METADATA_FILE).read_text())["inputs"] == shards[2:3]
    assert result.counts.read == PER_SHARD and pq.read_table(out / "part-00000.parquet").column_names == ["record", "ids"]


def test_a_directory_and_a_glob_expand_to_the_same_inputs(shards: list[str]) -> None:
    folder = str(Path(shards[0]).parent)
    assert expand_inputs([folder]) == expand_inputs([os.path.join(folder, "zinc-*.parquet")]) == sorted(shards)


@pytest.mark.parametrize("policy", ["raise", "skip"])
def test_other_formats_are_sharded_by_file(
    cluster: None, policy: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    smi = tmp_path / "a.smi.gz"
    smi.write_bytes(gzip.compress(b"CCO ethanol\nC\xffC\n\nc1ccccc1\n"))
    csv = tmp_path / "b.smi"
    csv.write_text("O=C=O\r\nN#N\r\n")
    inputs = [str(smi), str(csv)]
    local = _run(["tokenize", *inputs, "-o", str(tmp_path / "l.parquet"), "--on-error", policy], capsys)
    remote = _run(["tokenize", *inputs, "--engine", "ray", "-o", str(tmp_path / "r"), "--on-error", policy], capsys)
    assert local[0] == remote[0] == (1 if policy == "raise" else 0)
    if policy == "raise":  # the same stop, the same message; nothing written
        assert remote[1].splitlines()[0] == local[1].splitlines()[0]
        assert "record 2 of" in remote[1]
        assert not (tmp_path / "r").exists()  # nothing kept, not even the folder
    else:
        assert _parts(tmp_path / "r").to_pylist() == pq.read_table(tmp_path / "l.parquet").to_pylist()


def test_an_unreadable_input_fails_the_run_and_keeps_nothing(
    cluster: None, shards: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    out = tmp_path / "out"
    code, err = _run(["tokenize", shards[0], str(bad), "--column", "smiles", "--engine", "ray", "-o", str(out)], capsys)
    assert code in (1, 2) and "bad.parquet" in err
    assert not out.exists()


def test_a_truncated_input_is_a_failed_record_and_a_failed_run_as_locally(
    cluster: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(0)
    body = "".join("C" + "".join(rng.choice("CNO") for _ in range(20)) + "\n" for _ in range(20_000)).encode()
    cut = tmp_path / "cut.smi.gz"
    cut.write_bytes(gzip.compress(body)[:4000])
    whole = tmp_path / "whole.smi"
    whole.write_text("CCO\nc1ccccc1\n")
    inputs = [str(whole), str(cut)]
    local = _run(["tokenize", *inputs, "-o", str(tmp_path / "l.parquet"), "--on-error", "skip", "--chunk-size", "500"], capsys)
    remote = _run(["tokenize", *inputs, "--engine", "ray", "-o", str(tmp_path / "r"), "--on-error", "skip", "--chunk-size", "500"], capsys)
    assert local[0] == remote[0] == 1  # an input not read to its end fails the run
    assert remote[1].splitlines()[-1] == local[1].splitlines()[-1]  # "read N, written M, failed 1 (a failed run ...)"
    meta = json.loads((tmp_path / "r" / METADATA_FILE).read_text())
    assert meta["per_input"][1]["records_failed"] == 1
    assert meta["records_written"] + meta["records_failed"] == meta["records_read"]
    assert _parts(tmp_path / "r").to_pylist() == pq.read_table(tmp_path / "l.parquet").to_pylist()


class DiesOnce:
    """The SMILES tokenizer, except that the first call meeting ``text`` kills its process.

    The flag file says the kill happened (the retry in a new process then goes on).
    """

    def __init__(self, text: str, flag: str) -> None:
        self.inner = load_tokenizer("smiles")
        self.text = text
        self.flag = flag
        self.native_engine = None  # the reference path: every batch passes encode_batch
        self.on_error = self.inner.on_error

    def encode_batch(self, texts: list[str], **options: Any) -> Any:
        if self.text in texts and not os.path.exists(self.flag):
            with contextlib.suppress(OSError):  # a flag that cannot be written: it dies every time
                Path(self.flag).write_text(str(os.getpid()))
            os._exit(1)
        return self.inner.encode_batch(texts, **options)

    def encode(self, text: str, **options: Any) -> Any:
        return self.inner.encode(text, **options)

    def id_to_token(self, token_id: int) -> str:
        return str(self.inner.id_to_token(token_id))

    @property
    def vocab_size(self) -> int:
        return int(self.inner.vocab_size)

    @property
    def fingerprint(self) -> str:
        return str(self.inner.fingerprint)

    @property
    def grammar_tag(self) -> str:
        return str(self.inner.grammar_tag)


def test_a_worker_killed_mid_run_neither_loses_nor_duplicates_records(cluster: None, shards: list[str], tmp_path: Path) -> None:
    victim = pq.read_table(shards[2]).column("smiles")[900].as_py()  # in the second chunk of shard 2
    flag = tmp_path / "killed"
    tok = DiesOnce(victim, str(flag))
    out = tmp_path / "out"
    errors = tmp_path / "errors.jsonl"
    kw: dict[str, Any] = {"modality": "smiles", "policy": "skip", "column": "smiles", "chunk_size": 500}
    result = tokenize_files_ray(shards, ["parquet"] * SHARDS, tok, out, errors=str(errors), **kw)
    assert flag.exists() and int(flag.read_text()) != os.getpid()  # a worker died, the run went on
    local = tokenize_files(shards, ["parquet"] * SHARDS, load_tokenizer("smiles"), str(tmp_path / "l.parquet"), errors=str(tmp_path / "l.jsonl"), **kw)
    assert (result.counts.read, result.counts.written, result.counts.failed) == (local.counts.read, local.counts.written, local.counts.failed)
    assert result.counts.written + result.counts.failed == result.counts.read == SHARDS * PER_SHARD
    assert _parts(out).to_pylist() == pq.read_table(tmp_path / "l.parquet").to_pylist()
    assert errors.read_bytes() == (tmp_path / "l.jsonl").read_bytes()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging or temporary file left


@pytest.mark.slow
def test_a_worker_that_dies_on_every_attempt_fails_the_run_and_keeps_nothing(cluster: None, shards: list[str], tmp_path: Path) -> None:
    victim = pq.read_table(shards[1]).column("smiles")[3].as_py()
    tok = DiesOnce(victim, str(tmp_path / "no-such-folder" / "flag"))  # the flag cannot be written: it dies every time
    out = tmp_path / "out"
    with pytest.raises(InputError, match="on Ray"):
        tokenize_files_ray(shards[:2], ["parquet"] * 2, tok, out, modality="smiles", policy="skip", column="smiles")
    assert not out.exists()


def _local_rows(texts: list[str | None], **options: Any) -> list[tuple[Any, Any]]:
    batch = encode_arrow(load_tokenizer("smiles"), pa.array(texts, pa.string()), **options)
    return list(zip(batch.column("ids").to_pylist(), batch.column("error").to_pylist()))


def test_tokenize_dataset_equals_encode_arrow_and_records_the_fingerprint(cluster: None, shards: list[str], tmp_path: Path) -> None:
    texts: list[str | None] = pq.read_table(shards[2]).column("smiles").to_pylist()[:1200] + ["C§C", None]
    table = pa.table({"row": list(range(len(texts))), "smiles": pa.array(texts, pa.string())})
    ds = ray.data.from_arrow(table).repartition(4)
    out = tokenize_dataset(ds, "smiles", batch_size=256)
    rows = sorted(out.take_all(), key=lambda r: r["row"])
    assert [r["smiles"] for r in rows] == texts
    got = [(None if r["ids"] is None else list(r["ids"]), r["error"]) for r in rows]
    assert got == _local_rows(texts)
    assert got[-2][0] is None and "position 1" in got[-2][1]
    folder = tmp_path / "written"
    out.write_parquet(str(folder))
    files = sorted(folder.glob("*.parquet"))
    assert files
    written = pq.read_table(files[0])
    assert written.schema.field("ids").type == pa.list_(pa.uint32())
    meta = json.loads(pq.read_schema(files[0]).metadata[b"chemtok"])
    assert meta["vocab_fingerprint"] == chemtok.SmilesTokenizer().fingerprint and meta["grammar"] == chemtok.SmilesTokenizer().grammar_tag


def test_tokenize_dataset_takes_a_name_or_the_tokenizer_and_a_policy(cluster: None) -> None:
    texts: list[str | None] = ["CCO", "C§C", "c1ccccc1"]
    ds = ray.data.from_arrow(pa.table({"smiles": pa.array(texts)}))
    for tokenizer in ("smiles", chemtok.SmilesTokenizer()):
        rows = tokenize_dataset(ds, "smiles", tokenizer=tokenizer, on_error="fallback", concurrency=1).take_all()
        assert [(list(r["ids"]), r["error"]) for r in rows] == _local_rows(texts, on_error="fallback")
    with pytest.raises(ValueError, match="deepsmiles"):
        tokenize_dataset(ds, "smiles", tokenizer="deepsmiles", modality="dna")


def test_an_actor_killed_mid_run_is_restarted_without_losing_or_repeating_rows(cluster: None, shards: list[str], tmp_path: Path) -> None:
    texts: list[str | None] = pq.read_table(shards[0]).column("smiles").to_pylist()
    flag = tmp_path / "killed"
    table = pa.table({"row": list(range(len(texts))), "smiles": pa.array(texts, pa.string())})
    ds = ray.data.from_arrow(table).repartition(6)
    rows = tokenize_dataset(ds, "smiles", tokenizer=DiesOnce(str(texts[700]), str(flag)), batch_size=100).take_all()
    assert flag.exists()
    assert sorted(r["row"] for r in rows) == list(range(len(texts)))  # each row once
    rows.sort(key=lambda r: r["row"])
    assert [(None if r["ids"] is None else list(r["ids"]), r["error"]) for r in rows] == _local_rows(texts)


@pytest.mark.slow
def test_two_actors_on_two_cpus_leave_room_for_the_reads(cluster: None, shards: list[str]) -> None:
    # Two actors x 1 CPU on 2 CPUs never start (the read tasks wait for a CPU the actors
    # hold); the default half CPU per actor must finish. A thread, so a hang fails the test.
    assert ray.cluster_resources()["CPU"] == 2
    done: dict[str, Any] = {}

    def run() -> None:
        ds = tokenize_dataset(ray.data.read_parquet(shards, override_num_blocks=SHARDS), "smiles", concurrency=2)
        done["rows"] = ds.count()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive(), "the pipeline did not finish in 300 s: the read stage is starved"
    assert done["rows"] == SHARDS * PER_SHARD


@pytest.mark.slow
def test_without_an_address_the_command_starts_and_stops_its_own_cluster(shards: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "RAY_ADDRESS": ""}
    args = [sys.executable, "-m", "chemtok", "tokenize", *shards[:2], "--column", "smiles", "--engine", "ray", "-o", str(out), "--on-error", "skip"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert f"read {2 * PER_SHARD}, written {2 * PER_SHARD - 1}, failed 1" in done.stderr
    assert json.loads((out / METADATA_FILE).read_text())["records_read"] == 2 * PER_SHARD


def test_usage_errors(tmp_path: Path, shards: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(["tokenize", shards[0], "--column", "smiles", "--engine", "ray", "-o", str(tmp_path / "x.parquet")], capsys)
    assert code == 2 and "folder" in err
    code, err = _run(["tokenize", shards[0], "--column", "smiles", "--ray-address", "auto", "-o", str(tmp_path / "x.parquet")], capsys)
    assert code == 2 and "--engine ray" in err
    code, err = _run(["tokenize", str(tmp_path / "none-*.parquet"), "--engine", "ray", "-o", str(tmp_path / "o")], capsys)
    assert code == 2 and "matches" in err


def test_import_chemtok_and_its_command_line_do_not_import_ray() -> None:
    code = "import sys, chemtok, chemtok.cli, chemtok.io.pipeline; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "False"


@pytest.mark.slow
def test_ray_address_joins_a_running_cluster(cluster: None, shards: list[str], tmp_path: Path) -> None:
    address = ray.get_runtime_context().gcs_address
    out = tmp_path / "out"
    args = [sys.executable, "-m", "chemtok", "tokenize", shards[0], "--column", "smiles", "--engine", "ray", "--ray-address", address, "-o", str(out), "--on-error", "skip"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / METADATA_FILE).read_text())["records_read"] == PER_SHARD
    assert ray.cluster_resources()["CPU"] == 2  # the cluster is still up: joining does not stop it
