"""The engine specs the Rust unit tests read are the ones Python generates, and the
reason codes of both engines come from the one table in chemtok.reasons."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

import chemtok
from chemtok import native
from chemtok.reasons import REASONS, reason_messages

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "rust" / "chemtok-core" / "specs"


@pytest.mark.parametrize("name", ["smiles", "inchi", "protein", "dna", "selfies"])
def test_rust_test_specs_equal_what_python_generates(name: str) -> None:
    expected = native.engine_spec(chemtok.get_tokenizer(name))
    shipped = json.loads((SPECS / f"{name}.json").read_text(encoding="utf-8"))
    assert shipped == expected, f"rust/chemtok-core/specs/{name}.json is stale: run python scripts/write_native_specs.py"


def test_rust_test_selfies_tokens_are_the_vocabulary() -> None:
    """The SELFIES vocabulary is built in Python; the Rust tests read its token list."""
    shipped = json.loads((SPECS / "selfies_tokens.json").read_text(encoding="utf-8"))
    assert shipped == list(chemtok.SelfiesTokenizer().vocabulary.tokens), "run python scripts/write_native_specs.py"


def test_rust_test_detect_spec_equals_what_python_generates() -> None:
    from chemtok.detect import Detector

    expected = Detector(engine="python").native_spec()
    shipped = json.loads((SPECS / "detect.json").read_text(encoding="utf-8"))
    assert shipped == expected, "rust/chemtok-core/specs/detect.json is stale: run python scripts/write_native_specs.py"


def test_spec_reasons_are_the_tokenizers_messages() -> None:
    dna = chemtok.get_tokenizer("dna")
    spec = native.engine_spec(dna)
    assert spec["reasons"]["sequence_no_rule"] == "not a letter of the dna alphabet ACGTURYSWKMBDHVN-%."
    assert spec["reasons"]["bracket_not_closed"] == REASONS["bracket_not_closed"]
    inchi = native.engine_spec(chemtok.get_tokenizer("inchi"))
    assert inchi["reasons"]["inchi_prefix"] == "an InChI starts with one of ['InChI=1S', 'InChI=1B', 'InChI=1']"


def test_reason_messages_format_only_complete_templates() -> None:
    assert "inchi_prefix" not in reason_messages()
    selfies = {"open": "[", "close": "]", "dot": ".", "branch": "B", "ring": "R", "max_length": "3", "branch_bonds": "="}
    assert "selfies_not_closed" not in reason_messages(prefixes="[]", name="x", letters="AB")
    assert set(reason_messages(prefixes="[]", name="x", letters="AB", **selfies)) == set(REASONS)
    assert reason_messages(**selfies)["selfies_structure"].startswith("B and R symbols are [B1] to [B3], with a bond prefix (=)")
    assert reason_messages(name="protein", letters="AC")["sequence_no_rule"] == "not a letter of the protein alphabet AC"


@pytest.mark.skipif(not native.available(), reason="chemtok._native is not built")
@pytest.mark.parametrize(
    ("name", "text", "code"),
    [
        ("smiles", "C§", "smiles_no_lexeme"),
        ("smiles", "[C", "bracket_not_closed"),
        ("smiles", "[]", "bracket_no_symbol"),
        ("smiles", "[C:]", "bracket_no_property"),
        ("smiles", "[CH3H]", "bracket_repeated_hydrogen_count"),
        ("smiles", "[C@@@H]", "bracket_repeated_chirality"),
        ("smiles", "[CH3:1:2]", "bracket_repeated_atom_class"),
        ("inchi", "XInChI", "inchi_prefix"),
        ("inchi", "InChI=1S/Ab", "inchi_no_rule"),
        ("protein", "MK1", "sequence_no_rule"),
        ("selfies", "[C]x", "selfies_no_symbol"),
        ("selfies", "[C][O", "selfies_not_closed"),
        ("selfies", "[Branch4]", "selfies_structure"),
        ("selfies", "[=]", "selfies_no_element"),
        ("selfies", "[CH12]", "selfies_no_property"),
    ],
)
def test_both_engines_word_a_code_from_the_table(name: str, text: str, code: str) -> None:
    reference = chemtok.get_tokenizer(name)
    python = type(reference)(engine="python") if name != "protein" else chemtok.ProteinTokenizer(engine="python")
    fast = native.NativeEngine.for_tokenizer(reference)
    with pytest.raises(chemtok.TokenizationError) as from_python:
        python.encode(text)
    with pytest.raises(chemtok.TokenizationError) as from_rust:
        fast.encode(text, "raise")
    assert from_python.value.reason == from_rust.value.reason == reference.reason_messages[code]
    assert fast.reason(code) == reference.reason_messages[code]
    assert str(from_python.value) == str(from_rust.value)


@pytest.mark.skipif(not native.available(), reason="chemtok._native is not built")
def test_engine_reason_rejects_unknown_codes() -> None:
    fast = native.NativeEngine.for_tokenizer(chemtok.get_tokenizer("smiles"))
    with pytest.raises(KeyError):
        fast.reason("no_such_code")


def test_no_reason_message_is_written_in_the_rust_sources() -> None:
    """Rust returns codes; every message (its fixed part) is only in chemtok/reasons.py."""
    literals = (text.strip() for t in REASONS.values() for text, _, _, _ in string.Formatter().parse(t))
    fixed_parts = {text for text in literals if len(text) >= 12}
    sources = sorted((ROOT / "rust").rglob("*.rs"))
    assert sources
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert not [part for part in fixed_parts if part in text], path
