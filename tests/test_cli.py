"""The ``chemtok`` command line, in-process (``main([...])``) and as a subprocess, on real files.

Every output is read back and compared with the library's own ``encode`` of the same
records read by :func:`chemtok.io.read_records`; bad-record files are built in
``tmp_path`` by injecting invalid characters, non-UTF-8 bytes, empty lines and unclosed
markers into real records from ``../shared/data``.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chemtok
from chemtok import cli
from chemtok.cli import version_line
from chemtok.io import formats, pipeline, read_records, readers, writers
from chemtok.registry import load_tokenizer

SMILES_GZ = "smiles/moleculenet_bace.smi.gz"
REACTIONS = "smiles/reactions_chemprop_tests.rsmi"
INCHI_TSV = "inchi/iupac_docs_examples.inchi.tsv"
HARD_TSV_GZ = "smiles/hard_cases.tsv.gz"
PROTEIN_FASTA = "protein/deepchem_uniprot_truncated.fasta"
RNA_FASTA_GZ = "dna/biopython_tests_rna.fasta.gz"
TEXT_JSONL = "text/pubmed_biopython.jsonl"
MIXED_JSONL_GZ = "text/galactica_style_constructed.jsonl.gz"

OUTPUT_SUFFIXES = (".parquet", ".jsonl", ".jsonl.gz", ".npy", ".bin")


# -- helpers --------------------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_process(args: list[str], *, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "chemtok", *map(str, args)], input=stdin, capture_output=True, cwd=cwd, timeout=120, check=False
    )


def read_megatron(prefix: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse OUT.idx / OUT.bin by the layout documented in chemtok.io.writers: (lengths, pointers, ids)."""
    raw = (prefix.with_suffix(".idx")).read_bytes()
    assert raw[:9] == writers.MEGATRON_INDEX_MAGIC
    version, = struct.unpack_from("<Q", raw, 9)
    code, = struct.unpack_from("<B", raw, 17)
    count, doc_count = struct.unpack_from("<QQ", raw, 18)
    assert version == 1 and doc_count == count + 1
    dtype = {8: "<u2", 4: "<i4"}[code]
    at = 34
    lengths = np.frombuffer(raw, "<i4", count, at)
    at += 4 * count
    pointers = np.frombuffer(raw, "<i8", count, at)
    at += 8 * count
    documents = np.frombuffer(raw, "<i8", count + 1, at)
    assert at + 8 * (count + 1) == len(raw)
    assert documents.tolist() == list(range(count + 1))
    ids = np.fromfile(prefix.with_suffix(".bin"), dtype=dtype)
    return lengths, pointers, ids


def read_output(path: Path) -> tuple[list[tuple[int, list[int], str | None]], dict[str, Any]]:
    """Rows ``(record, ids, source)`` and the metadata of any output chemtok writes."""
    name = path.name
    fmt = writers.output_format(path)
    stem = writers.sidecar_path(path, "")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        meta = json.loads(pq.read_schema(path).metadata[b"chemtok"])
        data = table.to_pydict()
        sources = data.get("source", [None] * table.num_rows)
        return list(zip(data["record"], data["ids"], sources)), meta
    meta = json.loads(Path(f"{stem}.meta.json").read_text())
    if fmt == "jsonl":
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
            rows = [json.loads(line) for line in handle]
        return [(r["record"], r["ids"], r.get("source")) for r in rows], meta
    records = np.load(f"{stem}.records.npy")
    sources_path = Path(f"{stem}.sources.npy")
    sources = [meta["inputs"][i] for i in np.load(sources_path)] if sources_path.exists() else [None] * len(records)
    if fmt == "npy":
        ids = np.load(path, mmap_mode="r")
        offsets = np.load(f"{stem}.offsets.npy")
        assert ids.dtype == np.uint32 and offsets.dtype == np.int64 and len(offsets) == len(records) + 1
        rows = [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(records))]
    else:
        lengths, pointers, ids = read_megatron(stem)
        itemsize = ids.dtype.itemsize
        rows = [ids[p // itemsize : p // itemsize + n].tolist() for p, n in zip(pointers, lengths)]
    return [(int(r), row, s) for r, row, s in zip(records, rows, sources)], meta


def expected_rows(tok: Any, path: Path | str, **kwargs: Any) -> list[tuple[int, list[int]]]:
    records = list(read_records(path, **kwargs))
    ids = tok.encode_batch([r.text for r in records])
    return [(r.number, row) for r, row in zip(records, ids)]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if "chemtok-tmp" in p.name)


@pytest.fixture(scope="module")
def smiles_tok() -> chemtok.SmilesTokenizer:
    return chemtok.SmilesTokenizer()


@pytest.fixture
def bad_smiles(data_dir: Path, tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """Real SMILES with injected failures: record number -> what is wrong with it."""
    with gzip.open(data_dir / SMILES_GZ, "rb") as handle:
        lines = [line.rstrip(b"\n") for line in handle][:200]
    broken = {
        7: lines[6] + "§".encode(),  # "§" is nothing in SMILES
        50: b"",  # an empty line: a record with no tokens, not a failure
        51: b"c1c[nH]c2c1fccc2",  # aromatic fluorine
        90: b"CC\xff\xfeO",  # not UTF-8
        120: lines[119].replace(b"C", b"C\xc3", 1),  # a truncated UTF-8 sequence
        200: b"CCO\r",  # CRLF line end on the last record, and no final newline
    }
    for number, line in broken.items():
        lines[number - 1] = line
    path = tmp_path / "injected.smi"
    path.write_bytes(b"\n".join(lines))
    failing = {7: "position", 51: "position 11", 90: "UTF-8", 120: "UTF-8"}
    return path, failing


# -- --help, --version, python -m ---------------------------------------------------------------


def test_help_and_version_import_nothing_outside_chemtok_and_the_standard_library() -> None:
    # What keeps --help instant is what it imports: counted in a fresh interpreter, not timed.
    code = (
        "import sys, io, contextlib, json\n"
        "before = set(sys.modules)\n"
        "from chemtok.cli import main\n"
        "for argv in (['--help'], ['tokenize', '--help'], ['validate', '--help'], ['inspect', '--help'],\n"
        "             ['bench', '--help'], ['train', '--help'], ['--version']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert main(argv) == 0, argv\n"
        "loaded = {m.partition('.')[0] for m in set(sys.modules) - before}\n"
        "print(json.dumps(sorted(loaded - set(sys.stdlib_module_names))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout) == ["chemtok"]  # no numpy, pyarrow, rdkit, tokenizers, matplotlib...


def test_version_and_help_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == version_line() and out.startswith(f"chemtok {chemtok.__version__} (engine: ")
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for command in ("tokenize", "validate", "inspect", "bench"):
        assert command in out
    code, out, _ = run(["tokenize", "--help"], capsys)
    assert code == 0
    for flag in ("--modality", "--column", "--tokenizer", "--on-error", "--errors", "--jobs", "Megatron", "tokenizer.json"):
        assert flag in out
    code, _, err = run([], capsys)
    assert code == 2 and "COMMAND" in err


def test_python_m_and_console_script(data_dir: Path, tmp_path: Path) -> None:
    out = run_process(["--version"])
    assert out.returncode == 0 and out.stdout.decode().strip() == version_line()
    script = shutil.which("chemtok") or str(Path(sys.executable).with_name("chemtok"))
    if not os.path.exists(script):
        pytest.skip('the chemtok console script is not installed (pip install -e ".[dev]")')
    done = subprocess.run([script, "tokenize", data_dir / SMILES_GZ, "-o", tmp_path / "x.npy"], capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()


# -- inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "relative, extra, modality, reader_kwargs",
    [
        (SMILES_GZ, [], "smiles", {}),
        (REACTIONS, [], "smiles", {}),
        (INCHI_TSV, ["--column", "inchi"], "inchi", {"column": "inchi"}),
        (HARD_TSV_GZ, ["--column", "smiles"], "smiles", {"column": "smiles"}),
        (PROTEIN_FASTA, ["--modality", "protein"], "protein", {}),
        (RNA_FASTA_GZ, ["--modality", "dna"], "dna", {}),
        (TEXT_JSONL, ["--column", "title", "--modality", "text"], "text", {"column": "title"}),
    ],
)
def test_real_inputs(
    relative: str, extra: list[str], modality: str, reader_kwargs: dict[str, Any], data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = data_dir / relative
    out = tmp_path / "out.parquet"
    code, _, err = run(["tokenize", source, "-o", out, *extra], capsys)
    assert code == 0, err
    rows, meta = read_output(out)
    tok = load_tokenizer(modality)
    expected = expected_rows(tok, source, **reader_kwargs)
    assert [(r, ids) for r, ids, _ in rows] == expected
    assert meta["modality"] == modality and meta["chemtok_version"] == chemtok.__version__
    assert meta["vocab_fingerprint"] == tok.fingerprint
    assert f"read {len(expected)}, written {len(expected)}, failed 0" in err


def test_csv_parquet_txt_jsonl_gz_made_from_real_records(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], smiles_tok: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    smiles = [r.text for r in read_records(data_dir / SMILES_GZ)][:300]
    (tmp_path / "m.csv").write_text("id,smiles\n" + "".join(f"{i},{s}\n" for i, s in enumerate(smiles)))
    pq.write_table(pa.table({"name": [str(i) for i in range(len(smiles))], "smiles": smiles}), tmp_path / "m.parquet")
    (tmp_path / "m.txt").write_text("".join(f"{s}\n" for s in smiles))
    with gzip.open(tmp_path / "m.jsonl.gz", "wt") as handle:
        handle.writelines(json.dumps({"smiles": s}) + "\n" for s in smiles)
    expected = [(i + 1, ids) for i, ids in enumerate(smiles_tok.encode_batch(smiles))]
    for name, extra in (
        ("m.csv", ["--column", "smiles"]),  # the column name says SMILES
        ("m.parquet", ["--column", "smiles"]),
        ("m.txt", ["--modality", "smiles"]),
        ("m.jsonl.gz", ["--column", "smiles"]),
    ):
        out = tmp_path / f"{name}.npy"
        code, _, err = run(["tokenize", tmp_path / name, "-o", out, *extra], capsys)
        assert code == 0, (name, err)
        rows, _ = read_output(out)
        assert [(r, ids) for r, ids, _ in rows] == expected, name


def test_mixed_jsonl_gz_with_markers(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with gzip.open(data_dir / MIXED_JSONL_GZ, "rt", encoding="utf-8") as source:
        lines = source.readlines()[:150]
    sample = tmp_path / "galactica.jsonl.gz"
    with gzip.open(sample, "wt", encoding="utf-8") as handle:
        handle.writelines(lines)
    out = tmp_path / "mixed.jsonl"
    code, _, err = run(["tokenize", sample, "--column", "text", "--modality", "mixed", "-o", out, "--tokens"], capsys)
    assert code == 0, err
    tok = chemtok.ChemTokenizer()
    texts = [json.loads(line)["text"] for line in lines]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["ids"] for r in rows] == tok.encode_batch(texts)
    assert rows[0]["tokens"] == [tok.id_to_token(i) for i in rows[0]["ids"]]
    meta = json.loads((tmp_path / "mixed.meta.json").read_text())
    assert meta["grammar"] == tok.grammar_tag and meta["vocab_fingerprint"] == tok.fingerprint


def test_text_model_from_tokenizer_dir(data_dir: Path, baselines_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gpt2.parquet"
    argv = ["tokenize", data_dir / TEXT_JSONL, "--column", "title", "--modality", "text", "--tokenizer", baselines_dir / "gpt2", "-o", out]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    gpt2 = chemtok.TextTokenizer.from_file(baselines_dir / "gpt2" / "tokenizer.json")
    rows, meta = read_output(out)
    assert [(r, ids) for r, ids, _ in rows] == expected_rows(gpt2, data_dir / TEXT_JSONL, column="title")
    assert meta["vocab_fingerprint"] == gpt2.fingerprint and meta["text_model"].endswith("tokenizer.json")
    code, _, err = run(["tokenize", data_dir / SMILES_GZ, "--tokenizer", baselines_dir / "gpt2", "-o", out], capsys)
    assert code == 2 and "--modality text or mixed" in err


# -- outputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", OUTPUT_SUFFIXES)
def test_every_output_format_with_two_inputs(
    suffix: str, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], smiles_tok: Any
) -> None:
    inputs = [data_dir / SMILES_GZ, data_dir / REACTIONS]
    out = tmp_path / f"both{suffix}"
    code, _, err = run(["tokenize", *inputs, "-o", out], capsys)
    assert code == 0, err
    rows, meta = read_output(out)
    expected = [(r, ids, str(p)) for p in inputs for r, ids in expected_rows(smiles_tok, p)]
    assert rows == expected
    assert meta["inputs"] == [str(p) for p in inputs]
    assert meta["records_read"] == meta["records_written"] == len(expected) and meta["records_failed"] == 0
    assert meta["format"] == writers.output_format(out) and meta["grammar"] == smiles_tok.grammar_tag
    assert leftovers(tmp_path) == []


def test_single_input_has_no_source(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for suffix in (".parquet", ".jsonl", ".npy", ".bin"):
        out = tmp_path / f"one{suffix}"
        assert run(["tokenize", data_dir / SMILES_GZ, "-o", out], capsys)[0] == 0
        rows, _ = read_output(out)
        assert all(source is None for _, _, source in rows)
    assert not (tmp_path / "one.sources.npy").exists()


def test_bin_dtype_follows_vocabulary_size(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], baselines_dir: Path) -> None:
    small = tmp_path / "small.bin"
    assert run(["tokenize", data_dir / SMILES_GZ, "-o", small], capsys)[0] == 0
    assert json.loads((tmp_path / "small.meta.json").read_text())["ids_dtype"] == "uint16"
    big = tmp_path / "big.bin"
    argv = ["tokenize", data_dir / TEXT_JSONL, "--column", "title", "--modality", "mixed", "--tokenizer", baselines_dir / "llama3", "-o", big]
    assert run(argv, capsys)[0] == 0
    assert json.loads((tmp_path / "big.meta.json").read_text())["ids_dtype"] == "int32"
    rows, _ = read_output(big)
    llama3 = chemtok.ChemTokenizer.from_base(baselines_dir / "llama3" / "tokenizer.json")
    assert [(r, ids) for r, ids, _ in rows] == expected_rows(llama3, data_dir / TEXT_JSONL, column="title")
    assert max(max(ids) for _, ids, _ in rows) >= 65500  # would not fit in uint16


def test_empty_input_gives_empty_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.smi").write_bytes(b"")
    for suffix in OUTPUT_SUFFIXES:
        out = tmp_path / f"e{suffix}"
        code, _, err = run(["tokenize", tmp_path / "empty.smi", "-o", out], capsys)
        assert code == 0 and "read 0, written 0, failed 0" in err
        assert read_output(out)[0] == []


def test_stdout_jsonl(data_dir: Path, capsys: pytest.CaptureFixture[str], smiles_tok: Any) -> None:
    code, out, err = run(["tokenize", data_dir / SMILES_GZ, "-o", "-"], capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["record"], r["ids"]) for r in rows] == expected_rows(smiles_tok, data_dir / SMILES_GZ)


# -- standard input and subprocesses ---------------------------------------------------------------


def test_gzip_stdin_subprocess(data_dir: Path, tmp_path: Path, smiles_tok: Any) -> None:
    compressed = (data_dir / SMILES_GZ).read_bytes()
    out = tmp_path / "stdin.npy"
    done = run_process(["tokenize", "-", "--input-format", "smi", "-o", out], stdin=compressed)
    assert done.returncode == 0, done.stderr.decode()
    rows, meta = read_output(out)
    assert [(r, ids) for r, ids, _ in rows] == expected_rows(smiles_tok, data_dir / SMILES_GZ)
    assert meta["inputs"] == ["-"] and meta["modality"] == "smiles"  # --input-format smi implies SMILES


def test_plain_stdin_to_stdout_subprocess(data_dir: Path, smiles_tok: Any) -> None:
    text = gzip.decompress((data_dir / SMILES_GZ).read_bytes())
    done = run_process(["tokenize", "-", "--modality", "smiles", "-o", "-"], stdin=text)
    assert done.returncode == 0, done.stderr.decode()
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    # As .txt (the stdin default) a record is the whole line; these lines are bare SMILES.
    assert [(r["record"], r["ids"]) for r in rows] == expected_rows(smiles_tok, data_dir / SMILES_GZ)
    assert b"read 1513, written 1513, failed 0" in done.stderr


def test_raise_subprocess_exit_code_and_message(bad_smiles: tuple[Path, dict[int, str]], tmp_path: Path) -> None:
    path, _ = bad_smiles
    out = tmp_path / "never.parquet"
    done = run_process(["tokenize", path, "-o", out])
    assert done.returncode == 1
    err = done.stderr.decode()
    assert f"chemtok: record 7 of {path}: grammar 'smiles' cannot tokenize '§' at position" in err
    assert "^" in err and "--on-error skip" in err
    assert "read 7, written 0, failed 1" in err
    assert not out.exists() and leftovers(tmp_path) == []


# -- bad records ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", OUTPUT_SUFFIXES)
def test_raise_leaves_no_output_and_keeps_an_old_one(
    suffix: str, bad_smiles: tuple[Path, dict[int, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = bad_smiles
    out = tmp_path / f"out{suffix}"
    out.write_bytes(b"an older result")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run(["tokenize", path, "-o", out, "--chunk-size", "16"], capsys)
    assert code == 1
    assert "record 7 of" in err and "position" in err
    assert out.read_bytes() == b"an older result"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no sidecars, no temporary files


def test_bad_bytes_stop_under_raise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bytes.smi"
    path.write_bytes(b"CCO\nC\xffC\nCCN\n")
    code, _, err = run(["tokenize", path, "-o", tmp_path / "o.npy"], capsys)
    assert code == 1
    assert "record 2 of" in err and "not valid UTF-8 at byte 1" in err
    assert not (tmp_path / "o.npy").exists()


@pytest.mark.parametrize("chunk_size", [1, 3, 64, 32768])
def test_skip_accounts_for_every_record(
    chunk_size: int, bad_smiles: tuple[Path, dict[int, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str], smiles_tok: Any
) -> None:
    path, failing = bad_smiles
    out, errors = tmp_path / "ok.parquet", tmp_path / "errors.jsonl"
    argv = ["tokenize", path, "-o", out, "--on-error", "skip", "--errors", errors, "--chunk-size", chunk_size]
    code, _, err = run(argv, capsys)
    assert code == 0
    assert "read 200, written 196, failed 4" in err
    reported = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [r["record"] for r in reported] == sorted(failing)
    for entry in reported:
        assert entry["input"] == str(path) and failing[entry["record"]].split()[0] in entry["error"] + " position"
    assert reported[1]["position"] == 11 and reported[1]["text"] == "c1c[nH]c2c1fccc2"
    assert reported[2]["text"] is None and "UTF-8" in reported[2]["error"]
    rows, meta = read_output(out)
    good = [r for r in read_records(path) if r.number not in failing]
    assert [(r, ids) for r, ids, _ in rows] == [(r.number, smiles_tok.encode(r.text)) for r in good]
    assert dict(rows_by_record(rows))[50] == []  # the empty line is a record with no tokens
    assert meta["records_read"] == meta["records_written"] + meta["records_failed"] == 200


def rows_by_record(rows: list[tuple[int, list[int], str | None]]) -> list[tuple[int, list[int]]]:
    return [(r, ids) for r, ids, _ in rows]


def test_skip_without_errors_file_shows_failures_on_stderr(bad_smiles: tuple[Path, dict[int, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, failing = bad_smiles
    code, _, err = run(["tokenize", path, "-o", tmp_path / "x.npy", "--on-error", "skip"], capsys)
    assert code == 0
    for number in failing:
        assert f"skipped record {number} of {path}" in err


def test_fallback_keeps_uncovered_characters(bad_smiles: tuple[Path, dict[int, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str], smiles_tok: Any) -> None:
    path, _ = bad_smiles
    out = tmp_path / "fb.jsonl"
    code, _, err = run(["tokenize", path, "-o", out, "--on-error", "fallback", "--errors", tmp_path / "e.jsonl"], capsys)
    assert code == 0
    assert "read 200, written 198, failed 2" in err  # only the two unreadable records fail
    rows = {r["record"]: r["ids"] for r in map(json.loads, out.read_text().splitlines())}
    assert smiles_tok.decode(rows[51]) == "c1c[nH]c2c1fccc2"
    assert smiles_tok.decode(rows[7]).endswith("§")


def test_many_failures_in_one_chunk(tmp_path: Path, capsys: pytest.CaptureFixture[str], smiles_tok: Any) -> None:
    # Every third record fails, including repeats of the same bad string.
    lines = [("CC§" if i % 3 == 0 else "c1ccccc1" + "C" * (i % 5)) for i in range(1, 500)]
    path = tmp_path / "many.smi"
    path.write_text("\n".join(lines) + "\n")
    out, errors = tmp_path / "many.npy", tmp_path / "many.errors.jsonl"
    code, _, _ = run(["tokenize", path, "-o", out, "--on-error", "skip", "--errors", errors], capsys)
    assert code == 0
    failed = [json.loads(line)["record"] for line in errors.read_text().splitlines()]
    assert failed == [n for n in range(1, 500) if n % 3 == 0]
    rows, _ = read_output(out)
    assert [(r, ids) for r, ids, _ in rows] == [(n, smiles_tok.encode(lines[n - 1])) for n in range(1, 500) if n % 3]


def test_mixed_unclosed_marker_and_empty_line(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with gzip.open(data_dir / MIXED_JSONL_GZ, "rt", encoding="utf-8") as source:
        lines = [json.loads(line)["text"] for line in source.readlines()[:20]]
    lines[4] = lines[4].replace("[END_", "[FIN_", 1)  # now unclosed (and an unknown marker)
    lines[9] = ""
    path = tmp_path / "mixed.txt"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines) + "\n")
    code, _, err = run(["tokenize", path, "--modality", "mixed", "-o", tmp_path / "m.npy"], capsys)
    assert code == 1 and "record 5 of" in err and "--no-strict-markers" in err
    errors = tmp_path / "m.errors.jsonl"
    code, _, err = run(["tokenize", path, "--modality", "mixed", "-o", tmp_path / "m.npy", "--on-error", "skip", "--errors", errors], capsys)
    assert code == 0 and "read 20, written 19, failed 1" in err
    entry = json.loads(errors.read_text())
    assert entry["record"] == 5 and entry["modality"] == "markers" and entry["position"] is not None
    rows, _ = read_output(tmp_path / "m.npy")
    assert dict(rows_by_record(rows))[10] == []
    code, _, err = run(["tokenize", path, "--modality", "mixed", "--no-strict-markers", "-o", tmp_path / "m2.npy"], capsys)
    assert code == 0, err


# -- the fast line reader agrees with read_records ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["smi", "txt"])
@pytest.mark.parametrize("compress", [False, True])
def test_line_reader_matches_read_records(fmt: str, compress: bool, tmp_path: Path) -> None:
    body = (
        b"CCO ethanol\r\n  c1ccccc1\tbenzene\n\n\r\nC\xff\xfeC name\nCC\xe2\x80\x83tail\nO\x1cP\nS\xc2\x85T\n"
        + b"N" * (1 << 20 | 17)  # a line longer than a read block
        + b"\nlast\xc3"  # a truncated sequence on an unterminated last line
    )
    path = tmp_path / f"lines.{fmt}"
    path.write_bytes(gzip.compress(body) if compress else body)
    expected = [(r.number, r.text, r.error) for r in read_records(path, format=fmt)]
    for chunk_size in (1, 2, 1000):
        got = []
        for chunk in readers.read_chunks(str(path), fmt, None, chunk_size):
            assert len(chunk.texts) <= chunk_size
            for i, (number, text) in enumerate(zip(chunk.numbers, chunk.texts)):
                got.append((number, text, chunk.problems[i][0] if i in chunk.problems else None))
        assert got == expected


def test_record_counter_for_eta(data_dir: Path, tmp_path: Path) -> None:
    import threading

    stop = threading.Event()
    plain = tmp_path / "plain.smi"
    plain.write_bytes(gzip.decompress((data_dir / SMILES_GZ).read_bytes()))
    paths = [plain, data_dir / PROTEIN_FASTA, data_dir / INCHI_TSV, data_dir / TEXT_JSONL]
    formats = ["smi", "fasta", "tsv", "jsonl"]
    counted = readers.count_records([str(p) for p in paths], formats, stop)
    actual = sum(sum(1 for _ in read_records(p, column="inchi" if f == "tsv" else "title" if f == "jsonl" else None)) for p, f in zip(paths, formats))
    assert counted == actual
    assert readers.count_records(["-"], ["txt"], stop) is None
    # A gzip input is not decompressed a second time for the ETA: no total, progress by records.
    assert readers.count_records([str(data_dir / SMILES_GZ)], ["smi"], stop) is None


def test_progress_bar_when_asked(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["tokenize", data_dir / SMILES_GZ, "-o", tmp_path / "p.npy", "--progress", "--chunk-size", "100"], capsys)
    assert code == 0
    assert "\rtokenize: " in err and "records" in err and "/s" in err
    assert "ETA" in err  # a .gz input: from compressed bytes read, not from a second pass
    code, _, err = run(["tokenize", data_dir / SMILES_GZ, "-o", tmp_path / "p.npy"], capsys)
    assert "\r" not in err  # stderr is not a terminal here


# -- usage errors ----------------------------------------------------------------------------------


def test_usage_errors_name_the_flag(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    no_text = tmp_path / "ids.jsonl"
    no_text.write_text('{"id": 1, "pmid": "123"}\n')
    cases = [
        (["tokenize", data_dir / PROTEIN_FASTA, "-o", tmp_path / "x.npy"], "--modality"),
        # no field name says text (a JSON Lines with a "text" field is read without --column)
        (["tokenize", no_text, "--modality", "text", "-o", tmp_path / "x.npy"], "--column"),
        (["tokenize", data_dir / SMILES_GZ, "-o", tmp_path / "x.csv"], ".parquet"),
        (["tokenize", data_dir / SMILES_GZ, "-o", tmp_path / "x.npy", "--tokens"], "JSON Lines"),
        (["tokenize", tmp_path / "missing.smi", "-o", tmp_path / "x.npy"], "does not exist"),
        (["tokenize", data_dir / "README.md", "-o", tmp_path / "x.npy"], "--input-format"),
        (["tokenize", data_dir / INCHI_TSV, "--column", "nope", "--modality", "inchi", "-o", tmp_path / "x.npy"], "nope"),
        (["tokenize", data_dir / SMILES_GZ, data_dir / PROTEIN_FASTA.replace(".fasta", ".faa"), "-o", tmp_path / "x.npy"], "does not exist"),
        (["tokenize", data_dir / SMILES_GZ, "-o", tmp_path / "nodir" / "x.npy"], "does not exist"),
        (["tokenize", data_dir / SMILES_GZ, "-o", tmp_path / "x.npy", "--jobs", "0"], "positive integer"),
        (["validate", data_dir / PROTEIN_FASTA], "--modality"),
    ]
    for argv, needle in cases:
        code, _, err = run(argv, capsys)
        assert code == 2, (argv, err)
        assert needle in err, (argv, err)
    assert leftovers(tmp_path) == []


def test_modality_resolution() -> None:
    assert formats.resolve_modality(None, ["a.smi", "b.rsmi.gz"]) == "smiles"
    assert formats.resolve_modality(None, ["a.faa"]) == "protein"
    assert formats.resolve_modality(None, ["a.csv"], column="canonical_smiles") == "smiles"
    assert formats.resolve_modality(None, ["a.tsv"], column="InChI") == "inchi"
    assert formats.resolve_modality("text", ["a.smi"]) == "text"
    assert formats.resolve_modality(None, ["-"], input_format="smi") == "smiles"
    with pytest.raises(formats.UsageError, match="different modalities"):
        formats.resolve_modality(None, ["a.smi", "b.fna"])
    with pytest.raises(formats.UsageError, match="standard input"):
        formats.resolve_modality(None, ["-"])


# -- inspect ------------------------------------------------------------------------------------------


def test_inspect_mixed(capsys: pytest.CaptureFixture[str]) -> None:
    text = "Aspirin [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES] binds [START_AMINO]GIVEQ[END_AMINO]."
    code, out, _ = run(["inspect", text], capsys)
    assert code == 0
    tok = chemtok.ChemTokenizer()
    ids = tok.encode(text)
    assert out.startswith(f"mixed: {len(ids)} tokens")
    assert tok.fingerprint[:16] in out
    assert "|[START_SMILES]|C|C|(|=|O|)|O|c|1|" in out
    table = [line.split() for line in out.splitlines() if line[:1] == " " or line[:1].isdigit()]
    rows = [row for row in table if row and row[0].isdigit() and len(row) >= 4]
    assert [int(row[3]) for row in rows] == ids
    assert {row[2] for row in rows} == {"text", "marker", "smiles", "protein"}
    assert all(len(line) <= 80 for line in out.splitlines())


def test_inspect_modalities_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["inspect", "--modality", "smiles", "C[C@@H](N)C(=O)O"], capsys)
    assert code == 0 and "C|[C@@H]|(|N|)|C|(|=|O|)|O" in out
    code, out, _ = run(["inspect", "--modality", "text", "café au lait"], capsys)
    assert code == 0 and "text" in out
    code, _, err = run(["inspect", "--modality", "smiles", "c1c[nH]c2c1fccc2"], capsys)
    assert code == 1 and "position 11" in err and "^" in err
    code, _, err = run(["inspect", "a [START_SMILES]CC"], capsys)
    assert code == 1 and "never closed" in err and "--no-strict-markers" in err


# -- validate ---------------------------------------------------------------------------------------


def test_validate_real_file_and_report(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("rdkit")
    report = tmp_path / "report.json"
    code, out, _ = run(["validate", data_dir / "smiles/moleculenet_freesolv.smi.gz", "--report", report], capsys)
    assert code == 0, out
    data = json.loads(report.read_text())
    assert data["total"] == data["exact_roundtrip"] == 642 and data["failures"] == []
    assert "exact round trip" in out and "unparsable by RDKit" in out
    code, out, _ = run(["validate", data_dir / INCHI_TSV, "--column", "inchi"], capsys)
    assert code == 0 and "(inchi, 35 records)" in out


def test_validate_failures_carry_record_numbers(bad_smiles: tuple[Path, dict[int, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("rdkit")
    path, failing = bad_smiles
    report = tmp_path / "bad.json"
    code, out, _ = run(["validate", path, "--report", report], capsys)
    assert code == 1
    data = json.loads(report.read_text())
    assert sorted([f["record"] for f in data["failures"]] + [u["record"] for u in data["unreadable_records"]]) == sorted(failing)
    assert data["total"] == 198 and data["records"] == 200
    assert "record 51: not exact" in out


def test_validate_reports_long_records_as_skipped_with_their_record_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("rdkit")
    path = tmp_path / "long.smi"
    path.write_text("CCO\n" + "C" * 60 + "\nc1ccccc1\n", encoding="utf-8")
    report = tmp_path / "long.json"
    code, out, _ = run(["validate", path, "--max-length", "50", "--report", report], capsys)
    assert code == 0, out
    data = json.loads(report.read_text())
    assert data["skipped"] == 1 and [r["record"] for r in data["skipped_records"]] == [2]
    assert "skipped (too long)" in out and "over 50 characters" in out
    code, _, err = run(["validate", path, "--max-length", "0"], capsys)
    assert code == 2 and "--max-length" in err


# -- bench registration ----------------------------------------------------------------------------


def test_bench_is_registered_lazily(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["bench", "--help"], capsys)
    assert code == 0 and "--baseline" in out
    # Every other command leaves the bench package (numpy, matplotlib on use) unloaded.
    probe = "import sys; from chemtok.cli import main; main(['--version']); print('chemtok.bench' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


# -- writers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", OUTPUT_SUFFIXES)
def test_writer_abort_removes_everything(suffix: str, tmp_path: Path) -> None:
    writer = writers.open_writer(tmp_path / f"w{suffix}", metadata={}, sources=["a", "b"], vocab_size=10)
    writer.write(np.array([1, 2]), 1, np.array([1, 2, 3], dtype=np.uint32), np.array([0, 1, 3]))
    writer.abort()
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_writer_context_manager_aborts_on_error(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError),
        writers.open_writer(tmp_path / "w.npy", metadata={}, sources=["a"], vocab_size=10) as writer,
    ):
        writer.write(np.array([1]), 0, np.array([4], dtype=np.uint32), np.array([0, 1]))
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_interrupt_and_write_errors_leave_nothing(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = pipeline.encode_chunk

    def interrupted(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(pipeline, "encode_chunk", interrupted)
    for suffix in OUTPUT_SUFFIXES:
        calls.clear()
        code, _, err = run(["tokenize", data_dir / SMILES_GZ, "-o", tmp_path / f"i{suffix}", "--chunk-size", "100"], capsys)
        assert code == 130 and "interrupted" in err
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(pipeline, "encode_chunk", real)

    def full(self: Any, *args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers.NpyWriter, "write", full)
    code, _, err = run(["tokenize", data_dir / SMILES_GZ, "-o", tmp_path / "full.npy"], capsys)
    assert code == 1 and "No space left on device" in err
    assert list(tmp_path.iterdir()) == []


def test_corrupt_gzip_is_an_input_error(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "cut.smi.gz"
    broken.write_bytes((data_dir / SMILES_GZ).read_bytes()[:5000])
    code, _, err = run(["tokenize", broken, "-o", tmp_path / "cut.npy"], capsys)
    assert code == 1 and f"cannot read {broken}" in err
    assert not (tmp_path / "cut.npy").exists() and leftovers(tmp_path) == []


# -- train and --smiles-model ------------------------------------------------------------


def test_train_smiles_then_tokenize_with_the_model(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = data_dir / "smiles" / "moleculenet_esol.smi.gz"
    held_out = tmp_path / "held.smi"
    held_out.write_text("CCO\nc1ccccc1\n")
    size = len(chemtok.SmilesTokenizer().vocabulary) - 261 + 120
    argv = ["train", "smiles", str(train), "--exclude", str(held_out), "--vocab-size", str(size), "-o", str(tmp_path / "m")]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    assert "merges over" in err and "2 held out" in err
    saved = json.loads((tmp_path / "m" / "smiles_compact.json").read_text())
    assert len(saved["merges"]) == saved["info"]["vocab_size"] - saved["info"]["atom_tokens"] == 120  # the whole budget
    assert saved["info"]["excluded"]
    # The same command again gives the same model: training is deterministic.
    run(argv[:-1] + [str(tmp_path / "m2")], capsys)
    assert json.loads((tmp_path / "m2" / "smiles_compact.json").read_text())["merges"] == saved["merges"]

    out = tmp_path / "esol.jsonl"
    code, _, err = run(["tokenize", str(train), "-o", str(out), "--smiles-model", str(tmp_path / "m")], capsys)
    assert code == 0, err
    tok = chemtok.SmilesTokenizer(model=str(tmp_path / "m"))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    texts = [r.text for r in read_records(train)]
    assert [r["ids"] for r in rows] == tok.encode_batch(texts)


def test_train_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = tmp_path / "x.smi"
    small.write_text("CCO\n")
    code, _, err = run(["train", "smiles", str(small), "--vocab-size", "5", "-o", str(tmp_path / "m")], capsys)
    assert code == 2 and "vocab-size" in err
    code, _, err = run(["train", "smiles", str(tmp_path / "missing.smi"), "--vocab-size", "9000", "-o", str(tmp_path)], capsys)
    assert code == 2 and "no such file" in err


def test_inspect_with_the_compact_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["inspect", "--modality", "smiles", "--smiles-model", "compact", "CC(=O)Oc1ccccc1C(=O)O"], capsys)
    assert code == 0 and "smiles: 3 tokens" in out
    code, _, err = run(["inspect", "--smiles-model", "no-such-model", "CCO"], capsys)
    assert code == 2 and "unknown SMILES model" in err


# -- exit codes: 0 success, 1 failed run, 2 usage; pipes ----------------------------------------------


def last_line(err: str) -> str:
    return [line for line in err.splitlines() if line.strip()][-1]


def test_cr_only_smi_reads_every_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "cr.smi"
    src.write_bytes(b"CCO\rc1ccccc1\rO=C=O\r")
    code, _, err = run(["tokenize", src, "-o", tmp_path / "cr.npy"], capsys)
    assert code == 0 and "read 3, written 3, failed 0" in err


def test_corrupt_parquet_exits_1_not_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "bad.parquet"
    src.write_bytes(b"PAR1 not really PAR1")
    code, _, err = run(["tokenize", src, "--column", "smiles", "--modality", "smiles", "-o", tmp_path / "o.npy"], capsys)
    assert code == 1 and "Parquet" in err and "Traceback" not in err
    assert last_line(err).startswith("chemtok: read 1, written 0, failed 1")


@pytest.mark.parametrize("policy", ["raise", "skip", "fallback"])
def test_every_record_failing_exits_1_under_every_policy(policy: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "bad.smi"
    src.write_bytes(b"\xff\nC\xfe\n")
    code, _, err = run(["tokenize", src, "-o", tmp_path / "o.npy", "--on-error", policy], capsys)
    assert code == 1, err
    assert "read 2, written 0, failed 2" in last_line(err) or policy == "raise"
    assert "Traceback" not in err


def test_truncated_gzip_exits_1_with_the_summary_last(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import random

    rng = random.Random(1)
    body = "".join("C" + "".join(rng.choice("CNO") for _ in range(20)) + "\n" for _ in range(20_000)).encode()
    src = tmp_path / "cut.smi.gz"
    src.write_bytes(gzip.compress(body)[:5000])
    for policy in ("raise", "skip"):
        code, _, err = run(["tokenize", src, "-o", tmp_path / f"{policy}.npy", "--on-error", policy], capsys)
        assert code == 1 and "cannot read" in err and "Traceback" not in err
        summary = last_line(err)
        assert summary.startswith("chemtok: read "), summary
        if policy == "skip":
            read, written, failed = (int(summary.split(word)[0].split()[-1].rstrip(",")) for word in (", written", ", failed", " ("))
            assert written + failed == read and failed == 1


def test_invalid_argv_bytes_are_named_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arg = os.fsdecode(b"C\xffC") if sys.getfilesystemencoding() == "utf-8" else "C\udcffC"
    code, _, err = run(["inspect", "--modality", "smiles", arg], capsys)
    assert code == 2 and "not valid text" in err and "surrogate" not in err and "\\xff" in err


def test_train_refuses_a_model_without_merges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "refused.smi"
    src.write_text("§§§\n¤¤¤\n§¤§\n" * 20)
    out = tmp_path / "model"
    code, _, err = run(["train", "smiles", src, "-o", out, "--vocab-size", "4000"], capsys)
    assert code == 1 and "no merges" in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def _close_after_first_line(argv: list[str]) -> tuple[int, str]:
    """Run ``python -m chemtok argv | head -1``: read one line, close the pipe, wait."""
    proc = subprocess.Popen([sys.executable, "-m", "chemtok", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    try:
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return code, err


def test_closed_stdout_is_a_quiet_success(tmp_path: Path) -> None:
    src = tmp_path / "many.smi"
    src.write_text("CC(=O)Oc1ccccc1C(=O)O\n" * 100_000)
    code, err = _close_after_first_line(["tokenize", str(src), "-o", "-"])
    assert code == 0, err
    assert "Traceback" not in err and "Broken pipe" not in err
    code, err = _close_after_first_line(["inspect", "--modality", "smiles", "C" * 50_000])
    assert code == 0, err
    assert "Traceback" not in err and "Broken pipe" not in err


def test_train_on_a_truncated_gzip_exits_1_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import random

    rng = random.Random(2)
    body = "".join("C" + "".join(rng.choice("CNO") for _ in range(20)) + "\n" for _ in range(20_000)).encode()
    src = tmp_path / "cut.smi.gz"
    src.write_bytes(gzip.compress(body)[:5000])
    code, _, err = run(["train", "smiles", src, "-o", tmp_path / "m", "--vocab-size", "4000"], capsys)
    assert code == 1 and "cannot read" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


# -- safe column choice (issue 11) ------------------------------------------------------------------


def _first_smiles(data_dir: Path, n: int) -> list[str]:
    return [r.text for r in read_records(data_dir / SMILES_GZ)][:n]  # type: ignore[misc]


def test_id_smiles_csv_without_column_tokenizes_the_smiles_column(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], smiles_tok: Any
) -> None:
    """The issue's first example: the ids are valid SMILES (ring bonds), so only the header can refuse them."""
    smiles = _first_smiles(data_dir, 50)
    src = tmp_path / "m.csv"
    src.write_text("id,smiles\n" + "".join(f"{1000 + i},{s}\n" for i, s in enumerate(smiles)))
    code, _, err = run(["tokenize", src, "--modality", "smiles", "-o", tmp_path / "m.jsonl"], capsys)
    assert code == 0, err
    assert "reading column 'smiles' as smiles (chosen by its name)" in err
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [row["ids"] for row in rows] == [smiles_tok.encode(s) for s in smiles]


def test_inchi_tsv_whose_first_column_is_smiles_picks_the_inchi_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's second example: ``--modality inchi`` and no ``--column`` reads the InChI column."""
    inchis = ["InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3", "InChI=1S/C6H6/c1-2-4-6-5-3-1/h1-6H"]
    src = tmp_path / "m.tsv"
    src.write_text("smiles\toptions\tinchi\tinchikey\n" + "".join(f"CCO\t\t{i}\tXXXX\n" for i in inchis))
    code, _, err = run(["tokenize", src, "--modality", "inchi", "-o", tmp_path / "m.jsonl"], capsys)
    assert code == 0, err
    assert "reading column 'inchi' as inchi" in err
    inchi_tok = load_tokenizer("inchi")
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [row["ids"] for row in rows] == [inchi_tok.encode(i) for i in inchis]


def test_the_column_name_gives_the_modality_when_none_is_passed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "m.jsonl"
    src.write_text('{"chembl_id": "CHEMBL545", "canonical_smiles": "CCO"}\n')
    code, _, err = run(["tokenize", src, "-o", tmp_path / "m.npy"], capsys)
    assert code == 0, err
    assert "reading column 'canonical_smiles' as smiles" in err


@pytest.mark.parametrize("header", ["smiles,canonical_smiles", "id,name"])
def test_several_or_no_candidate_columns_are_a_usage_error_naming_them(
    header: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "m.csv"
    src.write_text(header + "\nCCO,CCO\n")
    code, _, err = run(["tokenize", src, "--modality", "smiles", "-o", tmp_path / "m.npy"], capsys)
    assert code == 2
    for name in header.split(","):
        assert repr(name) in err
    assert "--column" in err and "Traceback" not in err
    assert not (tmp_path / "m.npy").exists()


def test_forced_smiles_column_as_inchi_exits_1_with_the_hint_and_no_fallback_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "m.tsv"
    src.write_text("smiles\tinchi\n" + "".join(f"{s}\tInChI=1S/CH4/h1H4\n" for s in ["CCO", "c1ccccc1O", "CC(=O)O"]))
    code, _, err = run(["tokenize", src, "--column", "smiles", "--modality", "inchi", "-o", tmp_path / "m.npy"], capsys)
    assert code == 1
    assert "Wrong column or modality?" in err and "'smiles', 'inchi'" in err
    assert "pass --column inchi" in err
    assert "--on-error fallback is not recommended" in err
    assert "Pass --on-error fallback" not in err
    assert err.rstrip().splitlines()[-1].startswith("chemtok: read 1, written 0, failed 1")


@pytest.mark.parametrize("policy", ["skip", "fallback"])
def test_every_record_failing_as_text_columns_exits_1_with_the_hint(
    policy: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text read as SMILES: most characters foreign, so not even fallback is advised; exit 1 under skip."""
    src = tmp_path / "m.csv"
    src.write_text("smiles\n" + "".join(f"{w}\n" for w in ["hello world", "what a day", "plain prose"]))
    code, _, err = run(["tokenize", src, "--on-error", policy, "-o", tmp_path / "m.npy"], capsys)
    if policy == "skip":
        assert code == 1
        assert "Wrong column or modality?" in err and "Pass --on-error fallback" not in err
        assert err.rstrip().splitlines()[-1] == "chemtok: read 3, written 0, failed 3 (a failed run: exit status 1)"
    else:  # fallback covers them with byte tokens: written, nothing failed
        assert code == 0 and "read 3, written 3, failed 0" in err


def test_a_stray_character_still_recommends_fallback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "m.smi"
    src.write_text("CC(=O)Oc1ccccc1C(=O)O\u2013\n")
    code, _, err = run(["tokenize", src, "-o", tmp_path / "m.npy"], capsys)
    assert code == 1 and "Pass --on-error fallback" in err


# -- SDF/MOL input (issue 11) ------------------------------------------------------------------------


def _sdf(path: Path, smiles: list[str | None], *, prop: str | None = None) -> None:
    """Write ``smiles`` as an SD file (``None`` = a molblock RDKit cannot read, titled ``broken``)."""
    Chem = pytest.importorskip("rdkit.Chem")
    parts = []
    for i, s in enumerate(smiles):
        if s is None:
            parts.append("broken\n  junk\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\nnot an atom line\nM  END\n$$$$\n")
            continue
        mol = Chem.MolFromSmiles(s)
        mol.SetProp("_Name", f"mol{i + 1}")
        if prop is not None:
            mol.SetProp(prop, s)
        parts.append(Chem.MolToMolBlock(mol) + (f"> <{prop}>\n{s}\n\n" if prop else "") + "$$$$\n")
    data = "".join(parts).encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)


@pytest.mark.rdkit
@pytest.mark.parametrize("name", ["m.sdf", "m.sdf.gz", "m.sd"])
def test_sdf_input_tokenizes_rdkit_smiles_of_each_molecule(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], smiles_tok: Any) -> None:
    Chem = pytest.importorskip("rdkit.Chem")
    smiles = ["CC(=O)O", "c1ccccc1O", "C[C@H](N)C(=O)O"]
    _sdf(tmp_path / name, smiles)
    code, _, err = run(["tokenize", tmp_path / name, "-o", tmp_path / "m.jsonl"], capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [row["record"] for row in rows] == [1, 2, 3]
    assert [row["ids"] for row in rows] == [smiles_tok.encode(Chem.MolToSmiles(Chem.MolFromSmiles(s))) for s in smiles]


@pytest.mark.rdkit
def test_a_mol_file_is_one_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Chem = pytest.importorskip("rdkit.Chem")
    (tmp_path / "m.mol").write_text(Chem.MolToMolBlock(Chem.MolFromSmiles("CCO")))
    code, _, err = run(["tokenize", tmp_path / "m.mol", "-o", tmp_path / "m.npy"], capsys)
    assert code == 0 and "read 1, written 1, failed 0" in err


@pytest.mark.rdkit
def test_an_unreadable_molblock_is_a_failed_record_with_number_and_title(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sdf(tmp_path / "m.sdf", ["CCO", None, "CCN"])
    errors = tmp_path / "bad.jsonl"
    code, _, err = run(["tokenize", tmp_path / "m.sdf", "--on-error", "skip", "--errors", errors, "-o", tmp_path / "m.npy"], capsys)
    assert code == 0, err
    assert "read 3, written 2, failed 1" in err
    entries = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [e["record"] for e in entries] == [2]
    assert "molecule 2 ('broken')" in entries[0]["error"]
    assert np.load(tmp_path / "m.records.npy").tolist() == [1, 3]


@pytest.mark.rdkit
def test_sdf_column_reads_an_sd_property_with_its_modality_from_the_name(tmp_path: Path, capsys: pytest.CaptureFixture[str], smiles_tok: Any) -> None:
    _sdf(tmp_path / "m.sdf", ["OCC", "NCC"], prop="input_smiles")
    code, _, err = run(["tokenize", tmp_path / "m.sdf", "--column", "input_smiles", "-o", tmp_path / "m.jsonl"], capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [row["ids"] for row in rows] == [smiles_tok.encode("OCC"), smiles_tok.encode("NCC")]  # as written, not canonical
    code, _, err = run(["tokenize", tmp_path / "m.sdf", "--column", "notes", "-o", tmp_path / "n.npy"], capsys)
    assert code == 2 and "--modality" in err


@pytest.mark.rdkit
def test_validate_reads_sdf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sdf(tmp_path / "m.sdf", ["CCO", "c1ccccc1"])
    code, out, err = run(["validate", tmp_path / "m.sdf"], capsys)
    assert code == 0, err
    assert "2 records" in out


def test_sdf_without_rdkit_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "m.sdf").write_text("x\n\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n$$$$\n")
    monkeypatch.setitem(sys.modules, "rdkit", None)
    monkeypatch.setitem(sys.modules, "rdkit.Chem", None)
    code, _, err = run(["tokenize", tmp_path / "m.sdf", "-o", tmp_path / "m.npy"], capsys)
    assert code == 2 and 'pip install "chemtok[rdkit]"' in err and "Traceback" not in err


def test_count_records_counts_sdf_molecules(tmp_path: Path) -> None:
    import threading

    _sdf(tmp_path / "m.sdf", ["CCO", "CCN", "CCC"])
    assert readers.count_records([str(tmp_path / "m.sdf")], ["sdf"], threading.Event()) == 3


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_a_table_on_standard_input_needs_column(fmt: str, tmp_path: Path) -> None:
    """No header can be looked at ahead of the run: the first column is not guessed."""
    body = b'{"id": 1, "smiles": "CCO"}\n' if fmt == "jsonl" else b"id,smiles\n1,CCO\n".replace(b",", b"\t" if fmt == "tsv" else b",")
    done = run_process(["tokenize", "-", "--input-format", fmt, "--modality", "smiles", "-o", tmp_path / "m.npy"], stdin=body)
    assert done.returncode == 2 and b"--column" in done.stderr
    done = run_process(["tokenize", "-", "--input-format", fmt, "--column", "smiles", "-o", tmp_path / "m.npy"], stdin=body)
    assert done.returncode == 0, done.stderr
    assert np.load(tmp_path / "m.records.npy").tolist() == [1]


@pytest.mark.parametrize("policy", ["raise", "skip"])
def test_a_failing_row_of_an_arrow_read_tsv_keeps_its_number(policy: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], smiles_tok: Any) -> None:
    """The encode_arrow fast path hands a chunk with a failing row to the string path: same number, same message."""
    texts = ["CCO", "c1ccccc1", "CCN", "CC(=O)O", "CC(=O)Oc1ccccc1C(=O)O\u00a7", "CCCl", "O"]
    src = tmp_path / "m.tsv"
    src.write_text("id\tsmiles\n" + "".join(f"{i}\t{t}\n" for i, t in enumerate(texts, 1)), encoding="utf-8")
    errors = tmp_path / "bad.jsonl"
    argv = ["tokenize", src, "--on-error", policy, "--chunk-size", "3", "-o", tmp_path / "m.npy"]
    code, _, err = run(argv + (["--errors", errors] if policy == "skip" else []), capsys)
    if policy == "raise":
        assert code == 1 and f"record 5 of {src}: grammar 'smiles' cannot tokenize" in err
        assert "Pass --on-error fallback" in err  # one stray character in a real molecule
        assert not (tmp_path / "m.npy").exists()
        return
    assert code == 0 and "read 7, written 6, failed 1" in err
    assert [json.loads(line)["record"] for line in errors.read_text().splitlines()] == [5]
    assert np.load(tmp_path / "m.records.npy").tolist() == [1, 2, 3, 4, 6, 7]
    ids, offsets = np.load(tmp_path / "m.npy"), np.load(tmp_path / "m.offsets.npy")
    good = [t for t in texts if "\u00a7" not in t]
    assert [ids[a:b].tolist() for a, b in itertools.pairwise(offsets)] == [smiles_tok.encode(t) for t in good]


def test_router_alias_chem_is_the_mixed_modality(capsys: pytest.CaptureFixture[str]) -> None:
    text = "Ethanol [START_SMILES]CCO[END_SMILES]"
    outputs = [run(["inspect", "--modality", name, text], capsys) for name in ("mixed", "chem")]
    assert outputs[0][0] == 0 and outputs[0] == outputs[1]
    assert chemtok.get_tokenizer("chem") is chemtok.get_tokenizer("mixed")
    assert chemtok.ChemTokenizer.name == "mixed"
