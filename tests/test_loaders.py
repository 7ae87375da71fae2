"""Every file chemtok loads fails as a ChemtokError naming the file and the key.

One test per failure kind and loader: unreadable, not UTF-8, not JSON/TOML, nested too
deeply, the wrong top-level type, a wrongly typed key; plus what a custom marker table
may not do (empty markers, other special tokens, a backtracking or empty-matching
unknown-marker pattern) and BPE dropout in a text model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

import chemtok
from chemtok.compact import CompactModel, load_compact_model
from chemtok.dialects import load_markers
from chemtok.errors import DataFileError
from chemtok.grammar import read_grammar_file
from chemtok.markers import check_marker_pattern

DEEP_JSON = "[" * 100_000 + "]" * 100_000
SHIPPED_MARKERS = resources.files("chemtok.grammars").joinpath("markers.toml").read_text("utf-8")


def _compact_dir(tmp_path: Path, text: str | bytes) -> str:
    """A compact model directory whose model file holds ``text``."""
    directory = tmp_path / "model"
    directory.mkdir()
    target = directory / "smiles_compact.json"
    target.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(directory)


def _good_model_data() -> dict[str, object]:
    model = load_compact_model("compact")
    return {
        "type": "chemtok.compact-smiles",
        "grammar": model.grammar,
        "atom_vocab_fingerprint": model.atom_vocab_fingerprint,
        "info": {},
        "merges": [list(pair) for pair in model.merges[:20]],
    }


# -- compact SMILES models ----------------------------------------------------------------


@pytest.mark.parametrize(
    "content, key, message",
    [
        (b"\xff\xfe{}", None, "not UTF-8"),
        (DEEP_JSON, None, "nested too deeply"),
        ("{not json", None, "not valid JSON"),
        ("[1, 2]", "type", "not a chemtok compact SMILES model"),
        ("INFO", "info", "expected an object"),
        ("MERGES", "merges", "expected a list"),
        ("MERGE", "merges[1]", "pair of non-empty strings"),
        ("GRAMMAR", "grammar", "expected a string"),
    ],
)
def test_broken_compact_model_names_file_and_key(tmp_path: Path, content: str | bytes, key: str | None, message: str) -> None:
    data = _good_model_data()
    if content == "INFO":
        data["info"] = "abc"
    elif content == "MERGES":
        data["merges"] = {"c": "c"}
    elif content == "MERGE":
        data["merges"] = [["c", "c"], ["c", 1]]
    elif content == "GRAMMAR":
        data["grammar"] = 1
    if content in ("INFO", "MERGES", "MERGE", "GRAMMAR"):
        content = json.dumps(data)
    directory = _compact_dir(tmp_path, content)
    with pytest.raises(DataFileError, match=message) as info:
        chemtok.SmilesTokenizer(model=directory)
    assert info.value.key == key
    assert "smiles_compact.json" in info.value.file


def test_a_good_copy_of_a_compact_model_loads(tmp_path: Path) -> None:
    directory = _compact_dir(tmp_path, json.dumps(_good_model_data()))
    tok = chemtok.SmilesTokenizer(model=directory)
    assert tok.decode(tok.encode("c1ccccc1CCO")) == "c1ccccc1CCO"


def test_a_model_over_another_vocabulary_is_a_data_file_error(tmp_path: Path) -> None:
    data = _good_model_data()
    data["atom_vocab_fingerprint"] = "0" * 64
    directory = _compact_dir(tmp_path, json.dumps(data))
    with pytest.raises(DataFileError) as info:
        chemtok.SmilesTokenizer(model=directory)
    assert info.value.key == "atom_vocab_fingerprint"


def test_compact_model_from_json_refuses_bytes_that_are_not_utf8() -> None:
    with pytest.raises(DataFileError, match="not UTF-8"):
        CompactModel.from_json(b"\xc3\x28", "model.json")


# -- the Hugging Face manifest and config ---------------------------------------------------


@pytest.fixture
def saved_hf(tmp_path: Path) -> Path:
    pytest.importorskip("transformers")
    from chemtok.hf import HFChemTokenizer

    HFChemTokenizer().save_pretrained(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "content, key, message",
    [
        (b"\xff", None, "not UTF-8"),
        (DEEP_JSON, None, "nested too deeply"),
        ("[1, 2, 3]", None, "expected a JSON object, got list"),
        ('{"id_space_fingerprint": 7}', "id_space_fingerprint", "expected str"),
        ("{}", "id_space_fingerprint", "missing"),
    ],
)
def test_broken_hf_manifest_names_file_and_key(saved_hf: Path, content: str | bytes, key: str | None, message: str) -> None:
    from chemtok.hf import HFChemTokenizer

    (saved_hf / "chemtok.json").write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataFileError, match=message) as info:
        HFChemTokenizer.from_pretrained(saved_hf)
    assert info.value.key == key and info.value.file.endswith("chemtok.json")


@pytest.mark.parametrize(
    "key, value",
    [("strict_markers", "no"), ("strict_markers", 0), ("on_error", "ignore"), ("on_error", 1), ("smiles_model", 3)],
)
def test_wrongly_typed_hf_config_value_is_refused(saved_hf: Path, key: str, value: object) -> None:
    from chemtok.hf import HFChemTokenizer

    config_path = saved_hf / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config[key] = value
    config_path.write_text(json.dumps(config))
    with pytest.raises(DataFileError) as info:
        HFChemTokenizer.from_pretrained(saved_hf)
    assert info.value.key == key and info.value.file.endswith("tokenizer_config.json")


def test_strict_markers_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="strict_markers"):
        chemtok.ChemTokenizer(strict_markers="no")  # type: ignore[arg-type]


# -- custom marker tables ---------------------------------------------------------------------


def _markers(tmp_path: Path, edit: Callable[[str], str]) -> str:
    text = edit(SHIPPED_MARKERS)
    assert text != SHIPPED_MARKERS
    path = tmp_path / "markers.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return str(path)


@pytest.mark.parametrize(
    "edit, key, message",
    [
        (lambda t: t.replace('start = "[START_AMINO]"', 'start = ""'), "pairs[2].start", "must not be empty"),
        (lambda t: t.replace('end = "[END_DNA]"', 'end = ""'), "pairs[3].end", "must not be empty"),
        (lambda t: t.replace('"<unk>", "<mask>"', '"<unk>"'), "special_tokens", "the special tokens every modality"),
        (lambda t: t.replace('"<pad>", "<s>"', '"<s>", "<pad>"'), "special_tokens", "the special tokens every modality"),
        (lambda t: t.replace('start = "[START_DNA]"', "start = 5"), "pairs[3].start", "expected str"),
        (lambda t: t.replace("[[pairs]]", "pairs = 1\n[[pairs]]", 1), None, "not valid TOML"),
        (lambda t: t.replace("version = 1", "version = 1\nx = " + "[" * 50_000 + "]" * 50_000), None, "TOML"),
        (lambda t: t.replace("version = 1", "version = true"), "version", "expected int"),
    ],
)
def test_broken_custom_marker_table_names_file_and_key(tmp_path: Path, edit: Callable[[str], str], key: str | None, message: str) -> None:
    path = _markers(tmp_path, edit)
    with pytest.raises(DataFileError, match=message) as info:
        load_markers(path)
    assert info.value.key == key and info.value.file == path


def test_custom_marker_table_not_utf8_or_missing(tmp_path: Path) -> None:
    bad = tmp_path / "markers.toml"
    bad.write_bytes(SHIPPED_MARKERS.encode() + b"\n# \xff\n")
    with pytest.raises(DataFileError, match="not UTF-8"):
        load_markers(str(bad))
    with pytest.raises(DataFileError, match="cannot read"):
        load_markers(str(tmp_path / "missing.toml"))


def test_a_valid_custom_marker_table_routes(tmp_path: Path) -> None:
    path = _markers(
        tmp_path,
        lambda t: t.replace('"[START_SMILES]"', '"<SMILES>"').replace('"[END_SMILES]"', '"</SMILES>"'),
    )
    tok = chemtok.ChemTokenizer(markers=load_markers(path))
    assert tok.tokenize("<SMILES>CO</SMILES>") == ["<SMILES>", "C", "O", "</SMILES>"]


def test_a_table_with_other_special_tokens_is_refused_by_the_router() -> None:
    shipped = load_markers()
    from dataclasses import replace

    fewer = replace(shipped, special_tokens=shipped.special_tokens[:-1], source="my_markers.toml")
    with pytest.raises(DataFileError) as info:
        chemtok.ChemTokenizer(markers=fewer)
    assert info.value.file == "my_markers.toml" and info.value.key == "special_tokens"


@pytest.mark.parametrize(
    "pattern, message",
    [
        (r"(a+)+$", "non-capturing"),
        (r"(?:a+)+", "literal text"),
        (r"\[(?:START|END)+\]", "must not repeat"),
        (r"\[?START\]", "first character"),
        (r"[A-Z]*", "empty string"),
        (r"(?:)", "empty"),
        (r"x?", "empty string"),
        (r"\[[A-Z]+[A-Z0-9]+\]", "backtrack"),
        (r"\[.+\]", "backtrack"),
        (r"\[[^\]]+\]", "quadratic"),
        (r"[A-Z]+_\]", "quadratic"),
        (r"\[\w+\]", "not supported"),
        (r"\[(?=S)[A-Z]+\]", "non-capturing"),
        (r"\[[A-Z]+?\]", "lazy"),
        (r"a|b", "not supported"),
        (r"\[(START", "not a valid regex"),
    ],
)
def test_risky_unknown_marker_patterns_are_refused(tmp_path: Path, pattern: str, message: str) -> None:
    problem = check_marker_pattern(pattern)
    assert problem is not None and re.search(message, problem), problem
    path = _markers(tmp_path, lambda t: t.replace(r"'\[(?:START|END)_[A-Z0-9_]+\]'", f"'{pattern}'"))
    with pytest.raises(DataFileError) as info:
        load_markers(path)
    assert info.value.key == "unknown_marker_pattern"


@pytest.mark.parametrize(
    "pattern",
    [
        r"\[(?:START|END)_[A-Z0-9_]+\]",
        r"\[[^\[\]]+\]",
        r"</?[A-Z_]+>",
        r"<(?:SMILES|AMINO)[0-9]{1,3}>",
        r"\[START_[A-Z]{2}\]",
    ],
)
def test_linear_unknown_marker_patterns_are_accepted_in_both_engines(pattern: str) -> None:
    from tokenizers import Regex

    assert check_marker_pattern(pattern) is None
    re.compile(pattern)
    Regex(pattern)


def test_the_shipped_pattern_passes_the_check() -> None:
    assert check_marker_pattern(load_markers().unknown_marker_pattern) is None


def test_the_shipped_grammar_errors_stay_grammar_errors(tmp_path: Path) -> None:
    bad = tmp_path / "smiles.toml"
    bad.write_bytes(b"name = \"smiles\"\n\xff")
    with pytest.raises(chemtok.GrammarError, match="not UTF-8"):
        read_grammar_file("smiles", bad)
    deep = tmp_path / "inchi.toml"
    deep.write_text("x = " + "[" * 50_000 + "]" * 50_000, encoding="utf-8")
    with pytest.raises(chemtok.GrammarError, match="TOML"):
        read_grammar_file("inchi", deep)


# -- text models -------------------------------------------------------------------------------


def _gpt2_copy(tmp_path: Path, baselines_dir: Path, **model_changes: object) -> Path:
    data = json.loads((baselines_dir / "gpt2" / "tokenizer.json").read_text("utf-8"))
    data["model"].update(model_changes)
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_bpe_dropout_is_refused(tmp_path: Path, baselines_dir: Path) -> None:
    path = _gpt2_copy(tmp_path, baselines_dir, dropout=0.1)
    with pytest.raises(DataFileError, match="dropout") as info:
        chemtok.TextTokenizer.from_file(path)
    assert info.value.file == str(path) and info.value.key == "model.dropout"
    assert '"dropout": null' in str(info.value)
    with pytest.raises(DataFileError, match="dropout"):
        chemtok.ChemTokenizer.from_base(path)
    from tokenizers import Tokenizer

    with pytest.raises(DataFileError, match="dropout"):
        chemtok.TextTokenizer(Tokenizer.from_file(str(path)))


def test_bpe_without_dropout_loads(tmp_path: Path, baselines_dir: Path) -> None:
    for dropout in (None, 0.0):
        path = _gpt2_copy(tmp_path, baselines_dir, dropout=dropout)
        tok = chemtok.TextTokenizer.from_file(path)
        assert tok.encode("Hello world") == [15496, 995]


@pytest.mark.parametrize(
    "content, message",
    [(b"\xff\xfe", "not UTF-8"), (DEEP_JSON.encode(), "not a loadable"), (b"[1]", "not a loadable"), (b"{}", "not a loadable")],
)
def test_broken_text_model_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message) as info:
        chemtok.TextTokenizer.from_file(path)
    assert info.value.file == str(path)
    with pytest.raises(DataFileError, match="cannot read"):
        chemtok.TextTokenizer.from_file(tmp_path / "missing.json")


def test_export_metadata_reader_refuses_broken_files(tmp_path: Path) -> None:
    from chemtok.export import read_metadata

    path = tmp_path / "tokenizer.json"
    path.write_text("[1, 2]", encoding="utf-8")
    assert read_metadata(path) is None
    path.write_bytes(b"\xff")
    with pytest.raises(DataFileError, match="not UTF-8"):
        read_metadata(path)
    path.write_text(DEEP_JSON, encoding="utf-8")
    with pytest.raises(DataFileError, match="nested too deeply"):
        read_metadata(path)


def test_broken_shipped_vocabulary_is_a_grammar_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import chemtok.vocab as vocab_module
    from chemtok.vocab import load_vocab_file

    class _Files:
        def joinpath(self, *parts: str) -> Path:
            return tmp_path.joinpath(*parts)

    monkeypatch.setattr(vocab_module.resources, "files", lambda package: _Files())
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "v.json"
    for content, message in [
        (b"\xff", "UnicodeDecodeError"),
        (DEEP_JSON.encode(), "RecursionError"),
        (b"[1]", "a 'tokens' list"),
        (b'{"tokens": ["C", 3]}', "non-empty string"),
    ]:
        target.write_bytes(content)
        with pytest.raises(chemtok.GrammarError, match=message):
            load_vocab_file("v.json", grammar_tag="smiles@1", required=[])
    with pytest.raises(chemtok.GrammarError, match="cannot load"):
        load_vocab_file("missing.json", grammar_tag="smiles@1", required=[])


@pytest.mark.parametrize(
    "change, key",
    [
        ({"unknown_marker_pattern": r"\[(a+)+\]"}, "unknown_marker_pattern"),
        ({"unknown_marker_pattern": r"x*"}, "unknown_marker_pattern"),
        ({"pairs": ()}, "pairs"),
    ],
)
def test_a_marker_table_built_in_code_gets_the_same_checks(change: dict[str, object], key: str) -> None:
    from dataclasses import replace

    table = replace(load_markers(), source="in-code table", **change)  # type: ignore[arg-type]
    with pytest.raises(DataFileError) as info:
        chemtok.ChemTokenizer(markers=table)
    assert info.value.file == "in-code table" and info.value.key == key


def test_a_marker_table_with_an_empty_marker_built_in_code_is_refused() -> None:
    from dataclasses import replace

    from chemtok.markers import MarkerPair

    shipped = load_markers()
    table = replace(shipped, pairs=(*shipped.pairs, MarkerPair("", "</x>", "smiles")))
    with pytest.raises(DataFileError, match="must not be empty"):
        chemtok.ChemTokenizer(markers=table)
