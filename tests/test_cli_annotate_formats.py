"""``chemtok annotate`` to Parquet, CSV and TSV: the other columns kept, every record accounted for."""

from __future__ import annotations

import csv
import gzip
import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

import chemtok
from chemtok import cli
from chemtok.io.readers import _read_generic, read_chunks

ETHANOL = "Its SMILES is CCO."
ETHANOL_MARKED = "Its SMILES is [START_SMILES]CCO[END_SMILES]."
ASPIRIN = "Aspirin CC(=O)Oc1ccccc1C(=O)O binds."
ASPIRIN_MARKED = "Aspirin [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES] binds."


def _parquet(path: Path, **columns: list[object]) -> Path:
    pq.write_table(pa.table(columns), path, row_group_size=2)
    return path


def _summary(err: str) -> str:
    return next(line for line in reversed(err.splitlines()) if "read " in line)


# -- Parquet ------------------------------------------------------------------------------


def test_parquet_in_parquet_out_keeps_the_other_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _parquet(
        tmp_path / "pubchem.parquet",
        cid=[702, 2244, 5793, 887],
        description=[ETHANOL, None, ASPIRIN, "Glucose is a sugar."],
        weight=[46.07, 180.16, 180.16, 32.04],
        synonyms=[["ethanol"], ["aspirin", "ASA"], [], None],
    )
    out = tmp_path / "marked.parquet"
    argv = ["annotate", str(source), "--column", "description", "-o", str(out), "--chunk-size", "3"]
    assert cli.main([*argv, "--on-error", "skip"]) == 0
    err = capsys.readouterr().err
    assert f"skipped record 2 of {source}: value is NoneType, not a string" in err
    assert "read 4, written 3, failed 1" in _summary(err)
    table = pq.read_table(out)
    # the input's columns, in order and with their types; only the text changed
    assert table.schema.names == ["cid", "description", "weight", "synonyms"]
    assert table.schema.field("synonyms").type == pa.list_(pa.string())
    assert table.schema.field("cid").type == pa.int64()
    assert table.to_pylist() == [
        {"cid": 702, "description": ETHANOL_MARKED, "weight": 46.07, "synonyms": ["ethanol"]},
        {"cid": 5793, "description": ASPIRIN_MARKED, "weight": 180.16, "synonyms": []},
        {"cid": 887, "description": "Glucose is a sugar.", "weight": 32.04, "synonyms": None},
    ]
    meta = json.loads(pq.ParquetFile(out).metadata.metadata[b"chemtok"])
    assert (meta["records_read"], meta["records_written"], meta["records_failed"]) == (4, 3, 1)
    assert meta["command"] == "annotate" and meta["chemtok_version"] == chemtok.__version__
    assert meta["strings_marked"] == 2


def test_parquet_output_column_keeps_the_input_text(tmp_path: Path) -> None:
    source = _parquet(tmp_path / "in.parquet", id=["a", "b"], text=[ETHANOL, "No chemistry."])
    out = tmp_path / "out.parquet"
    assert cli.main(["annotate", str(source), "--column", "text", "--output-column", "marked", "-o", str(out)]) == 0
    assert pq.read_table(out).to_pylist() == [
        {"id": "a", "text": ETHANOL, "marked": ETHANOL_MARKED},
        {"id": "b", "text": "No chemistry.", "marked": "No chemistry."},
    ]
    # a name the input already has would overwrite a column
    assert cli.main(["annotate", str(source), "--column", "text", "--output-column", "id", "-o", str(out)]) == 2
    # and the option needs a table on both sides
    assert cli.main(["annotate", str(source), "--column", "text", "--output-column", "m", "-o", str(tmp_path / "o.jsonl")]) == 2


def test_a_failing_record_under_raise_stops_the_run_and_names_file_and_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _parquet(tmp_path / "in.parquet", id=[1, 2, 3], text=[ETHANOL, ASPIRIN, None])
    out = tmp_path / "out.parquet"
    out.write_bytes(b"an older output")
    assert cli.main(["annotate", str(source), "--column", "text", "-o", str(out), "--chunk-size", "1"]) == 1
    err = capsys.readouterr().err
    assert f"record 3 of {source}: value is NoneType, not a string" in err
    assert "written 0, failed 1" in _summary(err)
    assert out.read_bytes() == b"an older output"  # nothing of the failed run is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "out.parquet"]  # no temporary file left


def test_several_parquet_inputs_need_the_same_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = _parquet(tmp_path / "a.parquet", id=[1], text=[ETHANOL])
    second = _parquet(tmp_path / "b.parquet", id=[2], text=[ASPIRIN])
    other = _parquet(tmp_path / "c.parquet", key=[3], text=["x"])
    out = tmp_path / "out.parquet"
    assert cli.main(["annotate", str(first), str(second), "--column", "text", "-o", str(out)]) == 0
    assert pq.read_table(out).to_pylist() == [{"id": 1, "text": ETHANOL_MARKED}, {"id": 2, "text": ASPIRIN_MARKED}]
    assert cli.main(["annotate", str(first), str(other), "--column", "text", "-o", str(out)]) == 2
    assert "other columns" in capsys.readouterr().err


def test_inputs_without_columns_give_record_and_text_columns(tmp_path: Path) -> None:
    one = tmp_path / "abstracts.txt"
    one.write_text(f"{ETHANOL}\nplain\n", encoding="utf-8")
    two = tmp_path / "more.txt"
    two.write_text(f"{ASPIRIN}\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    assert cli.main(["annotate", str(one), "-o", str(out)]) == 0
    assert pq.read_table(out).to_pylist() == [{"record": 1, "text": ETHANOL_MARKED}, {"record": 2, "text": "plain"}]
    assert cli.main(["annotate", str(one), str(two), "-o", str(out)]) == 0
    assert pq.read_table(out).column("source").to_pylist() == [str(one), str(one), str(two)]
    # a table and a text file cannot share one table output
    table = _parquet(tmp_path / "t.parquet", text=["x"])
    assert cli.main(["annotate", str(table), str(one), "--column", "text", "-o", str(out)]) == 2


# -- CSV and TSV --------------------------------------------------------------------------


def _csv_rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def test_csv_in_csv_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "prompts.csv"
    source.write_text(
        f'id,prompt,answer\n1,"{ETHANOL}",yes\n2,"plain, with a comma",no\n3,too,many,fields\n'
        f'4,"two\nlines CC(=O)Oc1ccccc1C(=O)O",maybe\n',
        encoding="utf-8",
    )
    out = tmp_path / "prompts.marked.csv"
    assert cli.main(["annotate", str(source), "--column", "prompt", "-o", str(out), "--on-error", "skip"]) == 0
    err = capsys.readouterr().err
    assert f"skipped record 3 of {source}: the row has 4 fields and the header 3" in err
    assert "read 4, written 3, failed 1" in _summary(err)
    assert _csv_rows(out) == [
        ["id", "prompt", "answer"],
        ["1", ETHANOL_MARKED, "yes"],
        ["2", "plain, with a comma", "no"],
        ["4", "two\nlines [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES]", "maybe"],
    ]
    # quoted only where needed
    assert out.read_text(encoding="utf-8").splitlines()[1] == f"1,{ETHANOL_MARKED},yes"


def test_tsv_in_tsv_gz_out_with_a_new_column(tmp_path: Path) -> None:
    source = tmp_path / "pubmed.tsv"
    source.write_text(f"pmid\tsentence\n101\t{ASPIRIN}\n102\tNothing here.\n", encoding="utf-8")
    out = tmp_path / "pubmed.marked.tsv.gz"
    assert cli.main(["annotate", str(source), "--column", "sentence", "--output-column", "marked", "-o", str(out)]) == 0
    assert _csv_rows(out, "\t") == [
        ["pmid", "sentence", "marked"],
        ["101", ASPIRIN, ASPIRIN_MARKED],
        ["102", "Nothing here.", "Nothing here."],
    ]


def test_csv_to_parquet_and_parquet_to_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"id,text\n7,{ETHANOL}\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    assert cli.main(["annotate", str(source), "--column", "text", "-o", str(out)]) == 0
    assert pq.read_table(out).to_pylist() == [{"id": "7", "text": ETHANOL_MARKED}]  # CSV values are strings
    flat = _parquet(tmp_path / "flat.parquet", cid=[702, None], text=[ETHANOL, "x"], weight=[46.07, 1.0])
    assert cli.main(["annotate", str(flat), "--column", "text", "-o", str(tmp_path / "flat.csv")]) == 0
    assert _csv_rows(tmp_path / "flat.csv") == [["cid", "text", "weight"], ["702", ETHANOL_MARKED, "46.07"], ["", "x", "1.0"]]
    nested = _parquet(tmp_path / "nested.parquet", text=[ETHANOL], tags=[["a"]])
    capsys.readouterr()
    assert cli.main(["annotate", str(nested), "--column", "text", "-o", str(tmp_path / "nested.csv")]) == 2
    assert "write .parquet" in capsys.readouterr().err
    assert not (tmp_path / "nested.csv").exists()


def test_a_truncated_gzip_table_keeps_what_was_read_and_fails_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "id,text\n" + "".join(f"{i},Compound {i} has SMILES CCO.\n" for i in range(1, 3001))
    data = gzip.compress(rows.encode("utf-8"))
    source = tmp_path / "cut.csv.gz"
    source.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out.csv"
    assert cli.main(["annotate", str(source), "--column", "text", "-o", str(out), "--on-error", "skip"]) == 0
    err = capsys.readouterr().err
    written = _csv_rows(out)[1:]
    assert written and [row[0] for row in written] == [str(i) for i in range(1, len(written) + 1)]
    assert written[-1][1] == f"Compound {len(written)} has SMILES [START_SMILES]CCO[END_SMILES]."
    # the unreadable rest is one failed record, numbered after the last one read
    assert f"skipped record {len(written) + 1} of {source}: cannot read" in err
    assert f"read {len(written) + 1}, written {len(written)}, failed 1" in _summary(err)


def test_csv_columns_read_by_pyarrow_equal_the_python_reader(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('id,text,note\n1,"a, b",x\n2,"multi\nline",\n3,,z\n4,CCO,w\n', encoding="utf-8")
    fast = list(read_chunks(str(source), "csv", "text", 3, keep_columns=True))
    slow = list(_read_generic(str(source), "csv", "text", 3, header=["id", "text", "note"]))
    assert [list(c.numbers) for c in fast] == [list(c.numbers) for c in slow] == [[1, 2, 3], [4]]
    assert [list(c.texts) for c in fast] == [list(c.texts) for c in slow]
    assert [c.columns.to_pylist() for c in fast] == [c.columns.to_pylist() for c in slow]


def test_progress_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _parquet(tmp_path / "in.parquet", text=[ETHANOL, ASPIRIN, "plain"])
    out = tmp_path / "out.parquet"
    assert cli.main(["annotate", str(source), "--column", "text", "-o", str(out), "--progress", "--chunk-size", "1"]) == 0
    assert "annotate: 1 records" in capsys.readouterr().err
    assert cli.main(["annotate", str(source), "--column", "text", "-o", str(tmp_path / "out.npy")]) == 2
    assert cli.main(["annotate", str(source), "--column", "nope", "-o", str(out)]) == 2
    twice = tmp_path / "twice.csv"
    twice.write_text("text,text\nCCO,CCO\n", encoding="utf-8")
    assert cli.main(["annotate", str(twice), "--column", "text", "-o", str(tmp_path / "twice.out.csv")]) == 2
    assert "more than once" in capsys.readouterr().err


def test_a_real_tsv_keeps_its_other_columns_byte_for_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = DATA / "inchi" / "generated_rdkit_standard.tsv.gz"
    if not source.exists():
        pytest.skip(f"shared data not found: {source}")
    out = tmp_path / "marked.tsv"
    assert cli.main(["annotate", str(source), "--column", "smiles", "-o", str(out)]) == 0
    with gzip.open(source, "rt", encoding="utf-8", newline="") as handle:
        lines = handle.read().splitlines()
    written = out.read_text(encoding="utf-8").splitlines()
    assert f"read {len(lines) - 1}, written {len(lines) - 1}, failed 0" in _summary(capsys.readouterr().err)
    assert [line.split("\t", 1)[1] for line in written] == [line.split("\t", 1)[1] for line in lines]
    cells = [(new.split("\t", 1)[0], old.split("\t", 1)[0]) for new, old in zip(written[1:], lines[1:])]
    # each cell is one molecule: marked whole or not at all, never changed otherwise
    assert all(new in (old, f"[START_SMILES]{old}[END_SMILES]") for new, old in cells)
    assert sum(new != old for new, old in cells) > 0.99 * len(cells)  # a molecule alone in a cell is found


# -- no record lost -----------------------------------------------------------------------


records = st.lists(st.one_of(st.none(), st.sampled_from([ETHANOL, ASPIRIN, "plain", "", "a,\tb\nc", "x" * 50])), max_size=12)


@settings(max_examples=25, deadline=None)
@given(records, st.integers(1, 5), st.sampled_from(["parquet", "csv", "tsv"]))
def test_hyp_no_record_lost(texts: list[str | None], chunk_size: int, kind: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = _parquet(Path(folder) / "in.parquet", n=list(range(1, len(texts) + 1)), text=texts)
        out = Path(folder) / f"out.{kind}"
        argv = ["annotate", str(source), "--column", "text", "-o", str(out), "--on-error", "skip"]
        code = cli.main([*argv, "--chunk-size", str(chunk_size)])
        failed = texts.count(None)
        assert code == (1 if texts and failed == len(texts) else 0)  # every record failed: a failed run
        if kind == "parquet":
            rows = pq.read_table(out).to_pylist()
        else:
            rows = [dict(zip(("n", "text"), row)) for row in _csv_rows(out, "\t" if kind == "tsv" else ",")[1:]]
        # every readable record is written, in order, with its own other columns
        kept = [(n, t) for n, t in enumerate(texts, 1) if t is not None]
        assert [str(r["n"]) for r in rows] == [str(n) for n, _ in kept]
        assert [r["text"] for r in rows] == [chemtok.annotate(t) for _, t in kept]
        assert len(rows) + failed == len(texts)
