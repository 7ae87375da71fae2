"""Grammar files load, are complete, compile in both regex engines, and fail clearly."""

from __future__ import annotations

import re
from importlib import resources

import pytest

import chemtok
from chemtok.dialects import load_markers
from chemtok.grammar import (
    load_inchi_grammar,
    load_sequence_grammar,
    load_smiles_grammar,
    read_grammar_file,
)
from chemtok.inchi import InchiLexer
from chemtok.smiles import SmilesLexer


def test_every_grammar_loads_with_name_and_version() -> None:
    assert load_smiles_grammar().tag == "smiles@1"
    assert load_inchi_grammar().tag == "inchi@1"
    assert load_sequence_grammar("protein").tag == "protein@1"
    assert load_sequence_grammar("dna").tag == "dna@1"
    assert load_markers().tag == "markers@1"


def test_118_unique_elements_ending_in_og() -> None:
    for elements in (load_smiles_grammar().elements, load_inchi_grammar().elements):
        assert len(elements) == len(set(elements)) == 118
        assert elements[0] == "H" and elements[-1] == "Og"
        assert {"Nh", "Mc", "Ts", "Og"} <= set(elements)


def test_grammars_are_package_data() -> None:
    names = {p.name for p in resources.files("chemtok.grammars").iterdir()}
    assert {"smiles.toml", "inchi.toml", "protein.toml", "dna.toml", "markers.toml"} <= names


def test_patterns_compile_in_python_and_tokenizers() -> None:
    from tokenizers import Regex

    smiles = SmilesLexer(load_smiles_grammar())
    inchi = InchiLexer(load_inchi_grammar())
    patterns = [smiles.lexeme, smiles.symbol.pattern, smiles.prop.pattern, inchi.element_count.pattern, inchi.tag.pattern]
    patterns.append(load_markers().unknown_marker_pattern)
    for pattern in patterns:
        re.compile(pattern)
        Regex(pattern.replace("(?P<", "(?<"))  # Oniguruma spells named groups without P


def _broken(tmp_path, name: str, old: str, new: str):
    _, _ = read_grammar_file(name)
    text = resources.files("chemtok.grammars").joinpath(f"{name}.toml").read_text("utf-8")
    assert old in text
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "old, new, key",
    [
        ('"Ts", "Og",', '"Ts",', "atoms.elements"),
        ("version = 1", "version = 7", "version"),
        ("version = 1", 'version = "1"', "version"),
        ('hydrogen = "H"', "", "bracket.hydrogen"),
        ('{ prefix = "@TB", max = 20 }', '{ prefix = "@TB", max = 0 }', "bracket.chirality_numbered[3]"),
        ('organic = ["B",', 'organic = ["Qq", "B",', "atoms.organic"),
    ],
)
def test_broken_smiles_grammar_names_file_and_key(tmp_path, old: str, new: str, key: str) -> None:
    path = _broken(tmp_path, "smiles", old, new)
    with pytest.raises(chemtok.GrammarError) as info:
        load_smiles_grammar(path)
    assert info.value.key == key
    assert path in str(info.value) and key in str(info.value)


def test_broken_markers_and_invalid_toml(tmp_path) -> None:
    path = _broken(tmp_path, "markers", 'modality = "dna"', 'modality = "rna"')
    with pytest.raises(chemtok.DataFileError, match=r"pairs\[3\]\.modality"):  # a custom table
        load_markers(path)
    bad = tmp_path / "inchi.toml"
    bad.write_text("name = [", encoding="utf-8")
    with pytest.raises(chemtok.GrammarError, match="not valid TOML"):
        load_inchi_grammar(str(bad))
    with pytest.raises(chemtok.GrammarError, match="cannot read"):
        load_inchi_grammar(str(tmp_path / "missing.toml"))


def test_vocabulary_must_cover_the_grammar() -> None:
    from chemtok.vocab import Vocabulary

    with pytest.raises(chemtok.GrammarError, match=r"missing .* base tokens"):
        chemtok.SmilesTokenizer(vocabulary=Vocabulary(["C", "O"], name="tiny"))
