"""chemtok.annotate, ChemTokenizer(detect=True) and ``chemtok annotate``."""

from __future__ import annotations

import functools
import json
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import marked_text, plain_text, smiles_like

import chemtok
from chemtok import cli
from chemtok.annotate import Insertion, annotate_with_insertions, resolve_markers, text_spans
from chemtok.dialects import load_markers
from chemtok.markers import MarkerPair, MarkerTable

MARKERS = load_markers()


def remove_insertions(text: str, insertions: list[Insertion]) -> str:
    for ins in reversed(insertions):
        assert text[ins.position : ins.position + len(ins.marker)] == ins.marker
        text = text[: ins.position] + text[ins.position + len(ins.marker) :]
    return text


prose_with_chemistry = st.lists(
    st.one_of(
        plain_text,
        smiles_like,
        st.sampled_from(["CCO.", "SMILES: OCCO", "c1ccccc1", "(CC(=O)O)", "InChI=1S/CH4/h1H4.", "\nCCN\n", "| CCO |"]),
        st.text(alphabet="ACGT", min_size=18, max_size=30),
        st.text(alphabet="ACDEFGHIKLMNPQRSTVWY", min_size=18, max_size=40),
    ),
    max_size=6,
).map(" ".join)


@given(prose_with_chemistry)
def test_hyp_removing_the_inserted_markers_gives_the_input(text: str) -> None:
    out, insertions = annotate_with_insertions(text)
    assert remove_insertions(out, insertions) == text
    assert chemtok.annotate(text) == out
    chemtok.ChemTokenizer().encode(out)  # what annotate writes, the router reads


@given(marked_text())
def test_hyp_marked_text_is_left_alone(text: str) -> None:
    out, insertions = annotate_with_insertions(text)
    assert remove_insertions(out, insertions) == text
    inside = [
        (s.start, s.end) for s in chemtok.ChemTokenizer(strict_markers=False).split(text) if s.modality != "text"
    ]
    # every insertion lies outside the marked parts of the input
    shift = 0
    for ins in insertions:
        original = ins.position - shift
        assert not any(a < original < b for a, b in inside)
        shift += len(ins.marker)


def test_examples() -> None:
    assert chemtok.annotate("Its SMILES is CCO.") == "Its SMILES is [START_SMILES]CCO[END_SMILES]."
    text = "Already [START_SMILES]CCO[END_SMILES]; InChI=1S/CH4/h1H4 and ACGTACGTTTGACCAGTAGGCA."
    assert chemtok.annotate(text) == (
        "Already [START_SMILES]CCO[END_SMILES]; [START_INCHI]InChI=1S/CH4/h1H4[END_INCHI] and "
        "[START_DNA]ACGTACGTTTGACCAGTAGGCA[END_DNA]."
    )
    protein = "MKTAYIAKQRQISFVKSHFSRQLEERLG"
    assert chemtok.annotate(f"Seq {protein}") == f"Seq [START_AMINO]{protein}[END_AMINO]"
    assert chemtok.annotate("CO2 and COX-1 and BRCA1") == "CO2 and COX-1 and BRCA1"
    assert chemtok.annotate(f"c1ccccc1 {protein}", modalities=("protein",)) == f"c1ccccc1 [START_AMINO]{protein}[END_AMINO]"
    # inside a text-modality container (a reference) nothing is marked either
    assert chemtok.annotate("[START_REF]c1ccccc1[END_REF]") == "[START_REF]c1ccccc1[END_REF]"


def test_markers_option() -> None:
    table = MarkerTable(
        MARKERS.version,
        MARKERS.special_tokens,
        (MarkerPair("<SMILES>", "</SMILES>", "smiles"), MarkerPair("<protein>", "</protein>", "protein")),
        MARKERS.unknown_marker_pattern,
        source="tags (test)",
    )
    text = "Aspirin CC(=O)Oc1ccccc1C(=O)O, InChI=1S/CH4/h1H4"
    # a modality the table has no pair for stays unmarked
    assert chemtok.annotate(text, markers=table) == "Aspirin <SMILES>CC(=O)Oc1ccccc1C(=O)O</SMILES>, InChI=1S/CH4/h1H4"
    assert chemtok.annotate("<SMILES>CCO</SMILES> c1ccccc1", markers=table) == "<SMILES>CCO</SMILES> <SMILES>c1ccccc1</SMILES>"
    assert resolve_markers(None) == resolve_markers("galactica") == MARKERS
    assert resolve_markers(table) is table
    with pytest.raises(TypeError):
        resolve_markers(3)  # type: ignore[arg-type]
    assert text_spans("a [START_SMILES]C[END_SMILES] b", MARKERS) == [(0, 2), (29, 31)]


# -- ChemTokenizer(detect=True) ---------------------------------------------------------


def test_detect_true_round_trip_and_transient_ids() -> None:
    plain = chemtok.ChemTokenizer()
    tok = chemtok.ChemTokenizer(detect=True)
    # existing ids stay; the transient block comes last
    assert tok.namespaces == (*plain.namespaces, "transient")
    assert len(tok) == len(plain) + len(MARKERS.markers)
    assert tok.block("transient")[0] == len(plain)
    text = "Aspirin is CC(=O)Oc1ccccc1C(=O)O. Ethanol [START_SMILES]CCO[END_SMILES]."
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    transient = [i for i in ids if tok.namespace_of(i) == "transient"]
    assert [tok.id_to_token(i) for i in transient] == ["[START_SMILES]", "[END_SMILES]"]
    # the marker the text wrote keeps its ordinary id
    assert [tok.id_to_token(i) for i in ids if tok.namespace_of(i) == "marker"] == ["[START_SMILES]", "[END_SMILES]"]
    assert tok.token_to_id("[START_SMILES]", "transient") == transient[0]
    assert tok.get_vocab()["transient:[START_SMILES]"] == transient[0]
    assert tok.encode_batch([text, "no chemistry"]) == [ids, tok.encode("no chemistry")]
    assert pickle.loads(pickle.dumps(tok)).encode(text) == ids
    assert plain.encode("no chemistry") == tok.encode("no chemistry")


@given(prose_with_chemistry)
def test_hyp_detect_true_round_trip(text: str) -> None:
    tok = _detecting()
    assert tok.decode(tok.encode(text)) == text


marked_or_not = st.tuples(
    prose_with_chemistry,
    st.sampled_from(["", " [START_SMILES]CCO[END_SMILES]", " [END_SMILES]", " [START_AMINO]MKV[END_AMINO] CCO"]),
).map("".join)


@given(st.lists(marked_or_not, max_size=4))
def test_hyp_detect_true_ids_are_the_annotated_texts_ids_with_inserted_markers_transient(texts: list[str]) -> None:
    """The batch, with or without markers the text wrote, against ids computed another way:
    the plain router on the annotated text, each inserted marker's id made transient
    (lenient markers, so that a stray end marker is text, not an error)."""
    tok, plain = _lenient(detect=True), _lenient(detect=False)
    expected = []
    for text in texts:
        annotated, insertions = annotate_with_insertions(text, markers=tok.markers)
        inserted = {i.position for i in insertions}
        segments = [seg for seg in plain.split(annotated) if seg.modality == "marker"]
        transient = iter(seg.start in inserted for seg in segments)
        row = [
            tok.token_to_id(plain.id_to_token(i), "transient") if plain.namespace_of(i) == "marker" and next(transient) else i
            for i in plain.encode(annotated)
        ]
        expected.append(row)
    assert tok.encode_batch(texts) == expected


def test_detect_true_detects_on_every_path() -> None:
    """Lists, arrays and Arrow all mark the molecule (the Arrow path reads buffers natively
    for other routers, which would skip detection)."""
    import pyarrow as pa

    tok = _detecting()
    texts = ["Aspirin is CC(=O)Oc1ccccc1C(=O)O.", "no chemistry", "SMILES: CCO"]
    rows = tok.encode_batch(texts)
    assert sum(tok.namespace_of(i) == "transient" for row in rows for i in row) == 4
    ids, offsets = tok.encode_batch(texts, return_arrays=True)
    assert [ids[offsets[k] : offsets[k + 1]].tolist() for k in range(len(texts))] == rows
    assert tok.encode_arrow(pa.array(texts)).column("ids").to_pylist() == rows


@functools.cache
def _lenient(*, detect: bool) -> chemtok.ChemTokenizer:
    return chemtok.ChemTokenizer(detect=detect, strict_markers=False)


@functools.cache
def _detecting() -> chemtok.ChemTokenizer:
    return chemtok.ChemTokenizer(detect=True)


def test_detect_true_errors_in_the_callers_coordinates(tmp_path: Path) -> None:
    tok = chemtok.ChemTokenizer(detect=True)
    text = "Aspirin CC(=O)Oc1ccccc1C(=O)O and [START_SMILES]C§[END_SMILES]"
    with pytest.raises(chemtok.TokenizationError) as info:
        tok.encode(text)
    assert info.value.position == text.index("§")
    with pytest.raises(chemtok.TokenizationError) as info:
        tok.encode_batch(["CCO", text])
    assert info.value.index == 1
    with pytest.raises(chemtok.TokenizationError) as info:  # offsets run detection too (tests/test_offsets_detect.py)
        tok.encode_with_offsets(text)
    assert info.value.position == text.index("§")
    saved = chemtok.load(tok.save(tmp_path / "tok"))
    assert saved.detect and saved.fingerprint == tok.fingerprint  # type: ignore[union-attr]


# -- the command line ---------------------------------------------------------------------


def test_cli_annotate_accounting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.jsonl"
    rows = [
        json.dumps({"id": 1, "text": "Its SMILES is CCO."}),
        "{not json",  # a bad record
        json.dumps({"id": 3, "other": "no text field"}),  # another
        json.dumps({"id": 4, "text": "Nothing to mark."}),
    ]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = cli.main(["annotate", str(source), "-o", str(out), "--column", "text"])
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert "record 2" in err and "written 0" in err
    code = cli.main(["annotate", str(source), "-o", str(out), "--column", "text", "--on-error", "skip"])
    err = capsys.readouterr().err
    assert code == 0
    assert "read 4, written 2, failed 2" in err
    assert "skipped record 2" in err and "skipped record 3" in err
    # JSON Lines to JSON Lines keeps each object whole, no key added (tests/test_cli_annotate_jsonl.py)
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert written == [
        {"id": 1, "text": "Its SMILES is [START_SMILES]CCO[END_SMILES]."},
        {"id": 4, "text": "Nothing to mark."},
    ]
    # other inputs still give {"record": n, "<column>": text}
    text_source = tmp_path / "in.txt"
    text_source.write_text("Its SMILES is CCO.\nNothing to mark.\n", encoding="utf-8")
    assert cli.main(["annotate", str(text_source), "-o", str(out)]) == 0
    assert "read 2, written 2, failed 0" in capsys.readouterr().err
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [
        {"record": 1, "text": "Its SMILES is [START_SMILES]CCO[END_SMILES]."},
        {"record": 2, "text": "Nothing to mark."},
    ]


def test_cli_annotate_txt_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes(b"Aspirin CC(=O)Oc1ccccc1C(=O)O.\n\xff bad\nplain\n")
    out = tmp_path / "out.txt"
    assert cli.main(["annotate", str(source), "-o", str(out), "--on-error", "skip"]) == 0
    assert out.read_text(encoding="utf-8") == "Aspirin [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES].\nplain\n"
    assert "read 3, written 2, failed 1" in capsys.readouterr().err
    assert cli.main(["annotate", str(source), "-o", str(tmp_path / "out.npy")]) == 2
    assert cli.main(["annotate", str(source), "-o", str(source)]) == 2
    assert cli.main(["annotate", str(source), "-o", str(out), "--modalities", "selfies"]) == 2
    only_bad = tmp_path / "bad.txt"
    only_bad.write_bytes(b"\xff\n")
    assert cli.main(["annotate", str(only_bad), "-o", str(out), "--on-error", "skip"]) == 1


def test_cli_inspect_detects(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["inspect", "CC(=O)O"]) == 0
    out = capsys.readouterr().out
    assert "[START_SMILES]|C|C|(|=|O|)|O|[END_SMILES]" in out
    assert out.startswith("mixed: 9 tokens, 7 characters (2 markers inserted")
    rows = [line.split() for line in out.splitlines() if line[:1].isdigit() or line[:2].strip().isdigit()]
    # positions are the input's own: the inserted markers stand on no character of it
    assert [(row[1], row[2]) for row in rows if row[2] == "inserted"] == [("0-0", "inserted"), ("7-7", "inserted")]
    assert [row[1] for row in rows if row[2] == "smiles"] == ["0-1", "1-2", "2-3", "3-4", "4-5", "5-6", "6-7"]
    assert cli.main(["inspect", "Aspirin CC(=O)Oc1ccccc1C(=O)O and C§"]) == 0  # § is text: nothing fails
    assert "(2 markers inserted" in capsys.readouterr().out
    assert cli.main(["inspect", "--modality", "mixed", "CC(=O)O"]) == 0
    assert "[START_SMILES]" not in capsys.readouterr().out


def test_detect_true_through_arrow() -> None:
    pa = pytest.importorskip("pyarrow")
    tok = _detecting()
    texts = ["Its SMILES is CCO.", None, "[START_SMILES]C§[END_SMILES]"]
    out = tok.encode_arrow(pa.array(texts))
    assert out.column("ids")[0].as_py() == tok.encode("Its SMILES is CCO.")
    assert out.column("ids")[2].as_py() is None and "position 15" in out.column("error")[2].as_py()


# -- converting a corpus from one marker dialect to another ------------------------------


def _grammar_segments(tok: chemtok.ChemTokenizer, text: str) -> list[tuple[str, str]]:
    return [(s.modality, s.text) for s in tok.split(text) if s.modality not in ("marker", "text")]


@functools.cache
def _router(dialect: str) -> chemtok.ChemTokenizer:
    return chemtok.ChemTokenizer(markers=dialect, strict_markers=False)


@given(marked_text(), st.sampled_from(["tags", "naturelm", "biot5"]))
def test_converting_a_dialect_keeps_every_marked_string_and_the_text(text: str, target: str) -> None:
    from hypothesis import assume

    from chemtok.annotate import convert_markers

    table = load_markers(target)
    assume(not any(marker in text for pair in table.pairs for marker in (pair.start, pair.end)))
    converted = convert_markers(text, source="galactica", target=target)
    have = {pair.modality for pair in table.pairs} - {"text"}
    # Every marked string of a modality the target can mark is marked there, in order;
    # the others stay as they were (markers and all), so nothing is dropped.
    assert _grammar_segments(_router(target), converted) == [
        seg for seg in _grammar_segments(_router("galactica"), text) if seg[0] in have
    ]
    # and back: the same strings in the same modalities ([START_I_SMILES] comes back as
    # [START_SMILES], the first Galactica pair for SMILES).
    back = convert_markers(converted, source=target, target="galactica")
    assert _grammar_segments(_router("galactica"), back) == _grammar_segments(_router("galactica"), text)


def test_convert_markers_leaves_text_containers_and_unpaired_markers() -> None:
    from chemtok.annotate import convert_markers

    text = "See [START_REF]Smith 2020[END_REF] and [START_AMINO]GIVEQ[END_AMINO], not [END_DNA]."
    assert convert_markers(text, source="galactica", target="naturelm") == (
        "See [START_REF]Smith 2020[END_REF] and <protein>GIVEQ</protein>, not [END_DNA]."
    )
    assert convert_markers(text, source="galactica", target="galactica") == text


def test_cli_converts_a_corpus_between_dialects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "galactica.jsonl"
    rows = [
        {"text": "Ethanol is [START_SMILES]CCO[END_SMILES]."},
        {"text": "Insulin [START_AMINO]GIVEQCCTSICSLYQLENYCN[END_AMINO] and aspirin CC(=O)Oc1ccccc1C(=O)O."},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "tags.jsonl"
    code = cli.main(["annotate", str(source), "--column", "text", "--from-markers", "galactica", "--markers", "tags", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    written = [json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert written == [
        "Ethanol is <SMILES>CCO</SMILES>.",
        "Insulin <FASTA>GIVEQCCTSICSLYQLENYCN</FASTA> and aspirin <SMILES>CC(=O)Oc1ccccc1C(=O)O</SMILES>.",
    ]
    assert "read 2, written 2, failed 0" in capsys.readouterr().err
