"""`chemtok bench`: every metric on hand-made inputs, baseline counts against `tokenizers`.

The alignment examples use the real GPT-2, Llama 2 and Llama 3 files of
../shared/baselines, so the pieces (`c`, `1`, `cc`, `cc`, `c`, `1` for benzene) are
the ones those models actually produce.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tokenizers import Tokenizer

import chemtok
from chemtok import bench
from chemtok.bench import InputSpec, infer_modality, parse_baseline, run_benchmark
from chemtok.bench.command import NO_BASELINE_NOTE
from chemtok.bench.metrics import (
    Alignment,
    inchi_layer_spans,
    percentile,
    segment_token_counts,
    smiles_lexeme_spans,
    spans_tile,
    unit_alignment,
)
from chemtok.encoding import tile_text_model_offsets
from chemtok.io import read_records

NAMES = ("gpt2", "llama2", "llama3")
REQUIRED_ROW_FIELDS = {
    "input", "tokenizer", "records", "mean_tokens", "median_tokens", "p95_tokens", "chars_per_token",
    "roundtrip_rate", "unk_rate", "byte_fallback_rate", "atom_alignment", "boundary_alignment", "layer_alignment",
}


@pytest.fixture(scope="module")
def baselines(baselines_dir: Path) -> dict[str, str]:
    return {name: str(baselines_dir / name / "tokenizer.json") for name in NAMES}


@pytest.fixture(scope="module")
def hf(baselines: dict[str, str]) -> dict[str, Tokenizer]:
    return {name: Tokenizer.from_file(path) for name, path in baselines.items()}


def hf_spans(tok: Tokenizer, text: str) -> tuple[list[str], list[tuple[int, int]]]:
    enc = tok.encode(text, add_special_tokens=False)
    return list(enc.tokens), list(enc.offsets)


# -- chemical units ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("smiles", "lexemes"),
    [
        ("c1ccccc1", ["c", "1", "c", "c", "c", "c", "c", "1"]),
        ("C[C@@H](N)C(=O)O", ["C", "[C@@H]", "(", "N", ")", "C", "(", "=", "O", ")", "O"]),
        ("ClC%10CC%(123)Br", ["Cl", "C", "%10", "C", "C", "%(123)", "Br"]),
        ("[CH3:12][OH:13]>>[CH2:12]=[O:13]", ["[CH3:12]", "[OH:13]", ">>", "[CH2:12]", "=", "[O:13]"]),
        ("CC(=O)O.N>C>[Na+].[Cl-]", ["C", "C", "(", "=", "O", ")", "O", ".", "N", ">", "C", ">", "[Na+]", ".", "[Cl-]"]),
        ("N->[Pt]", ["N", "->", "[Pt]"]),
        ("c1c[nH]c2c1fccc2", ["c", "1", "c", "[nH]", "c", "2", "c", "1", "f", "c", "c", "c", "2"]),  # 'f' uncovered
        ("[Xx]C", ["[", "X", "x", "]", "C"]),  # a malformed bracket: every uncovered character alone
    ],
)
def test_smiles_lexemes(smiles: str, lexemes: list[str]) -> None:
    spans = smiles_lexeme_spans(smiles)
    assert [smiles[a:b] for a, b in spans] == lexemes
    assert spans_tile(smiles, spans)


def test_inchi_layers() -> None:
    inchi = "InChI=1/C2H6O/c1-2-3/h3H,2H2,1H3/i/hD"
    assert [inchi[a:b] for a, b in inchi_layer_spans(inchi)] == [
        "InChI=1", "/C2H6O", "/c1-2-3", "/h3H,2H2,1H3", "/i", "/hD"
    ]


# -- alignment on the real baseline pieces ----------------------------------------------


def test_atom_alignment_of_gpt2_benzene(hf: dict[str, Tokenizer]) -> None:
    tokens, offsets = hf_spans(hf["gpt2"], "c1ccccc1")
    assert tokens == ["c", "1", "cc", "cc", "c", "1"]
    result = unit_alignment(offsets, smiles_lexeme_spans("c1ccccc1"))
    # Both `cc` pieces hold two aromatic atoms: not inside one lexeme, but on boundaries.
    assert result == Alignment(counted=6, inside=4, on_boundaries=6, intact=6)
    assert result.inside_rate == pytest.approx(4 / 6)
    assert result.boundary_rate == 1.0


def test_atom_alignment_of_llama3_benzene(hf: dict[str, Tokenizer]) -> None:
    tokens, offsets = hf_spans(hf["llama3"], "c1ccccc1")
    assert tokens == ["c", "1", "cc", "ccc", "1"]
    assert unit_alignment(offsets, smiles_lexeme_spans("c1ccccc1")) == Alignment(5, 3, 5, 5)


def test_alignment_of_gpt2_bracket_atom(hf: dict[str, Tokenizer]) -> None:
    smiles = "C[C@@H](N)C(=O)O"
    tokens, offsets = hf_spans(hf["gpt2"], smiles)
    assert tokens == ["C", "[", "C", "@@", "H", "](", "N", ")", "C", "(", "=", "O", ")", "O"]
    # Pieces of [C@@H] stay inside that one lexeme but do not end on its boundaries;
    # `](` cuts across the bracket atom and the branch.
    assert unit_alignment(offsets, smiles_lexeme_spans(smiles)) == Alignment(14, 13, 9, 13)


def test_chemtok_tokens_lie_inside_lexemes() -> None:
    tok = chemtok.SmilesTokenizer()
    benzene = tok.encode_with_offsets("c1ccccc1").offsets
    assert unit_alignment(benzene, smiles_lexeme_spans("c1ccccc1")) == Alignment(8, 8, 8, 8)
    mapped = "[CH3:12][OH:13]>>[CH2:12]=[O:13]"
    result = unit_alignment(tok.encode_with_offsets(mapped).offsets, smiles_lexeme_spans(mapped))
    # Atom-mapped bracket atoms are spelled from parts: inside one lexeme, not on boundaries.
    assert result.inside == result.counted
    whole = sum(1 for t in tok.tokenize(mapped) if t in {">>", "="} or (t.startswith("[") and t.endswith("]")))
    assert result.on_boundaries == whole < result.counted


def test_compact_tokens_cut_no_lexeme() -> None:
    """Compact tokens are whole runs of lexemes, or parts of one spelled bracket atom."""
    compact = chemtok.SmilesTokenizer(model="compact")
    for smiles in ("CC(=O)Oc1ccccc1C(=O)O", "[CH3:12][OH:13]>>[CH2:12]=[O:13]", "C%(5000)CC%(5000)"):
        result = unit_alignment(compact.encode_with_offsets(smiles).offsets, smiles_lexeme_spans(smiles))
        assert result.intact == result.counted, smiles


def test_unit_alignment_ignores_zero_width_and_unitless_tokens() -> None:
    units = [(5, 6), (6, 8)]  # e.g. a SMILES at 5..8 inside mixed text
    spans = [(0, 0), (0, 5), (4, 6), (5, 6), (6, 7), (7, 8), (8, 9)]
    # (0,0) zero width, (0,5) and (8,9) touch no unit; (4,6) runs into one: counted, not
    # aligned. (6,7) and (7,8) are inside the second unit but only (5,6) is a whole unit.
    assert unit_alignment(spans, units) == Alignment(counted=4, inside=3, on_boundaries=1, intact=3)


def test_llama2_dummy_prefix_is_zero_width(hf: dict[str, Tokenizer]) -> None:
    tokens, offsets = hf_spans(hf["llama2"], "12")
    assert tokens == ["\u2581", "1", "2"] and offsets[0] == offsets[1] == (0, 1)
    assert not spans_tile("12", offsets)  # as reported, the prefix claims the '1'
    fixed = tile_text_model_offsets("12", offsets)
    assert fixed == [(0, 0), (0, 1), (1, 2)] and spans_tile("12", fixed)
    assert unit_alignment(fixed, smiles_lexeme_spans("12")) == Alignment(2, 2, 2, 2)
    # When the prefix merges into the first token, its span is the first character's.
    tokens, offsets = hf_spans(hf["llama2"], "CC(=O)O")
    assert tokens[0] == "\u2581CC" and tile_text_model_offsets("CC(=O)O", offsets)[0] == (0, 2)


def test_byte_level_pieces_of_one_character_tile(hf: dict[str, Tokenizer]) -> None:
    text = "mp (57 \u2103) colourless"
    for name in ("gpt2", "llama2", "llama3"):
        _tokens, offsets = hf_spans(hf[name], text)
        assert not spans_tile(text, offsets), name  # the pieces of ℃ all report it
        assert spans_tile(text, tile_text_model_offsets(text, offsets)), name


def test_spans_of_chemtok_tokens_with_byte_fallback() -> None:
    tok = chemtok.SmilesTokenizer(on_error="fallback")
    smiles = "c1c[nH]c2c1fccc2"
    enc = tok.encode_with_offsets(smiles)
    assert "<0x66>" in enc.tokens  # the aromatic 'f' as a byte token
    assert spans_tile(smiles, enc.offsets)
    assert tok.encode_with_offsets("C\u2103O").offsets == [(0, 1), (1, 1), (1, 1), (1, 2), (2, 3)]


# -- mixed text -------------------------------------------------------------------------

MIXED = "Ethanol is [START_SMILES]CCO[END_SMILES]."


def mixed_segments(text: str) -> list[tuple[str, int, int]]:
    return [(s.modality, s.start, s.end) for s in chemtok.ChemTokenizer().split(text)]


def test_segment_counts_of_gpt2(hf: dict[str, Tokenizer]) -> None:
    tokens, offsets = hf_spans(hf["gpt2"], MIXED)
    counts = segment_token_counts(offsets, mixed_segments(MIXED))
    # ' [' joins the space before the marker to it, '].' the marker's end to the period.
    assert "\u0120[" in tokens and "]." in tokens
    assert (counts.marker, counts.inside, counts.outside, counts.crossing) == (13, 2, 4, 2)
    assert counts.marker + counts.inside + counts.outside + counts.crossing == len(tokens)
    assert counts.inside_by_modality == {"smiles": 2}
    # Inside the SMILES span: `CC` is two atoms, `O` one.
    lexemes = [(a + 25, b + 25) for a, b in smiles_lexeme_spans("CCO")]
    assert unit_alignment(offsets, lexemes) == Alignment(2, 1, 2, 2)


def test_segment_counts_in_the_benchmark(tmp_path: Path, baselines: dict[str, str]) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps({"text": MIXED}) + "\n", encoding="utf-8")
    result = run_benchmark([path], {"gpt2": baselines["gpt2"]}, compact=False, plots=False)
    rows = {r["tokenizer"]: r for r in result.rows}
    assert set(rows) == {"chemtok", "gpt2", "chemtok+gpt2"}
    assert rows["gpt2"]["group"] == "mixed"
    assert (rows["gpt2"]["marker_tokens"], rows["gpt2"]["inside_tokens"], rows["gpt2"]["crossing_tokens"]) == (13, 2, 2)
    text = chemtok.TextTokenizer()
    outside = len(text.encode("Ethanol is ")) + len(text.encode("."))
    ours = rows["chemtok"]
    assert (ours["marker_tokens"], ours["inside_tokens"], ours["outside_tokens"], ours["crossing_tokens"]) == (
        2, 3, outside, 0
    )
    assert ours["tokens"] == 2 + 3 + outside == len(chemtok.ChemTokenizer().encode(MIXED))
    assert ours["atom_alignment"] == 1.0 and rows["gpt2"]["atom_alignment"] == 0.5
    hybrid = rows["chemtok+gpt2"]  # GPT-2's own pieces outside, chemtok's inside markers
    assert hybrid["inside_tokens"] == 3 and hybrid["marker_tokens"] == 2
    assert hybrid["outside_tokens"] == len(Tokenizer.from_file(baselines["gpt2"]).encode("Ethanol is ").ids) + 1


# -- small helpers ----------------------------------------------------------------------


def test_percentile_matches_numpy() -> None:
    np = pytest.importorskip("numpy")
    values = [random.Random(7).randint(1, 500) for _ in range(101)]
    for q in (0, 5, 50, 95, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize(
    ("path", "modality"),
    [
        ("../shared/data/smiles/qm9.smi.gz", "smiles"),
        ("x/reactions.rsmi", "smiles"),
        ("../shared/data/inchi/generated_rdkit_standard.tsv.gz", "inchi"),
        ("../shared/data/smiles/opensmiles_spec_examples.tsv", "smiles"),
        ("../shared/data/protein/pyhmmer_tests.fasta.gz", "protein"),
        ("../shared/data/dna/biopython_tests_rna.fasta.gz", "dna"),
        ("genes.fna", "dna"),
        ("../shared/data/text/galactica_style_constructed.jsonl.gz", "text"),
    ],
)
def test_infer_modality(path: str, modality: str) -> None:
    assert infer_modality(path) == modality


def test_infer_modality_refuses_to_guess() -> None:
    with pytest.raises(ValueError, match="--modality"):
        infer_modality("sequences.fasta")


def test_parse_baseline() -> None:
    assert parse_baseline("gpt2=a/b/tokenizer.json") == ("gpt2", "a/b/tokenizer.json")
    assert parse_baseline("x/llama3/tokenizer.json") == ("llama3", "x/llama3/tokenizer.json")
    for bad in ("=x.json", "name=", "chemtok=x.json"):
        with pytest.raises(ValueError):
            parse_baseline(bad)


# -- the benchmark on real records ----------------------------------------------------------


def sample(path: Path, n: int, column: str | None = None) -> list[str]:
    texts = [r.text for r in read_records(path, column=column) if r.text]
    return random.Random(f"test:{path.name}").sample(texts, min(n, len(texts)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, tuple[Path, list[str]]]:
    """Small files of real records, one per modality."""
    out = tmp_path_factory.mktemp("bench_inputs")
    files: dict[str, tuple[Path, list[str]]] = {}
    smiles = sample(data_dir / "smiles" / "moleculenet_hiv.smi.gz", 150) + sample(
        data_dir / "smiles" / "hard_cases.smi.gz", 150
    ) + ["c1c[nH]c2c1fccc2"]
    path = out / "mols.smi"
    path.write_text("\n".join(smiles) + "\n", encoding="utf-8")
    files["smiles"] = (path, smiles)
    inchi = sample(data_dir / "inchi" / "generated_rdkit_nonstandard.tsv.gz", 100, "inchi")
    path = out / "inchi" / "ids.tsv.gz"
    path.parent.mkdir()
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("inchi\n" + "\n".join(inchi) + "\n")
    files["inchi"] = (path, inchi)
    protein = sample(data_dir / "protein" / "mmseqs2_query_uniprot.fasta.gz", 30)
    path = out / "protein" / "seqs.fasta"
    path.parent.mkdir()
    path.write_text("".join(f">p{i}\n{s}\n" for i, s in enumerate(protein)), encoding="utf-8")
    files["protein"] = (path, protein)
    text = sample(data_dir / "text" / "galactica_style_constructed.jsonl.gz", 60, "text")
    path = out / "docs.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in text), encoding="utf-8")
    files["text"] = (path, text)
    return files


@pytest.fixture(scope="module")
def study(corpus: dict[str, tuple[Path, list[str]]], baselines: dict[str, str],
          tmp_path_factory: pytest.TempPathFactory) -> tuple[bench.BenchmarkResult, Path]:
    out = tmp_path_factory.mktemp("bench_out")
    result = run_benchmark([str(path) for path, _ in corpus.values()], baselines, out_dir=out)
    return result, out


def test_baseline_counts_equal_a_direct_count(
    study: tuple[bench.BenchmarkResult, Path], corpus: dict[str, tuple[Path, list[str]]], hf: dict[str, Tokenizer]
) -> None:
    result, _ = study
    for modality, (path, texts) in corpus.items():
        for name, tok in hf.items():
            direct = [len(tok.encode(t, add_special_tokens=False).ids) for t in texts]
            assert list(result.lengths[(str(path), name)]) == direct, (modality, name)
            row = next(r for r in result.rows if r["input"] == str(path) and r["tokenizer"] == name)
            assert row["tokens"] == sum(direct)
            assert row["mean_tokens"] == pytest.approx(sum(direct) / len(direct))
            assert row["chars_per_token"] == pytest.approx(sum(map(len, texts)) / sum(direct))
            back = [tok.decode(tok.encode(t, add_special_tokens=False).ids, skip_special_tokens=False) for t in texts]
            assert row["roundtrip_rate"] == pytest.approx(sum(b == t for b, t in zip(back, texts)) / len(texts))
            assert row["offset_mismatch_records"] == 0, (modality, name)


def test_chemtok_counts_equal_its_encode(
    study: tuple[bench.BenchmarkResult, Path], corpus: dict[str, tuple[Path, list[str]]]
) -> None:
    result, _ = study
    tokenizers: dict[str, Any] = {
        "smiles": chemtok.SmilesTokenizer(on_error="fallback"),
        "inchi": chemtok.InchiTokenizer(on_error="fallback"),
        "protein": chemtok.ProteinTokenizer(on_error="fallback"),
        "text": chemtok.ChemTokenizer(on_error="fallback", strict_markers=False),
    }
    for modality, (path, texts) in corpus.items():
        expected = [len(tokenizers[modality].encode(t)) for t in texts]
        assert list(result.lengths[(str(path), "chemtok")]) == expected, modality
        row = next(r for r in result.rows if r["input"] == str(path) and r["tokenizer"] == "chemtok")
        assert row["roundtrip_rate"] == 1.0 and row["unk_rate"] == 0.0 and row["offset_mismatch_records"] == 0
        if modality == "smiles":  # the aromatic 'f' is the only byte-fallback token
            assert row["byte_fallback_tokens"] == 1
            assert row["atom_alignment"] == 1.0


def test_compact_rows(study: tuple[bench.BenchmarkResult, Path], corpus: dict[str, tuple[Path, list[str]]]) -> None:
    result, _ = study
    path, texts = corpus["smiles"]
    compact = chemtok.SmilesTokenizer(model="compact", on_error="fallback")
    assert list(result.lengths[(str(path), "chemtok-compact")]) == [len(compact.encode(t)) for t in texts]
    rows = {r["tokenizer"]: r for r in result.rows if r["input"] == str(path)}
    row = rows["chemtok-compact"]
    # The rates are counted from compact's own spans over the grammar's lexemes, and no
    # token cuts a lexeme: each is inside one (a bracket atom spelled in parts) or whole ones.
    counts = [unit_alignment(compact.encode_with_offsets(t).offsets, smiles_lexeme_spans(t)) for t in texts]
    counted = sum(a.counted for a in counts)
    tokens = sum(len(compact.encode(t)) for t in texts)
    assert row["tokens"] == tokens and row["tokens_vs_chemtok"] == pytest.approx(tokens / rows["chemtok"]["tokens"])
    assert row["atom_alignment"] == pytest.approx(sum(a.inside for a in counts) / counted)
    assert row["boundary_alignment"] == pytest.approx(sum(a.on_boundaries for a in counts) / counted)
    assert all(a.intact == a.counted for a in counts) and row["intact_alignment"] == 1.0
    assert row["roundtrip_rate"] == 1.0


def test_rows_carry_the_right_metrics(
    study: tuple[bench.BenchmarkResult, Path], corpus: dict[str, tuple[Path, list[str]]], hf: dict[str, Tokenizer]
) -> None:
    result, _ = study
    by_group: dict[str, list[dict[str, Any]]] = {}
    for row in result.rows:
        by_group.setdefault(row["group"], []).append(row)
    assert set(by_group) == {"smiles", "inchi", "protein", "mixed"}
    for row in by_group["smiles"]:
        assert 0 < row["atom_alignment"] <= 1 and 0 < row["boundary_alignment"] <= 1
        assert row["layer_alignment"] is None
    inchi = corpus["inchi"][1]
    spans: dict[str, list[list[tuple[int, int]]]] = {
        "chemtok": [chemtok.InchiTokenizer(on_error="fallback").encode_with_offsets(t).offsets for t in inchi],
        **{name: [tile_text_model_offsets(t, hf_spans(tok, t)[1]) for t in inchi] for name, tok in hf.items()},
    }
    for row in by_group["inchi"]:
        counts = [unit_alignment(s, inchi_layer_spans(t)) for s, t in zip(spans[row["tokenizer"]], inchi)]
        expected = sum(a.inside for a in counts) / sum(a.counted for a in counts)
        assert row["atom_alignment"] is None and row["layer_alignment"] == pytest.approx(expected), row["tokenizer"]
        if row["tokenizer"] == "chemtok":  # chemtok's InChI tokens never cross a layer
            assert row["layer_alignment"] == 1.0
    assert all(r["atom_alignment"] is None and r["layer_alignment"] is None for r in by_group["protein"])
    for row in by_group["mixed"]:
        assert row["marker_tokens"] + row["inside_tokens"] + row["outside_tokens"] + row["crossing_tokens"] == row["tokens"]
    llama2 = next(r for r in by_group["mixed"] if r["tokenizer"] == "llama2")
    assert llama2["byte_fallback_tokens"] > 0  # newlines are <0x0A> in Llama 2
    gpt2 = next(r for r in by_group["smiles"] if r["tokenizer"] == "gpt2")
    assert gpt2["unk_rate"] == 0.0 and gpt2["byte_fallback_rate"] == 0.0
    chemtok_row = next(r for r in by_group["smiles"] if r["tokenizer"] == "chemtok")
    assert chemtok_row["tokens_vs_chemtok"] == 1.0
    assert gpt2["tokens_vs_chemtok"] == pytest.approx(gpt2["tokens"] / chemtok_row["tokens"])


def test_results_json_schema(study: tuple[bench.BenchmarkResult, Path], baselines: dict[str, str],
                             corpus: dict[str, tuple[Path, list[str]]]) -> None:
    _, out = study
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["chemtok_version"] == chemtok.__version__
    assert doc["versions"]["tokenizers"]
    assert {b["name"]: b["sha256"] for b in doc["baselines"]} == {
        name: hashlib.sha256(Path(path).read_bytes()).hexdigest() for name, path in baselines.items()
    }
    # chemtok and 3 baselines on 4 inputs; chemtok-compact on SMILES and text; on text
    # also chemtok+NAME and chemtok-compact+NAME.
    assert isinstance(doc["rows"], list) and len(doc["rows"]) == 4 * 4 + 2 + 6
    for row in doc["rows"]:
        assert set(row) >= REQUIRED_ROW_FIELDS
        assert row["input"] in {str(path) for path, _ in corpus.values()}
    assert {row["tokenizer"] for row in doc["rows"]} == {
        "chemtok", "chemtok-compact", *NAMES, *(f"{c}+{n}" for c in ("chemtok", "chemtok-compact") for n in NAMES)
    }
    assert doc["summary"] and all("group" in s and "mean_tokens" in s for s in doc["summary"])
    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert "## Summary by modality" in markdown and "| smiles | `gpt2` |" in markdown


def test_plots_are_written(study: tuple[bench.BenchmarkResult, Path]) -> None:
    pytest.importorskip("matplotlib")
    result, out = study
    for name in ("tokens_per_record.png", "length_distribution.png"):
        path = out / name
        assert str(path) in result.files
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_max_records_is_a_seeded_sample(corpus: dict[str, tuple[Path, list[str]]]) -> None:
    path, texts = corpus["smiles"]
    first = run_benchmark([path], {}, max_records=50, seed=3, plots=False)
    again = run_benchmark([path], {}, max_records=50, seed=3, plots=False)
    other = run_benchmark([path], {}, max_records=50, seed=4, plots=False)
    row = first.rows[0]
    assert row["records"] == 50 and row["records_available"] == len(texts)
    assert first.lengths == again.lengths and first.lengths != other.lengths


def test_forced_modality_and_column(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("name,seq\nins,GIVEQCC\n", encoding="utf-8")
    result = run_benchmark([path], {}, modality="protein", column="seq", plots=False)
    assert result.rows[0]["modality"] == "protein" and result.rows[0]["tokens"] == 7
    result = run_benchmark([InputSpec(str(path), modality="dna", column="name")], {}, plots=False)
    # "ins" as DNA: n and s are IUPAC codes, i is not and becomes one byte-fallback token.
    assert result.rows[0]["modality"] == "dna" and result.rows[0]["byte_fallback_tokens"] == 1
    with pytest.raises(ValueError, match="no column"):
        run_benchmark([path], {}, modality="protein", column="missing", plots=False)


# -- the command line -----------------------------------------------------------------------


def cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chemtok bench")
    bench.add_arguments(parser)
    return parser.parse_args(argv)


def test_run_end_to_end(tmp_path: Path, baselines: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    smi = tmp_path / "tiny.smi"
    smi.write_text("c1ccccc1 benzene\nCC(=O)Oc1ccccc1C(=O)O aspirin\n", encoding="utf-8")
    out = tmp_path / "out"
    args = cli([str(smi), "--baseline", f"gpt2={baselines['gpt2']}", "--baseline", baselines["llama3"], "--out", str(out)])
    assert bench.run(args) == 0
    captured = capsys.readouterr()
    assert "| smiles | `gpt2` |" in captured.out and "wrote" in captured.err
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rows = {r["tokenizer"]: r for r in doc["rows"]}
    assert set(rows) == {"chemtok", "chemtok-compact", "gpt2", "llama3"}
    assert rows["gpt2"]["tokens"] == 6 + 18  # the README of ../shared/baselines: aspirin is 18 GPT-2 tokens
    assert rows["llama3"]["tokens"] == 5 + 15
    assert rows["chemtok"]["tokens"] == 8 + len(chemtok.SmilesTokenizer().encode("CC(=O)Oc1ccccc1C(=O)O"))
    # Not inside one lexeme: benzene's two `cc`; aspirin's `CC`, `cc`, `cc`.
    assert rows["gpt2"]["atom_alignment"] == pytest.approx((4 + 15) / 24)
    assert (out / "tokens_per_record.png").exists() and (out / "results.md").exists()


def test_run_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    smi = tmp_path / "tiny.smi"
    smi.write_text("CCO\n", encoding="utf-8")
    assert bench.run(cli([str(smi), "--baseline", "=nothing", "--out", str(tmp_path / "o")])) == 2
    assert "NAME=PATH" in capsys.readouterr().err
    assert bench.run(cli([str(tmp_path / "missing.smi"), "--out", str(tmp_path / "o"), "--quiet"])) == 1
    assert "not found" in capsys.readouterr().err
    odd = tmp_path / "seqs.fasta"
    odd.write_text(">a\nACGT\n", encoding="utf-8")
    assert bench.run(cli([str(odd), "--out", str(tmp_path / "o"), "--quiet"])) == 1
    assert "--modality" in capsys.readouterr().err
    assert bench.run(cli([str(odd), "--modality", "dna", "--out", str(tmp_path / "o"), "--no-plots", "--quiet"])) == 0
    assert bench.run(cli([str(smi), "--out", str(tmp_path / "o"), "--no-plots", "--no-compact", "--quiet"])) == 0
    doc = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    assert [r["tokenizer"] for r in doc["rows"]] == ["chemtok"] and doc["config"]["compact"] is False
    assert not (tmp_path / "o" / "tokens_per_record.png").exists()


def test_import_stays_light() -> None:
    code = "import sys, chemtok.bench; print(','.join(m for m in ('matplotlib', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "matplotlib" not in out.stdout


def test_without_baseline_says_how_to_add_one(
    tmp_path: Path, baselines: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    smi = tmp_path / "tiny.smi"
    smi.write_text("CCO\n", encoding="utf-8")
    assert bench.run(cli([str(smi), "--out", str(tmp_path / "o"), "--no-plots", "--quiet"])) == 0
    err = capsys.readouterr().err
    assert NO_BASELINE_NOTE in err
    assert "only with itself" in NO_BASELINE_NOTE and "--baseline PATH/tokenizer.json" in NO_BASELINE_NOTE
    given = ["--baseline", baselines["gpt2"], "--out", str(tmp_path / "o"), "--no-plots", "--quiet"]
    assert bench.run(cli([str(smi), *given])) == 0
    assert "only with itself" not in capsys.readouterr().err


def test_no_unclosed_file_warning(tmp_path: Path) -> None:
    # gzip inputs were read through GzipFile(fileobj=...), which left the file open.
    smi = tmp_path / "mols.smi.gz"
    smi.write_bytes(gzip.compress(b"c1ccccc1\nCC(=O)O\n"))
    tsv = tmp_path / "inchi" / "ids.tsv.gz"
    tsv.parent.mkdir()
    tsv.write_bytes(gzip.compress(b"inchi\nInChI=1S/CH4/h1H4\n"))
    text = tmp_path / "notes.jsonl.gz"
    text.write_bytes(gzip.compress(b'{"text": "ethanol [START_SMILES]CCO[END_SMILES] boils"}\n'))
    command = [sys.executable, "-W", "error::ResourceWarning", "-X", "dev", "-m", "chemtok", "bench",
               str(smi), str(tsv), str(text), "--out", str(tmp_path / "o"), "--no-plots", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "unclosed" not in done.stderr and "ResourceWarning" not in done.stderr, done.stderr
