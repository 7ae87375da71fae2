"""The readers account for every record: line ends, byte order marks, FASTA preambles,
oversized fields, nested JSON, corrupt gzip and Parquet, bad bytes.

Each case reads a small generated file with both :func:`read_records` (the reference)
and :func:`read_chunks` (what the pipeline uses), which must agree.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from chemtok.io import readers as _readers
from chemtok.io.formats import InputError
from chemtok.io.readers import read_chunks
from chemtok.io.records import read_records

BOM = b"\xef\xbb\xbf"


def records(path: Path, fmt: str, column: str | None = None) -> list[tuple[int, str | None, str | None]]:
    return [(r.number, r.text, r.error) for r in read_records(path, format=fmt, column=column)]


def chunked(path: Path, fmt: str, column: str | None = None, size: int = 2) -> list[tuple[int, str | None, str | None]]:
    out = []
    for chunk in read_chunks(str(path), fmt, column, size):
        for i, (number, text) in enumerate(zip(chunk.numbers, chunk.texts)):
            out.append((number, text, chunk.problems[i][0] if i in chunk.problems else None))
    return out


@pytest.mark.parametrize("fmt", ["smi", "txt"])
@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("compress", [False, True])
def test_line_ends(fmt: str, end: bytes, compress: bool, tmp_path: Path) -> None:
    body = end.join([b"CCO", b"c1ccccc1", b"O=C=O"]) + end
    path = tmp_path / f"mols.{fmt}"
    path.write_bytes(gzip.compress(body) if compress else body)
    expected = [(1, "CCO", None), (2, "c1ccccc1", None), (3, "O=C=O", None)]
    assert records(path, fmt) == expected
    for size in (1, 2, 100):
        assert chunked(path, fmt, size=size) == expected


def test_crlf_split_across_read_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chemtok.io import records as records_module

    monkeypatch.setattr(records_module, "BLOCK_SIZE", 4)
    path = tmp_path / "split.txt"
    path.write_bytes(b"abc\r\ndefgh\r\r\nij\r")  # CR LF straddles the 4-byte reads
    expected = [(1, "abc", None), (2, "defgh", None), (3, "", None), (4, "ij", None)]
    assert records(path, "txt") == expected
    assert chunked(path, "txt") == expected


@pytest.mark.parametrize(
    ("name", "body", "column", "first"),
    [
        ("a.smi", b"CCO ethanol\nCC\n", None, "CCO"),
        ("a.txt", b"CCO\nCC\n", None, "CCO"),
        ("a.csv", b"smiles,id\nCCO,1\nCC,2\n", "smiles", "CCO"),
        ("a.tsv", b"smiles\tid\nCCO\t1\nCC\t2\n", "smiles", "CCO"),
        ("a.jsonl", b'{"smiles": "CCO"}\n{"smiles": "CC"}\n', "smiles", "CCO"),
    ],
)
def test_byte_order_mark_is_dropped(name: str, body: bytes, column: str | None, first: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(BOM + body)
    fmt = name.rsplit(".", 1)[1]
    got = records(path, fmt, column)
    assert got[0] == (1, first, None) and len(got) == 2 and all(e is None for _, _, e in got)
    assert chunked(path, fmt, column) == got


def test_fasta_text_before_the_first_header_is_a_failed_record(tmp_path: Path) -> None:
    path = tmp_path / "p.fasta"
    path.write_bytes(b"MKV stray line\n\n>sp|1\nMKV\nLLA\n>sp|2\nGG\n")
    got = records(path, "fasta")
    assert [(n, t) for n, t, _ in got] == [(1, None), (2, "MKVLLA"), (3, "GG")]
    assert "before the first '>'" in (got[0][2] or "")
    assert chunked(path, "fasta") == got


def test_fasta_without_any_header_is_not_read_as_nothing(tmp_path: Path) -> None:
    path = tmp_path / "p.fasta"
    path.write_bytes(b"MKVLLA\nGG\n")
    got = records(path, "fasta")
    assert len(got) == 1 and got[0][0] == 1 and got[0][1] is None and "'>'" in (got[0][2] or "")


def test_fasta_blank_lines_before_the_header_are_not_records(tmp_path: Path) -> None:
    path = tmp_path / "p.fasta"
    path.write_bytes(b"\n\r\n>x\nMK\n")
    assert records(path, "fasta") == [(1, "MK", None)]


@pytest.mark.parametrize("in_other_column", [False, True])
def test_csv_field_over_the_csv_module_limit_is_read(in_other_column: bool, tmp_path: Path) -> None:
    big = "C" * 200_000
    path = tmp_path / "big.csv"
    if in_other_column:
        path.write_text(f"smiles,note\nCCO,{big}\nCC,x\n")
        expected = [(1, "CCO", None), (2, "CC", None)]
    else:
        path.write_text(f"smiles,note\n{big},x\nCC,x\n")
        expected = [(1, big, None), (2, "CC", None)]
    assert records(path, "csv", "smiles") == expected
    assert chunked(path, "csv", "smiles") == expected


def test_deeply_nested_json_line_is_a_failed_record(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(json.dumps({"text": "CCO"}) + "\n" + deep + "\n" + json.dumps({"text": "CC"}) + "\n")
    got = records(path, "jsonl", "text")
    assert [(n, t) for n, t, _ in got] == [(1, "CCO"), (2, None), (3, "CC")]
    assert "nested" in (got[1][2] or "")


def test_non_utf8_bytes_are_failed_records_with_their_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.smi"
    path.write_bytes(b"CCO\nC\xffC\nCC\n")
    got = records(path, "smi")
    assert [(n, t) for n, t, _ in got] == [(1, "CCO"), (2, None), (3, "CC")]
    assert "UTF-8" in (got[1][2] or "")
    assert chunked(path, "smi") == got


@pytest.mark.parametrize("fmt", ["smi", "csv"])
def test_truncated_gzip_ends_with_a_fault_record(fmt: str, tmp_path: Path) -> None:
    rng = random.Random(0)
    lines = "".join("".join(rng.choice("CNOSP") for _ in range(30)) + "\n" for _ in range(20_000))
    body = ("smiles\n" + lines if fmt == "csv" else lines).encode()
    path = tmp_path / f"cut.{fmt}.gz"
    path.write_bytes(gzip.compress(body)[:4000])
    chunks = list(read_chunks(str(path), fmt, "smiles" if fmt == "csv" else None, 1000))
    last = chunks[-1]
    assert last.fault is not None and "cannot read" in last.fault
    assert last.texts[-1] is None and (len(last.texts) - 1) in last.problems
    numbers = [n for c in chunks for n in c.numbers]
    assert numbers == list(range(1, len(numbers) + 1))  # the fault record follows the last one read
    assert all(c.fault is None for c in chunks[:-1])


def test_corrupt_parquet_is_an_input_error_not_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(InputError, match="Parquet"):
        list(read_records(path, column="smiles"))
    chunks = list(read_chunks(str(path), "parquet", "smiles", 10))
    assert chunks[-1].fault is not None and chunks[-1].numbers == [1]


# -- CSV/TSV through pyarrow: the same records as the Python reader, or the Python reader ----------------

_TABLE_CASES = {
    "plain": b"id,smiles\n1,CCO\n2,c1ccccc1\n3,O=C=O\n",
    "bom_crlf": BOM + b"id,smiles\r\n1,CCO\r\n2,c1ccccc1\r\n",
    "cr_only": b"id,smiles\r1,CCO\r2,c1ccccc1\r",
    "quoted_newline": b'id,smiles\n1,"CC\nO"\n2,"C,C"\n3,""\n',
    "no_final_newline": b"id,smiles\n1,CCO\n2,CCN",
    "empty_line": b"smiles\nCCO\n\nCCN\n",
    "short_row": b"id,smiles\n1,CCO\n2\n3,CCN\n",
    "long_row": b"id,smiles\n1,CCO\n2,CCN,extra\n3,CCC\n",
    "bad_utf8": b"id,smiles\n1,CCO\n2,C\xff\n3,CCN\n",
    "oversized": b"id,smiles\n1," + b"C" * 140_000 + b"\n2,CCO\n",
    "oversized_other": b"id,smiles\n" + b"x" * 140_000 + b",CCO\n2,CCN\n",
}


@pytest.mark.parametrize("case", sorted(_TABLE_CASES))
@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("block", [None, 64])
def test_arrow_table_reader_gives_what_the_python_reader_gives(
    case: str, compress: bool, block: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every record, same numbers, same texts and problems: pyarrow where it reads the file
    as the Python reader does, the Python reader from the first record pyarrow refuses."""
    if block is not None:  # tiny blocks: pyarrow gives up part-way, the Python reader takes over
        monkeypatch.setattr(_readers, "_ARROW_BLOCK", block)
    body = _TABLE_CASES[case]
    path = tmp_path / ("m.csv.gz" if compress else "m.csv")
    path.write_bytes(gzip.compress(body) if compress else body)
    column = None if case == "empty_line" else "smiles"
    expected = records(path, "csv", column)
    assert expected, case
    for size in (1, 2, 1000):
        assert chunked(path, "csv", column, size=size) == expected


def test_a_clean_table_stays_an_arrow_array(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv"
    path.write_bytes(b"id\tsmiles\n" + b"".join(b"%d\tCCO\n" % i for i in range(10)))
    chunks = list(read_chunks(str(path), "tsv", "smiles", 4))
    assert [type(c.texts) for c in chunks] == [_readers.ArrowTexts] * 3
    assert [list(c.numbers) for c in chunks] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]


def test_arrow_chunks_encode_like_strings(tmp_path: Path) -> None:
    """The encode_arrow fast path writes the ids encode_batch gives; a failing row takes the string path."""
    from chemtok.io.pipeline import Encoder, encode_chunk
    from chemtok.registry import load_tokenizer

    tok = load_tokenizer("smiles")
    path = tmp_path / "m.csv"
    texts = ["CCO", "c1ccccc1", "", "C[C@H](N)C(=O)O", "C\u00a7", "CCN"]
    path.write_text("smiles\n" + "".join(f"{t}\n" for t in texts), encoding="utf-8")
    for policy in ("skip", "fallback"):
        encoder = Encoder(tok, policy, None)
        kept, rows, failed = [], [], []
        for chunk in read_chunks(str(path), "csv", "smiles", 3):
            done = encode_chunk(encoder, chunk, str(path), policy)
            kept += [chunk.numbers[i] for i in done.kept]
            rows += [done.ids[a:b].tolist() for a, b in zip(done.offsets[:-1], done.offsets[1:])]
            failed += [f.record for f in done.failures]
        good = [t for t in texts if policy == "fallback" or "\u00a7" not in t]
        assert rows == [tok.encode(t, on_error=policy if policy == "fallback" else None) for t in good]
        assert sorted(kept + failed) == list(range(1, len(texts) + 1))
        assert failed == ([] if policy == "fallback" else [5])
