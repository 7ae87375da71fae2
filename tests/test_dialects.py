"""Marker dialects by name: each routes a realistic example of its datasets' format.

``galactica`` (``[START_SMILES]``), ``tags`` (SMolInstruct / Intern-S1 ``<SMILES>``),
``naturelm`` (``<mol>``) and ``biot5`` (``<bom>``/``<eom>`` around SELFIES): routing,
round trips, strict-marker errors, save/load (the dialect persists and is part of the
fingerprint) and the CLI's ``--markers``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import plain_text, selfies_like, smiles_like

import chemtok
from chemtok import cli
from chemtok.dialects import MARKER_DIALECTS, load_markers
from chemtok.persist import STATE_FILE

ROUTERS = {name: chemtok.ChemTokenizer(markers=name) for name in MARKER_DIALECTS}

# Each dataset's format, with the modality of every content segment expected.
EXAMPLES = {
    "galactica": [
        (
            "Aspirin is [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES], acetate "
            "[START_SELFIES][C][C][=Branch1][C][=O][O-1][END_SELFIES].",
            [("smiles", "CC(=O)Oc1ccccc1C(=O)O"), ("selfies", "[C][C][=Branch1][C][=O][O-1]")],
        ),
    ],
    "tags": [
        # SMolInstruct (LlaSMol paper, molecule captioning and SIDER): spaces inside the tags.
        (
            "Describe this molecule: <SMILES> CCOC(=O)C1=CN=CN1[C@H](C)C1=CC=CC=C1 </SMILES>",
            [("smiles", "CCOC(=O)C1=CN=CN1[C@H](C)C1=CC=CC=C1")],
        ),
        (
            "<SMILES> NC1=CC=C2OCOC2=C1.O=CO</SMILES> Based on the reactants and reagents given above, "
            "suggest a possible product.",
            [("smiles", "NC1=CC=C2OCOC2=C1.O=CO")],
        ),
        (
            "Are there any known side effects of <SMILES> CC1=CC(C)=C(NC(=O)CN(CC(=O)O)CC(=O)O)C(C)=C1Br </SMILES> "
            "affecting the heart? <BOOLEAN> No </BOOLEAN>",
            [("smiles", "CC1=CC(C)=C(NC(=O)CN(CC(=O)O)CC(=O)O)C(C)=C1Br")],
        ),
        # Name conversion: IUPAC names and formulas are text inside marker tokens.
        (
            "<IUPAC> 2-acetyloxybenzoic acid </IUPAC> has the formula <MOLFORMULA> C9H8O4 </MOLFORMULA>.",
            [],
        ),
        # Intern-S1's docstring: no spaces; its <SELFIES> and <FASTA> domains.
        (
            "Describe <SMILES>C1=CC=C(C=C1)C=O</SMILES>, <SELFIES>[C][=C][C][=C][C][=C][Ring1][=Branch1]</SELFIES> "
            "and <FASTA>MKTAYIAKQRQISFVKSHFSRQ</FASTA>; InChI <INCHI>InChI=1S/CH4/h1H4</INCHI>, "
            "<protein>GIVEQ</protein>, <RNA>AUGGCC</RNA>",
            [
                ("smiles", "C1=CC=C(C=C1)C=O"),
                ("selfies", "[C][=C][C][=C][C][=C][Ring1][=Branch1]"),
                ("protein", "MKTAYIAKQRQISFVKSHFSRQ"),
                ("inchi", "InChI=1S/CH4/h1H4"),
                ("protein", "GIVEQ"),
                ("dna", "AUGGCC"),
            ],
        ),
    ],
    "naturelm": [
        (
            "Generate a molecule that binds <protein>MKTAYIAKQRQISFVKSHFSRQ</protein>: <mol>CC(=O)Nc1ccc(O)cc1</mol>. "
            "Guide RNA <rna>GUUUUAGAGCUA</rna>, promoter <dna>TATAAT</dna>, material <material>Li Fe P O4</material>",
            [
                ("protein", "MKTAYIAKQRQISFVKSHFSRQ"),
                ("smiles", "CC(=O)Nc1ccc(O)cc1"),
                ("dna", "GUUUUAGAGCUA"),
                ("dna", "TATAAT"),
            ],
        ),
        ("HTML stays text: <b>bold</b> and <i>x</i>", []),
    ],
    "biot5": [
        # BioT5's README, molecule captioning.
        (
            "Definition: You are given a molecule SELFIES. Your job is to generate the molecule description in "
            "English that fits the molecule SELFIES.\n\nNow complete the following example -\n"
            "Input: <bom>[C][C][Branch1][C][O][C][C][=Branch1][C][=O][C][=Branch1][C][=O][O-1]<eom>\nOutput: ",
            [("selfies", "[C][C][Branch1][C][O][C][C][=Branch1][C][=O][C][=Branch1][C][=O][O-1]")],
        ),
        ("Drug <bom>[C][O]<eom> and target <bop>MKTAYIAKQR<eop> interact.", [("selfies", "[C][O]"), ("protein", "MKTAYIAKQR")]),
    ],
}
CASES = [(name, text, want) for name, examples in EXAMPLES.items() for text, want in examples]


@pytest.mark.parametrize("dialect, text, want", CASES)
def test_each_dialect_routes_its_datasets_format(dialect: str, text: str, want: list[tuple[str, str]]) -> None:
    router = ROUTERS[dialect]
    segments = router.split(text)
    assert "".join(s.text for s in segments) == text
    assert [(s.modality, s.text) for s in segments if s.modality not in ("text", "marker")] == want
    ids = router.encode(text)
    assert router.decode(ids) == text
    assert router.encode_batch([text, text]) == [ids, ids]
    enc = router.encode_with_offsets(text)
    assert enc.ids == ids


def test_padded_tags_read_the_spaces_as_text() -> None:
    router = ROUTERS["tags"]
    parts = [(s.modality, s.text) for s in router.split("<SMILES> CCO </SMILES>")]
    assert parts == [("marker", "<SMILES>"), ("text", " "), ("smiles", "CCO"), ("text", " "), ("marker", "</SMILES>")]
    assert [(s.modality, s.text) for s in router.split("<SMILES>  </SMILES>")][1] == ("text", "  ")
    # Text containers keep their spaces inside the text.
    assert [(s.modality, s.text) for s in router.split("<IUPAC> ethanol </IUPAC>")][1] == ("text", " ethanol ")


def test_dialect_tables_are_data() -> None:
    tags = load_markers("tags")
    assert tags.dialect == "tags" and tags.tag == "markers-tags@1"
    assert {p.start: p.modality for p in tags.pairs}["<IUPAC>"] == "text"
    assert {p.start: p.modality for p in load_markers("biot5").pairs} == {"<bom>": "selfies", "<bop>": "protein"}
    assert [p.start for p in load_markers("naturelm").pairs if p.modality != "text"] == ["<mol>", "<protein>", "<dna>", "<rna>"]
    assert load_markers() is load_markers("galactica") or load_markers() == load_markers("galactica")
    for name in MARKER_DIALECTS:  # the same special tokens, so the modality vocabularies serve every dialect
        assert load_markers(name).special_tokens == load_markers().special_tokens


def test_unknown_dialect_lists_the_names() -> None:
    with pytest.raises(chemtok.DataFileError, match=r"biot5.*galactica.*naturelm.*tags") as info:
        chemtok.ChemTokenizer(markers="smolinstruct")
    assert isinstance(info.value, ValueError)
    with pytest.raises(TypeError, match="dialect name"):
        chemtok.ChemTokenizer(markers=3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "dialect, text, position, fragment",
    [
        ("tags", "a <SMILE>CCO</SMILE>", 2, "unknown marker"),
        ("tags", "<SMILES> CCO", 0, "never closed"),
        ("tags", "<SMILES>CC<FASTA>M</FASTA></SMILES>", 10, "inside the smiles segment"),
        ("naturelm", "x <mols>CCO</mols>", 2, "unknown marker"),
        ("naturelm", "<mol>CCO</protein>", 8, "inside the smiles segment"),
        ("biot5", "<bom>[C][O]", 0, "never closed"),
        ("biot5", "<bod>ACGT<eod>", 0, "unknown marker"),
        ("biot5", "[C]<eom>", 3, "never opened"),
        ("galactica", "[START_SELFIES][C]", 0, "never closed"),
    ],
)
def test_strict_markers_errors(dialect: str, text: str, position: int, fragment: str) -> None:
    with pytest.raises(chemtok.MarkerError) as info:
        ROUTERS[dialect].encode(text)
    assert info.value.position == position and fragment in str(info.value)
    # Lenient: such markers are content of the segment they stand in (kept by fallback).
    lenient = chemtok.ChemTokenizer(markers=dialect, strict_markers=False, on_error="fallback")
    assert lenient.decode(lenient.encode(text)) == text


def test_content_errors_have_positions_in_the_text() -> None:
    text = "<SMILES> CC§ </SMILES>"
    with pytest.raises(chemtok.TokenizationError) as info:
        ROUTERS["tags"].encode(text)
    assert info.value.position == text.index("§") and info.value.modality == "smiles"


def _spans(*wrapped: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    prose = plain_text.filter(lambda t: "<" not in t and ">" not in t)
    return st.lists(st.one_of(prose, *wrapped), max_size=5).map(" ".join)


@given(
    _spans(
        smiles_like.map(lambda s: f"<SMILES> {s} </SMILES>"),
        smiles_like.map(lambda s: f"<SMILES>{s}</SMILES>"),
        selfies_like.map(lambda s: f"<SELFIES>{s}</SELFIES>"),
        plain_text.filter(lambda t: "<" not in t).map(lambda t: f"<IUPAC> {t} </IUPAC>"),
    )
)
def test_hyp_tags_round_trip(text: str) -> None:
    router = ROUTERS["tags"]
    assert router.decode(router.encode(text)) == text
    assert "".join(s.text for s in router.split(text)) == text


@given(_spans(selfies_like.map(lambda s: f"<bom>{s}<eom>"), st.just("<bop>MKTAYIAKQR<eop>")))
def test_hyp_biot5_round_trip(text: str) -> None:
    router = ROUTERS["biot5"]
    assert router.decode(router.encode(text)) == text


def test_dialect_persists_and_changes_the_fingerprint(tmp_path: Path) -> None:
    fingerprints = {name: router.fingerprint for name, router in ROUTERS.items()}
    assert len(set(fingerprints.values())) == len(fingerprints)
    for name, router in ROUTERS.items():
        directory = router.save(tmp_path / name)
        state = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
        assert state["options"]["markers"] == (None if name == "galactica" else name)  # saved by name
        loaded = chemtok.ChemTokenizer.load(directory)
        assert loaded.markers.dialect == name and loaded.fingerprint == router.fingerprint
        text = EXAMPLES[name][0][0]
        assert loaded.encode(text) == router.encode(text)
    # A table that only differs in where a marker routes has another fingerprint.
    from dataclasses import replace

    tags = load_markers("tags")
    moved = replace(tags, pairs=tuple(replace(p, modality="text") if p.start == "<FASTA>" else p for p in tags.pairs))
    custom = chemtok.ChemTokenizer(markers=moved)
    assert custom.fingerprint != ROUTERS["tags"].fingerprint
    reloaded = chemtok.ChemTokenizer.load(custom.save(tmp_path / "custom"))
    assert reloaded.markers == moved and reloaded.fingerprint == custom.fingerprint


def test_custom_table_file_toml_or_json(tmp_path: Path) -> None:
    table = load_markers("biot5").as_dict()
    table["dialect"] = "mydata"
    table["pairs"].append({"start": "<bod>", "end": "<eod>", "modality": "dna"})
    path = tmp_path / "my_markers.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    router = chemtok.ChemTokenizer(markers=str(path))
    assert router.markers.dialect == "mydata" and router.markers.tag == "markers-mydata@1"
    assert [s.modality for s in router.split("<bod>ACGT<eod>")] == ["marker", "dna", "marker"]
    table["pairs"][0]["pad"] = "x"
    broken = tmp_path / "broken_markers.json"
    broken.write_text(json.dumps(table), encoding="utf-8")
    with pytest.raises(chemtok.DataFileError) as info:
        load_markers(str(broken))
    assert info.value.key == "pairs[0].pad"


# -- the command line ------------------------------------------------------------------------


def test_cli_tokenize_and_inspect_with_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    texts = [text for text, _ in EXAMPLES["tags"]]
    source = tmp_path / "smolinstruct.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    out = tmp_path / "ids.jsonl"
    code = cli.main(["tokenize", str(source), "--column", "text", "--modality", "mixed", "--markers", "tags", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["ids"] for r in rows] == ROUTERS["tags"].encode_batch(texts)
    meta = json.loads((tmp_path / "ids.meta.json").read_text(encoding="utf-8"))
    assert meta["vocab_fingerprint"] == ROUTERS["tags"].fingerprint

    code = cli.main(["inspect", "--markers", "biot5", "Input: <bom>[C][=O]<eom>"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "selfies" in captured.out and "[=O]" in captured.out

    table = tmp_path / "markers.toml"
    table.write_text((Path(chemtok.__file__).parent.parent / "grammars" / "markers_naturelm.toml").read_text(encoding="utf-8"), encoding="utf-8")
    code = cli.main(["inspect", "--markers", str(table), "<mol>CCO</mol>"])
    captured = capsys.readouterr()
    assert code == 0, captured.err and "smiles" in captured.out

    code = cli.main(["inspect", "--markers", "smolinstruct", "x"])
    captured = capsys.readouterr()
    assert code == 2 and "galactica" in captured.err and "tags" in captured.err
    code = cli.main(["inspect", "--modality", "smiles", "--markers", "tags", "CCO"])
    captured = capsys.readouterr()
    assert code == 2 and "--markers" in captured.err
