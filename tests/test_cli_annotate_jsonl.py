"""``chemtok annotate`` JSON Lines to JSON Lines: each object kept whole, only its text field annotated."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

import chemtok
from chemtok import cli
from chemtok.io.readers import read_chunks
from chemtok.io.records import read_records
from chemtok.io.tables import TableWriter, json_line

ETHANOL = "Its SMILES is CCO."
ETHANOL_MARKED = "Its SMILES is [START_SMILES]CCO[END_SMILES]."
ASPIRIN = "Aspirin CC(=O)Oc1ccccc1C(=O)O binds."
ASPIRIN_MARKED = "Aspirin [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES] binds."
PLAIN = ["Nothing to mark.", "Glucose is a sugar.", "", "Étienne a écrit ça."]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _lines(path: Path) -> list[str]:
    """The lines of a JSON Lines file (``str.splitlines`` would also split at U+0085 or U+2028 inside a string)."""
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") or not text
    return text.split("\n")[:-1]


def _summary(err: str) -> str:
    return next(line for line in reversed(err.splitlines()) if "read " in line)


def test_objects_kept_whole_only_the_column_annotated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    objects: list[dict[str, Any]] = [
        {
            "instruction": "Describe the molecule.",
            "output": ETHANOL,
            "meta": {"source": "Mol-Instructions", "tags": ["smiles", None, 3, {"deep": [1.5, -2, True]}]},
            "id": 702,
        },
        {"id": 10**30, "output": ASPIRIN, "weight": 180.16, "zero": -0.0, "name": "acide acétylsalicylique ☕ 阿司匹林", "none": None},
        {"output": "Nothing to mark.", "flags": [False, True], "empty": {}, "list": []},
    ]
    source = _write(tmp_path / "mol_instructions.jsonl", [_dumps(obj) for obj in objects])
    out = tmp_path / "marked.jsonl"
    assert cli.main(["annotate", str(source), "--column", "output", "-o", str(out), "--chunk-size", "2"]) == 0
    assert "read 3, written 3, failed 0 (2 strings marked" in _summary(capsys.readouterr().err)
    expected = [dict(obj) for obj in objects]
    expected[0]["output"] = ETHANOL_MARKED
    expected[1]["output"] = ASPIRIN_MARKED
    # byte for byte: the same keys in the same order, every other value as it was
    assert out.read_bytes() == "".join(_dumps(obj) + "\n" for obj in expected).encode("utf-8")
    assert list(json.loads(out.read_text(encoding="utf-8").splitlines()[0])) == ["instruction", "output", "meta", "id"]


def test_output_column_is_a_new_last_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path / "in.jsonl", [_dumps({"output": ETHANOL, "id": 1}), _dumps({"id": 2, "output": "plain"})])
    out = tmp_path / "marked.jsonl"
    assert cli.main(["annotate", str(source), "--column", "output", "--output-column", "marked", "-o", str(out)]) == 0
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [
        {"output": ETHANOL, "id": 1, "marked": ETHANOL_MARKED},
        {"id": 2, "output": "plain", "marked": "plain"},
    ]
    assert [list(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines()] == [
        ["output", "id", "marked"],
        ["id", "output", "marked"],
    ]
    capsys.readouterr()


def test_output_column_clash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "marked.jsonl"
    first = _write(tmp_path / "first.jsonl", [_dumps({"output": ETHANOL, "marked": "old"})])
    # the first object has the key: a usage error before anything is read or written
    assert cli.main(["annotate", str(first), "--column", "output", "--output-column", "marked", "-o", str(out)]) == 2
    assert f"--output-column 'marked' is already a field of the objects of {first}: choose a new name" in capsys.readouterr().err
    assert cli.main(["annotate", str(first), "--column", "output", "--output-column", "output", "-o", str(out)]) == 2
    assert "--output-column 'output' is --column: leave it out to replace the field in place" in capsys.readouterr().err
    assert not out.exists()
    # a later object that has it is a failed record: never overwritten
    later = _write(
        tmp_path / "later.jsonl",
        [_dumps({"output": ETHANOL}), _dumps({"output": ASPIRIN, "marked": "keep me"}), _dumps({"output": "plain"})],
    )
    argv = ["annotate", str(later), "--column", "output", "--output-column", "marked", "-o", str(out)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    problem = "the object already has a field 'marked', which --output-column would overwrite: choose a new name"
    assert f"record 2 of {later}: {problem}" in err
    assert "read 2, written 0, failed 1 (stopped at the first failure; nothing written)" in err
    assert not out.exists()
    assert cli.main([*argv, "--on-error", "skip"]) == 0
    err = capsys.readouterr().err
    assert f"skipped record 2 of {later}: {problem}" in err
    assert "read 3, written 2, failed 1" in _summary(err)
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [
        {"output": ETHANOL, "marked": ETHANOL_MARKED},
        {"output": "plain", "marked": "plain"},
    ]


def test_output_column_needs_keeping_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = _write(tmp_path / "in.txt", [ETHANOL])
    code = cli.main(["annotate", str(text), "--output-column", "marked", "-o", str(tmp_path / "out.jsonl")])
    assert code == 2
    assert (
        "--output-column needs table inputs (CSV/TSV/Parquet) and a .parquet, .csv or .tsv output, "
        "or JSON Lines inputs and a .jsonl output"
    ) in capsys.readouterr().err
    objects = _write(tmp_path / "in.jsonl", [_dumps({"text": ETHANOL})])
    code = cli.main(["annotate", str(objects), str(text), "--column", "text", "-o", str(tmp_path / "out.jsonl")])
    assert code == 2
    assert "the inputs mix JSON Lines (whose objects a JSON Lines output keeps whole) with other formats" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


BAD_LINES = [
    ("{not json", "not valid JSON on this line"),
    (_dumps({"id": 3, "other": "no text field"}), "field 'text' missing on this line"),
    (_dumps({"text": 42}), "field 'text' is int, not a string"),
    (_dumps({"text": None}), "field 'text' is NoneType, not a string"),
    (_dumps({"text": ["CCO"]}), "field 'text' is list, not a string"),
    ('["text", "CCO"]', "field 'text' missing on this line"),
    ("", "not valid JSON on this line"),
    ('{"text": "CCO is ethanol", "id": 1, "id": 2}', "an object on this line names the key 'id' more than once: one value would be lost"),
    ('{"text": "CCO", "meta": {"a": 1, "a": 1}}', "an object on this line names the key 'a' more than once: one value would be lost"),
    ('{"text": "CCO", "x": 0.1000000000000000055511151231257827}', "the number 0.1000000000000000055511151231257827 on this line does not fit a double exactly: it would be written back as 0.1"),
    ('{"text": "CCO", "x": [1e400]}', "the number 1e400 on this line does not fit a double exactly: it would be written back as Infinity"),
    ('{"text": "CCO", "note": "\\udc00"}', "a string holds U+DC00, a lone surrogate (a JSON escape that UTF-8 cannot hold): it cannot be written"),
]


@pytest.mark.parametrize(("line", "problem"), BAD_LINES)
def test_a_bad_line_is_a_failed_record(tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, problem: str) -> None:
    source = _write(tmp_path / "in.jsonl", [_dumps({"id": 1, "text": ETHANOL}), line, _dumps({"id": 3, "text": "plain"})])
    out = tmp_path / "out.jsonl"
    out.write_text("older\n", encoding="utf-8")
    argv = ["annotate", str(source), "--column", "text", "-o", str(out)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert f"record 2 of {source}: {problem}\n" in err
    assert "failed 1 (stopped at the first failure; nothing written)" in err
    assert out.read_text(encoding="utf-8") == "older\n"  # the older file stays as it was
    assert cli.main([*argv, "--on-error", "skip"]) == 0
    err = capsys.readouterr().err
    assert f"skipped record 2 of {source}: {problem}\n" in err
    assert "read 3, written 2, failed 1" in _summary(err)
    assert out.read_text(encoding="utf-8") == _dumps({"id": 1, "text": ETHANOL_MARKED}) + "\n" + _dumps({"id": 3, "text": "plain"}) + "\n"


def test_bad_bytes_and_every_record_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"text": "CCO is ethanol"}\n{"text": "\xff"}\n')
    out = tmp_path / "out.jsonl"
    assert cli.main(["annotate", str(source), "--column", "text", "-o", str(out), "--on-error", "skip"]) == 0
    err = capsys.readouterr().err
    assert f"skipped record 2 of {source}: not valid UTF-8 at byte 10: invalid start byte" in err
    assert "read 2, written 1, failed 1" in _summary(err)
    assert cli.main(["annotate", str(source), "--column", "smiles", "-o", str(out), "--on-error", "skip"]) == 1
    err = capsys.readouterr().err
    assert "read 2, written 0, failed 2" in err and "every record failed: wrong --column (now 'smiles')" in err


def test_a_lone_surrogate_in_the_text_fails_its_record_in_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path / "in.jsonl", ['{"text": "CCO is \\udc00 here", "id": 1}', _dumps({"text": ETHANOL, "id": 2})])
    problem = "a string holds U+DC00, a lone surrogate (a JSON escape that UTF-8 cannot hold): it cannot be written"
    for name, expected in (("out.jsonl", _dumps({"text": ETHANOL_MARKED, "id": 2}) + "\n"), ("out.txt", ETHANOL_MARKED + "\n")):
        out = tmp_path / name
        assert cli.main(["annotate", str(source), "--column", "text", "-o", str(out), "--on-error", "skip"]) == 0
        err = capsys.readouterr().err
        assert f"skipped record 1 of {source}: {problem}" in err and "read 2, written 1, failed 1" in _summary(err)
        assert out.read_text(encoding="utf-8") == expected


def test_gzip_in_and_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    objects = [{"input": ETHANOL, "n": i, "nested": {"x": [i, None]}} for i in range(5)] + [{"input": "plain", "n": 5}]
    source = tmp_path / "smolinstruct.jsonl.gz"
    with gzip.open(source, "wt", encoding="utf-8") as handle:
        handle.write("".join(_dumps(obj) + "\n" for obj in objects))
    out = tmp_path / "marked.jsonl.gz"
    assert cli.main(["annotate", str(source), "--column", "input", "-o", str(out), "--chunk-size", "4"]) == 0
    assert "read 6, written 6, failed 0" in _summary(capsys.readouterr().err)
    expected = [{**obj, "input": chemtok.annotate(obj["input"])} for obj in objects]
    assert gzip.decompress(out.read_bytes()).decode("utf-8") == "".join(_dumps(obj) + "\n" for obj in expected)


def test_several_inputs_follow_each_other_without_a_source_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _write(tmp_path / "a.jsonl", [_dumps({"text": ETHANOL, "split": "a"})])
    b = _write(tmp_path / "b.jsonl", [_dumps({"split": "b", "text": ASPIRIN}), _dumps({"split": "b", "text": "plain"})])
    out = tmp_path / "out.jsonl"
    assert cli.main(["annotate", str(a), str(b), "--column", "text", "-o", str(out)]) == 0
    assert "read 3, written 3, failed 0" in _summary(capsys.readouterr().err)
    assert out.read_text(encoding="utf-8").splitlines() == [
        _dumps({"text": ETHANOL_MARKED, "split": "a"}),
        _dumps({"split": "b", "text": ASPIRIN_MARKED}),
        _dumps({"split": "b", "text": "plain"}),
    ]


def test_standard_input_to_standard_output(tmp_path: Path) -> None:
    body = (_dumps({"id": 1, "output": ETHANOL, "meta": {"k": [1, 2]}}) + "\n{bad\n" + _dumps({"output": "plain", "id": 3}) + "\n").encode()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(chemtok.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    for stdin in (body, gzip.compress(body)):
        done = subprocess.run(
            [sys.executable, "-m", "chemtok", "annotate", "-", "--input-format", "jsonl", "--column", "output", "-o", "-", "--on-error", "skip"],
            input=stdin, capture_output=True, timeout=120, check=False, env=env,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.decode("utf-8") == _dumps({"id": 1, "output": ETHANOL_MARKED, "meta": {"k": [1, 2]}}) + "\n" + _dumps({"output": "plain", "id": 3}) + "\n"
        assert b"skipped record 2 of standard input: not valid JSON on this line" in done.stderr
        assert b"read 3, written 2, failed 1" in done.stderr


# -- the readers' objects --------------------------------------------------------------------


def test_numbers_kept_by_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path / "in.jsonl", ['{"text": "plain", "a": 1e3, "b": 0.10, "c": -0.0, "d": 123456789012345678901234567890, "e": NaN}'])
    out = tmp_path / "out.jsonl"
    assert cli.main(["annotate", str(source), "--column", "text", "-o", str(out)]) == 0
    capsys.readouterr()
    # the same values, in json.dumps's spelling (NaN, which json reads and writes, stays NaN)
    assert _lines(out) == ['{"text": "plain", "a": 1000.0, "b": 0.1, "c": -0.0, "d": 123456789012345678901234567890, "e": NaN}']


def test_read_records_keeps_the_object_only_when_asked(tmp_path: Path) -> None:
    source = _write(tmp_path / "in.jsonl", ['{"b": 1, "text": "CCO", "a": [null]}', '{"text": "CC", "x": 1, "x": 2}'])
    plain = list(read_records(source, column="text"))
    assert [(r.text, r.json_object) for r in plain] == [("CCO", None), ("CC", None)]  # json.loads: the last "x" wins
    kept = list(read_records(source, column="text", keep_fields=True))
    assert kept[0].json_object == {"b": 1, "text": "CCO", "a": [None]} and list(kept[0].json_object) == ["b", "text", "a"]
    assert kept[1].text is None and kept[1].error == "an object on this line names the key 'x' more than once: one value would be lost"


def test_read_chunks_gives_the_objects_a_chunk_at_a_time(tmp_path: Path) -> None:
    lines = [_dumps({"text": f"record {i}", "i": i}) if i != 4 else "{bad" for i in range(1, 8)]
    source = _write(tmp_path / "in.jsonl", lines)
    chunks = list(read_chunks(str(source), "jsonl", "text", 3, keep_columns=True))
    assert [list(chunk.numbers) for chunk in chunks] == [[1, 2, 3], [4, 5, 6], [7]]
    objects = [obj for chunk in chunks for obj in (chunk.objects or [])]
    assert objects == [{"text": f"record {i}", "i": i} if i != 4 else None for i in range(1, 8)]
    assert chunks[1].problems == {0: ("not valid JSON on this line", b"{bad")}
    assert all(chunk.objects is None for chunk in read_chunks(str(source), "jsonl", "text", 3))


def test_json_line_and_the_writer(tmp_path: Path) -> None:
    assert json_line({"a": "é", "b": [1, None]}) == '{"a": "é", "b": [1, null]}\n'.encode()
    with pytest.raises(ValueError, match="U\\+D800, a lone surrogate"):
        json_line({"a": "\ud800"})
    out = tmp_path / "out.jsonl"
    with TableWriter(out, schema=None) as writer:
        writer.write_json_lines([json_line({"x": 1}), json_line({"y": {"z": 2}})])
        writer.finalize()
    assert out.read_text(encoding="utf-8") == '{"x": 1}\n{"y": {"z": 2}}\n'
    with pytest.raises(ValueError, match="needs the schema"):
        TableWriter(tmp_path / "out.csv", schema=None)


# -- properties ---------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
_KEYS = st.text(min_size=1, max_size=6).filter(lambda key: key != "text")
# st.text() draws no lone surrogates: every object can be written as UTF-8.
_OBJECTS = st.dictionaries(_KEYS, _JSON, max_size=4)


@settings(max_examples=int(os.environ.get("CHEMTOK_MAX_EXAMPLES", "40")), deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([ETHANOL, ASPIRIN, *PLAIN, None, "bad"]), _OBJECTS, st.integers(0, 3)),
        max_size=12,
    ),
    st.integers(1, 5),
)
def test_hyp_records_neither_lost_nor_reordered(rows: list[tuple[str | None, dict[str, Any], int]], chunk_size: int) -> None:
    lines: list[str] = []
    good: list[dict[str, Any]] = []
    for text, obj, where in rows:
        if text == "bad":
            lines.append("{not json")
            continue
        items = list(obj.items())
        if text is not None:  # None: the object has no text field, a failed record
            items.insert(min(where, len(items)), ("text", text))
        lines.append(_dumps(dict(items)))
        if text is not None:
            good.append(dict(items))
    with tempfile.TemporaryDirectory() as tmp:
        source = _write(Path(tmp) / "in.jsonl", lines)
        out = Path(tmp) / "out.jsonl"
        argv = ["annotate", str(source), "--column", "text", "-o", str(out), "--on-error", "skip", "--chunk-size", str(chunk_size)]
        code = cli.main(argv)
        written = _lines(out) if out.exists() else []
    assert code == (1 if lines and not good else 0)
    if code == 0:
        expected = [_dumps({key: chemtok.annotate(value) if key == "text" else value for key, value in obj.items()}) for obj in good]
        assert written == expected


_SPELLINGS = st.sampled_from(
    [
        {},
        {"separators": (",", ":")},
        {"ensure_ascii": True},
        {"indent": None, "separators": (" , ", " : ")},
    ]
)


@settings(max_examples=int(os.environ.get("CHEMTOK_MAX_EXAMPLES", "40")), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PLAIN), _OBJECTS, _SPELLINGS), min_size=1, max_size=8))
def test_hyp_without_chemistry_each_line_is_json_dumps_of_its_object(rows: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
    assert all(chemtok.annotate(text) == text for text in PLAIN)
    lines = [json.dumps({**obj, "text": text}, **spelling) for text, obj, spelling in rows]
    with tempfile.TemporaryDirectory() as tmp:
        source = _write(Path(tmp) / "in.jsonl", lines)
        out = Path(tmp) / "out.jsonl"
        assert cli.main(["annotate", str(source), "--column", "text", "-o", str(out)]) == 0
        assert _lines(out) == [json.dumps(json.loads(line), ensure_ascii=False) for line in lines]


# -- a real dataset -------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "any_marked"), [("smiles", True), ("text", False)])  # the descriptions name, not spell, molecules
def test_real_chebi20_objects_kept_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, any_marked: bool) -> None:
    real = DATA / "text" / "chebi20_molt5.jsonl.gz"
    if not real.is_file():
        pytest.skip(f"shared data not found: {real}")
    with gzip.open(real, "rt", encoding="utf-8", newline="") as handle:
        lines = [next(handle).rstrip("\n") for _ in range(300)]
    source = tmp_path / "chebi20.jsonl.gz"
    source.write_bytes(gzip.compress("".join(line + "\n" for line in lines).encode("utf-8")))
    out = tmp_path / "marked.jsonl"
    assert cli.main(["annotate", str(source), "--column", field, "-o", str(out), "--chunk-size", "64"]) == 0
    assert "read 300, written 300, failed 0" in _summary(capsys.readouterr().err)
    objects = [json.loads(line) for line in lines]
    marked = chemtok.annotate_batch([obj[field] for obj in objects])
    assert any(a != b[field] for a, b in zip(marked, objects)) is any_marked
    assert _lines(out) == [_dumps({**obj, field: text}) for obj, text in zip(objects, marked)]
